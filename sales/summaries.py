"""The summary tables behind the sales reports, kept in step with the orders.

At a million orders, grouping the orders and their lines for every report page costs
seconds; these tables hold the same sums already grouped (`OrderDaySummary`: counted
orders and revenue per day and customer owner; `ProductMonthSummary`: units and line
revenue per month, owner and product, `ProductMonthTotal` the same for all owners;
`CategoryMonthSummary`: the same per category), so
a report reads a few thousand rows.

They are recomputed, never patched with deltas, so they cannot drift: every write to
orders names what it touched as a `Footprint` (the days of the orders before and after the
change, and the products of their lines), and `refresh()` recomputes those days and the
(month, product) pairs from the orders, in the writer's transaction. The order services,
the order API and the order importer's write and undo call it; `rebuild_all()` recomputes
everything (the `rebuild_sales_summaries` command and a nightly beat job, the safety net
for writes that go around the services: the admin, raw SQL, a customer given a new owner).

Concurrency: a refresh takes a transaction-level advisory lock per month (PostgreSQL), so
two writers to the same month recompute one after the other and the second sees the first's
rows; a full rebuild takes the lock that every refresh shares, exclusively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from .models import (
    CategoryMonthSummary,
    Order,
    OrderDaySummary,
    OrderLine,
    ProductMonthSummary,
    ProductMonthTotal,
    SummaryState,
)

# First key of the advisory locks (an arbitrary constant: "SALE" in ASCII).
LOCK_NAMESPACE = 0x53414C45
# More separate day ranges than this in one refresh (an import scattered over years):
# refresh whole months instead, so the statement stays a short list of ranges.
MAX_RANGES = 40
UNCOUNTED = ("draft", "cancelled")


@dataclass(frozen=True)
class Footprint:
    """What a change to orders touched: days (site time zone) and products of lines.
    `product_ids` None means every product (an import)."""

    days: frozenset[date] = frozenset()
    product_ids: frozenset[int] | None = frozenset()

    def __or__(self, other: Footprint) -> Footprint:
        if self.product_ids is None or other.product_ids is None:
            products = None
        else:
            products = self.product_ids | other.product_ids
        return Footprint(self.days | other.days, products)


def _tz():
    return timezone.get_default_timezone()


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, _tz()).date()


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), _tz())


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def footprint(order_ids: Iterable[int]) -> Footprint:
    """The days and products of these orders as they are stored now."""
    ids = list(order_ids)
    if not ids:
        return Footprint()
    days = (
        Order.objects.filter(pk__in=ids)
        .annotate(d=TruncDate("ordered_at", tzinfo=_tz()))
        .order_by()
        .values_list("d", flat=True)
        .distinct()
    )
    products = (
        OrderLine.objects.filter(order_id__in=ids)
        .order_by()
        .values_list("product_id", flat=True)
        .distinct()
    )
    return Footprint(frozenset(days), frozenset(products))


def customer_footprint(customer_ids: Iterable[int]) -> Footprint:
    """The days and products of every order of these customers."""
    ids = list(customer_ids)
    days = (
        Order.objects.filter(customer_id__in=ids)
        .annotate(d=TruncDate("ordered_at", tzinfo=_tz()))
        .order_by()
        .values_list("d", flat=True)
        .distinct()
    )
    products = (
        OrderLine.objects.filter(order__customer_id__in=ids)
        .order_by()
        .values_list("product_id", flat=True)
        .distinct()
    )
    return Footprint(frozenset(days), frozenset(products))


def refresh_customers(customer_ids: Iterable[int]) -> None:
    """After customers changed owner: their orders' revenue moves from one rep to another."""
    refresh(customer_footprint(customer_ids))


def customers_reassigned(customer_ids: list[int]) -> None:
    """Listener of crm.registry: refresh in the worker once the change is committed (a bulk
    reassignment can touch every day of the history: seconds, not a web request's work)."""
    from .tasks import refresh_customer_summaries_task

    refresh_customer_summaries_task.delay_on_commit(list(customer_ids))


