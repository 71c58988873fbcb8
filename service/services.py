"""Every write of the service desk: tickets and their conversation, service levels and
escalation, surveys and feedback, the suggestion index. Views, tasks, the admin and the demo
data all go through these functions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history import attribute, record_snapshot
from crm.roles import Role, role_of
from customers.models import Customer, Interaction

from .choices import OPEN_STATUSES, ArticleStatus, BreachKind, TicketStatus
from .models import (
    Article,
    Feedback,
    SLABreach,
    SLAPolicy,
    SuggestionIndex,
    SurveyInvitation,
    Ticket,
    TicketComment,
    TicketStatusChange,
)
from .sla import Schedule, add_business_minutes, resume_due
from .suggestions import Document, build_index

SURVEY_SALT = "service.survey"
SURVEY_LIFETIME = timedelta(days=14)
# Rebuild the suggestion index once this many tickets were resolved since the last build.
REBUILD_AFTER_RESOLUTIONS = 25
# The scheduled job rebuilds an index older than this even without new resolutions
# (articles change too).
INDEX_MAX_AGE = timedelta(hours=24)

WORKING_ROLES = (Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN)


# --- service levels ---------------------------------------------------------------------


def policy_for(
    priority: str, *, since: datetime | None = None
) -> tuple[SLAPolicy | None, Schedule]:
    """The policy of a priority and its schedule with the holidays from `since` on (three
    queries), or (None, always open) when the priority has no policy."""
    from .models import Holiday

    policy = SLAPolicy.objects.filter(priority=priority).prefetch_related("hours").first()
    if policy is None:
        return None, Schedule.always_open()
    first_day = (since or timezone.now()).date() - timedelta(days=1)
    holidays = Holiday.objects.filter(
        Q(policy__isnull=True) | Q(policy=policy), date__gte=first_day
    ).values_list("date", flat=True)
    schedule = Schedule.build(
        [(h.weekday, h.opens, h.closes) for h in policy.hours.all()],
        tz=policy.time_zone,
        holidays=holidays,
    )
    if not schedule.hours:
        schedule = Schedule.always_open()
    return policy, schedule


def _set_due_times(ticket: Ticket, *, start: datetime, resolution_only: bool = False) -> None:
    policy, schedule = policy_for(ticket.priority, since=start)
    if policy is None:
        if not resolution_only:
            ticket.first_response_due = None
        ticket.resolution_due = None
        return
    if not resolution_only:
        ticket.first_response_due = add_business_minutes(
            start, policy.first_response_minutes, schedule
        )
    ticket.resolution_due = add_business_minutes(start, policy.resolution_minutes, schedule)


# --- tickets -----------------------------------------------------------------------------


def _record_status(
    ticket: Ticket, *, to: str, user, now: datetime, note: str = ""
) -> TicketStatusChange | None:
    """Move a ticket to a status (not saved), keeping the clock and the history right."""
    old = ticket.status
    if old == to:
        return None
    if old == TicketStatus.PENDING and ticket.sla_paused_at is not None:
        paused_at = ticket.sla_paused_at
        _, schedule = policy_for(ticket.priority, since=paused_at)
        if ticket.first_responded_at is None:
            ticket.first_response_due = resume_due(
                ticket.first_response_due, paused_at, now, schedule
            )
        ticket.resolution_due = resume_due(ticket.resolution_due, paused_at, now, schedule)
        ticket.sla_paused_at = None
    if to == TicketStatus.PENDING:
        ticket.sla_paused_at = now
    if to == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    if to == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    if to == TicketStatus.REOPENED:
        ticket.resolved_at = None
        ticket.closed_at = None
        # A reopened ticket gets a fresh resolution target from now.
        _set_due_times(ticket, start=now, resolution_only=True)
    ticket.status = to
    return TicketStatusChange.objects.create(
        ticket=ticket, from_status=old, to_status=to, changed_by=user, changed_at=now, note=note
    )


def _check_works(user) -> None:
    if role_of(user) not in WORKING_ROLES:
        raise ValidationError(_("Only support agents and managers work tickets."))


@transaction.atomic
def ticket_create(
    *,
    user,
    customer: Customer,
    subject: str,
    problem: str,
    category: str,
    priority: str,
    channel: str,
    order=None,
    assignee=None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket; its due times come from the policy of its priority."""
    now = now or timezone.now()
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("This order belongs to another customer.")})
    ticket = Ticket(
        customer=customer,
        subject=subject,
        problem=problem,
        category=category,
        priority=priority,
        channel=channel,
        order=order,
        assignee=assignee,
        created_at=now,
        status=TicketStatus.NEW if assignee is None else TicketStatus.OPEN,
    )
    _set_due_times(ticket, start=now)
    attribute(ticket, user)
    ticket.save()
    TicketStatusChange.objects.create(
        ticket=ticket, from_status="", to_status=ticket.status, changed_by=user, changed_at=now
    )
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, user, **fields) -> Ticket:
    """Change subject, problem, category, priority, channel or order. A new priority
    recomputes the due times from the ticket's creation."""
    _check_works(user)
    # From the database: a ModelForm has already copied the new values onto the instance.
    old_priority = Ticket.objects.values_list("priority", flat=True).get(pk=ticket.pk)
    for name, value in fields.items():
        setattr(ticket, name, value)
    if ticket.order_id and ticket.order.customer_id != ticket.customer_id:
        raise ValidationError({"order": _("This order belongs to another customer.")})
    if ticket.priority != old_priority:
        _set_due_times(ticket, start=ticket.created_at)
    attribute(ticket, user)
    ticket.save()
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, user, now: datetime | None = None) -> Ticket:
    """Give the ticket to an agent (or to nobody); a new ticket becomes open."""
    _check_works(user)
    if assignee is not None and role_of(assignee) not in WORKING_ROLES:
        raise ValidationError({"assignee": _("Tickets go to support agents or managers.")})
    now = now or timezone.now()
    ticket.assignee = assignee
    if assignee is not None and ticket.status == TicketStatus.NEW:
        _record_status(ticket, to=TicketStatus.OPEN, user=user, now=now)
    attribute(ticket, user)
    ticket.save()
    return ticket


