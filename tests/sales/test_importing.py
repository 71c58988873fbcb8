"""The order and product importers through the real database."""

from decimal import Decimal

import pytest
from django.db.models import F, Sum

from customers.import_models import ImportBatch, ImportStatus
from customers.import_services import run_import, undo_now
from sales.importing import ORDER_COLUMNS, PRODUCT_COLUMNS
from sales.models import Order, OrderLine, Product
from service.models import Ticket
from tests.customers.import_files import to_csv
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def order_row(order, customer, when, sku, qty, price=""):
    return dict(zip(ORDER_COLUMNS, [order, customer, when, sku, str(qty), price], strict=True))


def snapshot():
    orders = sorted(
        Order.objects.values_list("id", "external_id", "customer_id", "ordered_at", "total")
    )
    lines = sorted(
        OrderLine.objects.values_list("id", "order_id", "product_id", "quantity", "unit_price")
    )
    return orders, lines


@pytest.fixture
def catalogue():
    CustomerFactory(external_id="C1")
    CustomerFactory(external_id="C2")
    return {
        "apple": ProductFactory(sku="APL", unit_price=Decimal("1.50")),
        "pear": ProductFactory(sku="PER", unit_price=Decimal("2.00")),
    }


def write(tmp_path, rows, columns=ORDER_COLUMNS, name="orders.csv"):
    path = tmp_path / name
    path.write_text(to_csv(rows, columns))
    return path


def assert_totals_match_lines():
    for order in Order.objects.annotate(s=Sum(F("lines__quantity") * F("lines__unit_price"))):
        assert order.total == (order.s or Decimal("0")), order.external_id


def test_orders_are_created_with_totals_equal_to_their_lines(tmp_path, catalogue, users):
    path = write(
        tmp_path,
        [
            order_row("O1", "C1", "2025-01-02 10:00", "APL", 2),  # price from the product
            order_row("O1", "C1", "2025-01-02 10:00", "PER", 1, "3.25"),
            order_row("O2", "C2", "02.01.2025", "PER", 4, "$2.00"),
        ],
    )
    result = run_import("orders", path, users["manager"], commit=True)
    assert (result.create, result.reject) == (2, 0)
    o1 = Order.objects.get(external_id="O1")
    assert o1.total == Decimal("6.25") and o1.lines.count() == 2
    assert o1.created_by == users["manager"]
    assert Order.objects.get(external_id="O2").total == Decimal("8.00")
    assert_totals_match_lines()


def test_an_order_with_a_bad_line_is_rejected_whole(tmp_path, catalogue):
    path = write(
        tmp_path,
        [
            order_row("O1", "C1", "2025-01-02", "APL", 1),
            order_row("O1", "C1", "2025-01-02", "NOPE", 1),
            order_row("O2", "C1", "2025-01-02", "APL", 0),
            order_row("O3", "C9", "2025-01-02", "APL", 1),
            order_row("O4", "C1", "2025-01-02", "APL", 1),
            order_row("O4", "C2", "2025-01-02", "PER", 1),
            order_row("O5", "C1", "yesterday", "APL", 1),
            order_row("O6", "C1", "2025-01-03", "APL", 1, "-1"),
            order_row("O7", "C1", "2025-01-03", "APL", 1),
        ],
    )
    result = run_import("orders", path, None, commit=True)
    reasons = {row: (col, why) for row, col, why in result.rejects}
    assert reasons[2] == ("", "Another line of this order (row 3) was rejected.")
    assert reasons[3][0] == "product_sku"
    assert reasons[4][0] == "quantity"
    assert reasons[5][0] == "customer_external_id"
    assert reasons[7] == ("customer_external_id", "Differs from row 6 of the same order.")
    assert reasons[8][0] == "ordered_at"
    assert reasons[9][0] == "unit_price"
    assert result.create == 1
    assert list(Order.objects.values_list("external_id", flat=True)) == ["O7"]


