"""Tickets for the CSV export."""

from __future__ import annotations

from collections.abc import Iterator

from crm import roles
from crm.exporting import CHUNK_ROWS

from .models import Ticket

HEADER = [
    "ticket_id",
    "subject",
    "customer_external_id",
    "customer_name",
    "category",
    "priority",
    "status",
    "channel",
    "assignee_username",
    "order_external_id",
    "created_at",
    "first_response_due",
    "resolution_due",
    "first_responded_at",
    "resolved_at",
    "closed_at",
]


def export_tickets(*, user, params) -> Iterator[tuple]:
    """The tickets the user may see (optionally filtered by ?status=), newest first."""
    qs = roles.visible(user, Ticket)
    status = params.get("status", "")
    if status:
        qs = qs.filter(status=status)
    return (
        qs.order_by("-created_at", "-id")
        .values_list(
            "id",
            "subject",
            "customer__external_id",
            "customer__name",
            "category",
            "priority",
            "status",
            "channel",
            "assignee__username",
            "order__external_id",
            "created_at",
            "first_response_due",
            "resolution_due",
            "first_responded_at",
            "resolved_at",
            "closed_at",
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )
