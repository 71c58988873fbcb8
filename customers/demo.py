"""Demo rows of the customers app that the shared generator does not make: each customer's
lifecycle history (consistent with its stage and orders) and a few open and met needs.
Vectorised pandas, written in bulk; called once by analytics/demo/seed.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm.bulk import bulk_insert, reset_sequences

from .models import LifecycleChange, Need

NEED_TEXTS = np.array(
    [
        "Volume discount for yearly orders",
        "Faster delivery to a second site",
        "Invoice in Chinese and English",
        "Training for new staff",
        "Extended warranty",
        "Integration with their ERP",
        "需要更快的交货",
        "希望获得批量折扣",
    ]
)


def write_demo(*, data, seed: int) -> dict[str, int]:
    """Write the lifecycle history and needs of the demo customers; returns row counts."""
    rng = np.random.default_rng(seed + 7)
    c = data.customers
    first_order = data.orders.groupby("customer_id")["ordered_at"].min()
    first = pd.to_datetime(c["id"].map(first_order), utc=True)
    stage = c["lifecycle_stage"].to_numpy()
    created = pd.to_datetime(c["created_at"], utc=True)
    changed = pd.to_datetime(c["lifecycle_changed_at"], utc=True)

    parts = [
        pd.DataFrame(
            {"customer_id": c["id"], "from_stage": "", "to_stage": "lead", "changed_at": created}
        )
    ]
    moved = stage != "lead"
    became = np.where(stage == "former", "customer", stage)
    when = changed.where(stage != "former", first)
    parts.append(
        pd.DataFrame(
            {"customer_id": c["id"], "from_stage": "lead", "to_stage": became, "changed_at": when}
        )[moved]
    )
    lapsed = stage == "former"
    parts.append(
        pd.DataFrame(
            {
                "customer_id": c["id"],
                "from_stage": "customer",
                "to_stage": "former",
                "changed_at": changed,
            }
        )[lapsed]
    )
    history = pd.concat(parts, ignore_index=True).dropna(subset=["changed_at"])
    history.insert(0, "id", np.arange(1, len(history) + 1))
    history["changed_by_id"] = (
        c.set_index("id")["owner_id"].reindex(history["customer_id"]).to_numpy()
    )
    history["changed_by_id"] = history["changed_by_id"].astype("Int64")

    n = max(1, len(c) // 8)
    who = rng.choice(c["id"].to_numpy(), size=n, replace=False)
    base = created.to_numpy()[np.searchsorted(c["id"].to_numpy(), who)]
    noted = pd.Series(base) + pd.to_timedelta(rng.integers(1, 400, size=n), unit="D")
    status = rng.choice(["open", "in_progress", "met", "dropped"], size=n, p=[0.45, 0.2, 0.25, 0.1])
    resolved = (noted + pd.to_timedelta(rng.integers(3, 60, size=n), unit="D")).where(
        np.isin(status, ["met", "dropped"])
    )
    needs = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "customer_id": who,
            "description": rng.choice(NEED_TEXTS, size=n),
            "priority": rng.choice(
                ["low", "normal", "high", "urgent"], size=n, p=[0.2, 0.5, 0.22, 0.08]
            ),
            "status": status,
            "created_at": pd.to_datetime(noted, utc=True),
            "resolved_at": pd.to_datetime(resolved, utc=True),
        }
    )
    counts = {
        "customers.lifecyclechange": bulk_insert(LifecycleChange, history),
        "customers.need": bulk_insert(Need, needs),
    }
    reset_sequences(LifecycleChange, Need)
    return counts
