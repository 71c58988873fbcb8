"""The "my day" page: what one rep or one agent works on today, always their own rows only.

Reps: their open deals by stage, their overdue tasks, their customers at risk of churning and
the products recommended to their customers. Agents: their queue, the tickets about to breach
a service-level target (theirs and the unassigned ones), and their own satisfaction scores.
Each section is a fixed number of queries whatever the data size.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from sales.models import Deal, Task
from service.models import Feedback, Ticket
from service.sla import WARNING_WINDOW

from .dashboard import _money, _pct, at_risk_customers
from .models import Recommendation
from .selectors import attach_because_names

LIST_ROWS = 10


def rep_day(*, user, now: datetime | None = None) -> dict:
    """The rep's sections (6 queries)."""
    now = now or timezone.now()
    stages = list(
        Deal.objects.filter(owner=user, stage__outcome="open")
        .values("pipeline__name", "stage__name", "stage__order", "stage__probability")
        .annotate(deals=Count("pk"), amount=Sum("amount"))
        .order_by("pipeline__name", "stage__order")
    )
    pipeline = [
        {
            "stage": f"{r['pipeline__name']} · {r['stage__name']}",
            "deals": r["deals"],
            "amount": _money(r["amount"]),
            "weighted": _money((r["amount"] or 0) * r["stage__probability"] / 100),
        }
        for r in stages
    ]
    overdue_qs = Task.objects.overdue(now).filter(assignee=user)
    overdue = list(
        overdue_qs.select_related("customer", "deal").order_by("due_at", "id")[:LIST_ROWS]
    )
    overdue_count = overdue_qs.count()
    recs = list(
        Recommendation.objects.filter(customer__owner=user, rank=1)
        .select_related("customer", "product")
        .order_by("-confidence", "-lift", "customer_id")[:LIST_ROWS]
    )
    attach_because_names(recs)
    return {
        "pipeline": pipeline,
        "pipeline_total": sum((r["amount"] for r in pipeline), _money(0)),
        "pipeline_weighted": sum((r["weighted"] for r in pipeline), _money(0)),
        "overdue_tasks": overdue,
        "overdue_count": overdue_count,
        "at_risk": at_risk_customers(owner=user, limit=LIST_ROWS),
        "recommendations": recs,
    }


def _satisfaction(qs) -> dict:
    agg = qs.aggregate(
        answers=Count("pk"),
        satisfied=Count("pk", filter=Q(csat__gte=4)),
        csat_avg=Avg("csat"),
        nps_answers=Count("nps"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    )
    n = agg["nps_answers"]
    return {
        "answers": agg["answers"],
        "csat_pct": _pct(agg["satisfied"], agg["answers"]),
        "csat_avg": None if agg["csat_avg"] is None else round(agg["csat_avg"], 2),
        "nps": round(100 * (agg["promoters"] - agg["detractors"]) / n) if n else None,
    }


def agent_day(*, user, now: datetime | None = None) -> dict:
    """The agent's sections (7 queries)."""
    now = now or timezone.now()
    mine = Ticket.objects.open().filter(assignee=user)
    queue = list(
        mine.select_related("customer").order_by(
            F("resolution_due").asc(nulls_last=True), "-created_at"
        )[:LIST_ROWS]
    )
    breaching_qs = Ticket.objects.due_before(now + WARNING_WINDOW).filter(
        Q(assignee=user) | Q(assignee__isnull=True)
    )
    breaching = list(
        breaching_qs.select_related("customer", "assignee").order_by("resolution_due", "id")[
            :LIST_ROWS
        ]
    )
    counts = Ticket.objects.aggregate(
        queue=Count("pk", filter=Q(pk__in=mine.values("pk"))),
        breaching=Count("pk", filter=Q(pk__in=breaching_qs.values("pk"))),
    )
    feedback = Feedback.objects.filter(agent=user)
    start = now - timedelta(days=30)
    current = _satisfaction(feedback.filter(submitted_at__gte=start, submitted_at__lt=now))
    previous = _satisfaction(
        feedback.filter(submitted_at__gte=start - timedelta(days=30), submitted_at__lt=start)
    )
    months = [
        {
            "month": r["month"].strftime("%Y-%m"),
            "answers": r["answers"],
            "csat_pct": _pct(r["satisfied"], r["answers"]),
        }
        for r in feedback.filter(submitted_at__gte=now - timedelta(days=183))
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(answers=Count("pk"), satisfied=Count("pk", filter=Q(csat__gte=4)))
        .order_by("month")
    ]
    return {
        "queue": queue,
        "queue_count": counts["queue"],
        "breaching": breaching,
        "breaching_count": counts["breaching"],
        "satisfaction": current,
        "satisfaction_before": previous,
        "satisfaction_months": months,
    }