@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, status: str, user, now: datetime | None = None, note: str = ""
) -> Ticket:
    """Move a ticket to open, pending on the customer, closed or reopened. Resolving needs
    a solution: use ticket_resolve."""
    _check_works(user)
    if status == TicketStatus.RESOLVED:
        raise ValidationError({"status": _("Resolve the ticket with a solution.")})
    if status == TicketStatus.REOPENED and ticket.is_open:
        raise ValidationError({"status": _("Only a resolved or closed ticket can be reopened.")})
    if status in (TicketStatus.OPEN, TicketStatus.PENDING) and not ticket.is_open:
        raise ValidationError({"status": _("Reopen the ticket first.")})
    if status == TicketStatus.NEW and ticket.status != TicketStatus.NEW:
        raise ValidationError({"status": _("A ticket cannot go back to new.")})
    _record_status(ticket, to=status, user=user, now=now or timezone.now(), note=note)
    attribute(ticket, user)
    ticket.save()
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    user,
    body: str,
    public: bool,
    then_status: str = "",
    now: datetime | None = None,
) -> TicketComment:
    """Add a public reply (emailed to the customer and logged as an interaction) or an
    internal note; optionally move the ticket to open or pending afterwards."""
    from .tasks import send_ticket_reply_task

    _check_works(user)
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    if then_status and then_status not in (TicketStatus.OPEN, TicketStatus.PENDING):
        raise ValidationError({"then_status": _("Choose open or pending.")})
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
    comment = TicketComment.objects.create(
        ticket=ticket, author=user, body=body, is_public=public, created_at=now
    )
    if public:
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        Interaction.objects.create(
            customer=ticket.customer,
            channel="email",
            direction="outbound",
            occurred_at=now,
            user=user,
            subject=f"[#{ticket.pk}] {ticket.subject}"[:200],
            body=body,
            related_type=ContentType.objects.get_for_model(Ticket),
            related_id=ticket.pk,
            created_at=now,
        )
        if not ticket.is_open:
            _record_status(ticket, to=TicketStatus.REOPENED, user=user, now=now)
        elif ticket.status == TicketStatus.NEW:
            _record_status(ticket, to=TicketStatus.OPEN, user=user, now=now)
    if then_status:
        if not ticket.is_open:
            _record_status(ticket, to=TicketStatus.REOPENED, user=user, now=now)
        _record_status(ticket, to=then_status, user=user, now=now)
    if ticket.assignee_id is None and role_of(user) == Role.SUPPORT_AGENT:
        ticket.assignee = user  # whoever answers an unassigned ticket takes it
    attribute(ticket, user)
    ticket.save()
    if public and ticket.customer.email:
        send_ticket_reply_task.delay_on_commit(comment.pk)
    return comment


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, user, solution: str, now: datetime | None = None) -> Ticket:
    """Resolve with a solution; the customer gets a one-time satisfaction survey."""
    from .tasks import rebuild_suggestion_index_task, send_survey_invitation_task

    _check_works(user)
    solution = solution.strip()
    if not solution:
        raise ValidationError({"solution": _("Describe the solution.")})
    if not ticket.is_open:
        raise ValidationError({"solution": _("This ticket is already resolved or closed.")})
    now = now or timezone.now()
    ticket.solution = solution
    if ticket.assignee_id is None:
        ticket.assignee = user
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    _record_status(ticket, to=TicketStatus.RESOLVED, user=user, now=now)
    attribute(ticket, user)
    ticket.save()
    if ticket.customer.email and not ticket.survey_invitations.exists():
        invitation = survey_invitation_create(customer=ticket.customer, ticket=ticket, now=now)
        send_survey_invitation_task.delay_on_commit(invitation.pk)
    if suggestion_index_is_stale(new_resolutions=REBUILD_AFTER_RESOLUTIONS):
        rebuild_suggestion_index_task.delay_on_commit()
    return ticket


