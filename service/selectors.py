"""Page-shaped reads of the service desk. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import roles
from crm.roles import Role

from .choices import OPEN_STATUSES, PRIORITY_RANK, TicketCategory
from .models import Article, Feedback, SuggestionIndex, Ticket
from .sla import WARNING_WINDOW
from .suggestions import Index, rank

TABS = {
    "unassigned": _("Unassigned"),
    "mine": _("Mine"),
    "breaching": _("Breaching soon"),
    "open": _("All open"),
    "all": _("All"),
}
REP_TABS = ("open", "all")


def tabs_for(user) -> list[str]:
    if roles.role_of(user) is Role.SALES_REP:
        return list(REP_TABS)
    return list(TABS)


def default_tab(user) -> str:
    return "open" if roles.role_of(user) is Role.SALES_REP else "unassigned"


def ticket_queue(*, user, tab: str, now: datetime | None = None) -> QuerySet[Ticket]:
    """The tickets of one queue tab that the user may see, with what the rows show."""
    now = now or timezone.now()
    qs = roles.visible(user, Ticket).select_related("customer", "assignee")
    qs = qs.annotate(
        priority_rank=Case(
            *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
            output_field=IntegerField(),
        )
    )
    if tab == "unassigned":
        qs = qs.open().unassigned()
    elif tab == "mine":
        qs = qs.open().assigned_to(user)
    elif tab == "breaching":
        qs = qs.due_before(now + WARNING_WINDOW).order_by("resolution_due", "id")
    elif tab == "open":
        qs = qs.open()
    return qs


def tab_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    """How many tickets each tab holds, in one query."""
    now = now or timezone.now()
    soon = now + WARNING_WINDOW
    is_open = Q(status__in=OPEN_STATUSES)
    breaching = (
        is_open
        & Q(sla_paused_at__isnull=True)
        & (
            Q(first_responded_at__isnull=True, first_response_due__lt=soon)
            | Q(resolution_due__lt=soon)
        )
    )
    return roles.visible(user, Ticket).aggregate(
        unassigned=Count("pk", filter=is_open & Q(assignee__isnull=True)),
        mine=Count("pk", filter=is_open & Q(assignee=user)),
        breaching=Count("pk", filter=breaching),
        open=Count("pk", filter=is_open),
        all=Count("pk"),
    )


def customer_card(*, user, ticket: Ticket) -> dict:
    """The customer's recent orders and earlier tickets, for the ticket page (2 queries)."""
    customer = ticket.customer
    orders = list(customer.orders.order_by("-ordered_at", "-id")[:5])
    earlier = list(
        roles.visible(user, Ticket)
        .filter(customer=customer)
        .exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")[:5]
    )
    return {"orders": orders, "earlier_tickets": earlier}


# --- suggested answers ----------------------------------------------------------------------

_index_cache: dict[str, object] = {"id": None, "index": None}


def current_index() -> Index | None:
    """The newest stored index, unpickled once per process and kept while it is current
    (one small query per call to see whether a newer one was built)."""
    row = SuggestionIndex.objects.values_list("pk", flat=True).first()
    if row is None:
        return None
    if _index_cache["id"] != row:
        payload = SuggestionIndex.objects.values_list("payload", flat=True).get(pk=row)
        _index_cache["index"] = Index.loads(bytes(payload))
        _index_cache["id"] = row
    return _index_cache["index"]


@dataclass
class Suggestion:
    kind: str
    score: float
    title: str
    answer: str
    url: str


def suggestions_for(*, ticket: Ticket, limit: int = 5) -> list[Suggestion]:
    """The solved tickets and articles most like this ticket, best first (at most 4 queries)."""
    index = current_index()
    if index is None:
        return []
    # Ask for more than shown: many solved tickets share one answer, and each answer is
    # shown once (with its best match).
    ranked = rank(
        index,
        f"{ticket.subject}\n{ticket.problem}",
        limit=limit * 4,
        exclude=[("ticket", ticket.pk)],
    )
    ticket_ids = [i for k, i, _ in ranked if k == "ticket"]
    article_ids = [i for k, i, _ in ranked if k == "article"]
    tickets = Ticket.objects.only("subject", "solution").in_bulk(ticket_ids) if ticket_ids else {}
    articles = (
        Article.objects.published().only("title", "body").in_bulk(article_ids)
        if article_ids
        else {}
    )
    out: list[Suggestion] = []
    seen: set[str] = set()
    for kind, pk, score in ranked:
        if len(out) == limit:
            break
        if kind == "ticket" and pk in tickets:
            key = " ".join(tickets[pk].solution.lower().split())
        elif kind == "article" and pk in articles:
            key = f"article:{pk}"
        else:
            continue
        if key in seen:
            continue
        seen.add(key)
        if kind == "ticket":
            t = tickets[pk]
            out.append(
                Suggestion(kind, score, f"#{t.pk} {t.subject}", t.solution, t.get_absolute_url())
            )
        else:
            a = articles[pk]
            out.append(Suggestion(kind, score, a.title, a.body, a.get_absolute_url()))
    return out


# --- satisfaction figures -------------------------------------------------------------------


def _figures(qs) -> dict:
    """CSAT (% of 4-5), average CES, NPS (% promoters - % detractors) of a feedback set."""
    agg = qs.aggregate(
        answers=Count("pk"),
        satisfied=Count("pk", filter=Q(csat__gte=4)),
        csat_avg=Avg("csat"),
        ces_avg=Avg("ces"),
        nps_answers=Count("nps"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    )
    return _finish(agg)


def _finish(row: dict) -> dict:
    answers = row["answers"] or 0
    nps_n = row["nps_answers"] or 0
    row["csat_pct"] = round(100 * row["satisfied"] / answers, 1) if answers else None
    row["nps"] = round(100 * (row["promoters"] - row["detractors"]) / nps_n) if nps_n else None
    return row


def satisfaction_figures(*, user, start: date | None = None, end: date | None = None) -> dict:
    """Overall, per agent, per category and per month figures for a period (4 queries)."""
    qs = roles.visible(user, Feedback)
    if start:
        qs = qs.filter(submitted_at__date__gte=start)
    if end:
        qs = qs.filter(submitted_at__date__lte=end)
    measures = {
        "answers": Count("pk"),
        "satisfied": Count("pk", filter=Q(csat__gte=4)),
        "csat_avg": Avg("csat"),
        "ces_avg": Avg("ces"),
        "nps_answers": Count("nps"),
        "promoters": Count("pk", filter=Q(nps__gte=9)),
        "detractors": Count("pk", filter=Q(nps__lte=6)),
    }
    per_agent = [
        _finish(r)
        for r in qs.values("agent__username", "agent__first_name")
        .annotate(**measures)
        .order_by("-answers", "agent__username")
    ]
    labels = dict(TicketCategory.choices)
    per_category = []
    for r in qs.values("category").annotate(**measures).order_by("-answers", "category"):
        r["label"] = labels.get(r["category"], _("Orders and other"))
        per_category.append(_finish(r))
    per_month = [
        _finish(r)
        for r in qs.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(**measures)
        .order_by("month")
    ]
    return {
        "overall": _figures(qs),
        "per_agent": per_agent,
        "per_category": per_category,
        "per_month": per_month,
        "recent_comments": list(
            qs.exclude(comment="")
            .select_related("customer", "agent")
            .order_by("-submitted_at", "-id")[:10]
        ),
    }


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=365), today
