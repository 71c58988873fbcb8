"""Importing products and orders from CSV (columns fixed by DESIGN.md's Contracts).

Products are matched on SKU. Orders come one row per order line and are matched on
order_external_id: an order whose lines, customer and date are all as stored is left
alone, otherwise its lines are replaced by the file's. An order is imported whole or not
at all: when one of its lines is rejected, so are the others, so no order ever holds half
its lines. `Order.total` is written as the sum of the lines. See crm.importing for the
engine.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importing import (
    Importer,
    ParsedFile,
    Plan,
    as_text,
    collapse_last,
    count_references,
    db_timestamp,
    delete_ids,
    fetch_values,
    insert_frame,
    is_blank,
    reserve_ids,
    update_from_frame,
)
from customers.importing import UndoBlocked
from customers.models import Customer

from . import summaries
from .models import Order, OrderLine, Product

PRODUCT_COLUMNS = ["sku", "name", "category", "unit_price", "active"]
ORDER_COLUMNS = [
    "order_external_id",
    "customer_external_id",
    "ordered_at",
    "product_sku",
    "quantity",
    "unit_price",
]
SAMPLE = 20


def _cents(text: pd.Series) -> pd.Series:
    """Two-decimal text ("12.50") to integer cents; exact, unlike floats."""
    return text.str.replace(".", "", regex=False).astype("int64")


def _money(cents: pd.Series) -> pd.Series:
    """Integer cents to two-decimal text, formatted once per distinct amount (prices and
    totals repeat, so a million lines cost a few thousand formattings)."""
    c = pd.Series(cents, copy=False).astype("int64")
    distinct = pd.unique(c.to_numpy())
    text = {int(v): f"{v // 100}.{v % 100:02d}" for v in distinct.tolist()}
    return c.map(text).astype(object)


def _iso(times: pd.Series) -> pd.Series:
    """UTC times as Timestamp.isoformat() writes them, column-wise."""
    times = pd.to_datetime(times, utc=True)
    text = times.dt.strftime("%Y-%m-%dT%H:%M:%S")
    micro = times.dt.microsecond != 0
    if micro.any():
        text = text.where(~micro, text + "." + times.dt.strftime("%f"))
    return (text + "+00:00").astype(object)


def _local_days(moments: pd.Series) -> frozenset:
    """The days, in the site's time zone, of these order times."""
    local = pd.to_datetime(moments, utc=True).dt.tz_convert(str(timezone.get_default_timezone()))
    return frozenset(local.dt.date.dropna())


def _shown(value: Any) -> str:
    return "" if is_blank(value) else str(value)


