"""Helpers for the personal-data export and erasure (the sources register in crm.registry).

`rows_of` turns a queryset into JSON-safe dicts for the export; `scrub_history` rewrites the
personal values in an audited model's historical rows, the one place where history rows
change (on an erasure request, never from a page).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

ERASED_TEXT = "[erased]"


def plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def rows_of(qs: QuerySet, *fields: str) -> list[dict]:
    """Each row of `qs` as a dict of JSON-safe values (its concrete columns by default)."""
    names = fields or tuple(f.attname for f in qs.model._meta.concrete_fields)
    return [{k: plain(v) for k, v in row.items()} for row in qs.values(*names)]


def scrub_history(model, condition: Q, values: dict[str, Any]) -> int:
    """Set `values` on the historical rows of `model` that match `condition` (a Q on the
    historical table, whose columns are the model's); returns the rows changed."""
    history = getattr(model, "history", None)
    if history is None or not values:
        return 0
    return history.model._base_manager.filter(condition).update(**values)
