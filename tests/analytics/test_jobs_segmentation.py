"""Segmentation finds planted groups, picks k by silhouette and names segments readably."""

import numpy as np
import pandas as pd
import pytest

from analytics.choices import SegmentName
from analytics.jobs import segmentation
from analytics.jobs.base import InsufficientData

AS_OF = pd.Timestamp("2026-06-30", tz="UTC")


def _data(per_group=80, seed=0):
    """Three planted groups: frequent big spenders, lapsed small buyers, new mid buyers."""
    rng = np.random.default_rng(seed)
    orders, customers = [], []
    cid = 0
    for group, (n_orders, amount, last_days, tenure) in enumerate(
        [(40, 400.0, 5, 900), (2, 20.0, 600, 1000), (3, 80.0, 20, 60)]
    ):
        for _ in range(per_group):
            cid += 1
            first = AS_OF - pd.Timedelta(days=tenure)
            last = AS_OF - pd.Timedelta(days=last_days)
            times = pd.to_datetime(np.linspace(first.value, last.value, n_orders), utc=True)
            for t in times:
                orders.append((len(orders) + 1, cid, t, amount * rng.lognormal(0, 0.1)))
            customers.append(
                (
                    cid,
                    first,
                    pd.Timestamp("1980-01-01") + pd.Timedelta(days=int(rng.integers(0, 300))),
                    50000.0 + group,
                )
            )
    o = pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "total"])
    c = pd.DataFrame(customers, columns=["id", "created_at", "birth_date", "annual_income"])
    t = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "created_at": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )
    return o, c, t


def test_planted_groups_are_found_and_named():
    o, c, t = _data()
    result = segmentation.run(o, c, t, as_of=AS_OF)
    assert result.metrics["k"] == 3
    assert sorted(result.segments["size"]) == [80, 80, 80]
    names = list(result.segments.sort_values("number")["name"])
    assert names[0] == "high_regular"  # segment 1 is the biggest spenders
    assert "low_lapsed" in names and "mid_new" in names
    assert all(n in SegmentName.values for n in names)
    assert list(result.segments["variant"]) == [0, 0, 0]  # unique names need no number
    a = result.assignments.set_index("customer_id")["number"]
    # Each planted group lands in one segment.
    assert a.loc[1:80].nunique() == a.loc[81:160].nunique() == a.loc[161:240].nunique() == 1
    assert result.segments.iloc[0]["profile"]["frequency"] == pytest.approx(40)


def test_too_few_customers_is_insufficient_data():
    o, c, t = _data(per_group=5)
    with pytest.raises(InsufficientData):
        segmentation.run(o, c, t, as_of=AS_OF)


def test_repeated_names_are_numbered():
    o, c, t = _data()
    result = segmentation.run(o, c, t, as_of=AS_OF, k=4)  # one planted group gets split
    segs = result.segments
    repeated = segs[segs["name"].duplicated(keep=False)]
    assert len(repeated) == 2 and sorted(repeated["variant"]) == [1, 2]
    assert (segs.loc[~segs["name"].duplicated(keep=False), "variant"] == 0).all()
