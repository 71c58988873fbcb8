"""What the dashboards show: KPI tiles from database aggregates, and charts read from the
result tables the jobs write.

Pages never run pandas: every figure is one aggregate query or one read of a result table.
Chart rows that only change when a job runs are cached under a "results version": the ids of
each job's newest successful run, which the page reads anyway to show the jobs' state. A job
that finishes makes a new version, in every process (web and worker need not share a cache),
so a dashboard view after the first costs no query for the charts. Rows are plain data (codes, numbers, names); labels are translated when a
page is drawn, so one cached copy serves every language.

KPI definitions (the period is the last N days up to now; "before" is the N days before it):
- customers: all customers now; trend against those created before the period began;
- active customers: customers with an order that counts (not draft or cancelled) in the period;
- revenue: the totals of those orders;
- pipeline value: the amount of open deals now; before: of the deals that were open when the
  period began (created before it, closed after it or not at all);
- open tickets: open now; before: created before the period and not yet resolved or closed
  when it began;
- SLA compliance: of the tickets resolved in the period that had a resolution target, the
  share that met it and met their first-response target (when they had one);
- CSAT: the share of answers of 4 or 5 (as on the satisfaction page); NPS: % promoters (9-10)
  minus % detractors (0-6) of the NPS answers given in the period;
- churn rate: from the churn job's monthly rates, churned / active over the latest complete
  months the period spans (at least one), against as many months before them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from sales.models import Deal, Order, Product
from service.choices import OPEN_STATUSES, TicketCategory
from service.models import Feedback, Ticket

from .choices import JobKind, JobStatus, SegmentName
from .labels import FEATURE_LABELS
from .models import (
    AssociationRule,
    ChurnRate,
    CustomerScore,
    CustomerSegment,
    Forecast,
    JobRun,
    SatisfactionPeriod,
    Segment,
)

CENT = Decimal("0.01")
# A customer counts as "at risk" from this churn probability on (the churn job's threshold).
AT_RISK = 0.5
AT_RISK_ROWS = 15
CACHE_SECONDS = 24 * 3600  # old versions expire; a new version is a new key at once

PERIODS = {"30": 30, "90": 90, "365": 365}
PERIOD_LABELS = {
    "30": _("Last 30 days"),
    "90": _("Last 90 days"),
    "365": _("Last 12 months"),
}
DEFAULT_PERIOD = "30"


# --- cache of job results ------------------------------------------------------------------


def results_version(runs: dict | None = None) -> str:
    """The newest successful run of each job kind: it changes exactly when a job's results
    do (one run of a kind at a time, so a kind's newest success has its highest id)."""
    runs = runs if runs is not None else panel_runs()
    return "-".join(str(runs[k]["ok"].pk if runs[k]["ok"] else 0) for k in JobKind)


def _cached(name: str, compute: Callable[[], list[dict]], version: str | None) -> list[dict]:
    key = f"analytics:dash:{version or results_version()}:{name}"
    rows = cache.get(key)
    if rows is None:
        rows = compute()
        cache.set(key, rows, CACHE_SECONDS)
    return rows


# --- job runs ------------------------------------------------------------------------------


def panel_runs() -> dict[str, dict[str, JobRun | None]]:
    """Per job kind its newest run and its newest successful run, in one query."""
    newest = JobRun.objects.values("kind").annotate(m=Max("id")).values("m")
    newest_ok = (
        JobRun.objects.filter(status=JobStatus.SUCCEEDED)
        .values("kind")
        .annotate(m=Max("id"))
        .values("m")
    )
    runs = list(
        JobRun.objects.filter(Q(pk__in=newest) | Q(pk__in=newest_ok)).select_related("started_by")
    )
    out: dict[str, dict[str, JobRun | None]] = {k: {"latest": None, "ok": None} for k in JobKind}
    for run in sorted(runs, key=lambda r: r.pk):
        slot = out[run.kind]
        slot["latest"] = run
        if run.status == JobStatus.SUCCEEDED:
            slot["ok"] = run
    return out


def rows_read(run: JobRun | None) -> int | None:
    """How many input rows the run read (orders, lines, tickets... summed)."""
    if run is None:
        return None
    read = (run.metrics or {}).get("rows_read")
    return sum(int(v) for v in read.values()) if read else None


# --- KPI tiles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    prev_start: datetime
    days: int


def window(days: int, now: datetime | None = None) -> Window:
    end = now or timezone.now()
    start = end - timedelta(days=days)
    return Window(start=start, end=end, prev_start=start - timedelta(days=days), days=days)


@dataclass
class Kpi:
    key: str
    label: str
    value: Decimal | float | int | None
    previous: Decimal | float | int | None
    kind: str = "int"  # int, money, pct, score
    higher_is_better: bool = True
    note: str = ""

    @property
    def change(self):
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.previous or self.kind in ("pct", "score"):
            return None
        return round(100 * float(self.change) / abs(float(self.previous)), 1)

    @property
    def direction(self) -> str:
        change = self.change
        if change is None or change == 0:
            return "flat"
        return "up" if change > 0 else "down"

    @property
    def good(self) -> bool | None:
        if self.direction == "flat":
            return None
        return (self.direction == "up") == self.higher_is_better


def _pct(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def kpis(*, days: int, now: datetime | None = None) -> list[Kpi]:
    """The manager's KPI tiles for the last `days` days, each with the value before (7 queries)."""
    w = window(days, now)
    cur = Q(ordered_at__gte=w.start, ordered_at__lt=w.end)
    prev = Q(ordered_at__gte=w.prev_start, ordered_at__lt=w.start)

    customers = Customer.objects.aggregate(
        now=Count("pk"), before=Count("pk", filter=Q(created_at__lt=w.start))
    )
    orders = (
        Order.objects.counted()
        .filter(ordered_at__gte=w.prev_start, ordered_at__lt=w.end)
        .aggregate(
            revenue=Sum("total", filter=cur),
            prev_revenue=Sum("total", filter=prev),
            active=Count("customer", distinct=True, filter=cur),
            prev_active=Count("customer", distinct=True, filter=prev),
        )
    )
    open_then = Q(created_at__lt=w.start) & (Q(closed_at__isnull=True) | Q(closed_at__gte=w.start))
    deals = Deal.objects.aggregate(
        now=Sum("amount", filter=Q(stage__outcome="open")),
        before=Sum("amount", filter=open_then),
    )
    met = Q(resolved_at__lte=F("resolution_due")) & (
        Q(first_response_due__isnull=True) | Q(first_responded_at__lte=F("first_response_due"))
    )
    resolved_cur = Q(resolved_at__gte=w.start, resolved_at__lt=w.end, resolution_due__isnull=False)
    resolved_prev = Q(
        resolved_at__gte=w.prev_start, resolved_at__lt=w.start, resolution_due__isnull=False
    )
    tickets = Ticket.objects.aggregate(
        open_now=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        open_before=Count(
            "pk",
            filter=Q(created_at__lt=w.start)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=w.start))
            & (Q(closed_at__isnull=True) | Q(closed_at__gte=w.start)),
        ),
        resolved=Count("pk", filter=resolved_cur),
        met=Count("pk", filter=resolved_cur & met),
        prev_resolved=Count("pk", filter=resolved_prev),
        prev_met=Count("pk", filter=resolved_prev & met),
    )
    f_cur = Q(submitted_at__gte=w.start, submitted_at__lt=w.end)
    f_prev = Q(submitted_at__gte=w.prev_start, submitted_at__lt=w.start)
    measures = {}
    for name, q in (("cur", f_cur), ("prev", f_prev)):
        measures.update(
            {
                f"{name}_answers": Count("pk", filter=q),
                f"{name}_satisfied": Count("pk", filter=q & Q(csat__gte=4)),
                f"{name}_nps_answers": Count("nps", filter=q),
                f"{name}_promoters": Count("pk", filter=q & Q(nps__gte=9)),
                f"{name}_detractors": Count("pk", filter=q & Q(nps__lte=6)),
            }
        )
    fb = Feedback.objects.filter(submitted_at__gte=w.prev_start, submitted_at__lt=w.end).aggregate(
        **measures
    )

    def nps(name):
        n = fb[f"{name}_nps_answers"]
        if not n:
            return None
        return round(100 * (fb[f"{name}_promoters"] - fb[f"{name}_detractors"]) / n)

    months = max(1, round(days / 30.4))
    rates = list(ChurnRate.objects.order_by("-month")[: 2 * months])

    def churn(rows):
        active = sum(r.active_customers for r in rows)
        return _pct(sum(r.churned_customers for r in rows), active)

    churn_now, churn_before = churn(rates[:months]), churn(rates[months:])
    churn_note = ""
    if rates:
        churn_note = rates[min(months, len(rates)) - 1].month.strftime("%Y-%m")
        if months > 1:
            churn_note += " – " + rates[0].month.strftime("%Y-%m")

    return [
        Kpi("customers", _("Customers"), customers["now"], customers["before"]),
        Kpi("active_customers", _("Active customers"), orders["active"], orders["prev_active"]),
        Kpi(
            "revenue",
            _("Revenue"),
            _money(orders["revenue"]),
            _money(orders["prev_revenue"]),
            kind="money",
        ),
        Kpi(
            "pipeline",
            _("Pipeline value"),
            _money(deals["now"]),
            _money(deals["before"]),
            kind="money",
        ),
        Kpi(
            "open_tickets",
            _("Open tickets"),
            tickets["open_now"],
            tickets["open_before"],
            higher_is_better=False,
        ),
        Kpi(
            "sla",
            _("SLA compliance"),
            _pct(tickets["met"], tickets["resolved"]),
            _pct(tickets["prev_met"], tickets["prev_resolved"]),
            kind="pct",
        ),
        Kpi(
            "csat",
            _("CSAT (share satisfied)"),
            _pct(fb["cur_satisfied"], fb["cur_answers"]),
            _pct(fb["prev_satisfied"], fb["prev_answers"]),
            kind="pct",
        ),
        Kpi("nps", _("NPS"), nps("cur"), nps("prev"), kind="score"),
        Kpi(
            "churn_rate",
            _("Churn rate"),
            churn_now,
            churn_before,
            kind="pct",
            higher_is_better=False,
            note=churn_note,
        ),
    ]


