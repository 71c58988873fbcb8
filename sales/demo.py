"""Demo rows for sales: pipelines with stages, deals with lines and stage histories, and
follow-up tasks for the demo reps (called by analytics/demo/seed.py after the orders).

Vectorised with numpy and pandas and written in bulk, like the rest of the demo data:
- two pipelines ("New business" with four open stages, "Renewals" with two);
- about three deals per ten customers; each deal walked forward through its pipeline's
  open stages with exponential gaps, and a part of them closed as won or lost;
- a won deal is an existing demo order: its customer, its lines, its total and its date,
  and the deal points at it, so revenue and won deals agree and no order is added;
- tasks per sales rep, some overdue (their reminder already sent), some coming up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from crm.bulk import bulk_insert, reset_sequences

from .choices import LostReason
from .models import Deal, DealLine, DealStageChange, Notification, Pipeline, PipelineStage, Task

# (pipeline, [(stage, probability, outcome)]); open stages first, in order.
PIPELINES = [
    (
        "New business",
        [
            ("Lead", 10, "open"),
            ("Qualified", 25, "open"),
            ("Proposal", 50, "open"),
            ("Negotiation", 75, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ],
    ),
    (
        "Renewals",
        [
            ("Renewal due", 40, "open"),
            ("Quote sent", 70, "open"),
            ("Renewed", 100, "won"),
            ("Churned", 0, "lost"),
        ],
    ),
]
DEALS_PER_CUSTOMER = 0.3
DAY = 86_400
TASK_TITLES = [
    "Call back about the offer",
    "Send the revised quote",
    "Follow up on the demo",
    "Check delivery date",
    "Ask for a referral",
    "回访客户",
    "发送报价单",
]


def _pipelines_frames():
    pipelines, stages = [], []
    for p_idx, (name, rows) in enumerate(PIPELINES, start=1):
        pipelines.append({"id": p_idx, "name": name, "position": p_idx, "active": True})
        for order, (stage, prob, outcome) in enumerate(rows, start=1):
            stages.append(
                {
                    "id": len(stages) + 1,
                    "pipeline_id": p_idx,
                    "name": stage,
                    "order": order,
                    "probability": prob,
                    "outcome": outcome,
                }
            )
    return pd.DataFrame(pipelines), pd.DataFrame(stages)


def clear() -> None:
    """Delete this module's rows (the seed's own clearing leaves these tables alone on SQLite)."""
    for model in (Notification, Task, DealStageChange, DealLine, Deal, PipelineStage, Pipeline):
        model._base_manager.all()._raw_delete(using="default")


def seed_sales(*, data, user_ids: dict[str, int], rep_ids: list[int], end: date, seed: int) -> dict:
    """Write the sales demo rows; returns the row counts by model label."""
    rng = np.random.default_rng(seed + 1005)
    clear()
    end_ts = pd.Timestamp(end, tz="UTC") + pd.Timedelta(hours=17)
    pipelines, stages = _pipelines_frames()
    n_deals = max(30, int(len(data.customers) * DEALS_PER_CUSTOMER))

    # Outcome per deal: about a quarter won, a third lost, the rest open.
    pipeline_id = np.where(rng.random(n_deals) < 0.8, 1, 2)
    outcome = rng.choice(np.array(["won", "lost", "open"]), size=n_deals, p=[0.25, 0.33, 0.42])
    n_open = np.where(pipeline_id == 1, 4, 2)
    # How far along the open stages a deal got (0-based); won deals passed all of them.
    reached = np.minimum(rng.geometric(0.45, size=n_deals) - 1, n_open - 1)
    reached = np.where(outcome == "won", n_open - 1, reached)

    # Won deals are existing orders from the last 18 months (one deal per order).
    orders = data.orders
    recent = orders[
        (orders["ordered_at"] > end_ts - pd.Timedelta(days=540)) & (orders["status"] != "cancelled")
    ]
    won_idx = np.flatnonzero(outcome == "won")
    if len(won_idx) > len(recent):  # tiny scales: fewer won deals
        outcome[won_idx[len(recent) :]] = "lost"
        won_idx = won_idx[: len(recent)]
    won_orders = recent.iloc[rng.choice(len(recent), size=len(won_idx), replace=False)]

    customers = data.customers
    cust_pick = rng.integers(len(customers), size=n_deals)
    customer_id = customers["id"].to_numpy()[cust_pick]
    customer_id[won_idx] = won_orders["customer_id"].to_numpy()
    owners_of = customers.set_index("id")["owner_id"]
    owner = owners_of.reindex(customer_id).to_numpy()
    reps = np.array(rep_ids)
    owner = np.where(np.isin(owner, reps), owner, reps[rng.integers(len(reps), size=n_deals)])

    # Stage history: creation in the first stage, one change per further open stage, and
    # the closing change; gaps between changes are exponential (about 9 days).
    steps = reached + 1 + (outcome != "open")
    deal_of_step = np.repeat(np.arange(n_deals), steps)
    starts = np.concatenate([[0], np.cumsum(steps)[:-1]])
    step_no = np.arange(len(deal_of_step)) - np.repeat(starts, steps)
    gap = np.where(step_no == 0, 0, rng.exponential(9 * DAY, size=len(deal_of_step))).astype(int)
    offset = pd.Series(gap).groupby(deal_of_step).cumsum().to_numpy()
    span = offset[np.cumsum(steps) - 1]  # creation to last change, per deal
    # The last change happens at some point in the last 18 months (a won deal: its order's time).
    last_at = end_ts - pd.to_timedelta(rng.integers(0, 540 * DAY, size=n_deals), unit="s")
    last_at = pd.Series(last_at)
    last_at.iloc[won_idx] = won_orders["ordered_at"].to_numpy()
    # Open deals moved recently: their last change within the last 60 days.
    open_mask = outcome == "open"
    last_at[open_mask] = end_ts - pd.to_timedelta(
        rng.integers(0, 60 * DAY, size=open_mask.sum()), unit="s"
    )
    created_at = last_at - pd.to_timedelta(span, unit="s")
    change_at = created_at.iloc[deal_of_step].reset_index(drop=True) + pd.to_timedelta(
        offset, unit="s"
    )

    # Stage ids: open stages of pipeline 1 are 1-4 (won 5, lost 6); pipeline 2's are 7-8
    # (won 9, lost 10).
    first_stage = np.where(pipeline_id == 1, 1, 7)
    won_stage = np.where(pipeline_id == 1, 5, 9)
    lost_stage = np.where(pipeline_id == 1, 6, 10)
    d = deal_of_step
    closing = step_no == steps[d] - 1
    closing &= outcome[d] != "open"
    to_stage = np.where(
        closing,
        np.where(outcome[d] == "won", won_stage[d], lost_stage[d]),
        first_stage[d] + step_no,
    )
    from_stage = pd.Series(to_stage).shift(1).where(step_no > 0).astype("Int64")
    changes = pd.DataFrame(
        {
            "id": np.arange(1, len(d) + 1),
            "deal_id": d + 1,
            "from_stage_id": from_stage,
            "to_stage_id": to_stage,
            "user_id": owner[d],
            "changed_at": change_at,
            "seconds_in_from_stage": pd.Series(gap).where(step_no > 0).astype("Int64"),
        }
    )
    current = to_stage[np.cumsum(steps) - 1]

    # Lines: won deals copy their order's lines; others get one to three products.
    ol = data.order_lines
    won_lines = ol[ol["order_id"].isin(won_orders["id"])].merge(
        pd.DataFrame({"order_id": won_orders["id"].to_numpy(), "deal_id": won_idx + 1}),
        on="order_id",
    )
    other = np.flatnonzero(outcome != "won")
    n_lines = rng.integers(1, 4, size=len(other))
    line_deal = np.repeat(other + 1, n_lines)
    products = data.products
    prod_pick = rng.integers(len(products), size=len(line_deal))
    other_lines = pd.DataFrame(
        {
            "deal_id": line_deal,
            "product_id": products["id"].to_numpy()[prod_pick],
            "quantity": rng.integers(1, 6, size=len(line_deal)),
            "unit_price": products["unit_price"].to_numpy()[prod_pick],
        }
    )
    lines = pd.concat(
        [won_lines[["deal_id", "product_id", "quantity", "unit_price"]], other_lines],
        ignore_index=True,
    ).sort_values("deal_id", kind="stable")
    lines.insert(0, "id", np.arange(1, len(lines) + 1))
    cents = lines["unit_price"].map(lambda p: int(Decimal(p) * 100)).to_numpy() * lines["quantity"]
    deal_cents = pd.Series(cents.to_numpy()).groupby(lines["deal_id"].to_numpy()).sum()
    amount_cents = deal_cents.reindex(np.arange(1, n_deals + 1), fill_value=0).to_numpy()
    amount = [f"{c // 100}.{c % 100:02d}" for c in amount_cents]

    closed = outcome != "open"
    expected = np.where(
        closed,
        last_at.dt.date.to_numpy(),
        (end_ts + pd.to_timedelta(rng.integers(-20, 150, size=n_deals), unit="D")).date,
    )
    order_id = pd.Series(pd.NA, index=range(n_deals), dtype="Int64")
    order_id.iloc[won_idx] = won_orders["id"].to_numpy()
    reasons = np.array(LostReason.values)
    lost_reason = np.where(outcome == "lost", reasons[rng.integers(len(reasons), size=n_deals)], "")
    # Titles name the main product: "Urban Racket 23 × 3" (renewals say so).
    first = lines.drop_duplicates("deal_id").set_index("deal_id")
    names = products.set_index("id")["name"].reindex(first["product_id"]).to_numpy()
    label = pd.Series(names, index=first.index).reindex(np.arange(1, n_deals + 1), fill_value="")
    qty = first["quantity"].reindex(np.arange(1, n_deals + 1), fill_value=1).astype(int)
    title = label.astype(str) + " × " + qty.astype(str)
    title = np.where(pipeline_id == 2, "Renewal: " + title.to_numpy(), title.to_numpy())
    deals = pd.DataFrame(
        {
            "id": np.arange(1, n_deals + 1),
            "customer_id": customer_id,
            "title": title,
            "amount": amount,
            "pipeline_id": pipeline_id,
            "stage_id": current,
            "owner_id": owner,
            "expected_close": expected,
            "lost_reason": lost_reason,
            "lost_note": "",
            "stage_entered_at": last_at,
            "closed_at": last_at.where(closed, pd.NaT),
            "order_id": order_id,
            "created_at": created_at,
            "updated_at": last_at,
        }
    )

    tasks = _tasks(rng, deals, rep_ids, end_ts)
    counts = {}
    for model, df in [
        (Pipeline, pipelines),
        (PipelineStage, stages),
        (Deal, deals),
        (DealLine, lines),
        (DealStageChange, changes),
        (Task, tasks),
    ]:
        counts[model._meta.label_lower] = bulk_insert(model, df)
    reset_sequences(Pipeline, PipelineStage, Deal, DealLine, DealStageChange, Task)
    return counts


def _tasks(rng, deals: pd.DataFrame, rep_ids: list[int], end_ts) -> pd.DataFrame:
    """Per rep: follow-ups on their open deals, a third overdue, some already done."""
    per_rep = max(6, min(40, len(deals) // 100))
    frames = []
    open_deals = deals[deals["closed_at"].isna()]
    for rep in rep_ids:
        mine = open_deals[open_deals["owner_id"] == rep]
        if mine.empty:
            continue
        pick = mine.iloc[rng.integers(len(mine), size=per_rep)]
        hours = rng.integers(-10 * 24, 14 * 24, size=per_rep)
        due = end_ts + pd.to_timedelta(hours, unit="h")
        done = (hours < 0) & (rng.random(per_rep) < 0.4)
        past = hours < 0
        frames.append(
            pd.DataFrame(
                {
                    "title": np.array(TASK_TITLES)[rng.integers(len(TASK_TITLES), size=per_rep)],
                    "notes": "",
                    "due_at": due,
                    "done": done,
                    "done_at": pd.Series(due).where(done, pd.NaT),
                    "assignee_id": rep,
                    "customer_id": pick["customer_id"].to_numpy(),
                    "deal_id": pick["id"].to_numpy(),
                    # Past-due demo tasks count as reminded, so the first beat run does not
                    # mail a backlog; the coming ones are reminded when they fall due.
                    "reminder_sent_at": pd.Series(due).where(past, pd.NaT),
                    "created_by_id": rep,
                    "created_at": due - pd.Timedelta(days=3),
                }
            )
        )
    if not frames:
        return pd.DataFrame()
    tasks = pd.concat(frames, ignore_index=True)
    tasks.insert(0, "id", np.arange(1, len(tasks) + 1))
    return tasks
