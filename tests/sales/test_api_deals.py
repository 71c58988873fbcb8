"""Deals and tasks through the API: written by sales.services exactly as the pages write
them (stage changes recorded with user and time, the order created on a win), with a
clear 400 per field for what the board or the forms would refuse."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.roles import Role
from sales.models import Deal, Order, Task
from tests.factories import CustomerFactory, ProductFactory
from tests.sales.factories import make_deal, make_pipeline, stage

pytestmark = pytest.mark.django_db

REP, MANAGER = Role.SALES_REP, Role.MANAGER


@pytest.fixture
def pipeline():
    return make_pipeline()


def _move(client, deal, stage_obj, **extra):
    return client.post(
        f"/api/v1/deals/{deal.pk}/move/", {"stage": stage_obj.pk, **extra}, format="json"
    )


def test_create_a_deal_with_lines_the_amount_is_their_sum(api_for, users, pipeline):
    customer = CustomerFactory(owner=users[REP])
    a, b = ProductFactory(unit_price=Decimal("10.00")), ProductFactory(unit_price=Decimal("3"))
    response = api_for(REP).post(
        "/api/v1/deals/",
        {
            "customer": customer.pk,
            "title": "Fleet",
            "stage": stage(pipeline, "Lead").pk,
            "amount": "999.00",
            "lines": [
                {"product": a.pk, "quantity": 2},
                {"product": b.pk, "quantity": 1, "unit_price": "2.50"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["amount"] == "22.50"
    assert data["owner"] == users[REP].pk and data["pipeline"] == pipeline.pk
    assert data["status"] == "open" and len(data["lines"]) == 2
    deal = Deal.objects.get()
    change = deal.stage_changes.get()
    assert (change.from_stage, change.to_stage.name, change.user) == (None, "Lead", users[REP])


def test_a_rep_cannot_give_a_deal_away_a_manager_can(api_for, users, pipeline):
    customer = CustomerFactory(owner=users[REP])
    body = {
        "customer": customer.pk,
        "title": "X",
        "stage": stage(pipeline, "Lead").pk,
        "owner": users["peer"].pk,
    }
    response = api_for(REP).post("/api/v1/deals/", body, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()
    assert not Deal.objects.exists()
    response = api_for(MANAGER).post("/api/v1/deals/", body, format="json")
    assert response.status_code == 201
    assert Deal.objects.get().owner == users["peer"]
    body["owner"] = users[Role.SUPPORT_AGENT].pk  # agents own no deals
    assert api_for(MANAGER).post("/api/v1/deals/", body, format="json").status_code == 400


def test_created_lost_needs_a_reason_and_won_needs_lines(api_for, users, pipeline):
    customer = CustomerFactory(owner=users[REP])
    client = api_for(REP)
    body = {"customer": customer.pk, "title": "X", "stage": stage(pipeline, "Lost").pk}
    response = client.post("/api/v1/deals/", body, format="json")
    assert response.status_code == 400 and "lost_reason" in response.json()
    body["stage"] = stage(pipeline, "Won").pk
    response = client.post("/api/v1/deals/", body, format="json")
    assert response.status_code == 400 and "lines" in response.json()
    assert not Deal.objects.exists()


def test_moves_are_recorded_like_the_boards_and_a_win_creates_one_order(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP], lines=((Decimal("5.00"), 3),))
    client = api_for(REP)
    before = timezone.now()
    response = _move(client, deal, stage(pipeline, "Proposal"))
    assert response.status_code == 200, response.json()
    assert response.json()["moved"] is True and response.json()["order_created"] is None
    change = deal.stage_changes.order_by("-changed_at", "-id").first()
    assert (change.from_stage.name, change.to_stage.name) == ("Lead", "Proposal")
    assert change.user == users[REP] and change.changed_at >= before

    response = _move(client, deal, stage(pipeline, "Won"))
    assert response.status_code == 200
    order = Order.objects.get()
    assert response.json()["order_created"] == order.pk
    assert response.json()["deal"]["order"] == order.pk
    assert response.json()["deal"]["status"] == "won"
    assert order.total == Decimal("15.00") and order.created_by == users[REP]
    # Moving again to a won stage (same one) neither records a change nor a second order.
    response = _move(client, deal, stage(pipeline, "Won"))
    assert response.json()["moved"] is False
    assert Order.objects.count() == 1 and deal.stage_changes.count() == 3


def test_a_bad_move_is_a_400_and_changes_nothing(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP])
    client = api_for(REP)
    response = _move(client, deal, stage(pipeline, "Lost"))
    assert response.status_code == 400 and "lost_reason" in response.json()
    other_pipeline = make_pipeline()
    response = _move(client, deal, stage(other_pipeline, "Proposal"))
    assert response.status_code == 400 and "stage" in response.json()
    response = _move(client, deal, stage(pipeline, "Lost"), lost_reason="cheap")
    assert response.status_code == 400 and "lost_reason" in response.json()
    response = client.post(f"/api/v1/deals/{deal.pk}/move/", {"stage": "2"}, format="json")
    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.stage.name == "Lead" and deal.stage_changes.count() == 1

    response = _move(client, deal, stage(pipeline, "Lost"), lost_reason="price", lost_note=" x ")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage.name, deal.lost_reason, deal.lost_note) == ("Lost", "price", "x")
    assert deal.closed_at is not None


def test_won_without_lines_is_refused(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP], lines=())
    response = _move(api_for(REP), deal, stage(pipeline, "Won"))
    assert response.status_code == 400 and "stage" in response.json()
    assert not Order.objects.exists()


def test_the_stage_changes_only_by_a_move(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP])
    response = api_for(REP).patch(
        f"/api/v1/deals/{deal.pk}/", {"stage": stage(pipeline, "Won").pk}, format="json"
    )
    assert response.status_code == 400 and "move" in response.json()["stage"][0]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_update_replaces_lines_and_locks_them_after_the_win(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP])
    product = ProductFactory(unit_price=Decimal("7.00"))
    client = api_for(REP)
    response = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"title": "Bigger", "lines": [{"product": product.pk, "quantity": 3}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "21.00" and response.json()["title"] == "Bigger"
    response = client.patch(f"/api/v1/deals/{deal.pk}/", {"amount": "5.00"}, format="json")
    assert response.status_code == 400 and "amount" in response.json()
    _move(client, deal, stage(pipeline, "Won"))
    response = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"lines": [{"product": product.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400 and "lines" in response.json()
    assert Deal.objects.get().amount == Decimal("21.00")


def test_a_deal_without_lines_takes_the_amount_sent(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP], lines=())
    response = api_for(REP).patch(f"/api/v1/deals/{deal.pk}/", {"amount": "1200.00"}, format="json")
    assert response.status_code == 200
    assert Deal.objects.get().amount == Decimal("1200.00")


def test_filter_by_status_and_order_by_amount(api_for, users, pipeline):
    make_deal(pipeline=pipeline, owner=users[REP], lines=((Decimal("1.00"), 1),))
    big = make_deal(pipeline=pipeline, owner=users[REP], lines=((Decimal("9.00"), 1),))
    won = make_deal(pipeline=pipeline, owner=users[REP], stage_name="Won")
    client = api_for(REP)
    rows = client.get("/api/v1/deals/", {"status": "won"}).json()["results"]
    assert [r["id"] for r in rows] == [won.pk]
    rows = client.get("/api/v1/deals/", {"status": "open", "ordering": "-amount"}).json()
    assert rows["results"][0]["id"] == big.pk
    assert client.get("/api/v1/deals/", {"status": "maybe"}).status_code == 400


def test_deal_list_runs_a_constant_number_of_queries(
    api_for, users, pipeline, django_assert_max_num_queries
):
    for _ in range(30):
        make_deal(pipeline=pipeline, owner=users[REP], lines=((Decimal("1.00"), 2),) * 2)
    client = api_for(MANAGER)
    client.get("/api/v1/deals/")  # the token's first use writes last_used_at
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/deals/", {"page_size": 30})
    assert len(response.json()["results"]) == 30


# ---------------------------------------------------------------- tasks


def test_a_rep_adds_a_task_for_themselves_only(api_for, users):
    customer = CustomerFactory(owner=users[REP])
    client = api_for(REP)
    body = {"title": "Call back", "due_at": "2030-01-01T10:00:00Z", "customer": customer.pk}
    response = client.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 201, response.json()
    task = Task.objects.get()
    assert (task.assignee, task.created_by) == (users[REP], users[REP])
    response = client.post("/api/v1/tasks/", {**body, "assignee": users["peer"].pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()
    response = api_for(MANAGER).post(
        "/api/v1/tasks/", {**body, "assignee": users["peer"].pk}, format="json"
    )
    assert response.status_code == 201
    assert Task.objects.filter(assignee=users["peer"], created_by=users[MANAGER]).exists()


def test_a_task_needs_a_subject_and_a_matching_deal(api_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[REP])
    client = api_for(REP)
    body = {"title": "Call", "due_at": "2030-01-01T10:00:00Z"}
    response = client.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 400 and "customer" in response.json()
    other = CustomerFactory()
    response = client.post(
        "/api/v1/tasks/", {**body, "deal": deal.pk, "customer": other.pk}, format="json"
    )
    assert response.status_code == 400 and "deal" in response.json()
    peers_deal = make_deal(pipeline=pipeline, owner=users["peer"])
    response = client.post("/api/v1/tasks/", {**body, "deal": peers_deal.pk}, format="json")
    assert response.status_code == 400 and "deal" in response.json()
    response = client.post("/api/v1/tasks/", {**body, "deal": deal.pk}, format="json")
    assert response.status_code == 201
    assert Task.objects.get().customer == deal.customer
    assert not Task.objects.filter(deal=peers_deal).exists()


def test_ticking_a_task_done_and_moving_its_due_time(api_for, users):
    task = Task.objects.create(
        title="Call",
        due_at=timezone.now() - timedelta(hours=1),
        assignee=users[REP],
        customer=CustomerFactory(),
        reminder_sent_at=timezone.now(),
    )
    client = api_for(REP)
    response = client.patch(f"/api/v1/tasks/{task.pk}/", {"done": True}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    response = client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"done": False, "due_at": "2030-02-01T09:00:00Z"},
        format="json",
    )
    task.refresh_from_db()
    assert not task.done and task.done_at is None
    assert task.reminder_sent_at is None  # the new due time gets its own reminder
    rows = client.get("/api/v1/tasks/", {"done": "false", "ordering": "due_at"}).json()
    assert [r["id"] for r in rows["results"]] == [task.pk]
