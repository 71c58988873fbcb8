"""Churn: label in time, features from before the cutoff, AUC that follows the signal."""

import numpy as np
import pandas as pd
import pytest

from analytics.jobs import churn
from analytics.jobs.base import InsufficientData

AS_OF = pd.Timestamp("2026-06-30 12:00", tz="UTC")
CUTOFF = AS_OF - pd.Timedelta(days=90)


def _empty_side_tables():
    tickets = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "created_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "category": pd.Series(dtype="string"),
            "breached": pd.Series(dtype=bool),
        }
    )
    interactions = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "occurred_at": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )
    feedback = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "created_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "csat": pd.Series(dtype=float),
        }
    )
    return tickets, interactions, feedback


def _orders(n=600, *, signal: bool, seed=1):
    """Every customer buys about every 20 days for two years before the cutoff. With a
    signal, churners slow down over the 150 days before the cutoff; without one, whether a
    customer keeps buying after the cutoff is a coin toss unrelated to the past."""
    rng = np.random.default_rng(seed)
    rows = []
    start = CUTOFF - pd.Timedelta(days=730)
    for cust in range(1, n + 1):
        churner = rng.random() < 0.5
        t = rng.uniform(0, 20)
        while t < 730:
            day = start + pd.Timedelta(days=t)
            rows.append((cust, day))
            slowing = signal and churner and t > 580
            t += rng.exponential(60 if slowing else 20)
        if not churner:  # keeps buying after the cutoff
            for d in np.sort(rng.uniform(0, 89, size=3)):
                rows.append((cust, CUTOFF + pd.Timedelta(days=float(d))))
    df = pd.DataFrame(rows, columns=["customer_id", "ordered_at"])
    df["order_id"] = np.arange(1, len(df) + 1)
    df["total"] = rng.gamma(2.0, 30.0, size=len(df))
    return df


def test_a_planted_signal_gives_auc_well_above_half():
    tickets, interactions, feedback = _empty_side_tables()
    result = churn.run(_orders(signal=True), tickets, interactions, feedback, as_of=AS_OF)
    assert result.metrics["roc_auc"] > 0.8
    assert set(result.metrics["models"]) == {"logistic_regression", "gradient_boosting"}
    chosen = result.metrics["chosen"]
    assert result.metrics["roc_auc"] == max(m["roc_auc"] for m in result.metrics["models"].values())
    assert result.metrics["models"][chosen]["calibration"]
    for key in ("precision", "recall", "accuracy", "brier"):
        assert 0 <= result.metrics[key] <= 1


def test_no_signal_gives_auc_near_half():
    tickets, interactions, feedback = _empty_side_tables()
    result = churn.run(_orders(signal=False), tickets, interactions, feedback, as_of=AS_OF)
    assert abs(result.metrics["roc_auc"] - 0.5) < 0.12


def test_features_never_see_orders_after_the_cutoff():
    tickets, interactions, feedback = _empty_side_tables()
    orders = _orders(n=50, signal=True)
    before = churn.features(orders, tickets, interactions, feedback, CUTOFF)
    late = orders[orders["ordered_at"] >= CUTOFF]
    changed = late.assign(total=late["total"] * 100)
    mixed = pd.concat([orders[orders["ordered_at"] < CUTOFF], changed])
    after = churn.features(mixed, tickets, interactions, feedback, CUTOFF)
    pd.testing.assert_frame_equal(before, after)


def test_label_is_no_order_in_the_window_after_the_cutoff():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "ordered_at": [
                CUTOFF - pd.Timedelta(days=30),
                CUTOFF + pd.Timedelta(days=10),
                CUTOFF - pd.Timedelta(days=30),
                CUTOFF + pd.Timedelta(days=95),
                CUTOFF - pd.Timedelta(days=5),
            ],
        }
    )
    labels = churn.churn_labels(orders, pd.Index([1, 2, 3]), CUTOFF, 90)
    assert list(labels) == [0, 1, 1]


def test_every_active_customer_is_scored_with_up_to_three_drivers():
    tickets, interactions, feedback = _empty_side_tables()
    result = churn.run(_orders(signal=True), tickets, interactions, feedback, as_of=AS_OF)
    s = result.scores
    assert len(s) == result.metrics["scored_customers"] > 0
    assert s["churn_probability"].between(0, 1).all()
    assert s["churn_drivers"].map(len).max() <= 3
    risky = s.sort_values("churn_probability").iloc[-1]
    assert risky["churn_drivers"], "the riskiest customer has reasons"
    first = risky["churn_drivers"][0]
    assert first["feature"] in churn.FEATURES and first["effect"] > 0


def test_too_few_customers_is_insufficient_data():
    tickets, interactions, feedback = _empty_side_tables()
    with pytest.raises(InsufficientData) as exc:
        churn.run(_orders(n=40, signal=True), tickets, interactions, feedback, as_of=AS_OF)
    assert exc.value.code == "churn_customers"


def test_churn_rate_per_month_on_known_data():
    as_of = pd.Timestamp("2026-06-15", tz="UTC")
    orders = pd.DataFrame(
        {
            "customer_id": [1, 2, 2, 3],
            "ordered_at": pd.to_datetime(
                ["2026-01-10", "2026-01-05", "2026-03-20", "2026-02-01"], utc=True
            ),
        }
    )
    rates = churn.churn_rates(orders, as_of).set_index("month")
    # Customer 1 lapses 90 days after 10 Jan (10 April), customer 3 on 2 May; customer 2's
    # orders overlap (gap 74 days), so one spell ending 18 June, after as_of: no churn yet.
    import datetime as dt

    april, may = rates.loc[dt.date(2026, 4, 1)], rates.loc[dt.date(2026, 5, 1)]
    assert april["active_customers"] == 3 and april["churned_customers"] == 1
    assert may["active_customers"] == 2 and may["churned_customers"] == 1
    assert may["rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("kind", ["gradient_boosting", "logistic_regression"])
def test_drivers_are_the_drop_when_one_feature_is_set_to_its_median(kind):
    """The explanations are computed in one stacked pass (and for gradient boosting on the
    model's bins, skipping swaps no split can see): each effect is exactly what the model
    says when that one feature is set to the median, and the three largest are shown."""
    orders = _orders(signal=True)
    feats = churn.features(orders, *_empty_side_tables(), CUTOFF)
    y = churn.churn_labels(orders, feats.index, CUTOFF, 90)
    transform = churn.Transform().fit(feats)
    x = transform(feats)
    model = churn.candidate_models(0)[kind].fit(x, y)
    reference = np.median(x, axis=0)
    reasons = churn.drivers(model, x, feats, reference)

    base = model.predict_proba(x)[:, 1]
    for i in range(0, len(x), 37):
        effects = []
        for j in range(x.shape[1]):
            swapped = x[i : i + 1].copy()
            swapped[0, j] = reference[j]
            effects.append(base[i] - model.predict_proba(swapped)[0, 1])
        expected = [
            (churn.FEATURES[j], round(float(effects[j]), 4))
            for j in np.argsort(-np.asarray(effects), kind="stable")[:3]
            if effects[j] > 0.005
        ]
        assert [(r["feature"], r["effect"]) for r in reasons[i]] == expected
    assert any(reasons), "a model with a signal has reasons to give"
