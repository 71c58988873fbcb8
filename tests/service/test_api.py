"""Tickets through the API: reps open tickets for their own customers, resolving needs a
solution and stamps the time."""

import pytest

from crm.roles import Role
from service.models import Ticket
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_a_rep_opens_tickets_only_for_their_own_customers(api_for, users):
    mine = CustomerFactory(owner=users[Role.SALES_REP])
    theirs = CustomerFactory(owner=users["peer"])
    client = api_for(Role.SALES_REP)
    body = {"subject": "Broken", "problem": "It broke"}
    assert (
        client.post("/api/v1/tickets/", {**body, "customer": mine.pk}, format="json").status_code
        == 201
    )
    refused = client.post("/api/v1/tickets/", {**body, "customer": theirs.pk}, format="json")
    assert refused.status_code == 400 and "customer" in refused.json()
    assigned = client.post(
        "/api/v1/tickets/",
        {**body, "customer": mine.pk, "assignee": users[Role.SUPPORT_AGENT].pk},
        format="json",
    )
    assert assigned.status_code == 400 and "assignee" in assigned.json()


def test_resolving_needs_a_solution_and_stamps_the_time(api_for):
    ticket = TicketFactory()
    client = api_for(Role.SUPPORT_AGENT)
    url = f"/api/v1/tickets/{ticket.pk}/"
    refused = client.patch(url, {"status": "resolved"}, format="json")
    assert refused.status_code == 400 and "solution" in refused.json()
    done = client.patch(url, {"status": "resolved", "solution": "Reset it"}, format="json")
    assert done.status_code == 200 and done.json()["resolved_at"]
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None


def test_the_order_must_belong_to_the_customer(api_for):
    ticket = TicketFactory()
    other_order = OrderFactory()
    response = api_for(Role.SUPPORT_AGENT).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"order": other_order.pk}, format="json"
    )
    assert response.status_code == 400 and "order" in response.json()


def test_ticket_filters(api_for):
    TicketFactory(status="new")
    TicketFactory(status="resolved", solution="x")
    rows = api_for(Role.SUPPORT_AGENT).get("/api/v1/tickets/", {"status": "new"}).json()
    assert [r["status"] for r in rows["results"]] == ["new"]
    assert Ticket.objects.count() == 2


def test_ticket_list_runs_a_constant_number_of_queries(api_for, django_assert_max_num_queries):
    TicketFactory.create_batch(30)
    with django_assert_max_num_queries(6):
        response = api_for(Role.SUPPORT_AGENT).get("/api/v1/tickets/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_tickets_are_written_by_the_service_desks_services(api_for, users):
    """Due times from the service-level policy, and every status change in the history,
    exactly as when the ticket is opened and worked on its page."""
    from service.models import TicketStatusChange

    customer = CustomerFactory(owner=users[Role.SALES_REP])
    client = api_for(Role.SUPPORT_AGENT)
    created = client.post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "Broken", "problem": "It broke", "priority": "high"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["first_response_due"] and data["resolution_due"]
    url = f"/api/v1/tickets/{data['id']}/"
    assigned = client.patch(url, {"assignee": users[Role.SUPPORT_AGENT].pk}, format="json")
    assert assigned.json()["status"] == "open"
    client.patch(url, {"status": "pending"}, format="json")
    client.patch(url, {"status": "resolved", "solution": "Replaced it"}, format="json")
    changes = TicketStatusChange.objects.filter(ticket_id=data["id"]).order_by("changed_at", "id")
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", "new"),
        ("new", "open"),
        ("open", "pending"),
        ("pending", "resolved"),
    ]
    assert {c.changed_by for c in changes} == {users[Role.SUPPORT_AGENT]}
    refused = client.patch(url, {"status": "open"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.status == "resolved" and ticket.solution == "Replaced it"


def test_a_rep_cannot_work_a_ticket_by_its_status(api_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    response = api_for(Role.SALES_REP).post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "Broken", "problem": "It broke", "status": "closed"},
        format="json",
    )
    assert response.status_code == 400 and "status" in response.json()
    assert not Ticket.objects.exists()
