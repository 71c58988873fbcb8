"""Page-shaped reads of the marketing app; each runs a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from crm import roles
from crm.roles import Role
from customers.models import Customer
from sales.models import Order

from .choices import RecipientStatus
from .models import Campaign, CampaignRecipient, OutboundEmail

CENT = Decimal("0.01")


def may_write_to(user, customer: Customer) -> bool:
    """Reps write to their own customers; agents, managers and admins to anyone they see."""
    role = roles.role_of(user)
    if role is None:
        return False
    if role is Role.SALES_REP:
        return customer.owner_id == user.pk
    return True


def writable_customer(user, pk: int) -> Customer:
    """The customer the user may write to, or 404 (another rep's customer included)."""
    customer = get_object_or_404(
        roles.visible(user, Customer).select_related("owner", "organisation"), pk=pk
    )
    if not may_write_to(user, customer):
        from django.http import Http404

        raise Http404
    return customer


def emails_of(user) -> QuerySet[OutboundEmail]:
    """The emails the user may read: like interactions, every staff role sees those of every
    customer it can see (writing stays with may_write_to)."""
    return OutboundEmail.objects.filter(customer__in=roles.visible(user, Customer))


def campaign_list() -> QuerySet[Campaign]:
    return (
        Campaign.objects.select_related("template", "created_by")
        .annotate(
            n_recipients=Count("recipients", filter=Q(recipients__holdout=False)),
            n_sent=Count("recipients", filter=Q(recipients__status=RecipientStatus.SENT)),
        )
        .order_by("-created_at", "-id")
    )


def campaign_counts(campaign: Campaign) -> dict:
    """Every count of a campaign's recipients in one aggregate query."""
    is_sent = Q(recipients__status=RecipientStatus.SENT)
    return Campaign.objects.filter(pk=campaign.pk).aggregate(
        total=Count("recipients"),
        holdout=Count("recipients", filter=Q(recipients__holdout=True)),
        targeted=Count("recipients", filter=Q(recipients__holdout=False)),
        pending=Count("recipients", filter=Q(recipients__status=RecipientStatus.PENDING)),
        attempted=Count(
            "recipients",
            filter=Q(recipients__holdout=False)
            & (Q(recipients__attempts__gt=0) | ~Q(recipients__status=RecipientStatus.PENDING)),
        ),
        delivered=Count("recipients", filter=is_sent),
        failed=Count("recipients", filter=Q(recipients__status=RecipientStatus.FAILED)),
        opened=Count("recipients", filter=is_sent & Q(recipients__opened_at__isnull=False)),
        clicked=Count("recipients", filter=is_sent & Q(recipients__clicked_at__isnull=False)),
        unsubscribed=Count("recipients", filter=Q(recipients__unsubscribed_at__isnull=False)),
    )


def campaign_progress(campaign: Campaign) -> dict:
    counts = campaign_counts(campaign)
    done = counts["targeted"] - counts["pending"]
    percent = round(100 * done / counts["targeted"]) if counts["targeted"] else 100
    return {**counts, "done": done, "percent": percent}


def _per_member(revenue: Decimal, members: int) -> Decimal | None:
    if not members:
        return None
    return (revenue / members).quantize(CENT, rounding=ROUND_HALF_UP)


def campaign_revenue(campaign: Campaign) -> dict:
    """Orders of the recipients and of the holdout group from the start of the campaign to
    `attribution_days` later (counted orders: not drafts or cancellations), per member of
    each group, and the lift: how much more a recipient spent than a held-out customer.
    Two queries."""
    groups = {
        row["holdout"]: row["n"]
        for row in CampaignRecipient.objects.filter(campaign=campaign)
        .values("holdout")
        .annotate(n=Count("id"))
        .order_by()
    }
    sums = {True: (Decimal(0), 0), False: (Decimal(0), 0)}
    if campaign.started_at:
        end = campaign.started_at + timedelta(days=campaign.attribution_days)
        rows = (
            Order.objects.counted()
            .filter(
                customer__campaign_recipients__campaign=campaign,
                ordered_at__gte=campaign.started_at,
                ordered_at__lt=end,
            )
            .values("customer__campaign_recipients__holdout")
            .annotate(revenue=Sum("total"), orders=Count("id"))
            .order_by()
        )
        for row in rows:
            sums[row["customer__campaign_recipients__holdout"]] = (
                row["revenue"] or Decimal(0),
                row["orders"],
            )
    treated = _per_member(sums[False][0], groups.get(False, 0))
    control = _per_member(sums[True][0], groups.get(True, 0))
    lift_pct = None
    if treated is not None and control:
        lift_pct = ((treated - control) / control * 100).quantize(Decimal("0.1"))
    return {
        "recipients": groups.get(False, 0),
        "holdout": groups.get(True, 0),
        "revenue_recipients": sums[False][0],
        "revenue_holdout": sums[True][0],
        "orders_recipients": sums[False][1],
        "orders_holdout": sums[True][1],
        "per_recipient": treated,
        "per_holdout": control,
        "lift": (treated - control) if treated is not None and control is not None else None,
        "lift_pct": lift_pct,
    }


def campaign_charts(counts: dict, revenue: dict) -> dict:
    """Chart.js specs for the results page (read by static/js/marketing.js)."""
    return {
        "funnel": {
            "type": "bar",
            "labels": [
                _("Sent"),
                _("Delivered"),
                _("Failed"),
                _("Opened"),
                _("Clicked"),
                _("Unsubscribed"),
            ],
            "datasets": [
                {
                    "label": _("Recipients"),
                    "data": [
                        counts["attempted"],
                        counts["delivered"],
                        counts["failed"],
                        counts["opened"],
                        counts["clicked"],
                        counts["unsubscribed"],
                    ],
                    "backgroundColor": [
                        "#0d6efd",
                        "#198754",
                        "#dc3545",
                        "#6f42c1",
                        "#fd7e14",
                        "#6c757d",
                    ],
                }
            ],
        },
        "revenue": {
            "type": "bar",
            "labels": [_("Recipients"), _("Holdout")],
            "datasets": [
                {
                    "label": _("Revenue per customer"),
                    "data": [
                        float(revenue["per_recipient"] or 0),
                        float(revenue["per_holdout"] or 0),
                    ],
                    "backgroundColor": ["#0d6efd", "#adb5bd"],
                }
            ],
        },
    }