# --- charts --------------------------------------------------------------------------------


@dataclass
class Chart:
    """One dashboard chart: its rows (also its table and its CSV) and how to draw them."""

    key: str
    title: str
    job: str | None
    columns: list[tuple[str, str]]
    rows: list[dict]
    spec: dict
    choices: list[tuple[str, str]]
    selected: str
    filter_label: str = ""
    extra: dict = field(default_factory=dict)
    empty_message: str = ""


def _f(value) -> float | None:
    return None if value is None else float(value)


def _dataset(label, data, **style) -> dict:
    return {"label": str(label), "data": data, **style}


# Revenue: the forecast job's monthly rows (history, held-back test, future with interval).


REVENUE_CHOICES = {"12": _("12 months of history"), "24": _("24 months"), "all": _("All")}


def revenue_rows(months: str, version: str | None = None) -> list[dict]:
    def compute():
        qs = Forecast.objects.filter(granularity="month").order_by("period_start")
        rows = list(
            qs.values(
                "period_start", "row_kind", "actual", "predicted", "lower", "upper", "baseline"
            )
        )
        if months != "all":
            past = [r for r in rows if r["row_kind"] != "future"]
            keep = {r["period_start"] for r in past[-int(months) :]}
            rows = [r for r in rows if r["row_kind"] == "future" or r["period_start"] in keep]
        return [{**r, "period_start": r["period_start"].strftime("%Y-%m")} for r in rows]

    return _cached(f"revenue:{months}", compute, version)


