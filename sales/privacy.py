"""What the sales app holds about a customer, for the personal-data export and erasure
(registered in crm.registry from SalesConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from crm.privacy import rows_of, scrub_history
from crm.registry import PersonalDataSource

from .models import Deal, DealLine, DealStageChange, Order, OrderLine, Task


def collect(customer) -> dict[str, list[dict]]:
    return {
        "orders": rows_of(Order.objects.filter(customer=customer)),
        "order_lines": rows_of(OrderLine.objects.filter(order__customer=customer)),
        "deals": rows_of(Deal.objects.filter(customer=customer)),
        "deal_lines": rows_of(DealLine.objects.filter(deal__customer=customer)),
        "deal_stage_changes": rows_of(DealStageChange.objects.filter(deal__customer=customer)),
        "tasks": rows_of(Task.objects.filter(customer=customer)),
    }


def erase(customer, user) -> dict[str, int]:
    """Free-text notes go; orders, amounts and deals stay for accounting and the figures."""
    deal_ids = list(Deal.objects.filter(customer=customer).values_list("pk", flat=True))
    return {
        "deals": Deal.objects.filter(pk__in=deal_ids).update(lost_note=""),
        "deal_history": scrub_history(
            Deal, Q(customer_id=customer.pk) | Q(id__in=deal_ids), {"lost_note": ""}
        ),
        "tasks": Task.objects.filter(Q(customer=customer) | Q(deal__in=deal_ids)).update(notes=""),
    }


source = PersonalDataSource(key="sales", collect=collect, erase=erase, order=20)
