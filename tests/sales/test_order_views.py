"""Orders: the filtered list, entering an order by hand, and who may do it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from sales.models import Order
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db

R, A, M = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER


def _form(customer_products, **extra):
    data = {
        "status": "confirmed",
        "ordered_at": "2026-05-04T10:30",
        "lines-TOTAL_FORMS": str(len(customer_products)),
        "lines-INITIAL_FORMS": "0",
    }
    for i, (product, qty, price) in enumerate(customer_products):
        data.update(
            {
                f"lines-{i}-product": product.pk if product else "",
                f"lines-{i}-quantity": qty,
                f"lines-{i}-unit_price": price,
            }
        )
    data.update(extra)
    return data


def test_rep_enters_an_order_by_hand_with_a_decimal_total(client_for):
    customer = CustomerFactory()
    a, b = ProductFactory(unit_price=Decimal("0.10")), ProductFactory(unit_price=Decimal("4.95"))
    url = reverse("sales:order_create") + f"?customer={customer.pk}"
    assert client_for(R).get(url).status_code == 200
    response = client_for(R).post(url, _form([(a, "3", ""), (b, "2", "4.99"), (None, "", "")]))
    order = Order.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.total == Decimal("10.28")
    assert order.ordered_at.date().isoformat() == "2026-05-04"
    assert order.lines.count() == 2
    detail = client_for(R).get(order.get_absolute_url()).content.decode()
    assert "$10.28" in detail


def test_order_without_lines_or_with_bad_quantity_shows_errors_and_saves_nothing(client_for):
    customer = CustomerFactory()
    url = reverse("sales:order_create") + f"?customer={customer.pk}"
    empty = client_for(R).post(url, _form([(None, "", "")]))
    assert empty.status_code == 400 and "Add at least one product line" in empty.content.decode()
    bad = client_for(R).post(url, _form([(ProductFactory(), "-1", "abc")]))
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "greater than or equal to 1" in body and "Enter a number" in body
    assert not Order.objects.exists()


def test_agent_sees_orders_but_cannot_enter_one(client_for):
    line = OrderLineFactory()
    agent = client_for(A)
    assert agent.get(reverse("sales:order_list")).status_code == 200
    assert agent.get(line.order.get_absolute_url()).status_code == 200
    url = reverse("sales:order_create") + f"?customer={line.order.customer_id}"
    assert agent.get(url).status_code == 403
    assert agent.post(url, _form([(line.product, "1", "")])).status_code == 403
    assert Order.objects.count() == 1


def test_unknown_customer_is_404(client_for):
    assert client_for(R).get(reverse("sales:order_create") + "?customer=99999").status_code == 404
    assert client_for(R).get(reverse("sales:order_create") + "?customer=x").status_code == 404


def test_order_list_filters_and_sorts(client_for):
    now = timezone.now()
    old = OrderFactory(
        ordered_at=now - timedelta(days=400), status="completed", total=Decimal("5.00")
    )
    big = OrderFactory(
        ordered_at=now - timedelta(days=2), status="confirmed", total=Decimal("900.00")
    )
    cancelled = OrderFactory(
        ordered_at=now - timedelta(days=1), status="cancelled", total=Decimal("50.00")
    )
    client = client_for(M)
    orders = client.get(reverse("sales:order_list"), {"status": "confirmed"}).context["orders"]
    assert list(orders) == [big]
    orders = client.get(reverse("sales:order_list"), {"sort": "-total"}).context["orders"]
    assert list(orders) == [big, cancelled, old]
    start = (now - timedelta(days=30)).date().isoformat()
    orders = client.get(reverse("sales:order_list"), {"date_from": start}).context["orders"]
    assert set(orders) == {big, cancelled}
    orders = client.get(reverse("sales:order_list"), {"customer": old.customer_id}).context[
        "orders"
    ]
    assert list(orders) == [old]
    # A bad value is an error on the form, not a 500.
    response = client.get(reverse("sales:order_list"), {"min_total": "lots"})
    assert response.status_code == 200


def test_product_catalogue_for_every_role_with_filters(client_for, django_assert_max_num_queries):
    for i in range(40):
        ProductFactory(name=f"Widget {i}", category="Tools" if i % 2 else "Food", active=i != 3)
    ProductFactory(name="Lemonade", sku="LEM-1", category="Food", unit_price=Decimal("2.50"))
    client = client_for(A)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("sales:product_list"))
    assert response.status_code == 200 and len(response.context["products"]) == 41
    found = client.get(reverse("sales:product_list"), {"q": "lem-1"}).context["products"]
    assert [p.name for p in found] == ["Lemonade"]
    tools = client.get(reverse("sales:product_list"), {"category": "Tools", "sort": "-price"})
    assert {p.category for p in tools.context["products"]} == {"Tools"}
    inactive = client.get(reverse("sales:product_list"), {"active": "false"}).context["products"]
    assert [p.name for p in inactive] == ["Widget 3"]


def test_manager_changes_an_order_status_reps_and_agents_cannot(client_for):
    order = OrderFactory(status="confirmed")
    url = reverse("sales:order_status", args=[order.pk])
    assert (
        'data-testid="order-status-form"'
        not in client_for(R).get(order.get_absolute_url()).content.decode()
    )
    for role in (R, A):
        assert client_for(role).post(url, {"status": "cancelled"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "confirmed"
    manager = client_for(M)
    assert (
        'data-testid="order-status-form"' in manager.get(order.get_absolute_url()).content.decode()
    )
    assert manager.post(url, {"status": "shipped"}).status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    manager.post(url, {"status": "lost-in-space"})
    order.refresh_from_db()
    assert order.status == "shipped"


def test_a_large_order_list_is_paged_on_the_estimate_without_counting(
    client_for, monkeypatch, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.pagination import FastPaginator

    now = timezone.now()
    orders = [OrderFactory(ordered_at=now - timedelta(hours=i)) for i in range(60)]
    monkeypatch.setattr(FastPaginator, "estimate_threshold", 10)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_order")
    client = client_for(R)
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("sales:order_list"))
    assert list(response.context["orders"]) == orders[:25]  # newest first
    last = client.get(reverse("sales:order_list"), {"page": "last"}).context["orders"]
    assert orders[-1] in list(last)
    if connection.vendor == "postgresql":
        assert not any("COUNT(" in q["sql"] for q in ctx.captured_queries)
        assert "of about" in response.content.decode()
