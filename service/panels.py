"""What the service desk adds to the customer page: a "Tickets and satisfaction" panel and
timeline events for tickets and feedback. Each runs a fixed number of queries."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from crm import roles
from crm.registry import TimelineEvent

from .choices import OPEN_STATUSES
from .models import Feedback, Ticket

PANEL_TICKETS = 5


def customer_panel_context(request, customer) -> dict | None:
    """Recent tickets, open count and satisfaction averages of one customer (3 queries)."""
    user = request.user
    tickets = roles.visible(user, Ticket).filter(customer=customer)
    counts = tickets.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES))
    )
    recent = list(tickets.select_related("assignee").order_by("-created_at", "-id")[:PANEL_TICKETS])
    feedback = roles.visible(user, Feedback).filter(customer=customer)
    scores = feedback.aggregate(
        answers=Count("pk"), csat=Avg("csat"), ces=Avg("ces"), nps=Avg("nps")
    )
    return {
        "customer": customer,
        "tickets": recent,
        "counts": counts,
        "scores": scores,
        "can_open": roles.can(user, "add", Ticket)
        and (roles.role_of(user) is not roles.Role.SALES_REP or customer.owner_id == user.pk),
    }


def ticket_events(request, customer, before: datetime | None, limit: int):
    qs = roles.visible(request.user, Ticket).filter(customer=customer)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    for t in qs.select_related("assignee").order_by("-created_at", "-id")[:limit]:
        yield TimelineEvent(
            when=t.created_at,
            kind="ticket",
            icon="life-preserver",
            title=f"#{t.pk} {t.subject}",
            detail=f"{_('Ticket')} · {t.get_status_display()} · {t.get_priority_display()}",
            url=t.get_absolute_url(),
            user=t.assignee.get_username() if t.assignee else "",
        )


def feedback_events(request, customer, before: datetime | None, limit: int):
    qs = roles.visible(request.user, Feedback).filter(customer=customer)
    if before is not None:
        qs = qs.filter(submitted_at__lt=before)
    for f in qs.order_by("-submitted_at", "-id")[:limit]:
        parts = [f"CSAT {f.csat}/5"]
        if f.ces is not None:
            parts.append(f"CES {f.ces}/7")
        if f.nps is not None:
            parts.append(f"NPS {f.nps}/10")
        yield TimelineEvent(
            when=f.submitted_at,
            kind="feedback",
            icon="emoji-smile",
            title=_("Feedback: %(scores)s") % {"scores": " · ".join(parts)},
            detail=f.comment[:120],
            url=reverse("service:ticket_detail", args=[f.ticket_id]) if f.ticket_id else "",
        )