def revenue_chart(months: str, version: str | None = None) -> Chart:
    from .choices import ForecastRowKind

    rows = revenue_rows(months, version)
    kinds = dict(ForecastRowKind.choices)
    for r in rows:
        r["kind_label"] = str(kinds.get(r["row_kind"], r["row_kind"]))
    labels = [r["period_start"] for r in rows]
    spec = {
        "type": "line",
        "labels": labels,
        "datasets": [
            _dataset(_("Actual"), [_f(r["actual"]) for r in rows], color=0),
            _dataset(_("Predicted"), [_f(r["predicted"]) for r in rows], color=1, dashed=True),
            _dataset(_("Seasonal-naive"), [_f(r["baseline"]) for r in rows], color=2, dashed=True),
            _dataset(_("Upper bound"), [_f(r["upper"]) for r in rows], color=1, band="upper"),
            _dataset(_("Lower bound"), [_f(r["lower"]) for r in rows], color=1, band="lower"),
        ],
        "money": True,
    }
    return Chart(
        key="revenue",
        title=str(_("Revenue and forecast")),
        job=JobKind.FORECAST,
        columns=[
            ("period_start", str(_("Month"))),
            ("kind_label", str(_("Row"))),
            ("actual", str(_("Actual"))),
            ("predicted", str(_("Predicted"))),
            ("lower", str(_("Lower bound"))),
            ("upper", str(_("Upper bound"))),
            ("baseline", str(_("Seasonal-naive"))),
        ],
        rows=rows,
        spec=spec,
        choices=[(k, str(v)) for k, v in REVENUE_CHOICES.items()],
        selected=months,
        filter_label=str(_("History")),
    )