@transaction.atomic
def ticket_bulk_close(*, user, tickets: Iterable[Ticket], now: datetime | None = None) -> int:
    """Close the given tickets (those not closed already); returns how many changed."""
    _check_works(user)
    now = now or timezone.now()
    changed = []
    for ticket in tickets:
        if ticket.status == TicketStatus.CLOSED:
            continue
        _record_status(ticket, to=TicketStatus.CLOSED, user=user, now=now, note=_("Bulk close"))
        ticket.updated_at = now  # bulk_update skips auto_now; edit forms compare it
        changed.append(ticket)
    Ticket.objects.bulk_update(
        changed, ["status", "closed_at", "resolved_at", "sla_paused_at", "updated_at"]
    )
    # bulk_update sends no signals: one set-based history snapshot of the closed tickets.
    record_snapshot(Ticket, [t.pk for t in changed], user=user, when=now, reason=_("Bulk close"))
    return len(changed)


@transaction.atomic
def ticket_merge(*, user, duplicate: Ticket, into: Ticket, now: datetime | None = None) -> Ticket:
    """Merge a duplicate into another ticket of the same customer: its conversation moves,
    the duplicate is closed with a link to the ticket it went into."""
    _check_works(user)
    if duplicate.pk == into.pk:
        raise ValidationError({"into": _("A ticket cannot be merged into itself.")})
    if duplicate.customer_id != into.customer_id:
        raise ValidationError({"into": _("Only tickets of the same customer can be merged.")})
    if into.merged_into_id is not None:
        raise ValidationError({"into": _("That ticket was itself merged into another one.")})
    if duplicate.merged_into_id is not None:
        raise ValidationError({"into": _("This ticket was merged already.")})
    now = now or timezone.now()
    duplicate.comments.update(ticket=into)
    TicketComment.objects.create(
        ticket=into,
        author=user,
        is_public=False,
        created_at=now,
        body=_("Merged from #%(id)s %(subject)s:\n%(problem)s")
        % {"id": duplicate.pk, "subject": duplicate.subject, "problem": duplicate.problem},
    )
    duplicate.merged_into = into
    if duplicate.status != TicketStatus.CLOSED:
        _record_status(
            duplicate,
            to=TicketStatus.CLOSED,
            user=user,
            now=now,
            note=_("Merged into #%(id)s") % {"id": into.pk},
        )
    attribute(duplicate, user, _("Merged into #%(id)s") % {"id": into.pk})
    duplicate.save()
    return into


# --- escalation ----------------------------------------------------------------------------


