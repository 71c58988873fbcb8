"""Forecast: beats seasonal-naive on a trending seasonal series; intervals; partial periods."""

import numpy as np
import pandas as pd
import pytest

from analytics.jobs import forecast
from analytics.jobs.base import InsufficientData


def _seasonal(months=48, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    y = (1000 + 25 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * rng.lognormal(0, 0.03, months)
    return pd.Series(y, index=pd.date_range("2022-01-01", periods=months, freq="MS"))


def test_forecast_beats_seasonal_naive_on_a_seasonal_series():
    rows, metrics = forecast.forecast_series(_seasonal(), "month")
    assert metrics["model"]["mae"] < metrics["seasonal_naive"]["mae"]
    assert metrics["model"]["mape"] < metrics["seasonal_naive"]["mape"]
    assert metrics["chosen"] == "regression" and metrics["beats_baseline"]
    future = rows[rows["row_kind"] == "future"]
    assert len(future) == forecast.HORIZON
    assert (future["lower"] < future["predicted"]).all()
    assert (future["predicted"] < future["upper"]).all()
    assert future["actual"].isna().all()
    assert str(future["period_start"].iloc[0]) == "2026-01-01"
    backtest = rows[rows["row_kind"] == "backtest"]
    assert len(backtest) == forecast.HOLDOUT and backtest["baseline"].notna().all()


def test_seasonal_naive_repeats_last_season():
    history = np.arange(24, dtype=float)
    assert list(forecast.seasonal_naive(history, 12, 3)) == [12.0, 13.0, 14.0]


def test_revenue_series_drops_partial_edges_and_fills_gaps():
    orders = pd.DataFrame(
        {
            "ordered_at": pd.to_datetime(
                ["2025-01-15", "2025-02-03", "2025-04-10", "2025-05-02"], utc=True
            ),
            "total": [10.0, 20.0, 30.0, 40.0],
        }
    )
    s = forecast.revenue_series(orders, "month", pd.Timestamp("2025-05-20", tz="UTC"))
    # January starts mid-month and May is still running: both left out; March had nothing.
    assert list(s.index.strftime("%Y-%m")) == ["2025-02", "2025-03", "2025-04"]
    assert list(s) == [20.0, 0.0, 30.0]


def test_short_history_is_insufficient_data():
    with pytest.raises(InsufficientData) as exc:
        forecast.forecast_series(_seasonal(months=15), "month")
    assert exc.value.code == "forecast_periods"


def test_run_forecasts_months_and_weeks_from_orders():
    rng = np.random.default_rng(1)
    when = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(
        rng.uniform(0, 3 * 365, 4000), unit="D"
    )
    orders = pd.DataFrame({"ordered_at": when, "total": rng.gamma(2, 50, 4000)})
    result = forecast.run(orders, as_of=pd.Timestamp("2026-01-15", tz="UTC"))
    assert set(result.rows["granularity"]) == {"month", "week"}
    assert result.metrics["month"]["periods"] >= 34
    assert (
        result.rows.groupby("granularity")["row_kind"].apply(lambda k: (k == "future").sum()) == 6
    ).all()