def _ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into [start, end) ranges."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day:
            out[-1] = (out[-1][0], day + timedelta(days=1))
        else:
            out.append((day, day + timedelta(days=1)))
    return out


def _month_ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if out and out[-1][1] == month:
            out[-1] = (out[-1][0], next_month(month))
        else:
            out.append((month, next_month(month)))
    return out


def ordered_between(ranges: Iterable[tuple[date, date]], field: str = "ordered_at") -> Q:
    """Orders (or lines, with field="order__ordered_at") in any of the [start, end) day
    ranges."""
    q = Q()
    for start, end in ranges:
        q |= Q(**{f"{field}__gte": day_start(start), f"{field}__lt": day_start(end)})
    return q


def line_revenue() -> Sum:
    return Sum(
        ExpressionWrapper(
            F("quantity") * F("unit_price"),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        )
    )


def _insert_select(model, columns: dict[str, str], qs: QuerySet) -> None:
    """INSERT INTO model's table SELECT qs, set-based in the database. `columns` maps the
    queryset's value names to the table's columns."""
    # Django 5 selects in the order of values() (`query.selected`), annotations included.
    names = list(qs.query.selected or ())
    sql, params = qs.query.sql_with_params()
    quote = connection.ops.quote_name
    cols = ", ".join(quote(columns[n]) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({cols}) {sql}", params)  # nosec B608 - table and column names come from model metadata, values are parameters


def _day_rows(q: Q | None = None) -> QuerySet:
    qs = Order.objects.exclude(status__in=UNCOUNTED)
    if q is not None:
        qs = qs.filter(q)
    return (
        qs.annotate(day=TruncDate("ordered_at", tzinfo=_tz()))
        .order_by()
        .values("day", "customer__owner")
        .annotate(n=Count("id"), revenue=Sum("total"))
    )


DAY_COLUMNS = {"day": "day", "customer__owner": "owner_id", "n": "orders", "revenue": "revenue"}


def _product_rows(q: Q | None = None, product_ids=None) -> QuerySet:
    qs = OrderLine.objects.exclude(order__status__in=UNCOUNTED)
    if q is not None:
        qs = qs.filter(q)
    if product_ids is not None:
        qs = qs.filter(product_id__in=list(product_ids))
    return (
        qs.annotate(month=TruncMonth("order__ordered_at", tzinfo=_tz()))
        .order_by()
        .values("month", "order__customer__owner", "product")
        .annotate(units=Sum("quantity"), revenue=line_revenue())
    )


PRODUCT_COLUMNS = {
    "month": "month",
    "order__customer__owner": "owner_id",
    "product": "product_id",
    "units": "units",
    "revenue": "revenue",
}


def _category_rows(months=None) -> QuerySet:
    qs = ProductMonthSummary.objects.all()
    if months is not None:
        qs = qs.filter(month__in=months)
    return (
        qs.order_by()
        .values("month", "owner", "product__category")
        .annotate(u=Sum("units"), r=Sum("revenue"))
    )


CATEGORY_COLUMNS = {
    "month": "month",
    "owner": "owner_id",
    "product__category": "category",
    "u": "units",
    "r": "revenue",
}


def _total_rows(months=None, product_ids=None) -> QuerySet:
    qs = ProductMonthSummary.objects.all()
    if months is not None:
        qs = qs.filter(month__in=months)
    if product_ids is not None:
        qs = qs.filter(product_id__in=list(product_ids))
    return qs.order_by().values("month", "product").annotate(u=Sum("units"), r=Sum("revenue"))


TOTAL_COLUMNS = {"month": "month", "product": "product_id", "u": "units", "r": "revenue"}


def refresh_categories(months: Iterable[date] | None = None) -> None:
    """Regroup the category rows of these months (all months by default) from the product
    rows: after a product refresh, or after products changed category (product import)."""
    with transaction.atomic():
        stale = CategoryMonthSummary.objects.all()
        if months is not None:
            months = sorted(set(months))
            if not months:
                return
            stale = stale.filter(month__in=months)
        stale.delete()
        _insert_select(CategoryMonthSummary, CATEGORY_COLUMNS, _category_rows(months))
        _bump_after_commit()


def _lock(keys: Iterable[int], *, exclusive_all: bool = False) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite runs one writer at a time anyway
    with connection.cursor() as cursor:
        if exclusive_all:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_NAMESPACE])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, 0)", [LOCK_NAMESPACE])
        for key in sorted(set(keys)):  # one order for everyone: no deadlock
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def _bump_version(rebuilt: bool = False) -> None:
    changes = {"version": F("version") + 1}
    if rebuilt:
        changes["rebuilt_at"] = timezone.now()
    if not SummaryState.objects.filter(pk=1).update(**changes):
        SummaryState.objects.get_or_create(
            pk=1, defaults={"version": 1, "rebuilt_at": changes.get("rebuilt_at")}
        )


