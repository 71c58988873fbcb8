"""Segmentation: KMeans on standardised customer features, k chosen by silhouette.

Inputs
- orders: order_id, customer_id, ordered_at (UTC), total (float), revenue orders only; or
  their per-customer totals (analytics.jobs.summary.TOTALS, summed in SQL by the loader);
- customers: id, created_at (UTC), birth_date (datetime or NaT), annual_income (float or NaN);
- tickets: customer_id, created_at.
Only customers with at least one order are segmented (a segment of people who never
bought says nothing about behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.preprocessing import StandardScaler

from .base import InsufficientData, Progress, days_between, no_progress
from .summary import as_totals

FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "age", "income", "tickets"]
# Heavy-tailed counts and money are clustered on a log scale, or a few whales make the clusters.
LOG_FEATURES = ["recency_days", "frequency", "monetary", "income", "tickets"]
MIN_CUSTOMERS = 50
# Silhouette is quadratic in rows: a 2,000-row sample ranks k the same way in well under a
# second, where the full 100k rows would take minutes.
SILHOUETTE_SAMPLE = 2000
K_RANGE = range(3, 9)
N_INIT = 3  # KMeans restarts, for the search and the final fit


@dataclass
class SegmentationResult:
    segments: pd.DataFrame  # number, name, variant, size, profile (dict)
    assignments: pd.DataFrame  # customer_id, number
    metrics: dict = field(default_factory=dict)


def features(
    orders: pd.DataFrame, customers: pd.DataFrame, tickets: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per customer with orders, the raw (unscaled) FEATURES. `orders` may be the
    orders or their per-customer totals (analytics.jobs.summary.TOTALS)."""
    summary = as_totals(orders).set_index("customer_id")
    out = pd.DataFrame(
        {
            "last": summary["last_at"],
            "first": summary["first_at"],
            "frequency": summary["orders"].astype(float),
            "monetary": summary["revenue"].astype(float),
        }
    )
    cust = customers.set_index("id").reindex(out.index)
    start = pd.concat([out["first"], cust["created_at"]], axis=1).min(axis=1)
    out["recency_days"] = days_between(as_of, out["last"]).clip(0)
    out["tenure_days"] = days_between(as_of, start).clip(0)
    out["age"] = days_between(as_of.tz_localize(None), cust["birth_date"]) / 365.25
    out["income"] = cust["annual_income"].astype(float)
    counts = tickets.groupby("customer_id").size()
    out["tickets"] = counts.reindex(out.index, fill_value=0).astype(float)
    return out[FEATURES]


def matrix(feats: pd.DataFrame) -> np.ndarray:
    """Log where the feature is heavy-tailed, missing values at the median, standardised."""
    x = feats.copy()
    for col in LOG_FEATURES:
        x[col] = np.log1p(x[col].clip(lower=0))
    x = x.fillna(x.median()).fillna(0.0)
    return StandardScaler().fit_transform(x.to_numpy(dtype=float))


def choose_k(x: np.ndarray, *, seed: int) -> tuple[int, dict[int, float]]:
    rng = np.random.default_rng(seed)
    sample = (
        x
        if len(x) <= SILHOUETTE_SAMPLE
        else x[rng.choice(len(x), SILHOUETTE_SAMPLE, replace=False)]
    )
    # The sample's distances once, for every k (they are most of the silhouette's cost).
    distances = pairwise_distances(sample)
    scores: dict[int, float] = {}
    for k in K_RANGE:
        if k >= len(sample):
            break
        labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit_predict(sample)
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(distances, labels, metric="precomputed"))
    best = max(scores, key=scores.get) if scores else 2
    return best, scores


def name_segments(profiles: pd.DataFrame, feats: pd.DataFrame) -> list[str]:
    """A SegmentName code per segment from its medians against the whole population:
    value level (total spend) and behaviour (lapsed, new, regular or occasional)."""
    money_hi, money_lo = feats["monetary"].quantile([0.7, 0.35])
    freq_hi = feats["frequency"].quantile(0.6)
    names = []
    for _, p in profiles.iterrows():
        level = (
            "high" if p["monetary"] >= money_hi else "low" if p["monetary"] <= money_lo else "mid"
        )
        if p["recency_days"] > 270:
            habit = "lapsed"
        elif p["tenure_days"] < 180:
            habit = "new"
        elif p["frequency"] >= freq_hi:
            habit = "regular"
        else:
            habit = "occasional"
        names.append(f"{level}_{habit}")
    return names


def run(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    k: int | None = None,
    seed: int = 0,
    min_customers: int = MIN_CUSTOMERS,
    progress: Progress = no_progress,
) -> SegmentationResult:
    feats = features(orders, customers, tickets, as_of)
    if len(feats) < min_customers:
        raise InsufficientData("segmentation_customers", minimum=min_customers, found=len(feats))
    progress(20, "features")
    x = matrix(feats)
    silhouettes: dict[int, float] = {}
    if k is None:
        k, silhouettes = choose_k(x, seed=seed)
    progress(50, "kmeans")
    model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(x)
    labels = model.labels_
    progress(85, "profiles")
    # Number segments by value, biggest spenders first, so numbers are stable across runs.
    profiles = feats.groupby(labels).median()
    order = profiles["monetary"].sort_values(ascending=False).index.to_numpy()
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(1, k + 1)
    profiles.index = renumber[profiles.index.to_numpy()]
    profiles = profiles.sort_index()
    sizes = pd.Series(renumber[labels]).value_counts().sort_index()
    names = name_segments(profiles, feats)
    segments = pd.DataFrame(
        {
            "number": profiles.index.astype(int),
            "name": names,
            "size": sizes.reindex(profiles.index).to_numpy().astype(int),
            "profile": [
                {c: (None if pd.isna(v) else round(float(v), 2)) for c, v in row.items()}
                for row in profiles.to_dict("records")
            ],
        }
    )
    # Two segments may earn the same name (two kinds of regulars): number them "1", "2" in
    # value order so the pages can tell them apart; a unique name gets 0 (no number).
    dupes = segments.groupby("name")["number"].transform("size") > 1
    segments["variant"] = np.where(dupes, segments.groupby("name").cumcount() + 1, 0)
    assignments = pd.DataFrame({"customer_id": feats.index.to_numpy(), "number": renumber[labels]})
    metrics = {
        "customers": int(len(feats)),
        "k": int(k),
        "silhouette_by_k": {str(kk): round(v, 4) for kk, v in silhouettes.items()},
        "inertia": float(model.inertia_),
    }
    return SegmentationResult(segments=segments, assignments=assignments, metrics=metrics)
