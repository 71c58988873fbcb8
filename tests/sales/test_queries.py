"""Query-count guards: the board, the lists and the customer page stay constant with 30+ rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from sales import services
from sales.models import Deal, DealLine, DealStageChange
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.sales.factories import TaskFactory, stage

pytestmark = pytest.mark.django_db

R, M = Role.SALES_REP, Role.MANAGER
ROWS = 36


@pytest.fixture
def many_deals(users, pipeline):
    """36 deals for the rep across the stages (in bulk, with their histories), each for a
    different customer."""
    rep = users[R]
    stages = list(pipeline.stages.all())
    customers = [CustomerFactory(owner=rep) for _ in range(ROWS)]
    now = timezone.now()
    deals = Deal.objects.bulk_create(
        Deal(
            customer=c,
            title=f"Deal {i}",
            amount=Decimal("10.00") * i,
            pipeline=pipeline,
            stage=stages[i % len(stages)],
            owner=rep,
            lost_reason="price" if stages[i % len(stages)].is_lost else "",
            expected_close=(now + timedelta(days=i)).date(),
        )
        for i, c in enumerate(customers)
    )
    product = ProductFactory()
    DealLine.objects.bulk_create(
        DealLine(deal=d, product=product, quantity=1, unit_price=Decimal("1")) for d in deals
    )
    DealStageChange.objects.bulk_create(
        DealStageChange(deal=d, to_stage=d.stage, user=rep, changed_at=now) for d in deals
    )
    return deals


def test_board_queries_are_constant(client_for, many_deals, django_assert_max_num_queries):
    client = client_for(R)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sales:deal_board"))
    assert sum(len(c.deals) for c in response.context["columns"]) == ROWS
    client = client_for(M)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("sales:deal_board"))
    assert sum(c.count for c in response.context["columns"]) == ROWS


def test_deal_list_queries_are_constant(client_for, many_deals, django_assert_max_num_queries):
    client = client_for(M)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("sales:deal_list"), {"sort": "-amount"})
    assert len(response.context["deals"]) == 25


def test_move_queries_are_constant(
    client_for, users, many_deals, pipeline, django_assert_max_num_queries
):
    deal = many_deals[0]
    client = client_for(R)
    with django_assert_max_num_queries(16):
        response = client.post(
            reverse("sales:deal_move", args=[deal.pk]),
            {"stage": stage(pipeline, "Proposal").pk},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code == 200


def test_order_list_queries_are_constant(client_for, django_assert_max_num_queries):
    for _ in range(ROWS):
        OrderLineFactory(order=OrderFactory(total=Decimal("10.00")))
    client = client_for(R)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("sales:order_list"), {"sort": "-total"})
    assert len(response.context["orders"]) == 25


def test_task_list_queries_are_constant(
    client_for, users, many_deals, django_assert_max_num_queries
):
    rep = users[R]
    now = timezone.now()
    for i, deal in enumerate(many_deals):
        TaskFactory(
            assignee=rep, deal=deal, customer=deal.customer, due_at=now + timedelta(hours=i - 10)
        )
    client = client_for(R)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sales:task_list"))
    assert len(response.context["tasks"]) == 25


def test_customer_page_panels_and_timeline_are_constant(
    client_for, users, pipeline, django_assert_max_num_queries
):
    rep = users[R]
    customer = CustomerFactory(owner=rep)
    product = ProductFactory(unit_price=Decimal("2.00"))
    lines = [services.LineInput(product=product, quantity=1, unit_price=Decimal("2.00"))]
    for i in range(ROWS):
        deal = services.deal_create(
            customer=customer,
            title=f"D{i}",
            pipeline=pipeline,
            stage=stage(pipeline, "Lead"),
            owner=rep,
            user=rep,
            lines=lines,
        )
        services.deal_move(
            deal=deal, stage=stage(pipeline, "Won" if i % 2 else "Proposal"), user=rep
        )
        services.order_create(customer=customer, lines=lines)
        TaskFactory(assignee=rep, customer=customer, deal=deal)
    client = client_for(R)
    # The whole page, with every app's panels and timeline sources: constant, not per row.
    with django_assert_max_num_queries(32):
        response = client.get(customer.get_absolute_url())
    body = response.content.decode()
    assert 'data-testid="panel-orders"' in body and 'data-testid="panel-deals"' in body
    kinds = {e.kind for e in response.context["timeline"]}
    assert {"order", "deal_stage"} <= kinds
    panels = {p["template"]: p["context"] for p in response.context["panels"]}
    orders = panels["sales/panels/customer_orders.html"]
    assert orders["count"] == ROWS + ROWS // 2  # by hand plus the won deals' orders
    assert orders["lifetime_value"] == Decimal("2.00") * (ROWS + ROWS // 2)
    deals = panels["sales/panels/customer_deals.html"]
    assert deals["open_count"] == ROWS // 2 and deals["won_value"] == Decimal("2.00") * (ROWS // 2)


def test_other_reps_deals_are_not_on_the_customer_page(client_for, users, pipeline):
    customer = CustomerFactory()
    product = ProductFactory()
    lines = [services.LineInput(product=product, quantity=1, unit_price=Decimal("1.00"))]
    services.deal_create(
        customer=customer,
        title="Secret deal",
        pipeline=pipeline,
        stage=stage(pipeline, "Lead"),
        owner=users["peer"],
        user=users["peer"],
        lines=lines,
    )
    rep_page = client_for(R).get(customer.get_absolute_url()).content.decode()
    assert "Secret deal" not in rep_page
    manager_page = client_for(M).get(customer.get_absolute_url()).content.decode()
    assert "Secret deal" in manager_page
    agent_page = client_for(Role.SUPPORT_AGENT).get(customer.get_absolute_url()).content.decode()
    assert "Secret deal" not in agent_page and 'data-testid="panel-orders"' in agent_page