# Segments: sizes and profiles; the filter keeps customers who ordered in the last N months
# (their recency from the customer value job).

RECENCY_CHOICES = {
    "all": _("All customers"),
    "3": _("Ordered in the last 3 months"),
    "12": _("Ordered in the last 12 months"),
}
PROFILE_KEYS = ["recency_days", "frequency", "monetary", "tenure_days", "age", "income", "tickets"]


def segment_rows(recency: str, version: str | None = None) -> list[dict]:
    def compute():
        segments = list(Segment.objects.order_by("number"))
        if recency != "all":
            counts = dict(
                CustomerSegment.objects.filter(customer__score__recency_days__lte=int(recency) * 30)
                .values("segment")
                .annotate(n=Count("pk"))
                .values_list("segment", "n")
            )
        else:
            counts = {s.pk: s.size for s in segments}
        return [
            {
                "number": s.number,
                "name": s.name,
                "variant": s.variant,
                "customers": counts.get(s.pk, 0),
                **{k: s.profile.get(k) for k in PROFILE_KEYS},
            }
            for s in segments
        ]

    return _cached(f"segments:{recency}", compute, version)


def segments_chart(recency: str, version: str | None = None) -> Chart:
    rows = segment_rows(recency, version)
    names = dict(SegmentName.choices)
    for r in rows:
        name = str(names.get(r["name"], r["name"]))
        r["segment"] = f"{name} {r['variant']}" if r["variant"] else name
    present = [k for k in PROFILE_KEYS if any(r.get(k) is not None for r in rows)]
    # Profiles side by side: each feature's median as a share of the highest segment's, so
    # days, counts and money fit one radar (the table has the medians themselves).
    peaks = {k: max((abs(r[k]) for r in rows if r.get(k) is not None), default=0) for k in present}
    profile = {
        "type": "radar",
        "labels": [str(FEATURE_LABELS[k]) for k in present],
        "datasets": [
            _dataset(
                r["segment"],
                [
                    round(100 * r[k] / peaks[k]) if r.get(k) is not None and peaks[k] else 0
                    for k in present
                ],
                color=i,
            )
            for i, r in enumerate(rows)
        ],
    }
    return Chart(
        key="segments",
        title=str(_("Segments")),
        job=JobKind.SEGMENTATION,
        columns=[("segment", str(_("Segment"))), ("customers", str(_("Customers")))]
        + [(k, str(_("Median: %(feature)s") % {"feature": FEATURE_LABELS[k]})) for k in present],
        rows=rows,
        spec={
            "type": "bar",
            "labels": [r["segment"] for r in rows],
            "datasets": [_dataset(_("Customers"), [r["customers"] for r in rows], color=0)],
        },
        choices=[(k, str(v)) for k, v in RECENCY_CHOICES.items()],
        selected=recency,
        filter_label=str(_("Customers")),
        extra={"profile": profile} if rows and present else {},
    )


# Churn risk: the distribution of churn probabilities in ten bands, and the valuable customers
# among the at-risk ones with the reasons the model gives.

BANDS = 10


def _score_filter(recency: str) -> Q:
    q = Q(churn_probability__isnull=False)
    if recency != "all":
        q &= Q(recency_days__lte=int(recency) * 30)
    return q


def churn_rows(recency: str, version: str | None = None) -> list[dict]:
    def compute():
        edges = [i / BANDS for i in range(BANDS + 1)]
        bands = {
            f"b{i}": Count(
                "pk",
                filter=Q(churn_probability__gte=edges[i])
                & (
                    Q(churn_probability__lt=edges[i + 1])
                    if i + 1 < BANDS
                    else Q(churn_probability__lte=1)
                ),
            )
            for i in range(BANDS)
        }
        counts = CustomerScore.objects.filter(_score_filter(recency)).aggregate(**bands)
        if not any(counts.values()):
            return []  # no churn scores (yet): the panel says so instead of ten empty bars
        return [
            {
                "band": f"{round(100 * edges[i])}–{round(100 * edges[i + 1])}%",
                "customers": counts[f"b{i}"],
                "at_risk": edges[i] >= AT_RISK,
            }
            for i in range(BANDS)
        ]

    return _cached(f"churn:{recency}", compute, version)


