"""The audit trail: who changed what, when, with old and new values (django-simple-history).

Apps mark a model as audited with `history = HistoricalRecords()` and register it here
(`register_audited`) so that the generic history page can show it to the users who may see
the object. Bulk writers (crm.bulk) write the history rows of what they insert, so imports
and the demo data are audited too. History is read-only everywhere in the app: there is no
view that changes it, and the admin does not register the historical models.
"""

from __future__ import annotations

from django.db import models

_audited: dict[str, type[models.Model]] = {}


def register_audited(model: type[models.Model]) -> None:
    _audited[model._meta.label_lower] = model


def audited_model(label: str) -> type[models.Model] | None:
    return _audited.get(label.lower())


def is_audited(model: type[models.Model]) -> bool:
    return hasattr(model, "history") and model._meta.label_lower in _audited


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def history_rows(
    obj: models.Model, *, limit: int = 50, hidden: frozenset[str] = frozenset()
) -> list[dict]:
    """The newest `limit` changes of an object, each with its field changes, newest first;
    the fields named in `hidden` (crm.roles.hidden_fields: income, birth date) are left out.

    One query: the records are fetched together (limit + 1, the extra one to diff the
    oldest shown against) and compared pairwise in Python.
    """
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    tracked = {f.attname: f for f in obj._meta.concrete_fields}
    rows = []
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if record.history_type == "~" and older is not None:
            for change in record.diff_against(older).changes:
                if change.field in hidden:
                    continue
                field = tracked.get(change.field) or obj._meta.get_field(change.field)
                changes.append(
                    (field.verbose_name, _display(field, change.old), _display(field, change.new))
                )
        elif record.history_type == "+":
            for attname, field in tracked.items():
                value = getattr(record, attname, None)
                if value not in (None, "") and attname != "id" and attname not in hidden:
                    changes.append((field.verbose_name, "", _display(field, value)))
        rows.append(
            {
                "when": record.history_date,
                "user": record.history_user.get_username() if record.history_user else "",
                "type": record.get_history_type_display(),
                "kind": record.history_type,
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
    return rows
