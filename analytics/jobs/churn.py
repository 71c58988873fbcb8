"""Churn risk: a label defined in time, two models compared on a held-out set, every active
customer scored today with the three features that push their risk up most.

The label: at a cutoff `horizon_days` before today, a customer who was active (an order in
the year before it) churned if they ordered nothing in the `horizon_days` after it. Features
come only from data before the cutoff, so the model never sees its own answer; the model
then scores customers with the same features computed as of today.

Inputs (UTC times)
- orders: customer_id, ordered_at, total;
- tickets: customer_id, created_at, category, breached (bool: a service-level target missed);
- interactions: customer_id, occurred_at;
- feedback: customer_id, created_at, csat (may be empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import isnan

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .base import InsufficientData, Progress, days_between, no_progress

HORIZON_DAYS = 90
ACTIVE_DAYS = 365  # "active before the cutoff": an order in the year before it
MIN_CUSTOMERS = 200
MIN_PER_CLASS = 20
MIN_HISTORY_DAYS = 180
THRESHOLD = 0.5

FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "overdue_ratio",
    "orders_90d",
    "orders_prev_90d",
    "spend_trend",
    "tickets_365d",
    "complaints_365d",
    "sla_breaches_365d",
    "satisfaction",
    "interactions_180d",
]
# Counts and money enter the models on a log scale (signed log for the trend).
LOG_FEATURES = {
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "overdue_ratio",
    "orders_90d",
    "orders_prev_90d",
    "tickets_365d",
    "complaints_365d",
    "sla_breaches_365d",
    "interactions_180d",
}


@dataclass
class ChurnResult:
    scores: pd.DataFrame  # customer_id, churn_probability, churn_drivers (list of dicts)
    rates: pd.DataFrame  # month, active_customers, churned_customers, rate
    metrics: dict = field(default_factory=dict)


def _count_in(frame: pd.DataFrame, time_col: str, start, end, index) -> pd.Series:
    sel = frame[(frame[time_col] > start) & (frame[time_col] <= end)]
    return sel.groupby("customer_id").size().reindex(index, fill_value=0).astype(float)


def features(
    orders: pd.DataFrame,
    tickets: pd.DataFrame,
    interactions: pd.DataFrame,
    feedback: pd.DataFrame,
    at: pd.Timestamp,
) -> pd.DataFrame:
    """FEATURES per customer active at `at` (an order in the ACTIVE_DAYS before), from rows
    strictly before `at` only."""
    past = orders[orders["ordered_at"] < at]
    g = past.groupby("customer_id", sort=True)
    last = g["ordered_at"].max()
    active = last.index[last > at - pd.Timedelta(days=ACTIVE_DAYS)]
    past = past[past["customer_id"].isin(active)]
    g = past.groupby("customer_id", sort=True)
    first, last = g["ordered_at"].min(), g["ordered_at"].max()
    out = pd.DataFrame(index=last.index)
    out["recency_days"] = days_between(at, last)
    out["frequency"] = g["ordered_at"].count().astype(float)
    out["monetary"] = g["total"].sum()
    out["avg_order_value"] = out["monetary"] / out["frequency"]
    out["tenure_days"] = days_between(at, first)
    # How late the customer is against their own rhythm (>1: later than usual).
    gap = out["tenure_days"] / out["frequency"].clip(lower=1)
    out["overdue_ratio"] = out["recency_days"] / gap.clip(lower=1)
    d90, d180, d365 = (pd.Timedelta(days=d) for d in (90, 180, 365))
    out["orders_90d"] = _count_in(past, "ordered_at", at - d90, at, out.index)
    out["orders_prev_90d"] = _count_in(past, "ordered_at", at - d180, at - d90, out.index)
    recent = past[past["ordered_at"] > at - d180].groupby("customer_id")["total"].sum()
    before = past[(past["ordered_at"] > at - d365) & (past["ordered_at"] <= at - d180)]
    before = before.groupby("customer_id")["total"].sum()
    r = recent.reindex(out.index, fill_value=0.0)
    b = before.reindex(out.index, fill_value=0.0)
    out["spend_trend"] = (r - b) / (r + b).clip(lower=1.0)  # -1 (stopped) .. +1 (new)
    t = tickets[tickets["created_at"] < at]
    out["tickets_365d"] = _count_in(t, "created_at", at - d365, at, out.index)
    out["complaints_365d"] = _count_in(
        t[t["category"] == "complaint"], "created_at", at - d365, at, out.index
    )
    out["sla_breaches_365d"] = _count_in(t[t["breached"]], "created_at", at - d365, at, out.index)
    fb = (
        feedback[(feedback["created_at"] < at) & feedback["csat"].notna()]
        if len(feedback)
        else feedback
    )
    if len(fb):
        out["satisfaction"] = fb.groupby("customer_id")["csat"].mean().reindex(out.index)
    else:
        out["satisfaction"] = np.nan
    out["interactions_180d"] = _count_in(interactions, "occurred_at", at - d180, at, out.index)
    return out[FEATURES]


def churn_labels(
    orders: pd.DataFrame, customers: pd.Index, cutoff: pd.Timestamp, horizon_days: int
) -> np.ndarray:
    """1 when the customer ordered nothing in (cutoff, cutoff + horizon]."""
    after = orders[
        (orders["ordered_at"] >= cutoff)
        & (orders["ordered_at"] < cutoff + pd.Timedelta(days=horizon_days))
    ]
    return (~customers.isin(after["customer_id"].unique())).astype(np.int8)


class Transform:
    """Log where heavy-tailed; missing satisfaction at the training median."""

    def fit(self, feats: pd.DataFrame) -> Transform:
        self.fill = feats.median().fillna(0.0)
        return self

    def __call__(self, feats: pd.DataFrame) -> np.ndarray:
        x = feats.fillna(self.fill).copy()
        for col in LOG_FEATURES:
            x[col] = np.log1p(x[col].clip(lower=0))
        return x.to_numpy(dtype=float)


def candidate_models(seed: int) -> dict:
    return {
        "logistic_regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "gradient_boosting": HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.08, early_stopping=False, random_state=seed
        ),
    }


def _quality(y: np.ndarray, p: np.ndarray) -> dict:
    pred = (p >= THRESHOLD).astype(int)
    bins = np.clip((p * 10).astype(int), 0, 9)
    calibration = [
        {
            "bin": int(b),
            "predicted": round(float(p[bins == b].mean()), 4),
            "observed": round(float(y[bins == b].mean()), 4),
            "n": int((bins == b).sum()),
        }
        for b in np.unique(bins)
    ]
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "calibration": calibration,
    }


# Rows per prediction call when explaining: bounds the stacked matrix (rows x 14 floats).
EXPLAIN_CHUNK_ROWS = 250_000


def _unchanged_by_swap(model, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """True where setting x[i, j] to reference[j] cannot change the prediction.

    Always where the value already is the reference. For histogram gradient boosting also
    where no split of feature j in any tree falls between the two values (each tree sends
    both down the same path; the inputs have no missing values after Transform), so those
    swaps need no prediction: their effect is exactly zero."""
    same = x == reference
    predictors = getattr(model, "_predictors", None)
    if not predictors:
        return same
    thresholds: list[list[float]] = [[] for _ in range(x.shape[1])]
    for per_iteration in predictors:
        for predictor in per_iteration:
            nodes = predictor.nodes[~predictor.nodes["is_leaf"].astype(bool)]
            if "is_categorical" in nodes.dtype.names and nodes["is_categorical"].any():
                return same  # categorical splits are not thresholds: predict every swap
            for j, t in zip(nodes["feature_idx"], nodes["num_threshold"], strict=True):
                thresholds[j].append(t)
    for j, ts in enumerate(thresholds):
        ts = np.unique(ts)
        # "x <= t goes left": two values take the same side of every t when as many
        # thresholds lie below each.
        side = np.searchsorted(ts, x[:, j], side="left")
        same[:, j] |= side == np.searchsorted(ts, reference[j], side="left")
    return same


def _probability(model, *, binned: bool = True):
    """A function rows -> churn probability, equal to model.predict_proba(rows)[:, 1].

    For histogram gradient boosting it predicts on binned rows (uint8, what the model
    trained on; about a third faster on the 800k swapped rows of an explanation at scale
    M). That uses the model's internals, so it is checked against predict_proba on a
    sample first, and predict_proba is used whenever the two differ."""

    def public(rows: np.ndarray) -> np.ndarray:
        return model.predict_proba(rows)[:, 1]

    mapper = getattr(model, "_bin_mapper", None)
    predictors = getattr(model, "_predictors", None)
    if not binned or mapper is None or not predictors or any(len(p) != 1 for p in predictors):
        return public
    from scipy.special import expit
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    start = float(np.ravel(model._baseline_prediction)[0])
    missing_bin = mapper.missing_values_bin_idx_

    def on_bins(rows: np.ndarray) -> np.ndarray:
        codes = mapper.transform(rows)
        raw = np.full(len(rows), start)
        threads = _openmp_effective_n_threads()
        for (predictor,) in predictors:
            raw += predictor.predict_binned(codes, missing_bin, threads)
        return expit(raw)

    return on_bins


def _checked_probability(model, x: np.ndarray):
    fast = _probability(model)
    sample = x[:: max(1, len(x) // 500)]
    same = np.allclose(fast(sample), model.predict_proba(sample)[:, 1], rtol=0, atol=1e-12)
    return fast if same else _probability(model, binned=False)


def drivers(
    model,
    x: np.ndarray,
    raw: pd.DataFrame,
    reference: np.ndarray,
    top: int = 3,
    *,
    base: np.ndarray | None = None,
) -> list[list[dict]]:
    """Per customer, the features whose value raises the churn probability most: the drop in
    probability when that one feature is set to the population's typical (median) value.
    The same measure for both model kinds, and it reads as "because of this, +12 points".

    Computed with one stacked prediction over the (customer, feature) swaps that can change
    anything (see _unchanged_by_swap); the others have an effect of exactly zero."""
    probability = _checked_probability(model, x)
    if base is None:  # the model's probabilities of x, when the caller has them already
        base = probability(x)
    effects = np.zeros((len(x), x.shape[1]))
    rows, cols = np.nonzero(~_unchanged_by_swap(model, x, reference))
    for lo in range(0, len(rows), EXPLAIN_CHUNK_ROWS):
        r, c = rows[lo : lo + EXPLAIN_CHUNK_ROWS], cols[lo : lo + EXPLAIN_CHUNK_ROWS]
        swapped = x[r]
        swapped[np.arange(len(r)), c] = reference[c]
        effects[r, c] = base[r] - probability(swapped)
    order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(effects, order, axis=1)
    raw_values = raw.to_numpy(dtype=float)
    values = np.take_along_axis(raw_values, order, axis=1).tolist()
    # Below half a point an effect explains nothing.
    shown = (picked > 0.005).tolist()
    names = np.asarray(FEATURES, dtype=object)[order].tolist()
    return [
        [
            {"feature": f, "value": None if isnan(v) else round(v, 2), "effect": round(e, 4)}
            for f, v, e, keep in zip(fs, vs, es, ks, strict=True)
            if keep
        ]
        for fs, vs, es, ks in zip(names, values, picked.tolist(), shown, strict=True)
    ]


def churn_rates(
    orders: pd.DataFrame, as_of: pd.Timestamp, inactive_days: int = HORIZON_DAYS
) -> pd.DataFrame:
    """Churn rate per month. A customer is active from each order for `inactive_days`; a run
    of overlapping windows is one active spell, and its end (last order + inactive_days, when
    that has passed) is a churn. Rate = churns in the month / customers active at its start."""
    cols = ["month", "active_customers", "churned_customers", "rate"]
    if orders.empty:
        return pd.DataFrame(columns=cols)
    o = orders[["customer_id", "ordered_at"]].sort_values(
        ["customer_id", "ordered_at"], kind="stable"
    )
    cust = o["customer_id"].to_numpy()
    t = o["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    window = np.timedelta64(inactive_days, "D")
    same = np.r_[False, cust[1:] == cust[:-1]]
    gap_ok = np.r_[False, (t[1:] - t[:-1]) <= window]
    new_spell = ~(same & gap_ok)
    spell_id = np.cumsum(new_spell) - 1
    starts = t[new_spell]
    last = pd.Series(t).groupby(spell_id).max().to_numpy()
    ends = last + window
    now = as_of.tz_convert("UTC").tz_localize(None).to_datetime64()
    first_month = pd.Timestamp(starts.min()).to_period("M") + 1
    months = pd.period_range(first_month, pd.Timestamp(now).to_period("M") - 1, freq="M")
    if len(months) == 0:
        return pd.DataFrame(columns=cols)
    m_start = months.start_time.to_numpy()
    m_end = (months + 1).start_time.to_numpy()
    s_sorted, e_sorted = np.sort(starts), np.sort(ends)
    # Active at a month's start: spell started before it and has not ended.
    active = np.searchsorted(s_sorted, m_start, side="left") - np.searchsorted(
        e_sorted, m_start, side="right"
    )
    churn_ends = np.sort(ends[ends <= now])
    churned = np.searchsorted(churn_ends, m_end, side="left") - np.searchsorted(
        churn_ends, m_start, side="left"
    )
    rate = np.where(active > 0, churned / np.maximum(active, 1), 0.0)
    return pd.DataFrame(
        {
            "month": months.start_time.date,
            "active_customers": active.astype(np.int64),
            "churned_customers": churned.astype(np.int64),
            "rate": rate,
        }
    )[cols]


def run(
    orders: pd.DataFrame,
    tickets: pd.DataFrame,
    interactions: pd.DataFrame,
    feedback: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon_days: int = HORIZON_DAYS,
    min_customers: int = MIN_CUSTOMERS,
    seed: int = 0,
    progress: Progress = no_progress,
) -> ChurnResult:
    cutoff = as_of - pd.Timedelta(days=horizon_days)
    history_days = (cutoff - orders["ordered_at"].min()).days if len(orders) else 0
    progress(5, "features")
    train_feats = features(orders, tickets, interactions, feedback, cutoff)
    y = churn_labels(orders, train_feats.index, cutoff, horizon_days)
    n_churn = int(y.sum())
    if (
        history_days < MIN_HISTORY_DAYS
        or len(y) < min_customers
        or min(n_churn, len(y) - n_churn) < MIN_PER_CLASS
    ):
        raise InsufficientData(
            "churn_customers",
            minimum=min_customers,
            months=MIN_HISTORY_DAYS // 30,
            found=int(len(y)),
        )
    transform = Transform().fit(train_feats)
    x = transform(train_feats)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    progress(25, "compare_models")
    compared, fitted = {}, {}
    for name, model in candidate_models(seed).items():
        fitted[name] = model.fit(x_tr, y_tr)
        compared[name] = _quality(y_te, model.predict_proba(x_te)[:, 1])
    best = max(compared, key=lambda k: compared[k]["roc_auc"])
    # The kept model is the one just judged on the held-out customers: its reported quality
    # is the quality of the scores it gives (a refit on all rows would be a model nobody
    # measured, and cost a third more fitting).
    model = fitted[best]
    progress(65, "score")
    today = features(orders, tickets, interactions, feedback, as_of)
    if len(today):
        xt = transform(today)
        proba = model.predict_proba(xt)[:, 1]
        progress(75, "drivers")
        reasons = drivers(model, xt, today, np.median(xt, axis=0), base=proba)
    else:
        proba, reasons = np.array([]), []
    scores = pd.DataFrame(
        {
            "customer_id": today.index.to_numpy(),
            "churn_probability": proba,
            "churn_drivers": reasons,
        }
    )
    progress(90, "rates")
    rates = churn_rates(orders, as_of, horizon_days)
    metrics = {
        "cutoff": cutoff.date().isoformat(),
        "horizon_days": horizon_days,
        "training_customers": int(len(y)),
        "churn_share": round(n_churn / len(y), 4),
        "models": compared,
        "chosen": best,
        "threshold": THRESHOLD,
        **{k: v for k, v in compared[best].items() if k != "calibration"},
        "scored_customers": int(len(scores)),
        "predicted_at_risk": int((proba >= THRESHOLD).sum()),
    }
    return ChurnResult(scores=scores, rates=rates, metrics=metrics)
