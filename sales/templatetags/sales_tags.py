"""Template helpers for the sales pages."""

from django import template

from crm.templatetags.crm_tags import money

from ..reports import MONEY_COLUMNS

register = template.Library()


@register.simple_tag
def report_cell(row: dict, key: str) -> str:
    """One cell of a report table: money columns with the currency, empty ones as a dash."""
    value = row.get(key)
    if value is None or value == "":
        return "—"
    if key in MONEY_COLUMNS:
        return money(value)
    return str(value)
