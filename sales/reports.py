"""Sales reports, computed by aggregates in the database (no loops over rows in Python).

Each report is a function of a `ReportFilter` returning a `Report`: column keys with their
labels and a list of row dicts, which the page draws as a table and a chart and the CSV
export writes as is. Python only touches the grouped rows (a month, a stage, a rep),
never the orders or deals themselves.

The order figures are read from the summary tables of `sales.summaries` (days and months
already grouped), so they cost the same at a million orders as at a thousand; the deal
reports group the deals directly.

Definitions:
- revenue: the stored totals of orders that count (not drafts or cancellations), by the
  order date; "by rep" attributes an order to the owner of its customer;
- product and category revenue: the sum of quantity × unit price of those orders' lines;
- funnel: deals of the pipeline created in the period; a deal "reached" a stage when its
  history ever took it to that stage or a later one that is not a lost stage; conversion is
  reached(next) / reached(this); days in stage is the average time deals spent in the
  stage before leaving it, over moves in the period;
- win rate: deals closed (won or lost) in the period; lost reasons: the lost ones;
- forecast: open deals by expected close month, weighted by the stage's win probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import summaries
from .choices import LostReason, StageOutcome
from .models import (
    CategoryMonthSummary,
    Deal,
    DealStageChange,
    Order,
    OrderDaySummary,
    OrderLine,
    Pipeline,
    Product,
    ProductMonthSummary,
    ProductMonthTotal,
    SummaryState,
)

CENT = Decimal("0.01")
SECONDS_PER_DAY = Decimal(86400)


@dataclass(frozen=True)
class ReportFilter:
    start: date
    end: date  # inclusive
    rep_id: int | None = None
    pipeline: Pipeline | None = None

    @property
    def start_dt(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_dt(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


@dataclass
class Report:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[dict] = field(default_factory=list)


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _month(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%Y-%m")


def _deals(f: ReportFilter):
    qs = Deal.objects.all()
    if f.rep_id:
        qs = qs.filter(owner_id=f.rep_id)
    if f.pipeline is not None:
        qs = qs.filter(pipeline=f.pipeline)
    return qs


def _days(f: ReportFilter):
    qs = OrderDaySummary.objects.filter(day__gte=f.start, day__lte=f.end)
    if f.rep_id:
        qs = qs.filter(owner_id=f.rep_id)
    return qs


def revenue_by_month(f: ReportFilter) -> Report:
    rows = (
        _days(f)
        .annotate(month=TruncMonth("day"))
        .order_by()
        .values("month")
        .annotate(n=Sum("orders"), revenue=Sum("revenue"))
        .order_by("month")
    )
    return Report(
        "revenue_by_month",
        _("Revenue by month"),
        [("month", _("Month")), ("orders", _("Orders")), ("revenue", _("Revenue"))],
        [
            {"month": _month(r["month"]), "orders": r["n"], "revenue": _cents(r["revenue"])}
            for r in rows
        ],
    )


def revenue_by_rep(f: ReportFilter) -> Report:
    rows = (
        _days(f)
        .order_by()
        .values("owner__username")
        .annotate(n=Sum("orders"), revenue=Sum("revenue"))
        .order_by("-revenue")
    )
    return Report(
        "revenue_by_rep",
        _("Revenue by rep"),
        [("rep", _("Rep")), ("orders", _("Orders")), ("revenue", _("Revenue"))],
        [
            {
                "rep": r["owner__username"] or str(_("(no owner)")),
                "orders": r["n"],
                "revenue": _cents(r["revenue"]),
            }
            for r in rows
        ],
    )


def month_plan(start: date, end: date):
    """How to sum line figures over the days start..end from monthly summaries.

    Returns (months, add, subtract): the months whose summary rows to take, and day ranges
    [from, until) whose lines to add or subtract directly. A month inside the period is
    taken whole; a month the period cuts is computed from its lines in the period, or, when
    the part outside the period is the shorter one (the current month up to today: the
    rest is in the future), taken whole with the outside part subtracted.
    """
    months: list[date] = []
    add: list[tuple[date, date]] = []
    subtract: list[tuple[date, date]] = []
    month = start.replace(day=1)
    stop = end + timedelta(days=1)
    while month < stop:
        nxt = summaries.next_month(month)
        a, b = max(start, month), min(stop, nxt)
        inside, length = (b - a).days, (nxt - month).days
        if inside == length:
            months.append(month)
        elif length - inside < inside:
            months.append(month)
            subtract += [r for r in ((month, a), (b, nxt)) if r[0] < r[1]]
        else:
            add.append((a, b))
        month = nxt
    return months, add, subtract


def _line_totals(f: ReportFilter, *, by_category: bool) -> list[dict]:
    """Units and revenue of the counted orders' lines in the period by product id (or by
    category): the monthly summaries plus or minus the lines of the months the period cuts
    (at most three queries, each grouped in the database; Python merges grouped rows)."""
    months, add, subtract = month_plan(f.start, f.end)
    key, line_key = ("category", "product__category") if by_category else ("product", "product")
    totals: dict = {}

    def merge(rows, sign: int) -> None:
        for k, units, revenue in rows:
            row = totals.setdefault(k, [0, Decimal(0)])
            row[0] += sign * (units or 0)
            row[1] += sign * (revenue or 0)

    if months:
        if by_category:
            qs = CategoryMonthSummary.objects.filter(month__in=months)
        elif f.rep_id:
            qs = ProductMonthSummary.objects.filter(month__in=months)
        else:  # every owner: the totals without the owner, a fraction of the rows
            qs = ProductMonthTotal.objects.filter(month__in=months)
        if f.rep_id:
            qs = qs.filter(owner_id=f.rep_id)
        merge(
            qs.order_by()
            .values(key)
            .annotate(u=Sum("units"), r=Sum("revenue"))
            .values_list(key, "u", "r"),
            1,
        )
    for ranges, sign in ((add, 1), (subtract, -1)):
        if not ranges:
            continue
        qs = OrderLine.objects.exclude(order__status__in=summaries.UNCOUNTED).filter(
            summaries.ordered_between(ranges, "order__ordered_at")
        )
        if f.rep_id:
            qs = qs.filter(order__customer__owner_id=f.rep_id)
        merge(
            qs.order_by()
            .values(line_key)
            .annotate(u=Sum("quantity"), r=summaries.line_revenue())
            .values_list(line_key, "u", "r"),
            sign,
        )
    return [
        {key: k, "units": units, "revenue": revenue}
        for k, (units, revenue) in totals.items()
        if units
    ]


def revenue_by_product(f: ReportFilter) -> Report:
    totals = _line_totals(f, by_category=False)
    products = {
        p["id"]: p
        for p in Product.objects.filter(pk__in=[r["product"] for r in totals]).values(
            "id", "sku", "name", "category"
        )
    }
    rows = sorted(
        (dict(r, **products[r["product"]]) for r in totals),
        key=lambda r: (-r["revenue"], r["sku"]),
    )
    return Report(
        "revenue_by_product",
        _("Revenue by product"),
        [
            ("sku", _("SKU")),
            ("product", _("Product")),
            ("category", _("Category")),
            ("quantity", _("Quantity")),
            ("revenue", _("Revenue")),
        ],
        [
            {
                "sku": r["sku"],
                "product": r["name"],
                "category": r["category"],
                "quantity": r["units"],
                "revenue": _cents(r["revenue"]),
            }
            for r in rows
        ],
    )


def revenue_by_category(f: ReportFilter) -> Report:
    rows = sorted(_line_totals(f, by_category=True), key=lambda r: (-r["revenue"], r["category"]))
    return Report(
        "revenue_by_category",
        _("Revenue by category"),
        [("category", _("Category")), ("quantity", _("Quantity")), ("revenue", _("Revenue"))],
        [
            {
                "category": r["category"] or str(_("(none)")),
                "quantity": r["units"],
                "revenue": _cents(r["revenue"]),
            }
            for r in rows
        ],
    )


def funnel(f: ReportFilter) -> Report:
    """Stage-to-stage conversion and average days in stage for one pipeline."""
    report = Report(
        "funnel",
        _("Pipeline funnel"),
        [
            ("stage", _("Stage")),
            ("reached", _("Deals reached")),
            ("conversion", _("Conversion to next (%)")),
            ("avg_days", _("Average days in stage")),
        ],
    )
    pipeline = f.pipeline
    if pipeline is None:
        return report
    stages = [s for s in pipeline.stages.all() if s.outcome != StageOutcome.LOST]
    # The furthest non-lost stage each deal reached, by one grouped join of the deals and
    # their changes (a subquery per deal took a second at 30k deals).
    deals = (
        _deals(f)
        .filter(created_at__gte=f.start_dt, created_at__lt=f.end_dt)
        .filter(stage_changes__to_stage__outcome__in=[StageOutcome.OPEN, StageOutcome.WON])
        .order_by()
        .values("pk")
        .annotate(furthest=Max("stage_changes__to_stage__order"))
    )
    reached = (
        deals.aggregate(
            **{f"s{s.pk}": Count("pk", filter=Q(furthest__gte=s.order)) for s in stages}
        )
        if stages
        else {}
    )
    changes = DealStageChange.objects.filter(
        from_stage__pipeline=pipeline, changed_at__gte=f.start_dt, changed_at__lt=f.end_dt
    )
    if f.rep_id:
        changes = changes.filter(deal__owner_id=f.rep_id)
    stay = dict(
        changes.order_by()
        .values("from_stage")
        .annotate(avg=Avg("seconds_in_from_stage"))
        .values_list("from_stage", "avg")
    )
    for i, stage in enumerate(stages):
        count = reached[f"s{stage.pk}"]
        nxt = reached[f"s{stages[i + 1].pk}"] if i + 1 < len(stages) else None
        conversion = None
        if nxt is not None and count:
            conversion = (Decimal(nxt) * 100 / count).quantize(Decimal("0.1"))
        avg = stay.get(stage.pk)
        report.rows.append(
            {
                "stage": stage.name,
                "reached": count,
                "conversion": conversion,
                "avg_days": (Decimal(avg) / SECONDS_PER_DAY).quantize(Decimal("0.1"))
                if avg is not None
                else None,
            }
        )
    return report


def _closed(f: ReportFilter):
    return _deals(f).filter(closed_at__gte=f.start_dt, closed_at__lt=f.end_dt)


def win_rate(f: ReportFilter) -> Report:
    rows = (
        _closed(f)
        .order_by()
        .values("owner__username")
        .annotate(
            won=Count("id", filter=Q(stage__outcome=StageOutcome.WON)),
            lost=Count("id", filter=Q(stage__outcome=StageOutcome.LOST)),
            won_amount=Sum("amount", filter=Q(stage__outcome=StageOutcome.WON)),
        )
        .order_by("owner__username")
    )
    report = Report(
        "win_rate",
        _("Win rate"),
        [
            ("rep", _("Rep")),
            ("won", _("Won")),
            ("lost", _("Lost")),
            ("win_rate", _("Win rate (%)")),
            ("won_amount", _("Won amount")),
        ],
    )
    for r in rows:
        closed = r["won"] + r["lost"]
        report.rows.append(
            {
                "rep": r["owner__username"],
                "won": r["won"],
                "lost": r["lost"],
                "win_rate": (Decimal(r["won"]) * 100 / closed).quantize(Decimal("0.1"))
                if closed
                else None,
                "won_amount": _cents(r["won_amount"]),
            }
        )
    return report


def lost_reasons(f: ReportFilter) -> Report:
    labels = dict(LostReason.choices)
    rows = (
        _closed(f)
        .filter(stage__outcome=StageOutcome.LOST)
        .order_by()
        .values("lost_reason")
        .annotate(deals=Count("id"), value=Sum("amount"))
        .order_by("-deals", "lost_reason")
    )
    return Report(
        "lost_reasons",
        _("Lost reasons"),
        [("reason", _("Reason")), ("deals", _("Deals")), ("amount", _("Amount"))],
        [
            {
                "reason": str(labels.get(r["lost_reason"], r["lost_reason"] or _("(none)"))),
                "deals": r["deals"],
                "amount": _cents(r["value"]),
            }
            for r in rows
        ],
    )


def forecast(f: ReportFilter) -> Report:
    """Open deals by expected close month: the pipeline value and its weighted value."""
    rows = (
        _deals(f)
        .filter(stage__outcome=StageOutcome.OPEN)
        .annotate(month=TruncMonth("expected_close"))
        .order_by()
        .values("month")
        .annotate(
            deals=Count("id"),
            value=Sum("amount"),
            # Summed as amount × percent and divided once per month below: SQLite would
            # divide integers in SQL.
            weighted_pct=Sum(
                ExpressionWrapper(
                    F("amount") * F("stage__probability"),
                    output_field=DecimalField(max_digits=20, decimal_places=2),
                )
            ),
        )
        .order_by(F("month").asc(nulls_last=True))
    )
    return Report(
        "forecast",
        _("Weighted forecast"),
        [
            ("month", _("Expected close")),
            ("deals", _("Deals")),
            ("amount", _("Pipeline value")),
            ("weighted", _("Weighted value")),
        ],
        [
            {
                "month": _month(r["month"]) or str(_("(no date)")),
                "deals": r["deals"],
                "amount": _cents(r["value"]),
                "weighted": _cents(Decimal(r["weighted_pct"] or 0) / 100),
            }
            for r in rows
        ],
    )


REPORTS = {
    "revenue_by_month": revenue_by_month,
    "revenue_by_rep": revenue_by_rep,
    "revenue_by_product": revenue_by_product,
    "revenue_by_category": revenue_by_category,
    "funnel": funnel,
    "win_rate": win_rate,
    "lost_reasons": lost_reasons,
    "forecast": forecast,
}

# Columns that hold money (shown with the currency; plain numbers in the CSV).
MONEY_COLUMNS = frozenset({"revenue", "amount", "weighted", "won_amount"})


# Computed reports are cached for a few minutes under a key that includes a cheap "data
# version" (for the order reports the summaries' version, bumped after every refresh; for
# the deal reports the newest deal change and deal edit; all read in one query), so a new or
# changed order or a moved deal shows at once while repeated views cost that one query.
CACHE_SECONDS = 300


# Reports read from the order summaries; the others group deals and their moves. Each kind
# is cached under its own version, so a new order leaves the deal reports cached.
ORDER_REPORTS = frozenset(
    {"revenue_by_month", "revenue_by_rep", "revenue_by_product", "revenue_by_category"}
)


def data_versions() -> tuple[str, str]:
    """(the order summaries' version, the deals' version)."""
    quote = connection.ops.quote_name
    state = quote(SummaryState._meta.db_table)
    orders = quote(Order._meta.db_table)
    changes = quote(DealStageChange._meta.db_table)
    deals = quote(Deal._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(version) FROM {state}), (SELECT MAX(id) FROM {orders}), "  # nosec B608 - table names from model metadata
            f"(SELECT MAX(id) FROM {changes}), (SELECT MAX(updated_at) FROM {deals})"
        )
        version, order_id, change_id, edited = cursor.fetchone()
    # The newest order as well as the version: the version is bumped after the commit, the
    # order is there at once. The time as text (SQLite returns it so); no spaces, which
    # some cache backends refuse.
    return f"{version}-{order_id}", f"{change_id}-{edited}".replace(" ", "T")


def build_reports(f: ReportFilter, keys=None) -> dict[str, Report]:
    """The reports named by `keys` (all by default), from the cache when the data has not
    changed since they were computed."""
    keys = list(keys or REPORTS)
    pipeline_id = f.pipeline.pk if f.pipeline is not None else None
    orders_v, deals_v = data_versions()
    filters = f"{f.start}:{f.end}:{f.rep_id}:{pipeline_id}"
    names = {
        k: f"sales-report:{orders_v if k in ORDER_REPORTS else deals_v}:{filters}:{k}" for k in keys
    }
    found = cache.get_many(list(names.values()))
    out = {}
    for key in keys:
        report = found.get(names[key])
        if report is None:
            report = REPORTS[key](f)
            cache.set(names[key], report, CACHE_SECONDS)
        out[key] = report
    return out
