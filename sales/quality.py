"""Data-quality checks about orders (registered into crm.quality)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm import roles
from crm.quality import QualityCheck, register_check

from .models import Order, OrderLine


def _orders(user):
    return roles.visible(user, Order).select_related("customer").order_by("-ordered_at", "-id")


def _line_sum():
    lines = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(s=Sum(F("quantity") * F("unit_price")))
        .values("s")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(lines, output_field=money), Value(Decimal("0")), output_field=money)


def _cells(o) -> list:
    return [str(o), o.customer.name, o.ordered_at, o.total]


def register_sales_checks() -> None:
    headers = (_("Order"), _("Customer"), _("Date"), _("Total"))
    register_check(
        QualityCheck(
            key="orders-without-lines",
            title=_("Orders without lines"),
            description=_("An order with no products sold: add its lines or delete it."),
            rows=lambda user: _orders(user).filter(lines__isnull=True),
            headers=headers,
            cells=_cells,
            order=40,
        )
    )
    register_check(
        QualityCheck(
            key="order-total-mismatch",
            title=_("Orders whose total differs from their lines"),
            description=_("The stored total is not the sum of the lines; reports would be wrong."),
            rows=lambda user: (
                _orders(user).annotate(line_sum=_line_sum()).exclude(total=F("line_sum"))
            ),
            headers=headers,
            cells=_cells,
            order=41,
        )
    )
