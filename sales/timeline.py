"""Customer-timeline sources for orders and deal stage changes (one query each)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from crm import roles
from crm.registry import TimelineEvent
from crm.templatetags.crm_tags import money

from .models import DealStageChange, Order


def order_events(request, customer, before: datetime | None, limit: int):
    qs = roles.visible(request.user, Order).filter(customer=customer).order_by("-ordered_at", "-id")
    if before is not None:
        qs = qs.filter(ordered_at__lt=before)
    for order in qs[:limit]:
        yield TimelineEvent(
            when=order.ordered_at,
            kind="order",
            icon="receipt",
            title=_("Order %(order)s") % {"order": order},
            detail=f"{order.get_status_display()} · {money(order.total)}",
            url=order.get_absolute_url(),
        )


def deal_stage_events(request, customer, before: datetime | None, limit: int):
    qs = (
        roles.visible(request.user, DealStageChange)
        .filter(deal__customer=customer)
        .select_related("deal", "from_stage", "to_stage", "user")
        .order_by("-changed_at", "-id")
    )
    if before is not None:
        qs = qs.filter(changed_at__lt=before)
    for change in qs[:limit]:
        if change.from_stage is None:
            title = _("Deal “%(deal)s” created in %(stage)s") % {
                "deal": change.deal.title,
                "stage": change.to_stage.name,
            }
        else:
            title = _("Deal “%(deal)s” moved from %(from)s to %(to)s") % {
                "deal": change.deal.title,
                "from": change.from_stage.name,
                "to": change.to_stage.name,
            }
        yield TimelineEvent(
            when=change.changed_at,
            kind="deal_stage",
            icon="kanban",
            title=title,
            detail=money(change.deal.amount),
            url=change.deal.get_absolute_url(),
            user=change.user.get_username() if change.user else "",
        )