def at_risk_customers(*, recency: str = "all", owner=None, limit: int = AT_RISK_ROWS):
    """The most valuable at-risk customers with their reasons (one query); `owner` limits
    them to one rep's customers."""
    qs = (
        CustomerScore.objects.filter(_score_filter(recency), churn_probability__gte=AT_RISK)
        .select_related("customer", "customer__owner")
        .order_by(F("predicted_value_12m").desc(nulls_last=True), "-churn_probability")
    )
    if owner is not None:
        qs = qs.filter(customer__owner=owner)
    out = []
    for score in qs[:limit] if limit else qs.iterator(chunk_size=2000):
        out.append(_at_risk_row(score))
    return out


def _at_risk_row(score: CustomerScore) -> dict:
    reasons = []
    for d in score.churn_drivers or []:
        label = str(FEATURE_LABELS.get(d.get("feature"), d.get("feature")))
        value = d.get("value")
        if isinstance(value, int | float):
            value = round(value) if abs(value) >= 10 else round(value, 1)
            reasons.append(f"{label}: {value:g}")
        else:
            reasons.append(label)
    return {
        "customer": score.customer,
        "customer_id": score.customer_id,
        "name": score.customer.name,
        "owner": score.customer.owner.get_username() if score.customer.owner else "",
        "churn_pct": round(100 * score.churn_probability),
        "predicted_value_12m": score.predicted_value_12m,
        "historic_value": score.historic_value,
        "reasons": "; ".join(reasons),
    }


def churn_chart(recency: str, version: str | None = None) -> Chart:
    rows = churn_rows(recency, version)
    return Chart(
        key="churn",
        title=str(_("Churn risk")),
        job=JobKind.CHURN,
        columns=[("band", str(_("Churn probability"))), ("customers", str(_("Customers")))],
        rows=rows,
        spec={
            "type": "bar",
            "labels": [r["band"] for r in rows],
            "datasets": [
                _dataset(
                    _("Customers"),
                    [r["customers"] for r in rows],
                    colors=[3 if r["at_risk"] else 0 for r in rows],
                )
            ],
        },
        choices=[(k, str(v)) for k, v in RECENCY_CHOICES.items()],
        selected=recency,
        filter_label=str(_("Customers")),
        extra={"at_risk": at_risk_customers(recency=recency)},
    )


AT_RISK_COLUMNS = [
    ("customer_id", _("Customer ID")),
    ("name", _("Customer")),
    ("owner", _("Owner")),
    ("churn_pct", _("Churn probability (%)")),
    ("predicted_value_12m", _("Predicted value, next 12 months")),
    ("historic_value", _("Historic value")),
    ("reasons", _("Why")),
]


# Cross-sell rules: the strongest rules by lift with product names; the filter is how many.

RULE_CHOICES = {"10": _("Top 10"), "25": _("Top 25"), "50": _("Top 50")}


def rule_rows(top: str, version: str | None = None) -> list[dict]:
    def compute():
        rules = list(AssociationRule.objects.order_by("-lift", "-confidence", "id")[: int(top)])
        ids = {pid for r in rules for pid in (*r.antecedents, *r.consequents)}
        names = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}

        def named(pids):
            return " + ".join(names.get(p, f"#{p}") for p in pids)

        return [
            {
                "if_bought": named(r.antecedents),
                "then_also": named(r.consequents),
                "support": round(r.support, 4),
                "confidence": round(r.confidence, 4),
                "lift": round(r.lift, 2),
                "baskets": r.baskets,
            }
            for r in rules
        ]

    return _cached(f"rules:{top}", compute, version)


def rules_chart(top: str, version: str | None = None) -> Chart:
    rows = rule_rows(top, version)
    return Chart(
        key="rules",
        title=str(_("Top cross-sell rules")),
        job=JobKind.ASSOCIATION_RULES,
        columns=[
            ("if_bought", str(_("If bought"))),
            ("then_also", str(_("Then also"))),
            ("support", str(_("Support"))),
            ("confidence", str(_("Confidence"))),
            ("lift", str(_("Lift"))),
            ("baskets", str(_("Baskets"))),
        ],
        rows=rows,
        spec={
            "type": "bar",
            "labels": [f"{r['if_bought']} → {r['then_also']}" for r in rows],
            "datasets": [_dataset(_("Lift"), [r["lift"] for r in rows], color=0)],
            "horizontal": True,
        },
        choices=[(k, str(v)) for k, v in RULE_CHOICES.items()],
        selected=top,
        filter_label=str(_("Rules")),
    )


# Satisfaction over time: the customer value job's monthly CSAT, CES and NPS.

MONTH_CHOICES = {"6": _("6 months"), "12": _("12 months"), "24": _("24 months"), "all": _("All")}