def test_reimport_is_unchanged_and_a_changed_order_gets_its_lines_replaced(tmp_path, catalogue):
    rows = [
        order_row("O1", "C1", "2025-01-02 10:00", "APL", 2),
        order_row("O1", "C1", "2025-01-02 10:00", "PER", 1),
        order_row("O1", "C1", "2025-01-02 10:00", "PER", 1),  # exact repeat: collapsed
    ]
    path = write(tmp_path, rows)
    first = run_import("orders", path, None, commit=True)
    assert first.collapsed == 1
    again = run_import("orders", path, None, commit=True)
    assert (again.create, again.update, again.unchanged) == (0, 0, 1)

    before = snapshot()
    rows[1] = order_row("O1", "C1", "2025-01-02 10:00", "PER", 5)
    changed = run_import("orders", write(tmp_path, rows), None, commit=True)
    assert changed.update == 1
    o1 = Order.objects.get(external_id="O1")
    assert o1.total == Decimal("15.00") and o1.lines.count() == 3
    assert_totals_match_lines()

    undo_now(batch=ImportBatch.objects.get(pk=changed.batch_id), user=None)
    assert snapshot() == before  # the previous lines come back with their ids


def test_undo_of_orders_restores_exactly_and_refuses_when_tickets_refer(tmp_path, catalogue):
    existing = OrderFactory(external_id="OLD", customer=CustomerFactory(external_id="C3"))
    OrderLineFactory(order=existing, product=catalogue["apple"], quantity=1)
    existing.recompute_total()
    existing.save()
    before = snapshot()
    path = write(
        tmp_path,
        [
            order_row("N1", "C1", "2025-02-01", "APL", 3),
            order_row("OLD", "C3", "2025-02-02", "PER", 2),
        ],
    )
    result = run_import("orders", path, None, commit=True)
    assert (result.create, result.update) == (1, 1)
    ticket = Ticket.objects.create(
        customer=existing.customer,
        subject="s",
        problem="p",
        order=Order.objects.get(external_id="N1"),
    )
    batch = undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=None)
    assert batch.status == ImportStatus.COMMITTED and "ticket" in batch.message
    ticket.delete()
    batch = undo_now(batch=batch, user=None)
    assert batch.status == ImportStatus.UNDONE
    assert snapshot() == before


def test_products_create_update_collapse_and_undo(tmp_path):
    ProductFactory(sku="KEEP", name="Kept", unit_price=Decimal("5.00"), category="A")
    before = sorted(
        Product.objects.values_list("id", "sku", "name", "category", "unit_price", "active")
    )
    rows = [
        dict(zip(PRODUCT_COLUMNS, ["NEW1", "New one", "B", "9.99", "yes"], strict=True)),
        dict(zip(PRODUCT_COLUMNS, ["NEW1", "", "", "10.50", ""], strict=True)),
        dict(zip(PRODUCT_COLUMNS, ["KEEP", "", "", "6", "no"], strict=True)),
        dict(zip(PRODUCT_COLUMNS, ["NOPRICE", "Name", "", "", ""], strict=True)),
        dict(zip(PRODUCT_COLUMNS, ["BAD", "Bad", "", "free", "perhaps"], strict=True)),
    ]
    path = write(tmp_path, rows, PRODUCT_COLUMNS, "products.csv")
    result = run_import("products", path, None, commit=True)
    assert (result.create, result.update, result.reject, result.collapsed) == (1, 1, 2, 1)
    new = Product.objects.get(sku="NEW1")
    assert (new.name, new.unit_price, new.active) == ("New one", Decimal("10.50"), True)
    kept = Product.objects.get(sku="KEEP")
    assert (kept.name, kept.unit_price, kept.active) == ("Kept", Decimal("6.00"), False)
    assert run_import("products", path, None, commit=True).unchanged == 2

    undo_now(batch=ImportBatch.objects.get(pk=result.batch_id + 1), user=None)
    undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=None)
    after = sorted(
        Product.objects.values_list("id", "sku", "name", "category", "unit_price", "active")
    )
    assert after == before
