"""Customer value: RFM quintile scores, historic value, loyalty tier, the predicted value of
the next 12 months (BG/NBD x Gamma-Gamma, see clv.py) and satisfaction per month.

Inputs
- orders: order_id, customer_id, ordered_at (UTC), total (float), revenue orders only; or
  their per-customer summary (analytics.jobs.summary, computed in SQL by the loader);
- feedback: created_at (UTC), csat (1-5), ces (1-7), nps (0-10), each may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import clv
from .base import InsufficientData, Progress, days_between, no_progress
from .summary import as_summary, is_summary

MIN_CUSTOMERS = 50
MIN_REPEAT_BUYERS = 20
HORIZON_WEEKS = 52


@dataclass
class CustomerValueResult:
    scores: pd.DataFrame
    satisfaction: pd.DataFrame
    metrics: dict = field(default_factory=dict)


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> np.ndarray:
    """1-5 by quintile of rank (ties share their average rank, so equal values score alike)."""
    pct = values.rank(method="average", pct=True, ascending=higher_is_better).to_numpy()
    return np.clip(np.ceil(pct * 5), 1, 5).astype(np.int16)


def loyalty_tiers(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Tier from the recency (r) and frequency (f) scores, first matching rule wins."""
    return np.select(
        [
            (r >= 4) & (f >= 4),
            (r >= 3) & (f >= 3),
            (r >= 4) & (f <= 2),
            (r <= 2) & (f >= 3),
            (r == 1) & (f <= 2),
        ],
        ["champion", "loyal", "promising", "at_risk", "lapsed"],
        default="attention",
    )


def rfm(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer: recency (days), frequency (orders), monetary (average order value),
    historic value (total) and the three quintile scores. `orders` may be the orders or
    their per-customer summary."""
    summary = as_summary(orders).set_index("customer_id")
    out = pd.DataFrame(
        {
            "last": summary["last_at"],
            "frequency": summary["orders"].astype("int64"),
            "historic_value": summary["revenue"].astype(float),
        }
    )
    out["recency_days"] = np.floor(days_between(as_of, out["last"])).clip(0).astype(np.int64)
    out["monetary"] = out["historic_value"] / out["frequency"]
    out["r_score"] = quintile_scores(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintile_scores(out["frequency"])
    out["m_score"] = quintile_scores(out["monetary"])
    out["loyalty_tier"] = loyalty_tiers(out["r_score"].to_numpy(), out["f_score"].to_numpy())
    return out.drop(columns=["last"])


def clv_inputs(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """x, t_x, T (weeks) and m_x per customer, counting purchases per day as the papers do
    (several orders on one day are one transaction). `orders` may be the orders or their
    per-customer summary."""
    summary = as_summary(orders).set_index("customer_id")
    first = summary["first_at"].dt.floor("D")
    last = summary["last_at"].dt.floor("D")
    x = (summary["active_days"] - 1).astype(float)
    week = 7 * 86400.0
    out = pd.DataFrame(
        {
            "x": x,
            "t_x": (last - first).dt.total_seconds() / week,
            "T": (as_of.floor("D") - first).dt.total_seconds() / week,
        }
    )
    repeat_value = summary["revenue"] - summary["first_day_revenue"]
    out["m_x"] = np.where(x > 0, repeat_value / x.where(x > 0, 1), np.nan)
    return out


def satisfaction_by_month(feedback: pd.DataFrame) -> pd.DataFrame:
    cols = ["month", "responses", "csat", "csat_satisfied_share", "ces", "nps"]
    if feedback is None or feedback.empty:
        return pd.DataFrame(columns=cols)
    fb = feedback.copy()
    fb["month"] = fb["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    nps = fb["nps"]
    fb["promoter"] = (nps >= 9).astype(float).where(nps.notna())
    fb["detractor"] = (nps <= 6).astype(float).where(nps.notna())
    fb["satisfied"] = (fb["csat"] >= 4).astype(float).where(fb["csat"].notna())
    g = fb.groupby("month", sort=True)
    out = pd.DataFrame(
        {
            "responses": g["created_at"].count(),
            "csat": g["csat"].mean(),
            "csat_satisfied_share": g["satisfied"].mean(),
            "ces": g["ces"].mean(),
            "nps": (g["promoter"].mean() - g["detractor"].mean()) * 100,
        }
    ).reset_index()
    out["month"] = out["month"].dt.start_time.dt.date
    return out[cols]


def run(
    orders: pd.DataFrame,
    feedback: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp,
    horizon_weeks: int = HORIZON_WEEKS,
    min_customers: int = MIN_CUSTOMERS,
    progress: Progress = no_progress,
) -> CustomerValueResult:
    n_orders = int(orders["orders"].sum()) if is_summary(orders) else len(orders)
    orders = as_summary(orders)
    n_customers = orders["customer_id"].nunique()
    if n_customers < min_customers:
        raise InsufficientData(
            "customer_value_customers", minimum=min_customers, found=int(n_customers)
        )
    progress(10, "rfm")
    scores = rfm(orders, as_of)
    progress(30, "clv_inputs")
    inputs = clv_inputs(orders, as_of)
    repeat = int((inputs["x"] > 0).sum())
    if repeat < MIN_REPEAT_BUYERS:
        raise InsufficientData("customer_value_repeat", minimum=MIN_REPEAT_BUYERS, found=repeat)
    progress(45, "fit_bgnbd")
    # A tiny penalty keeps the fit finite on data with few repeat buyers; on real data sizes
    # its effect on the estimates is far below their standard errors.
    bg = clv.fit_bgnbd(inputs["x"], inputs["t_x"], inputs["T"], penalizer=1e-6)
    progress(65, "fit_gamma_gamma")
    gg = clv.fit_gamma_gamma(inputs["x"], inputs["m_x"], penalizer=1e-6)
    progress(80, "predict")
    purchases = bg.expected_purchases(horizon_weeks, inputs["x"], inputs["t_x"], inputs["T"])
    spend = gg.expected_value(inputs["x"], inputs["m_x"])
    scores["predicted_purchases_12m"] = purchases
    scores["predicted_value_12m"] = purchases * spend
    scores["p_alive"] = bg.p_alive(inputs["x"], inputs["t_x"], inputs["T"])
    scores = scores.reset_index()
    satisfaction = satisfaction_by_month(feedback)
    metrics = {
        "customers": int(len(scores)),
        "orders": n_orders,
        "repeat_buyers": repeat,
        "bgnbd": {
            "r": bg.r,
            "alpha_weeks": bg.alpha,
            "a": bg.a,
            "b": bg.b,
            "ll": bg.log_likelihood,
        },
        "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v, "ll": gg.log_likelihood},
        "predicted_value_12m_total": float(scores["predicted_value_12m"].sum()),
        "historic_value_total": float(scores["historic_value"].sum()),
        "tiers": {k: int(v) for k, v in scores["loyalty_tier"].value_counts().items()},
        "satisfaction_months": int(len(satisfaction)),
        "feedback_rows": 0 if feedback is None else int(len(feedback)),
    }
    return CustomerValueResult(scores=scores, satisfaction=satisfaction, metrics=metrics)