def escalate_breaches(*, now: datetime | None = None) -> list[int]:
    """Record every missed target of a running ticket once and queue one escalation email
    for each new record; returns the ids of the new breaches. Safe to run at any interval:
    the unique (ticket, kind) constraint makes a second run find nothing new."""
    from .tasks import send_escalation_task

    now = now or timezone.now()
    candidates = list(
        Ticket.objects.due_before(now).values_list(
            "pk",
            "assignee_id",
            "first_responded_at",
            "first_response_due",
            "resolution_due",
        )
    )
    if not candidates:
        return []
    known = set(
        SLABreach.objects.filter(ticket_id__in=[c[0] for c in candidates]).values_list(
            "ticket_id", "kind"
        )
    )
    new = []
    for pk, assignee_id, responded, first_due, res_due in candidates:
        missed = []
        if responded is None and first_due and first_due < now:
            missed.append((BreachKind.FIRST_RESPONSE, first_due))
        if res_due and res_due < now:
            missed.append((BreachKind.RESOLUTION, res_due))
        new += [
            SLABreach(ticket_id=pk, kind=kind, due_at=due, assignee_id=assignee_id, detected_at=now)
            for kind, due in missed
            if (pk, kind) not in known
        ]
    created = []
    for breach in new:
        # One row at a time in its own savepoint: a run racing this one (two beat ticks)
        # loses on the unique constraint instead of sending a second email.
        try:
            with transaction.atomic():
                breach.save()
        except IntegrityError:
            continue
        created.append(breach.pk)
        send_escalation_task.delay_on_commit(breach.pk)
    return created


def escalation_recipients(breach: SLABreach) -> list[str]:
    User = get_user_model()
    managers = User.objects.filter(is_active=True, groups__name__in=[Role.MANAGER.value]).exclude(
        email=""
    )
    emails = list(managers.values_list("email", flat=True).distinct())
    if breach.assignee and breach.assignee.email and breach.assignee.email not in emails:
        emails.insert(0, breach.assignee.email)
    return emails


# --- surveys and feedback -------------------------------------------------------------------


def survey_invitation_create(
    *, customer: Customer, ticket: Ticket | None = None, order=None, now: datetime | None = None
) -> SurveyInvitation:
    now = now or timezone.now()
    return SurveyInvitation.objects.create(
        customer=customer,
        ticket=ticket,
        order=order,
        nonce=secrets.token_urlsafe(16),
        created_at=now,
        expires_at=now + SURVEY_LIFETIME,
    )


def invite_after_orders(*, days: int, now: datetime | None = None) -> list[int]:
    """Invite the customers of orders completed `days` ago (a one-day window, so turning
    this on never mails the whole history) to a survey, once per order; returns the new
    invitation ids. Off when days is 0."""
    from sales.models import Order

    from .tasks import send_survey_invitation_task

    if days <= 0:
        return []
    now = now or timezone.now()
    orders = (
        Order.objects.filter(
            status="completed",
            ordered_at__lte=now - timedelta(days=days),
            ordered_at__gt=now - timedelta(days=days + 1),
        )
        .exclude(customer__email="")
        .exclude(survey_invitations__isnull=False)
        .values_list("pk", "customer_id")
    )
    created = SurveyInvitation.objects.bulk_create(
        SurveyInvitation(
            customer_id=customer_id,
            order_id=order_id,
            nonce=secrets.token_urlsafe(16),
            created_at=now,
            expires_at=now + SURVEY_LIFETIME,
        )
        for order_id, customer_id in orders
    )
    ids = [i.pk for i in created if i.pk is not None]
    if len(ids) != len(created):  # backends that return no ids from bulk_create
        ids = list(
            SurveyInvitation.objects.filter(created_at=now, order__isnull=False).values_list(
                "pk", flat=True
            )
        )
    for pk in ids:
        send_survey_invitation_task.delay_on_commit(pk)
    return ids


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.dumps([invitation.pk, invitation.nonce], salt=SURVEY_SALT, compress=True)


def survey_url(invitation: SurveyInvitation) -> str:
    from django.urls import reverse

    path = reverse("service:survey", args=[survey_token(invitation)])
    return settings.SITE_URL.rstrip("/") + path


class SurveyClosed(Exception):
    """The link is unknown, forged, expired or used already; the page says no more."""


