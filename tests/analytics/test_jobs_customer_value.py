"""Customer value: RFM quintiles, tiers, predicted value and satisfaction per month."""

import numpy as np
import pandas as pd
import pytest

from analytics.jobs import customer_value as cv

AS_OF = pd.Timestamp("2026-06-30", tz="UTC")


def test_quintile_scores_split_evenly_and_respect_direction():
    values = pd.Series(np.arange(100, dtype=float))
    up = cv.quintile_scores(values)
    down = cv.quintile_scores(values, higher_is_better=False)
    assert list(np.bincount(up)[1:]) == [20] * 5
    assert up[0] == 1 and up[-1] == 5 and down[0] == 5 and down[-1] == 1
    assert set(cv.quintile_scores(pd.Series([7.0] * 10))) == {3}  # ties score alike


def test_loyalty_tiers_follow_recency_and_frequency():
    r = np.array([5, 3, 5, 1, 1, 2])
    f = np.array([5, 3, 1, 5, 1, 2])
    assert list(cv.loyalty_tiers(r, f)) == [
        "champion",
        "loyal",
        "promising",
        "at_risk",
        "lapsed",
        "attention",
    ]


def _orders(n=300, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cust in range(1, n + 1):
        rate = rng.gamma(1.0, 0.05)  # purchases per day
        t = AS_OF - pd.Timedelta(days=float(rng.uniform(100, 700)))
        while t < AS_OF:
            rows.append((len(rows) + 1, cust, t, float(rng.gamma(3, 20))))
            t += pd.Timedelta(days=float(rng.exponential(1 / rate)) + 1)
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "total"])


def test_run_scores_every_customer_with_predicted_value():
    orders = _orders()
    result = cv.run(orders, None, as_of=AS_OF)
    s = result.scores.set_index("customer_id")
    assert len(s) == orders["customer_id"].nunique()
    assert s["historic_value"].sum() == pytest.approx(orders["total"].sum())
    assert (s["predicted_value_12m"] >= 0).all() and s["p_alive"].between(0, 1).all()
    busiest = orders.groupby("customer_id").size().idxmax()
    assert s.loc[busiest, "f_score"] == 5
    # Frequent recent buyers are worth more next year than one-off buyers.
    assert (
        s.loc[s["f_score"] == 5, "predicted_value_12m"].mean()
        > s.loc[s["f_score"] == 1, "predicted_value_12m"].mean()
    )
    assert result.metrics["bgnbd"]["r"] > 0 and result.satisfaction.empty


def test_satisfaction_per_month():
    fb = pd.DataFrame(
        {
            "created_at": pd.to_datetime(
                ["2026-05-02", "2026-05-20", "2026-05-21", "2026-06-01"], utc=True
            ),
            "csat": [5.0, 3.0, np.nan, 4.0],
            "ces": [2.0, np.nan, 4.0, np.nan],
            "nps": [10.0, 5.0, 8.0, np.nan],
        }
    )
    out = cv.satisfaction_by_month(fb).set_index("month")
    may = out.iloc[0]
    assert may["responses"] == 3
    assert may["csat"] == pytest.approx(4.0) and may["csat_satisfied_share"] == pytest.approx(0.5)
    assert may["ces"] == pytest.approx(3.0)
    assert may["nps"] == pytest.approx(0.0)  # one promoter, one detractor, one passive
