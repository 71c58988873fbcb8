"""Ticket services: due times, pauses, replies, resolving, merging, bulk close, escalation."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.roles import Role
from customers.models import Interaction
from service import services
from service.models import Holiday, SLABreach, Ticket, TicketStatusChange
from service.tasks import service_desk_tick_task
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def make_ticket(users, office_policy, when, **kwargs):
    return services.ticket_create(
        user=users[Role.SUPPORT_AGENT],
        customer=kwargs.pop("customer", None) or CustomerFactory(),
        subject="Printer jams",
        problem="It jams on every page.",
        category="technical",
        priority="normal",
        channel="email",
        now=when,
        **kwargs,
    )


def test_created_ticket_gets_due_times_from_its_policy(users, office_policy):
    ticket = make_ticket(users, office_policy, utc(2026, 1, 9, 16, 0))  # a Friday
    assert ticket.first_response_due == utc(2026, 1, 12, 10, 0)
    assert ticket.resolution_due == utc(2026, 1, 12, 16, 0)
    assert ticket.status == "new"
    assert list(ticket.status_changes.values_list("from_status", "to_status")) == [("", "new")]


def test_holidays_of_the_policy_are_skipped(users, office_policy):
    Holiday.objects.create(date=date(2026, 1, 12), name="Company day", policy=office_policy)
    ticket = make_ticket(users, office_policy, utc(2026, 1, 9, 16, 0))
    assert ticket.first_response_due == utc(2026, 1, 13, 10, 0)


def test_order_of_another_customer_is_refused(users, office_policy):
    with pytest.raises(ValidationError):
        make_ticket(users, office_policy, timezone.now(), order=OrderFactory())


def test_pending_on_customer_pauses_the_clock(users, office_policy):
    agent = users[Role.SUPPORT_AGENT]
    ticket = make_ticket(users, office_policy, utc(2026, 1, 5, 9, 0))  # Monday
    assert ticket.resolution_due == utc(2026, 1, 5, 17, 0)
    services.ticket_reply(
        ticket=ticket,
        user=agent,
        body="Which model is it?",
        public=True,
        then_status="pending",
        now=utc(2026, 1, 5, 10, 0),
    )
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.sla_paused_at == utc(2026, 1, 5, 10, 0)
    assert ticket.first_responded_at == utc(2026, 1, 5, 10, 0)
    # The customer answers on Wednesday at 09:00; 7 business hours were left.
    services.ticket_set_status(ticket=ticket, status="open", user=agent, now=utc(2026, 1, 7, 9))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.resolution_due == utc(2026, 1, 7, 16, 0)
    assert ticket.sla_state(now=utc(2026, 1, 7, 15, 0)) == "soon"
    assert ticket.sla_state(now=utc(2026, 1, 7, 16, 1)) == "breached"


def test_public_reply_is_emailed_and_logged_as_interaction(
    users, office_policy, django_capture_on_commit_callbacks
):
    ticket = make_ticket(users, office_policy, timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.ticket_reply(
            ticket=ticket, user=users[Role.SUPPORT_AGENT], body="Try a reset.", public=True
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ticket.customer.email]
    assert f"[#{ticket.pk}]" in mail.outbox[0].subject
    assert "Try a reset." in mail.outbox[0].body
    comment.refresh_from_db()
    assert comment.emailed_at is not None
    interaction = Interaction.objects.get(customer=ticket.customer)
    assert interaction.related_object == ticket
    assert interaction.channel == "email"
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.assignee == users[Role.SUPPORT_AGENT]  # who answers takes it


def test_internal_note_is_not_emailed(users, office_policy, django_capture_on_commit_callbacks):
    ticket = make_ticket(users, office_policy, timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(
            ticket=ticket, user=users[Role.SUPPORT_AGENT], body="Known issue.", public=False
        )
    assert mail.outbox == []
    assert not Interaction.objects.exists()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_reps_cannot_work_tickets(users, office_policy):
    ticket = make_ticket(users, office_policy, timezone.now())
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, user=users[Role.SALES_REP], body="x", public=True)


def test_resolve_needs_a_solution_and_sends_a_survey(
    users, office_policy, django_capture_on_commit_callbacks
):
    ticket = make_ticket(users, office_policy, timezone.now())
    with pytest.raises(ValidationError):
        services.ticket_resolve(ticket=ticket, user=users[Role.SUPPORT_AGENT], solution="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(
            ticket=ticket, user=users[Role.SUPPORT_AGENT], solution="Replaced the roller."
        )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    invitation = ticket.survey_invitations.get()
    assert invitation.sent_at is not None
    assert len(mail.outbox) == 1
    assert "/service/survey/" in mail.outbox[0].body


def test_reopen_gives_a_fresh_resolution_target(users, office_policy):
    agent = users[Role.SUPPORT_AGENT]
    ticket = make_ticket(users, office_policy, utc(2026, 1, 5, 9, 0))
    services.ticket_resolve(ticket=ticket, user=agent, solution="Done", now=utc(2026, 1, 5, 12))
    with pytest.raises(ValidationError):
        services.ticket_set_status(ticket=ticket, status="pending", user=agent)
    services.ticket_set_status(ticket=ticket, status="reopened", user=agent, now=utc(2026, 1, 6, 9))
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    assert ticket.resolution_due == utc(2026, 1, 6, 17, 0)
    assert [c.to_status for c in ticket.status_changes.all()] == ["new", "resolved", "reopened"]


def test_merge_moves_the_conversation_and_closes_the_duplicate(users, office_policy):
    agent = users[Role.SUPPORT_AGENT]
    customer = CustomerFactory()
    main = make_ticket(users, office_policy, timezone.now(), customer=customer)
    dup = make_ticket(users, office_policy, timezone.now(), customer=customer)
    services.ticket_reply(ticket=dup, user=agent, body="On the duplicate", public=False)
    services.ticket_merge(user=agent, duplicate=dup, into=main)
    dup.refresh_from_db()
    assert dup.status == "closed"
    assert dup.merged_into == main
    assert dup.comments.count() == 0
    bodies = list(main.comments.values_list("body", flat=True))
    assert "On the duplicate" in bodies
    assert any(f"Merged from #{dup.pk}" in b for b in bodies)
    # Another customer's ticket, or itself, cannot be the target.
    other = make_ticket(users, office_policy, timezone.now())
    with pytest.raises(ValidationError):
        services.ticket_merge(user=agent, duplicate=main, into=other)
    with pytest.raises(ValidationError):
        services.ticket_merge(user=agent, duplicate=main, into=main)


def test_bulk_close_records_history(users, office_policy):
    tickets = [make_ticket(users, office_policy, timezone.now()) for _ in range(3)]
    closed = services.ticket_bulk_close(user=users[Role.SUPPORT_AGENT], tickets=tickets)
    assert closed == 3
    assert set(Ticket.objects.values_list("status", flat=True)) == {"closed"}
    assert TicketStatusChange.objects.filter(to_status="closed").count() == 3
    assert services.ticket_bulk_close(user=users[Role.MANAGER], tickets=tickets) == 0


def test_assign_only_to_people_who_work_tickets(users, office_policy):
    ticket = make_ticket(users, office_policy, timezone.now())
    with pytest.raises(ValidationError):
        services.ticket_assign(
            ticket=ticket, assignee=users[Role.SALES_REP], user=users[Role.MANAGER]
        )
    services.ticket_assign(
        ticket=ticket, assignee=users[Role.SUPPORT_AGENT], user=users[Role.MANAGER]
    )
    assert ticket.status == "open"


def test_escalation_is_sent_once(users, django_capture_on_commit_callbacks):
    now = timezone.now()
    late = TicketFactory(
        status="open",
        assignee=users[Role.SUPPORT_AGENT],
        first_response_due=now - timedelta(minutes=5),
        resolution_due=now + timedelta(days=1),
    )
    TicketFactory(status="open", first_response_due=now + timedelta(hours=1))  # not yet
    TicketFactory(  # paused on the customer: the clock is stopped
        status="pending", sla_paused_at=now, first_response_due=now - timedelta(hours=1)
    )
    TicketFactory(status="resolved", resolution_due=now - timedelta(hours=1))  # done
    with django_capture_on_commit_callbacks(execute=True):
        assert service_desk_tick_task() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert service_desk_tick_task() == 0
        assert services.escalate_breaches(now=now + timedelta(minutes=10)) == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert f"#{late.pk}" in message.subject
    assert users[Role.SUPPORT_AGENT].email in message.to
    assert users[Role.MANAGER].email in message.to
    breach = SLABreach.objects.get()
    assert breach.ticket == late
    assert breach.kind == "first_response"
    assert breach.notified_at is not None


def test_second_target_is_escalated_separately(users, django_capture_on_commit_callbacks):
    now = timezone.now()
    ticket = TicketFactory(
        status="open",
        first_responded_at=now - timedelta(hours=3),
        first_response_due=now - timedelta(hours=2),
        resolution_due=now - timedelta(minutes=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_breaches(now=now)
    assert list(ticket.breaches.values_list("kind", flat=True)) == ["resolution"]
    assert len(mail.outbox) == 1