def invitation_from_token(token: str, *, now: datetime | None = None) -> SurveyInvitation:
    """The open invitation a token names, or SurveyClosed."""
    try:
        pk, nonce = signing.loads(token, salt=SURVEY_SALT, max_age=SURVEY_LIFETIME)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise SurveyClosed from exc
    now = now or timezone.now()
    invitation = (
        SurveyInvitation.objects.filter(pk=pk, nonce=nonce, used_at__isnull=True)
        .select_related("ticket")
        .first()
    )
    if invitation is None or invitation.expires_at <= now:
        raise SurveyClosed
    return invitation


@transaction.atomic
def feedback_record(
    *,
    customer: Customer,
    csat: int,
    ces: int | None = None,
    nps: int | None = None,
    comment: str = "",
    ticket: Ticket | None = None,
    order=None,
    submitted_at: datetime | None = None,
) -> Feedback:
    """Feedback collected elsewhere (an external survey tool, through the API). Like a
    survey answer, it takes the agent and the category from its ticket."""
    if ticket is not None and ticket.customer_id != customer.pk:
        raise ValidationError({"ticket": _("This ticket belongs to another customer.")})
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("This order belongs to another customer.")})
    return Feedback.objects.create(
        customer=customer,
        ticket=ticket,
        order=order,
        agent_id=ticket.assignee_id if ticket else None,
        category=ticket.category if ticket else "",
        csat=csat,
        ces=ces,
        nps=nps,
        comment=comment.strip(),
        submitted_at=submitted_at or timezone.now(),
    )


@transaction.atomic
def feedback_submit(
    *,
    invitation: SurveyInvitation,
    csat: int,
    ces: int | None,
    nps: int | None,
    comment: str = "",
    now: datetime | None = None,
) -> Feedback:
    """Record the answer to an invitation, once: a second submission (a double click, a
    second tab) finds the invitation used and raises SurveyClosed."""
    now = now or timezone.now()
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        raise SurveyClosed
    ticket = invitation.ticket
    return Feedback.objects.create(
        customer_id=invitation.customer_id,
        ticket=ticket,
        order_id=invitation.order_id,
        invitation=invitation,
        agent_id=ticket.assignee_id if ticket else None,
        category=ticket.category if ticket else "",
        csat=csat,
        ces=ces,
        nps=nps,
        comment=comment.strip(),
        submitted_at=now,
    )


# --- suggestion index -------------------------------------------------------------------------


def suggestion_documents() -> list[Document]:
    """Every resolved or closed ticket with a solution, and every published article.

    Tickets with the same subject, problem and solution are one document (the newest), so a
    question asked a hundred times does not fill every suggestion slot with the same answer.
    """
    tickets = (
        Ticket.objects.filter(
            status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED], merged_into__isnull=True
        )
        .exclude(solution="")
        .order_by("-resolved_at", "-id")
        .values_list("pk", "subject", "problem", "solution")
        .iterator(chunk_size=5000)
    )
    seen: set[int] = set()
    docs = []
    for pk, subject, problem, solution in tickets:
        key = hash((subject.strip().lower(), problem.strip().lower(), solution.strip().lower()))
        if key in seen:
            continue
        seen.add(key)
        docs.append(Document("ticket", pk, f"{subject}\n{problem}"))
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED).values_list(
        "pk", "title", "body"
    )
    docs += [Document("article", pk, f"{t}\n{b[:2000]}") for pk, t, b in articles]
    return docs


def suggestion_index_rebuild(*, now: datetime | None = None) -> SuggestionIndex | None:
    """Fit a new index and keep it as the only row."""
    index = build_index(suggestion_documents())
    if index is None:
        SuggestionIndex.objects.all().delete()
        return None
    with transaction.atomic():
        row = SuggestionIndex.objects.create(
            built_at=now or timezone.now(), documents=len(index.refs), payload=index.dumps()
        )
        SuggestionIndex.objects.exclude(pk=row.pk).delete()
    return row


def suggestion_index_is_stale(*, new_resolutions: int, max_age: timedelta | None = None) -> bool:
    """Whether enough tickets were resolved (or, with max_age, enough time passed) since the
    last build; True when there is no index yet."""
    built = SuggestionIndex.objects.values_list("built_at", flat=True).first()
    if built is None:
        return True
    if max_age is not None and timezone.now() - built > max_age:
        return True
    resolved = Ticket.objects.filter(resolved_at__gt=built).exclude(status__in=OPEN_STATUSES)
    return resolved.count() >= new_resolutions