def _bump_after_commit(rebuilt: bool = False) -> None:
    # After the commit, in its own short statement: a long import does not hold the state
    # row locked (which would stall every other writer) while it runs.
    transaction.on_commit(lambda: _bump_version(rebuilt))


@transaction.atomic
def refresh(fp: Footprint) -> None:
    """Recompute the summary rows of the footprint's days and (month, product) pairs."""
    if not fp.days:
        return
    months = sorted({d.replace(day=1) for d in fp.days})
    _lock(m.year * 100 + m.month for m in months)
    ranges = _ranges(fp.days)
    if len(ranges) > MAX_RANGES:
        ranges = _month_ranges(months)
    day_q = Q()
    for start, end in ranges:
        day_q |= Q(day__gte=start, day__lt=end)
    OrderDaySummary.objects.filter(day_q).delete()
    _insert_select(OrderDaySummary, DAY_COLUMNS, _day_rows(ordered_between(ranges)))

    if fp.product_ids is None or fp.product_ids:
        stale = ProductMonthSummary.objects.filter(month__in=months)
        if fp.product_ids is not None:
            stale = stale.filter(product_id__in=list(fp.product_ids))
        stale.delete()
        _insert_select(
            ProductMonthSummary,
            PRODUCT_COLUMNS,
            _product_rows(
                ordered_between(_month_ranges(months), "order__ordered_at"), fp.product_ids
            ),
        )
        totals = ProductMonthTotal.objects.filter(month__in=months)
        if fp.product_ids is not None:
            totals = totals.filter(product_id__in=list(fp.product_ids))
        totals.delete()
        _insert_select(ProductMonthTotal, TOTAL_COLUMNS, _total_rows(months, fp.product_ids))
        refresh_categories(months)
    _bump_after_commit()


def refresh_orders(order_ids: Iterable[int], before: Footprint | None = None) -> None:
    """Refresh after writing these orders; `before` is their footprint before the write
    (a changed date or product leaves its old day and product stale otherwise)."""
    fp = footprint(order_ids)
    refresh(fp | before if before is not None else fp)


@transaction.atomic
def rebuild_all() -> dict[str, int]:
    """Recompute both tables from every order; returns their row counts. Readers keep
    seeing the old rows until the commit (DELETE, not TRUNCATE, so no reader waits)."""
    _lock((), exclusive_all=True)
    for model in (OrderDaySummary, ProductMonthSummary, ProductMonthTotal, CategoryMonthSummary):
        model.objects.all().delete()
    _insert_select(OrderDaySummary, DAY_COLUMNS, _day_rows())
    _insert_select(ProductMonthSummary, PRODUCT_COLUMNS, _product_rows())
    _insert_select(ProductMonthTotal, TOTAL_COLUMNS, _total_rows())
    _insert_select(CategoryMonthSummary, CATEGORY_COLUMNS, _category_rows())
    _bump_after_commit(rebuilt=True)
    return {
        "days": OrderDaySummary.objects.count(),
        "products": ProductMonthSummary.objects.count(),
        "product totals": ProductMonthTotal.objects.count(),
        "categories": CategoryMonthSummary.objects.count(),
    }
