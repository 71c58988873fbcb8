"""Optimistic locking for edit forms: two people editing one record must not overwrite each
other silently.

The edit page carries the record's `updated_at` as a hidden `version` field. On save, the
view calls `check_version` inside a transaction: it locks the row and compares the stored
`updated_at` with the posted version. When someone else saved in between, it returns a
`Conflict` (who saved, and each field whose saved value now differs from the one submitted)
and the view saves nothing; the form comes back with the user's input, the message at the
top and the new version, so a second, deliberate save may overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils.dateparse import parse_datetime

from .history import _display

VERSION_FIELD = "version"


def version_of(obj: models.Model) -> str:
    value = getattr(obj, "updated_at", None)
    return value.isoformat() if value else ""


@dataclass
class Conflict:
    """Someone saved the record after the form was opened."""

    version: str  # the stored version now (the form carries it from here on)
    users: list[str] = field(default_factory=list)
    saved_at: datetime | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # label, saved, yours


def _text(model_field, value) -> str:
    if isinstance(value, models.Model):
        return value.get_username() if hasattr(value, "get_username") else str(value)
    return _display(model_field, value)


def check_version(obj: models.Model, posted: str | None, *, submitted: dict) -> Conflict | None:
    """Lock `obj`'s row (call inside transaction.atomic) and compare its version with the
    posted one; None when they match. `submitted` maps model field names to the values the
    user sent (a form's cleaned_data), to list the fields that now differ.

    A post without a version (a script, an old page) is not checked: the edit pages always
    send one, and refusing would break clients that never promised to."""
    model = type(obj)
    current = model._base_manager.select_for_update().get(pk=obj.pk)
    stored = version_of(current)
    if posted is None or posted == stored:
        return None
    conflict = Conflict(version=stored, saved_at=current.updated_at)
    since = parse_datetime(posted) if posted else None
    if since is not None and hasattr(model, "history"):
        later = (
            model.history.filter(id=obj.pk, updated_at__gt=since)
            .select_related("history_user")
            .order_by("history_date")
        )
        for record in later:
            name = record.history_user.get_username() if record.history_user else ""
            if name and name not in conflict.users:
                conflict.users.append(name)
    for name, mine in submitted.items():
        try:
            model_field = model._meta.get_field(name)
        except Exception:  # a form-only field (tags as text, a confirmation box)
            continue
        if not model_field.concrete:
            continue
        saved = getattr(current, model_field.name)
        mine_cmp = mine.pk if isinstance(mine, models.Model) else mine
        saved_cmp = saved.pk if isinstance(saved, models.Model) else saved
        if (saved_cmp in (None, "") and mine_cmp in (None, "")) or saved_cmp == mine_cmp:
            continue
        conflict.changes.append(
            (str(model_field.verbose_name), _text(model_field, saved), _text(model_field, mine))
        )
    return conflict
