"""Order lines (in the import's columns, DESIGN.md Contracts) and deals for the CSV exports.

Each export is the list page's filtered rows: the same FilterSet over the same selector
(roles.visible inside), so a file holds exactly what its reader may see on the page."""

from __future__ import annotations

from collections.abc import Iterator

from crm import roles
from crm.exporting import CHUNK_ROWS

from . import selectors
from .filters import DealFilter, OrderFilter
from .importing import ORDER_COLUMNS
from .models import OrderLine

HEADER = ORDER_COLUMNS


def export_order_lines(*, user, params) -> Iterator[tuple]:
    """One row per line of the orders the user may see, filtered like the order list (search,
    status, ?customer=<id>, dates, minimum total), oldest order first."""
    filterset = OrderFilter(params, queryset=selectors.order_queryset(user=user))
    orders = filterset.qs if filterset.is_valid() else filterset.queryset
    lines = (
        OrderLine.objects.filter(order__in=orders.order_by().values("pk"))
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


DEAL_HEADER = [
    "deal_id",
    "title",
    "customer_external_id",
    "customer_name",
    "pipeline",
    "stage",
    "status",
    "amount",
    "owner_username",
    "expected_close",
    "lost_reason",
    "created_at",
    "closed_at",
]


def export_deals(*, user, params) -> Iterator[tuple]:
    """The deals the user may see (reps: their own), filtered like the deal list, in the
    list's order."""
    filterset = DealFilter(
        params,
        queryset=selectors.deal_queryset(user=user),
        show_owner=roles.may(user, "reassign_work"),
    )
    qs = filterset.qs if filterset.is_valid() else filterset.queryset
    if not qs.query.order_by:
        qs = qs.order_by("-updated_at", "-id")
    return qs.values_list(
        "id",
        "title",
        "customer__external_id",
        "customer__name",
        "pipeline__name",
        "stage__name",
        "stage__outcome",
        "amount",
        "owner__username",
        "expected_close",
        "lost_reason",
        "created_at",
        "closed_at",
    ).iterator(chunk_size=CHUNK_ROWS)
