"""Template filters shared by every app: money, age bands, role checks."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils import formats, timezone

from .. import roles

register = template.Library()

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}


@register.filter
def money(value, currency: str | None = None) -> str:
    """A Decimal amount with the currency symbol, grouped for the active language."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    code = currency or settings.CURRENCY
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    symbol = _CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def age_band_of(birth_date: date | None, today: date | None = None) -> str:
    """A ten-year band ("30-39") shown instead of a birth date to roles without access."""
    if not birth_date:
        return ""
    today = today or timezone.localdate()
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    low = max(age, 0) // 10 * 10
    return f"{low}-{low + 9}"


@register.filter
def age_band(birth_date) -> str:
    return age_band_of(birth_date)


@register.filter
def may(user, capability: str) -> bool:
    """{% if user|may:"run_jobs" %}"""
    return roles.may(user, capability)


@register.simple_tag(takes_context=True)
def can(context, action: str, obj) -> bool:
    """{% can "change" customer as allowed %}"""
    return roles.can(context["request"].user, action, obj)
