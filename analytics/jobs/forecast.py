"""Revenue forecast per month and per week: a ridge regression on trend, yearly seasonality
(Fourier terms) and lags, judged on the last held-back periods against seasonal-naive.

Input: orders with ordered_at (UTC) and total (float), revenue orders only; or the same
summed per UTC day (analytics.loaders.load_daily_revenue), with an `orders` count column.
The model works on log revenue, so the season scales with the level. Whichever of the model
and seasonal-naive had the smaller error on the held-back tail makes the future forecast;
both errors are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .base import InsufficientData, Progress, no_progress

HOLDOUT = 6
HORIZON = 6
HARMONICS = 3
Z_90 = 1.645  # two-sided 90% interval
SEASON = {"month": 12, "week": 52}
PERIOD_CODE = {"month": "M", "week": "W-SUN"}  # weeks run Monday to Sunday
MIN_TRAIN_WITH_SEASONAL_LAG = 12


@dataclass
class ForecastResult:
    rows: (
        pd.DataFrame
    )  # granularity, period_start (date), row_kind, actual, predicted, lower, upper, baseline
    metrics: dict = field(default_factory=dict)


def revenue_series(orders: pd.DataFrame, granularity: str, as_of: pd.Timestamp) -> pd.Series:
    """Revenue per complete period, indexed by period start (naive Timestamp), with zeros for
    periods without orders. The running period and a first period the data starts inside of
    are left out: partial periods would read as collapses."""
    code = PERIOD_CODE[granularity]
    when = orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    per = when.dt.to_period(code)
    sums = orders["total"].groupby(per).sum()
    if sums.empty:
        return pd.Series(dtype=float)
    now = pd.Timestamp(as_of).tz_convert("UTC").tz_localize(None).to_period(code)
    full = pd.period_range(sums.index.min(), now, freq=code)
    series = sums.reindex(full, fill_value=0.0)
    series = series[series.index < now]  # the running period is incomplete
    first_day = when.min().normalize()
    if len(series) and first_day > series.index[0].start_time:
        series = series.iloc[1:]
    series.index = series.index.start_time
    return series.astype(float)


def seasonal_naive(history: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """Each future period equals the same period one season earlier."""
    idx = len(history) - season + (np.arange(horizon) % season)
    return history[idx]


class SeasonalRegression:
    """Ridge on log1p(revenue) with trend, Fourier seasonality, lag 1 and (when there is
    enough history) the seasonal lag; multi-step forecasts feed predictions back as lags."""

    def __init__(self, season: int, *, use_seasonal_lag: bool):
        self.season = season
        self.use_seasonal_lag = use_seasonal_lag
        self.first = season if use_seasonal_lag else 1

    def _row(self, t: int, logs: np.ndarray) -> list[float]:
        k = np.arange(1, HARMONICS + 1)
        angle = 2 * np.pi * k * (t % self.season) / self.season
        row = [float(t), *np.sin(angle), *np.cos(angle), logs[t - 1]]
        if self.use_seasonal_lag:
            row.append(logs[t - self.season])
        return row

    def fit(self, y: np.ndarray) -> SeasonalRegression:
        logs = np.log1p(y)
        x = np.array([self._row(t, logs) for t in range(self.first, len(y))])
        self.model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x, logs[self.first :])
        fitted = self.model.predict(x)
        self.residual_sd = float(np.std(logs[self.first :] - fitted, ddof=1))
        self.fitted = np.r_[np.full(self.first, np.nan), np.expm1(fitted)]
        self._logs = logs
        return self

    def predict(self, horizon: int) -> np.ndarray:
        logs = list(self._logs)
        out = []
        for _ in range(horizon):
            t = len(logs)
            value = float(self.model.predict(np.array([self._row(t, np.array(logs))]))[0])
            logs.append(value)
            out.append(value)
        return np.expm1(np.array(out)).clip(min=0)


def _errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    mae = float(np.mean(np.abs(actual - predicted)))
    nonzero = actual != 0
    mape = (
        float(np.mean(np.abs((actual[nonzero] - predicted[nonzero]) / actual[nonzero])) * 100)
        if nonzero.any()
        else None
    )
    return {"mae": round(mae, 2), "mape": None if mape is None else round(mape, 2)}


def forecast_series(series: pd.Series, granularity: str) -> tuple[pd.DataFrame, dict]:
    """Back-test on the last HOLDOUT periods, then forecast HORIZON periods from all data."""
    season = SEASON[granularity]
    n = len(series)
    if n < season + HOLDOUT + 2:
        raise InsufficientData(
            "forecast_periods", granularity=granularity, minimum=season + HOLDOUT + 2, found=n
        )
    y = series.to_numpy(dtype=float)
    use_lag = n - HOLDOUT - season >= MIN_TRAIN_WITH_SEASONAL_LAG
    train, test = y[:-HOLDOUT], y[-HOLDOUT:]
    backtest = SeasonalRegression(season, use_seasonal_lag=use_lag).fit(train).predict(HOLDOUT)
    naive = seasonal_naive(train, season, HOLDOUT)
    model_err, naive_err = _errors(test, backtest), _errors(test, naive)
    chosen = "regression" if model_err["mae"] <= naive_err["mae"] else "seasonal_naive"

    final = SeasonalRegression(season, use_seasonal_lag=use_lag).fit(y)
    if chosen == "regression":
        future = final.predict(HORIZON)
        log_err = np.log1p(test) - np.log1p(backtest)
    else:
        future = seasonal_naive(y, season, HORIZON)
        log_err = np.log1p(test) - np.log1p(naive)
    # Spread: the larger of the in-sample residuals and the held-back errors (log scale),
    # widening with the horizon.
    sd = max(final.residual_sd, float(np.sqrt(np.mean(log_err**2))))
    widen = Z_90 * sd * np.sqrt(1 + np.arange(HORIZON) / HOLDOUT)
    lower = np.expm1(np.log1p(future) - widen).clip(min=0)
    upper = np.expm1(np.log1p(future) + widen)

    freq = "MS" if granularity == "month" else "W-MON"
    future_index = pd.date_range(series.index[-1], periods=HORIZON + 1, freq=freq)[1:]
    fitted = final.fitted.copy()
    fitted[-HOLDOUT:] = backtest  # the held-back periods show what the back-test predicted
    kinds = np.r_[np.repeat("history", n - HOLDOUT), np.repeat("backtest", HOLDOUT)]
    baseline = np.r_[np.full(n - HOLDOUT, np.nan), naive]
    past = pd.DataFrame(
        {
            "period_start": series.index.date,
            "row_kind": kinds,
            "actual": y,
            "predicted": fitted,
            "lower": np.nan,
            "upper": np.nan,
            "baseline": baseline,
        }
    )
    ahead = pd.DataFrame(
        {
            "period_start": future_index.date,
            "row_kind": "future",
            "actual": np.nan,
            "predicted": future,
            "lower": lower,
            "upper": upper,
            "baseline": seasonal_naive(y, season, HORIZON),
        }
    )
    rows = pd.concat([past, ahead], ignore_index=True)
    rows.insert(0, "granularity", granularity)
    metrics = {
        "periods": n,
        "holdout": HOLDOUT,
        "horizon": HORIZON,
        "seasonal_lag": use_lag,
        "model": model_err,
        "seasonal_naive": naive_err,
        "chosen": chosen,
        "beats_baseline": model_err["mae"] < naive_err["mae"],
        "next_total": round(float(future.sum()), 2),
    }
    return rows, metrics


def run(
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    granularities: tuple[str, ...] = ("month", "week"),
    progress: Progress = no_progress,
) -> ForecastResult:
    # `orders` may be the orders themselves or their sums per day (with an `orders` count).
    count = int(orders["orders"].sum()) if "orders" in orders else len(orders)
    frames, metrics = [], {"orders": count}
    for i, gran in enumerate(granularities):
        progress(10 + 40 * i, gran)
        series = revenue_series(orders, gran, as_of)
        rows, m = forecast_series(series, gran)
        frames.append(rows)
        metrics[gran] = m
    rows = pd.concat(frames, ignore_index=True)
    metrics["rows"] = int(len(rows))
    return ForecastResult(rows=rows, metrics=metrics)