def _loads(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else value


class ProductImporter(Importer):
    kind = "products"
    label = gettext_lazy("Products")
    columns = PRODUCT_COLUMNS
    required = ["sku"]
    help_rows = [
        ("sku", gettext_lazy("Required; matched to stored products.")),
        ("name", gettext_lazy("Required for new products.")),
        ("category", gettext_lazy("Free text.")),
        ("unit_price", gettext_lazy("Required for new products; a number, not negative.")),
        ("active", gettext_lazy("yes or no (blank: yes for new products).")),
    ]
    fields = ["sku", "name", "category", "unit_price", "active"]

    def plan(self, parsed: ParsedFile, *, user) -> Plan:
        frame, rejects, notes, cl = self.start_plan(parsed)
        c = pd.DataFrame(index=frame.index)
        c["sku"] = cl.text("sku", max_length=64, required=True)
        c["name"] = cl.text("name", max_length=200)
        c["category"] = cl.text("category", max_length=100)
        c["unit_price"] = cl.decimal("unit_price", max_digits=12, decimal_places=2)
        c["active"] = cl.boolean("active")
        work = c[~rejects.mask(c.index)]
        work = work.astype(object).where(work.notna(), "")
        collapsed, first_row = collapse_last(work, work["sku"])
        into = first_row[first_row != first_row.index.to_series()]
        notes["collapsed"] += len(into)
        stored = fetch_values(Product, "sku", collapsed["sku"], ["id", *self.fields])
        stored = stored.set_index("sku")
        target = collapsed["sku"].map(stored["id"])
        new = target.isna()
        rejects.add(
            new & (collapsed["name"] == ""), "name", _("A name is required for a new product.")
        )
        rejects.add(
            new & (collapsed["unit_price"] == ""),
            "unit_price",
            _("A unit price is required for a new product."),
        )
        ok = ~rejects.mask(collapsed.index)
        creates = collapsed[ok & new].copy()
        creates["active"] = creates["active"].map(lambda v: True if v == "" else v)
        matched = collapsed[ok & ~new].copy()
        matched["id"] = target[ok & ~new].astype("int64")
        old = stored.reindex(matched["sku"]).reset_index()
        old.index = matched.index
        old_text = old.apply(lambda s: s.map(as_text)).astype(object)
        merged = pd.DataFrame({"id": matched["id"]}, index=matched.index)
        diff = pd.Series(False, index=matched.index)
        changed_cols: dict[int, list[str]] = {}
        for col in self.fields:
            new_v = matched[col].map(lambda v: "" if v == "" else as_text(v))
            merged[col] = new_v.where(new_v != "", old_text[col])
            if col == "unit_price":
                d = pd.to_numeric(merged[col]).round(2) != pd.to_numeric(old_text[col]).round(2)
            else:
                d = merged[col].astype(str) != old_text[col].astype(str)
            diff |= d
            for r in d[d].index[:100]:
                changed_cols.setdefault(int(r), []).append(col)
        updates = merged[diff].copy()
        updates["active"] = updates["active"].map({"t": True, "f": False})
        previous = {
            int(i): {col: old_text.loc[r, col] for col in self.fields}
            for r, i in zip(updates.index, updates["id"], strict=True)
        }
        changes = [
            {
                "row": int(r),
                "id": int(merged.loc[r, "id"]),
                "label": merged.loc[r, "name"],
                "fields": [
                    [col, _shown(old_text.loc[r, col]), _shown(merged.loc[r, col])]
                    for col in changed_cols.get(int(r), [])
                ],
            }
            for r in updates.index[:SAMPLE]
        ]
        return Plan(
            kind=self.kind,
            total_rows=len(parsed.original),
            creates=creates,
            updates=updates,
            unchanged=int((~diff).sum()),
            rejects=rejects.frame(),
            original=parsed.original,
            notes=notes,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            ignored_columns=parsed.ignored_columns,
            changes=changes,
            extra={
                "previous": previous,
                "collapsed_into": [[int(r), int(t)] for r, t in into.head(50).items()],
            },
        )

    def write(self, plan: Plan, *, user, batch_id: int):
        records: list[tuple[str, int, Any]] = []
        if len(plan.creates):
            rows = plan.creates[self.fields].copy()
            rows["id"] = reserve_ids(Product, len(rows))
            rows["active"] = rows["active"].astype(bool)
            insert_frame(Product, rows)
            records += [("sales.product", int(i), None) for i in rows["id"]]
        if len(plan.updates):
            update_from_frame(Product, plan.updates[["id", *self.fields]])
            previous = plan.extra["previous"]
            records += [("sales.product", int(i), previous[int(i)]) for i in plan.updates["id"]]
            summaries.refresh_categories()  # a product may have changed category
        return records

    def undo(self, records: pd.DataFrame) -> None:
        mine = records[records["model"] == "sales.product"]
        updated = mine[mine["previous"].notna()]
        if len(updated):
            rows = pd.DataFrame(list(updated["previous"].map(_loads)))
            rows.insert(0, "id", updated["object_id"].astype("int64").to_numpy())
            rows["active"] = rows["active"].map({"t": True, "f": False})
            update_from_frame(Product, rows[["id", *self.fields]])
            summaries.refresh_categories()
        created = mine.loc[mine["previous"].isna(), "object_id"].astype("int64").tolist()
        if created:
            blocking = count_references(Product, created)
            if blocking:
                raise UndoBlocked(
                    _(
                        "Products created by this import are now used elsewhere (%(what)s); "
                        "undo would lose that data."
                    )
                    % {"what": ", ".join(f"{n} {label}" for label, n in blocking.items())}
                )
            delete_ids(Product, created)


class OrderImporter(Importer):
    kind = "orders"
    label = gettext_lazy("Orders")
    columns = ORDER_COLUMNS
    required = [
        "order_external_id",
        "customer_external_id",
        "ordered_at",
        "product_sku",
        "quantity",
    ]
    help_rows = [
        (
            "order_external_id",
            gettext_lazy("Required; one row per order line, matched to stored orders."),
        ),
        ("customer_external_id", gettext_lazy("Required; the external_id of a stored customer.")),
        (
            "ordered_at",
            gettext_lazy(
                "Date and time, e.g. 2025-03-31 14:05 (the site's time zone unless an offset is given)."
            ),
        ),
        ("product_sku", gettext_lazy("Required; the SKU of a stored product.")),
        ("quantity", gettext_lazy("A whole number, at least 1.")),
        ("unit_price", gettext_lazy("Blank: the product's current price.")),
    ]

    def plan(self, parsed: ParsedFile, *, user) -> Plan:
        frame, rejects, notes, cl = self.start_plan(parsed)
        c = pd.DataFrame(index=frame.index)
        c["order"] = cl.text("order_external_id", max_length=64, required=True)
        c["customer"] = cl.text("customer_external_id", max_length=64, required=True)
        c["sku"] = cl.text("product_sku", max_length=64, required=True)
        c["ordered_at"] = cl.datetime("ordered_at", required=True)
        c["quantity"] = cl.integer("quantity", minimum=1, required=True)
        c["price"] = cl.decimal("unit_price", max_digits=12, decimal_places=2)

        customers = fetch_values(Customer, "external_id", c["customer"], ["external_id", "id"])
        customer_ids = dict(zip(customers["external_id"], customers["id"], strict=True))
        c["customer_id"] = c["customer"].map(customer_ids)
        rejects.add(
            c["customer_id"].isna() & (c["customer"] != ""),
            "customer_external_id",
            lambda v: _("No customer has the external ID “%(value)s”.") % {"value": v},
            values=c["customer"],
        )
        products = fetch_values(Product, "sku", c["sku"], ["sku", "id", "unit_price"]).set_index(
            "sku"
        )
        c["product_id"] = c["sku"].map(products["id"])
        rejects.add(
            c["product_id"].isna() & (c["sku"] != ""),
            "product_sku",
            lambda v: _("No product has the SKU “%(value)s”.") % {"value": v},
            values=c["sku"],
        )
        list_price = c["sku"].map(products["unit_price"].map(lambda d: f"{d:.2f}"))
        from_list = c["price"].isna() & list_price.notna()
        notes["price_from_product"] += int((from_list & ~rejects.mask(c.index)).sum())
        c["price"] = c["price"].where(~from_list, list_price)

        # Exact repeats of a line (a file concatenated twice) count once.
        ok = ~rejects.mask(c.index)
        sig = ["order", "customer", "sku", "ordered_at", "quantity", "price"]
        repeat = c[ok].duplicated(subset=sig, keep="first")
        repeat_rows = repeat[repeat].index
        notes["collapsed"] += len(repeat_rows)
        first_of = (
            c[ok].reset_index().groupby(sig, sort=False, dropna=False)["row"].transform("min")
        )
        first_of.index = c[ok].index
        collapsed_into = [[int(r), int(first_of[r])] for r in repeat_rows[:50]]
        c = c.drop(index=repeat_rows)

        # Every line of an order must name the same customer and time as its first line.
        ok = ~rejects.mask(c.index)
        good = c[ok]
        first_by_order = good.reset_index().groupby("order", sort=False).first()
        lead_row = good["order"].map(first_by_order["row"])
        other_customer = good["customer"] != good["order"].map(first_by_order["customer"])
        other_time = good["ordered_at"] != good["order"].map(first_by_order["ordered_at"])
        rejects.add(
            other_customer,
            "customer_external_id",
            lambda r: _("Differs from row %(row)s of the same order.") % {"row": r},
            values=lead_row,
        )
        rejects.add(
            other_time & ~other_customer,
            "ordered_at",
            lambda r: _("Differs from row %(row)s of the same order.") % {"row": r},
            values=lead_row,
        )
        # An order is imported whole or not at all.
        bad_rows = c.index.isin(list(rejects.rows))
        bad_orders = c.loc[bad_rows & (c["order"] != ""), ["order"]].reset_index()
        first_bad = bad_orders.groupby("order")["row"].min()
        sibling = ~bad_rows & c["order"].isin(first_bad.index)
        rejects.add(
            pd.Series(sibling, index=c.index),
            "",
            lambda r: _("Another line of this order (row %(row)s) was rejected.") % {"row": int(r)},
            values=c["order"].map(first_bad),
        )
        lines = c[~c.index.isin(list(rejects.rows))].copy()
        lines["cents"] = _cents(lines["price"]) if len(lines) else pd.Series(dtype="int64")
        lines["quantity"] = lines["quantity"].astype("int64")
        lines["product_id"] = lines["product_id"].astype("int64")
        lines["customer_id"] = lines["customer_id"].astype("int64")
        lines["amount"] = lines["cents"] * lines["quantity"]
        orders = (
            lines.reset_index()
            .groupby("order", sort=False)
            .agg(
                row=("row", "min"),
                customer=("customer", "first"),
                customer_id=("customer_id", "first"),
                ordered_at=("ordered_at", "first"),
                lines=("row", "count"),
                total_cents=("amount", "sum"),
            )
            .reset_index()
            .set_index("row")
        )
        stored = fetch_values(
            Order,
            "external_id",
            orders["order"],
            ["external_id", "id", "customer_id", "ordered_at", "total"],
        ).set_index("external_id")
        orders["target"] = orders["order"].map(stored["id"])
        # Line signatures only for orders already stored: new orders compare with nothing.
        orders["signature"] = self._signatures(
            lines[lines["order"].isin(list(stored.index))], "order"
        )
        matched = orders[orders["target"].notna()].copy()
        matched["target"] = matched["target"].astype("int64")
        creates = orders[orders["target"].isna()].copy()

        old_lines = fetch_values(
            OrderLine,
            "order_id",
            matched["target"],
            ["id", "order_id", "product_id", "quantity", "unit_price"],
        )
        if len(old_lines):
            old_lines["cents"] = old_lines["unit_price"].map(lambda d: int(d * 100)).astype("int64")
            old_lines["quantity"] = old_lines["quantity"].astype("int64")
            old_lines["product_id"] = old_lines["product_id"].astype("int64")
            old_sig = self._signatures(old_lines.set_index("id"), "order_id")
        else:
            old_sig = pd.Series(dtype=object)
        old_order = stored.reset_index().set_index("id")
        same_lines = matched["target"].map(old_sig).fillna("") == matched["signature"]
        same_customer = (
            matched["target"].map(old_order["customer_id"]).astype("int64")
            == matched["customer_id"]
        )
        old_time = pd.to_datetime(matched["target"].map(old_order["ordered_at"]), utc=True)
        same_time = (
            old_time.to_numpy() == pd.to_datetime(matched["ordered_at"], utc=True).to_numpy()
        )
        same = same_lines & same_customer & same_time
        updates = matched[~same]

        by_order = old_lines.groupby("order_id") if len(old_lines) else None
        previous = {}
        for _row, o in updates.iterrows():  # one entry per changed order, for undo
            tid = int(o["target"])
            prior = (
                by_order.get_group(tid) if by_order is not None and tid in by_order.groups else None
            )
            previous[tid] = {
                "customer_id": int(old_order.loc[tid, "customer_id"]),
                "ordered_at": as_text(old_order.loc[tid, "ordered_at"]),
                "total": as_text(old_order.loc[tid, "total"]),
                "lines": []
                if prior is None
                else [
                    [int(i), int(p), int(q), f"{u:.2f}"]
                    for i, p, q, u in prior[
                        ["id", "product_id", "quantity", "unit_price"]
                    ].itertuples(index=False)
                ],
            }
        changes = [
            {
                "row": int(r),
                "id": int(o["target"]),
                "label": o["order"],
                "fields": [
                    [
                        _("lines"),
                        f"{len(previous[int(o['target'])]['lines'])} · {previous[int(o['target'])]['total']}",
                        f"{int(o['lines'])} · {_money(pd.Series([o['total_cents']])).iloc[0]}",
                    ]
                ],
            }
            for r, o in updates.head(SAMPLE).iterrows()
        ]
        creates_view = pd.DataFrame(
            {
                "order_external_id": creates["order"],
                "customer_external_id": creates["customer"],
                "ordered_at": _iso(creates["ordered_at"]),
                "lines": creates["lines"],
                "total": _money(creates["total_cents"])
                if len(creates)
                else pd.Series(dtype=object),
            },
            index=creates.index,
        )
        return Plan(
            kind=self.kind,
            total_rows=len(parsed.original),
            creates=creates_view,
            updates=updates,
            unchanged=int(same.sum()),
            rejects=rejects.frame(),
            original=parsed.original,
            notes=notes,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            ignored_columns=parsed.ignored_columns,
            changes=changes,
            extra={
                "orders": creates,
                "lines": lines,
                "previous": previous,
                "collapsed_into": collapsed_into,
            },
        )

    @staticmethod
    def _signatures(lines: pd.DataFrame, by: str) -> pd.Series:
        """One text per order listing its lines in a fixed order, to compare line sets."""
        if lines.empty:
            return pd.Series(dtype=object)
        ordered = lines.sort_values([by, "product_id", "quantity", "cents"])
        text = (
            ordered["product_id"].astype(str)
            + ":"
            + ordered["quantity"].astype(str)
            + ":"
            + ordered["cents"].astype(str)
        )
        sig = text.groupby(ordered[by].to_numpy(), sort=False).agg("|".join)
        if by == "order":
            first_row = lines.reset_index().groupby("order", sort=False)["row"].min()
            return pd.Series(sig.reindex(first_row.index).to_numpy(), index=first_row.to_numpy())
        return sig

    def write(self, plan: Plan, *, user, batch_id: int):
        now = pd.Timestamp(timezone.now()).tz_convert("UTC")
        records: list[tuple[str, int, Any]] = []
        orders = plan.extra["orders"]
        lines = plan.extra["lines"]
        updates = plan.updates
        order_ids: dict[str, int] = {}
        # The report summaries of every day these orders were on, before and after.
        touched = summaries.Footprint(product_ids=None)
        for frame in (orders, updates):
            if len(frame):
                touched |= summaries.Footprint(_local_days(frame["ordered_at"]), None)
        if len(updates):
            touched |= summaries.footprint(updates["target"].astype("int64").tolist())
        if len(orders):
            ids = reserve_ids(Order, len(orders))
            order_ids.update(zip(orders["order"], (int(i) for i in ids), strict=True))
            insert_frame(
                Order,
                pd.DataFrame(
                    {
                        "id": ids,
                        "external_id": orders["order"].to_numpy(),
                        "customer_id": orders["customer_id"].astype("int64").to_numpy(),
                        "ordered_at": pd.to_datetime(orders["ordered_at"], utc=True).to_numpy(),
                        "total": _money(orders["total_cents"]).to_numpy(),
                        "created_by_id": getattr(user, "pk", None),
                        "created_at": db_timestamp(now),
                    }
                ).assign(ordered_at=lambda f: pd.to_datetime(f["ordered_at"], utc=True)),
            )
            records += [("sales.order", int(i), None) for i in ids]
        if len(updates):
            target_ids = updates["target"].astype("int64").tolist()
            delete_ids(OrderLine, target_ids, column="order_id")
            order_ids.update(zip(updates["order"], target_ids, strict=True))
            update_from_frame(
                Order,
                pd.DataFrame(
                    {
                        "id": target_ids,
                        "customer_id": updates["customer_id"].astype("int64").to_numpy(),
                        "ordered_at": pd.to_datetime(updates["ordered_at"], utc=True).to_numpy(),
                        "total": _money(updates["total_cents"]).to_numpy(),
                    }
                ).assign(ordered_at=lambda f: pd.to_datetime(f["ordered_at"], utc=True)),
            )
            previous = plan.extra["previous"]
            records += [("sales.order", i, previous[i]) for i in target_ids]
        todo = lines[lines["order"].isin(list(order_ids))]
        if len(todo):
            insert_frame(
                OrderLine,
                pd.DataFrame(
                    {
                        "id": reserve_ids(OrderLine, len(todo)),
                        "order_id": todo["order"].map(order_ids).astype("int64").to_numpy(),
                        "product_id": todo["product_id"].to_numpy(),
                        "quantity": todo["quantity"].to_numpy(),
                        "unit_price": _money(todo["cents"]).to_numpy(),
                    }
                ),
            )
        summaries.refresh(touched)
        return records

    def undo(self, records: pd.DataFrame) -> None:
        mine = records[records["model"] == "sales.order"]
        created = mine.loc[mine["previous"].isna(), "object_id"].astype("int64").tolist()
        updated = mine[mine["previous"].notna()]
        ids = updated["object_id"].astype("int64").tolist()
        touched = summaries.footprint(created + ids) | summaries.Footprint(product_ids=None)
        if created:
            blocking = count_references(Order, created, ignore={OrderLine})
            if blocking:
                raise UndoBlocked(
                    _(
                        "Orders created by this import are now used elsewhere (%(what)s); "
                        "undo would lose that data."
                    )
                    % {"what": ", ".join(f"{n} {label}" for label, n in blocking.items())}
                )
            delete_ids(OrderLine, created, column="order_id")
            delete_ids(Order, created)
        if len(updated):
            prev = [_loads(p) for p in updated["previous"]]
            delete_ids(OrderLine, ids, column="order_id")
            update_from_frame(
                Order,
                pd.DataFrame(
                    {
                        "id": ids,
                        "customer_id": [p["customer_id"] for p in prev],
                        "ordered_at": pd.to_datetime(
                            [p["ordered_at"] for p in prev], utc=True, format="ISO8601"
                        ),
                        "total": [p["total"] for p in prev],
                    }
                ),
            )
            old = [
                [lid, oid, pid, q, u]
                for oid, p in zip(ids, prev, strict=True)
                for lid, pid, q, u in p["lines"]
            ]
            if old:
                insert_frame(
                    OrderLine,
                    pd.DataFrame(
                        old, columns=["id", "order_id", "product_id", "quantity", "unit_price"]
                    ),
                )
        summaries.refresh(touched | summaries.footprint(ids))
