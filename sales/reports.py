"""Sales reports, computed by aggregates in the database (no loops over rows in Python).

Each report is a function of a `ReportFilter` returning a `Report`: column keys with their
labels and a list of row dicts, which the page draws as a table and a chart and the CSV
export writes as is. Python only touches the grouped rows (a month, a stage, a rep),
never the orders or deals themselves.

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
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import LostReason, StageOutcome
from .models import Deal, DealStageChange, Order, OrderLine, Pipeline

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


def counted_orders(f: ReportFilter):
    qs = Order.objects.counted().filter(ordered_at__gte=f.start_dt, ordered_at__lt=f.end_dt)
    if f.rep_id:
        qs = qs.filter(customer__owner_id=f.rep_id)
    return qs


def _deals(f: ReportFilter):
    qs = Deal.objects.all()
    if f.rep_id:
        qs = qs.filter(owner_id=f.rep_id)
    if f.pipeline is not None:
        qs = qs.filter(pipeline=f.pipeline)
    return qs


def revenue_by_month(f: ReportFilter) -> Report:
    rows = (
        counted_orders(f)
        .annotate(month=TruncMonth("ordered_at"))
        .order_by()
        .values("month")
        .annotate(orders=Count("id"), revenue=Sum("total"))
        .order_by("month")
    )
    return Report(
        "revenue_by_month",
        _("Revenue by month"),
        [("month", _("Month")), ("orders", _("Orders")), ("revenue", _("Revenue"))],
        [
            {"month": _month(r["month"]), "orders": r["orders"], "revenue": _cents(r["revenue"])}
            for r in rows
        ],
    )


def revenue_by_rep(f: ReportFilter) -> Report:
    rows = (
        counted_orders(f)
        .order_by()
        .values("customer__owner__username")
        .annotate(orders=Count("id"), revenue=Sum("total"))
        .order_by("-revenue")
    )
    return Report(
        "revenue_by_rep",
        _("Revenue by rep"),
        [("rep", _("Rep")), ("orders", _("Orders")), ("revenue", _("Revenue"))],
        [
            {
                "rep": r["customer__owner__username"] or str(_("(no owner)")),
                "orders": r["orders"],
                "revenue": _cents(r["revenue"]),
            }
            for r in rows
        ],
    )


def _line_revenue():
    return Sum(
        ExpressionWrapper(
            F("quantity") * F("unit_price"),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        )
    )


def _lines(f: ReportFilter):
    """Lines of the orders that count, by a join (the planner does better than with IN)."""
    qs = OrderLine.objects.filter(
        order__ordered_at__gte=f.start_dt, order__ordered_at__lt=f.end_dt
    ).exclude(order__status__in=["draft", "cancelled"])
    if f.rep_id:
        qs = qs.filter(order__customer__owner_id=f.rep_id)
    return qs


def revenue_by_product(f: ReportFilter) -> Report:
    rows = (
        _lines(f)
        .order_by()
        .values("product__sku", "product__name", "product__category")
        .annotate(units=Sum("quantity"), revenue=_line_revenue())
        .order_by("-revenue", "product__sku")
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
                "sku": r["product__sku"],
                "product": r["product__name"],
                "category": r["product__category"],
                "quantity": r["units"],
                "revenue": _cents(r["revenue"]),
            }
            for r in rows
        ],
    )


def revenue_by_category(f: ReportFilter) -> Report:
    rows = (
        _lines(f)
        .order_by()
        .values("product__category")
        .annotate(units=Sum("quantity"), revenue=_line_revenue())
        .order_by("-revenue")
    )
    return Report(
        "revenue_by_category",
        _("Revenue by category"),
        [("category", _("Category")), ("quantity", _("Quantity")), ("revenue", _("Revenue"))],
        [
            {
                "category": r["product__category"] or str(_("(none)")),
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
    furthest = (
        DealStageChange.objects.filter(deal=OuterRef("pk"))
        .exclude(to_stage__outcome=StageOutcome.LOST)
        .order_by()
        .values("deal")
        .annotate(m=Max("to_stage__order"))
        .values("m")
    )
    deals = (
        _deals(f)
        .filter(created_at__gte=f.start_dt, created_at__lt=f.end_dt)
        .annotate(furthest=Subquery(furthest))
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
# version" (the newest order, deal change and deal edit, each read from an index), so a new
# order or a moved deal shows at once while repeated views at 1M orders cost three index
# lookups. Edits that touch none of those (an order's status) show within CACHE_SECONDS.
CACHE_SECONDS = 300


def data_version() -> str:
    order_id = Order.objects.aggregate(m=Max("id"))["m"]
    change_id = DealStageChange.objects.aggregate(m=Max("id"))["m"]
    edited = Deal.objects.aggregate(m=Max("updated_at"))["m"]
    return f"{order_id}-{change_id}-{edited.timestamp() if edited else 0}"


def build_reports(f: ReportFilter, keys=None) -> dict[str, Report]:
    """The reports named by `keys` (all by default), from the cache when the data has not
    changed since they were computed."""
    keys = list(keys or REPORTS)
    pipeline_id = f.pipeline.pk if f.pipeline is not None else None
    prefix = f"sales-report:{data_version()}:{f.start}:{f.end}:{f.rep_id}:{pipeline_id}:"
    found = cache.get_many([prefix + k for k in keys])
    out = {}
    for key in keys:
        report = found.get(prefix + key)
        if report is None:
            report = REPORTS[key](f)
            cache.set(prefix + key, report, CACHE_SECONDS)
        out[key] = report
    return out