def satisfaction_rows(months: str, version: str | None = None) -> list[dict]:
    def compute():
        qs = SatisfactionPeriod.objects.order_by("-month")
        if months != "all":
            qs = qs[: int(months)]
        rows = list(qs.values("month", "responses", "csat", "csat_satisfied_share", "ces", "nps"))
        rows.reverse()
        return [
            {
                "month": r["month"].strftime("%Y-%m"),
                "responses": r["responses"],
                "csat": None if r["csat"] is None else round(r["csat"], 2),
                "satisfied_pct": None
                if r["csat_satisfied_share"] is None
                else round(100 * r["csat_satisfied_share"], 1),
                "ces": None if r["ces"] is None else round(r["ces"], 2),
                "nps": None if r["nps"] is None else round(r["nps"]),
            }
            for r in rows
        ]

    return _cached(f"satisfaction:{months}", compute, version)


def satisfaction_chart(months: str, version: str | None = None) -> Chart:
    rows = satisfaction_rows(months, version)
    return Chart(
        key="satisfaction",
        title=str(_("Satisfaction over time")),
        job=JobKind.CUSTOMER_VALUE,
        columns=[
            ("month", str(_("Month"))),
            ("responses", str(_("Responses"))),
            ("csat", str(_("CSAT (1-5)"))),
            ("satisfied_pct", str(_("Satisfied (4-5), %"))),
            ("ces", str(_("CES (1-7)"))),
            ("nps", str(_("NPS"))),
        ],
        rows=rows,
        spec={
            "type": "line",
            "labels": [r["month"] for r in rows],
            "datasets": [
                _dataset(_("Satisfied (4-5), %"), [r["satisfied_pct"] for r in rows], color=0),
                _dataset(_("NPS"), [r["nps"] for r in rows], color=1),
            ],
        },
        choices=[(k, str(v)) for k, v in MONTH_CHOICES.items()],
        selected=months,
        filter_label=str(_("Period")),
    )


# Tickets by category: live from the tickets table (no job behind it, so not cached).


def ticket_rows(period: str, now: datetime | None = None) -> list[dict]:
    w = window(PERIODS[period], now)
    counts = {
        r["category"]: r
        for r in Ticket.objects.filter(created_at__gte=w.start, created_at__lt=w.end)
        .values("category")
        .annotate(tickets=Count("pk"), still_open=Count("pk", filter=Q(status__in=OPEN_STATUSES)))
    }
    rows = []
    for value, label in TicketCategory.choices:
        r = counts.get(value, {})
        rows.append(
            {
                "category": str(label),
                "tickets": r.get("tickets", 0),
                "still_open": r.get("still_open", 0),
            }
        )
    return rows


def tickets_chart(period: str, version: str | None = None) -> Chart:
    """Live figures: `version` is not used (no job behind them)."""
    rows = ticket_rows(period)
    if not any(r["tickets"] for r in rows):
        rows = []
    return Chart(
        key="tickets",
        title=str(_("Tickets by category")),
        job=None,
        columns=[
            ("category", str(_("Category"))),
            ("tickets", str(_("Tickets opened"))),
            ("still_open", str(_("Still open"))),
        ],
        rows=rows,
        spec={
            "type": "bar",
            "labels": [r["category"] for r in rows],
            "datasets": [
                _dataset(_("Tickets opened"), [r["tickets"] for r in rows], color=0),
                _dataset(_("Still open"), [r["still_open"] for r in rows], color=3),
            ],
        },
        choices=[(k, str(v)) for k, v in PERIOD_LABELS.items()],
        selected=period,
        filter_label=str(_("Period")),
        empty_message=str(_("No ticket was opened in this period.")),
    )


# Every chart: its builder, its filter's choices and default.
CHARTS: dict[str, tuple[Callable[..., Chart], dict, str]] = {
    "revenue": (revenue_chart, REVENUE_CHOICES, "24"),
    "churn": (churn_chart, RECENCY_CHOICES, "all"),
    "segments": (segments_chart, RECENCY_CHOICES, "all"),
    "rules": (rules_chart, RULE_CHOICES, "10"),
    "satisfaction": (satisfaction_chart, MONTH_CHOICES, "12"),
    "tickets": (tickets_chart, PERIOD_LABELS, "90"),
}


def build_chart(key: str, value: str | None, version: str | None = None) -> Chart:
    """The chart `key` with its filter set to `value` (the default when unknown)."""
    builder, choices, default = CHARTS[key]
    return builder(value if value in choices else default, version)
