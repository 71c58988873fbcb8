"""Products and orders through the API: lines nested, total = sum of lines, upsert, bulk."""

from decimal import Decimal

import pytest

from crm.roles import Role
from sales.models import Order, OrderLine, Product
from tests.factories import CustomerFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return ProductFactory(sku="A", unit_price=Decimal("10.00")), ProductFactory(
        sku="B", unit_price=Decimal("2.50")
    )


def test_order_total_is_the_sum_of_its_lines(api_for, catalogue):
    a, b = catalogue
    customer = CustomerFactory()
    response = api_for(Role.SALES_REP).post(
        "/api/v1/orders/",
        {
            "customer": customer.pk,
            "external_id": "SO-1",
            "lines": [
                {"product": a.pk, "quantity": 2},
                {"product": b.pk, "quantity": 3, "unit_price": "2.00"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["total"] == "26.00"
    assert [line["amount"] for line in data["lines"]] == ["20.00", "6.00"]
    assert Order.objects.get().total == Decimal("26.00")


def test_replacing_lines_recomputes_the_total(api_for, catalogue):
    a, b = catalogue
    line = OrderLineFactory(product=a, quantity=1, unit_price=Decimal("10.00"))
    order = line.order
    response = api_for(Role.MANAGER).patch(
        f"/api/v1/orders/{order.pk}/",
        {"lines": [{"product": b.pk, "quantity": 4}]},
        format="json",
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.total == Decimal("10.00") and response.json()["total"] == "10.00"
    assert list(order.lines.values_list("product__sku", "quantity")) == [("B", 4)]


def test_bad_lines_are_rejected_and_nothing_saved(api_for, catalogue):
    a, _b = catalogue
    response = api_for(Role.SALES_REP).post(
        "/api/v1/orders/",
        {
            "customer": CustomerFactory().pk,
            "lines": [{"product": a.pk, "quantity": 0}, {"product": 999999, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 400 and "lines" in response.json()
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_order_upsert_by_external_id(api_for, catalogue):
    a, b = catalogue
    customer = CustomerFactory()
    client = api_for(Role.MANAGER)
    url = "/api/v1/orders/by-external-id/ERP-9/"
    body = {"customer": customer.pk, "lines": [{"product": a.pk, "quantity": 1}]}
    assert client.put(url, body, format="json").status_code == 201
    body["lines"] = [{"product": b.pk, "quantity": 2}]
    replaced = client.put(url, body, format="json")
    assert replaced.status_code == 200 and replaced.json()["total"] == "5.00"
    assert Order.objects.count() == 1


def test_a_rep_may_create_but_not_replace_an_order_by_upsert(api_for, catalogue):
    a, _b = catalogue
    body = {"customer": CustomerFactory().pk, "lines": [{"product": a.pk, "quantity": 1}]}
    client = api_for(Role.SALES_REP)
    assert client.put("/api/v1/orders/by-external-id/R-1/", body, format="json").status_code == 201
    assert client.put("/api/v1/orders/by-external-id/R-1/", body, format="json").status_code == 403


def test_product_upsert_by_sku(api_for):
    client = api_for(Role.MANAGER)
    body = {"name": "Widget", "unit_price": "3.10", "category": "Parts"}
    assert client.put("/api/v1/products/by-sku/W-1/", body, format="json").status_code == 201
    body["unit_price"] = "3.20"
    assert client.put("/api/v1/products/by-sku/W-1/", body, format="json").status_code == 200
    assert Product.objects.get(sku="W-1").unit_price == Decimal("3.20")
    rep = api_for(Role.SALES_REP).put("/api/v1/products/by-sku/W-2/", body, format="json")
    assert rep.status_code == 403


def test_money_is_a_decimal_string(api_for):
    response = api_for(Role.MANAGER).post(
        "/api/v1/products/", {"sku": "F", "name": "Float", "unit_price": 1.1}, format="json"
    )
    assert response.status_code == 400 and "unit_price" in response.json()


def test_bulk_orders_all_or_nothing_with_line_errors(api_for, catalogue):
    a, _b = catalogue
    customer = CustomerFactory()
    good = {"customer": customer.pk, "lines": [{"product": a.pk, "quantity": 1}]}
    bad = {"customer": customer.pk, "lines": [{"product": a.pk, "quantity": 0}]}
    client = api_for(Role.MANAGER)
    response = client.post("/api/v1/orders/bulk/", [good, bad], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert response.json()["errors"][0]["field"] == "lines[0].quantity"
    assert not Order.objects.exists()
    ok = client.post("/api/v1/orders/bulk/", [good, good], format="json")
    assert ok.status_code == 201 and Order.objects.count() == 2
    assert {o.total for o in Order.objects.all()} == {Decimal("10.00")}


def test_bulk_products(api_for):
    rows = [{"sku": f"S{i}", "name": f"P{i}", "unit_price": "1.00"} for i in range(3)]
    response = api_for(Role.MANAGER).post("/api/v1/products/bulk/", rows, format="json")
    assert response.status_code == 201 and Product.objects.count() == 3


def test_order_list_runs_a_constant_number_of_queries(api_for, django_assert_max_num_queries):
    for _ in range(30):
        OrderLineFactory.create_batch(2, order=OrderLineFactory().order)
    with django_assert_max_num_queries(8):
        response = api_for(Role.MANAGER).get("/api/v1/orders/", {"page_size": 30})
    assert len(response.json()["results"]) == 30
