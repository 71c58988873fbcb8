"""The customer-page panels this app registers (crm.registry); two queries each at most."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from crm import roles

from .choices import StageOutcome
from .models import Deal, Order, Task

RECENT = 5


def orders_panel(request, customer) -> dict:
    """Recent orders, the order count and the lifetime value (orders that count)."""
    user = request.user
    orders = roles.visible(user, Order).filter(customer=customer)
    figures = orders.counted().aggregate(count=Count("id"), value=Sum("total"))
    return {
        "customer": customer,
        "orders": list(orders.order_by("-ordered_at", "-id")[:RECENT]),
        "count": figures["count"],
        "lifetime_value": figures["value"] or Decimal("0"),
        "can_add": roles.can(user, "add", Order),
    }


def deals_panel(request, customer) -> dict:
    """The customer's deals the user may see: open ones first, with open and won value."""
    user = request.user
    deals = roles.visible(user, Deal).filter(customer=customer)
    figures = deals.aggregate(
        open_count=Count("id", filter=Q(stage__outcome=StageOutcome.OPEN)),
        open_value=Sum("amount", filter=Q(stage__outcome=StageOutcome.OPEN)),
        won_value=Sum("amount", filter=Q(stage__outcome=StageOutcome.WON)),
    )
    recent = list(
        deals.select_related("stage", "owner").order_by("closed_at", "-updated_at", "-id")[:RECENT]
    )
    return {
        "customer": customer,
        "deals": recent,
        "open_count": figures["open_count"],
        "open_value": figures["open_value"] or Decimal("0"),
        "won_value": figures["won_value"] or Decimal("0"),
        "can_add": roles.can(user, "add", Deal),
    }


def tasks_panel(request, customer) -> dict:
    """The user's open follow-ups about this customer, soonest due first."""
    user = request.user
    tasks = list(
        roles.visible(user, Task)
        .filter(customer=customer, done=False)
        .select_related("assignee", "deal")
        .order_by("due_at", "id")[:RECENT]
    )
    return {"customer": customer, "tasks": tasks, "can_add": roles.can(user, "add", Task)}
