"""Order lines for the CSV export, in the import's columns (DESIGN.md Contracts)."""

from __future__ import annotations

from collections.abc import Iterator

from crm import roles
from crm.exporting import CHUNK_ROWS

from .importing import ORDER_COLUMNS
from .models import Order, OrderLine

HEADER = ORDER_COLUMNS


def export_order_lines(*, user, params) -> Iterator[tuple]:
    """One row per line of the orders the user may see (optionally one customer's:
    ?customer=<id>), oldest order first."""
    orders = roles.visible(user, Order)
    customer = params.get("customer", "")
    if customer.isdigit():
        orders = orders.filter(customer_id=int(customer))
    lines = (
        OrderLine.objects.filter(order__in=orders.values("pk"))
        .order_by("order__ordered_at", "order_id", "id")
        .values_list(
            "order__external_id",
            "order__customer__external_id",
            "order__ordered_at",
            "product__sku",
            "quantity",
            "unit_price",
        )
    )
    return lines.iterator(chunk_size=CHUNK_ROWS)
