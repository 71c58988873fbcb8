"""Ticket comments and feedback through the API: replies go through services.ticket_reply
(emailed, logged, first response stamped) as on the ticket page; feedback recorded from a
survey tool takes its agent and category from the ticket."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from crm.roles import Role
from customers.models import Interaction
from service.models import Feedback, TicketComment
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db

AGENT, REP, MANAGER = Role.SUPPORT_AGENT, Role.SALES_REP, Role.MANAGER


def test_a_public_reply_is_emailed_logged_and_stamps_the_first_response(
    api_for, users, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(customer=CustomerFactory(email="ada@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(AGENT).post(
            "/api/v1/ticket-comments/",
            {"ticket": ticket.pk, "body": "Try a reset.", "then_status": "pending"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["author"] == users[AGENT].pk and data["is_public"] is True
    assert "then_status" not in data
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    assert "Try a reset." in mail.outbox[0].body
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.status == "pending"
    assert ticket.assignee == users[AGENT]  # whoever answers an unassigned ticket takes it
    assert TicketComment.objects.get().emailed_at is not None
    assert Interaction.objects.filter(customer=ticket.customer, channel="email").count() == 1


def test_an_internal_note_is_not_emailed(api_for, django_capture_on_commit_callbacks):
    ticket = TicketFactory(customer=CustomerFactory(email="ada@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(MANAGER).post(
            "/api/v1/ticket-comments/",
            {"ticket": ticket.pk, "body": "Known issue.", "is_public": False},
            format="json",
        )
    assert response.status_code == 201
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_bad_replies_are_400_and_nothing_is_written(api_for):
    ticket = TicketFactory()
    client = api_for(AGENT)
    response = client.post(
        "/api/v1/ticket-comments/", {"ticket": ticket.pk, "body": "   "}, format="json"
    )
    assert response.status_code == 400 and "body" in response.json()
    response = client.post(
        "/api/v1/ticket-comments/",
        {"ticket": ticket.pk, "body": "Hi", "then_status": "closed"},
        format="json",
    )
    assert response.status_code == 400 and "then_status" in response.json()
    response = client.post("/api/v1/ticket-comments/", {"ticket": 999999, "body": "Hi"})
    assert response.status_code == 400 and "ticket" in response.json()
    assert not TicketComment.objects.exists()


def test_comments_filter_by_ticket(api_for, users):
    first, second = TicketFactory(customer__owner=users[REP]), TicketFactory()
    a = TicketComment.objects.create(ticket=first, body="One")
    TicketComment.objects.create(ticket=second, body="Two")
    rows = api_for(AGENT).get("/api/v1/ticket-comments/", {"ticket": first.pk}).json()
    assert [r["id"] for r in rows["results"]] == [a.pk]
    rows = api_for(REP).get("/api/v1/ticket-comments/", {"ticket": second.pk}).json()
    assert rows["results"] == []


def test_feedback_from_a_survey_tool_takes_agent_and_category_from_the_ticket(api_for, users):
    ticket = TicketFactory(assignee=users[AGENT], category="complaint")
    response = api_for(AGENT).post(
        "/api/v1/feedback/",
        {"customer": ticket.customer.pk, "ticket": ticket.pk, "csat": 2, "ces": 6, "nps": 3},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["agent"], data["category"]) == (users[AGENT].pk, "complaint")
    feedback = Feedback.objects.get()
    assert (feedback.csat, feedback.ces, feedback.nps) == (2, 6, 3)


def test_bad_feedback_is_rejected_at_the_field(api_for):
    customer = CustomerFactory()
    client = api_for(AGENT)
    cases = [
        ({"csat": 6}, "csat"),
        ({"csat": 3, "ces": 0}, "ces"),
        ({"csat": 3, "nps": 11}, "nps"),
        ({"csat": "5"}, "csat"),
        ({"csat": 3, "ticket": TicketFactory().pk}, "ticket"),
        ({"csat": 3, "order": OrderFactory().pk}, "order"),
        (
            {"csat": 3, "submitted_at": (timezone.now() + timedelta(days=2)).isoformat()},
            "submitted_at",
        ),
    ]
    for body, field in cases:
        response = client.post(
            "/api/v1/feedback/", {"customer": customer.pk, **body}, format="json"
        )
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert not Feedback.objects.exists()


def test_bulk_feedback_is_all_or_nothing(api_for):
    customer = CustomerFactory()
    client = api_for(AGENT)
    rows = [{"customer": customer.pk, "csat": 5}, {"customer": customer.pk, "csat": 9}]
    response = client.post("/api/v1/feedback/bulk/", rows, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert not Feedback.objects.exists()
    rows[1]["csat"] = 4
    response = client.post("/api/v1/feedback/bulk/", rows, format="json")
    assert response.status_code == 201 and response.json()["count"] == 2
    assert sorted(Feedback.objects.values_list("csat", flat=True)) == [4, 5]
