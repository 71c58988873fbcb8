"""Template helpers for the dashboards: table cells and KPI figures."""

from decimal import Decimal

from django import template
from django.utils import formats

from crm.templatetags.crm_tags import money

register = template.Library()

MONEY_COLUMNS = frozenset(
    {"actual", "predicted", "lower", "upper", "baseline", "predicted_value_12m", "historic_value"}
)


@register.simple_tag
def dash_cell(row: dict, key: str) -> str:
    """One table cell: money with the currency, numbers grouped, empty ones as a dash."""
    value = row.get(key)
    if value is None or value == "":
        return "—"
    if key in MONEY_COLUMNS or (key == "monetary" and isinstance(value, int | float | Decimal)):
        return money(value)
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, int):
        return formats.number_format(value, 0, use_l10n=True, force_grouping=True)
    if isinstance(value, float):
        digits = 0 if abs(value) >= 1000 else (2 if abs(value) < 10 else 1)
        return formats.number_format(value, digits, use_l10n=True, force_grouping=True)
    return str(value)


def _figure(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return money(value)
    if kind == "pct":
        return f"{formats.number_format(value, 1, use_l10n=True)}%"
    return formats.number_format(value, 0, use_l10n=True, force_grouping=True)


@register.simple_tag
def kpi_value(kpi) -> str:
    return _figure(kpi.value, kpi.kind)


@register.simple_tag
def kpi_previous(kpi) -> str:
    return _figure(kpi.previous, kpi.kind)


@register.simple_tag
def kpi_change(kpi) -> str:
    """The change against the period before: "+12.5%" for counts and money, "+3.1" (points) for
    shares and scores (a percentage of a percentage misleads)."""
    change = kpi.change
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    if kpi.change_pct is not None:
        return f"{sign}{formats.number_format(abs(kpi.change_pct), 1, use_l10n=True)}%"
    if kpi.kind in ("pct", "score"):
        digits = 1 if kpi.kind == "pct" else 0
        return f"{sign}{formats.number_format(abs(change), digits, use_l10n=True)}"
    if kpi.kind == "money":
        return f"{sign}{money(abs(change))}"
    return f"{sign}{formats.number_format(abs(change), 0, use_l10n=True, force_grouping=True)}"
