"""The audit trail: who changed what, when, with old and new values (django-simple-history).

Apps mark a model as audited with `history = HistoricalRecords()` and register it here
(`register_audited`) so that the generic history page can show it to the users who may see
the object. Single saves and deletes are recorded by simple-history's signals (the user
comes from the request through its middleware). Writes that bypass `save()` (queryset
`update()`, `bulk_update`, the importers' COPY and UPDATE ... FROM) call `record_snapshot`,
which copies the current rows into the historical table with one set-based
`INSERT INTO <historical> SELECT ... FROM <table> WHERE id IN (...)` per batch, never a
query per row. The demo data (seed_demo) writes no history: it is a fixture load, not a
user's change.

History is read-only everywhere in the app: there is no view that changes it, the API has no
endpoint for it, and the admin does not register the historical models. The only code that
rewrites history rows is the personal-data erasure (`scrub_history`), which removes a
customer's personal values from them on request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.paginator import Paginator
from django.db import connection, models
from django.utils import timezone

_audited: dict[str, type[models.Model]] = {}

# Fields whose values in history only managers and admins may read (DESIGN.md "Sensitive
# fields"); the history page shows "hidden" to the others.
SENSITIVE_FIELDS: dict[str, frozenset[str]] = {}
# Bookkeeping fields that change on every save; a diff listing them says nothing.
UNSHOWN_FIELDS = frozenset({"updated_at"})
# Ids per INSERT ... SELECT statement: one statement copies this many rows.
SNAPSHOT_BATCH = 50_000
HISTORY_PAGE_SIZE = 25
REASON_MAX = 100  # simple-history's history_change_reason is a varchar(100)
_NONE = object()  # "no old value": the record created the object


def register_audited(model: type[models.Model], *, sensitive: Iterable[str] = ()) -> None:
    _audited[model._meta.label_lower] = model
    SENSITIVE_FIELDS[model._meta.label_lower] = frozenset(sensitive)


def audited_model(label: str) -> type[models.Model] | None:
    return _audited.get(label.lower())


def audited_models() -> list[type[models.Model]]:
    return list(_audited.values())


def is_audited(model: type[models.Model]) -> bool:
    return hasattr(model, "history") and model._meta.label_lower in _audited


def historical_model(model: type[models.Model]) -> type[models.Model] | None:
    history = getattr(model, "history", None)
    return getattr(history, "model", None) if history is not None else None


def record_snapshot(
    model: type[models.Model],
    ids: Sequence[int] | Iterable[int],
    *,
    kind: str = "~",
    user=None,
    reason: str = "",
    when=None,
) -> int:
    """Copy the current rows `ids` of `model` into its historical table, as history records
    of `kind` ("+" created, "~" changed, "-" deleted: call that one before deleting) by
    `user` with `reason`. Set-based: one `INSERT INTO <historical> SELECT ... FROM <table>
    WHERE id IN (...)` per SNAPSHOT_BATCH ids. Returns the number of history rows written.
    Does nothing for a model that is not audited."""
    hist = historical_model(model)
    if hist is None:
        return 0
    ids = [int(i) for i in ids]
    if not ids:
        return 0
    q = connection.ops.quote_name
    source = {f.column for f in model._meta.concrete_fields}
    columns = [f.column for f in hist._meta.concrete_fields if f.column in source]
    user_id = getattr(user, "pk", user)
    when = when or timezone.now()
    insert_cols = ", ".join(q(c) for c in columns)
    select_cols = ", ".join(f"t.{q(c)}" for c in columns)
    pk = q(model._meta.pk.column)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), SNAPSHOT_BATCH):
            part = ids[start : start + SNAPSHOT_BATCH]
            if connection.vendor == "postgresql":
                where, params = f"t.{pk} = ANY(%s)", [part]
            else:
                where, params = f"t.{pk} IN ({', '.join(['%s'] * len(part))})", part
            cursor.execute(
                # Table and column names come from model metadata, quoted by the backend;
                # values travel as parameters.
                f"INSERT INTO {q(hist._meta.db_table)} ({insert_cols}, "  # nosec B608
                "history_date, history_type, history_change_reason, history_user_id) "
                f"SELECT {select_cols}, %s, %s, %s, %s FROM {q(model._meta.db_table)} t "
                f"WHERE {where}",
                [when, kind, reason[:REASON_MAX] or None, user_id, *params],
            )
            written += cursor.rowcount
    return written


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def history_page(obj: models.Model, *, page: int | str | None = 1, show_sensitive: bool = True):
    """One page (HISTORY_PAGE_SIZE) of an object's changes, newest first, each with its
    field changes (field, old, new); sensitive fields are masked unless `show_sensitive`.

    A constant number of queries whatever the history's length: the count, then the page's
    records plus the one before the oldest shown (to diff it against), in one query.
    """
    from django.utils.translation import gettext as _

    qs = obj.history.select_related("history_user").order_by("-history_date", "-history_id")
    paginator = Paginator(qs, HISTORY_PAGE_SIZE)
    page_obj = paginator.get_page(page)
    offset = page_obj.start_index() - 1 if paginator.count else 0
    records = list(qs[offset : offset + HISTORY_PAGE_SIZE + 1])
    hidden_names = SENSITIVE_FIELDS.get(obj._meta.label_lower, frozenset())
    tracked = {f.attname: f for f in obj._meta.concrete_fields if f.attname not in UNSHOWN_FIELDS}
    hidden = _("hidden")
    raw = []
    for index, record in enumerate(records[:HISTORY_PAGE_SIZE]):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if record.history_type in ("~", "-") and older is not None:
            for attname, field in tracked.items():
                old, new = getattr(older, attname, None), getattr(record, attname, None)
                if old != new:
                    changes.append((field, old, new))
        elif record.history_type in ("+", "~"):
            for attname, field in tracked.items():
                value = getattr(record, attname, None)
                if value not in (None, "") and attname != "id":
                    changes.append((field, _NONE, value))
        raw.append((record, changes))
    labels = _related_labels(change for _record, changes in raw for change in changes)

    def shown(field, value):
        if value in (None, ""):
            return "—"
        if field.name in hidden_names and not show_sensitive:
            return hidden
        if field.is_relation:
            return labels.get((field.name, value), f"#{value}")
        return _display(field, value)

    rows = []
    for record, changes in raw:
        rows.append(
            {
                "when": record.history_date,
                "user": record.history_user.get_username() if record.history_user else "",
                "type": record.get_history_type_display(),
                "kind": record.history_type,
                "reason": record.history_change_reason or "",
                "changes": [
                    (
                        field.verbose_name,
                        "" if old is _NONE else shown(field, old),
                        shown(field, new),
                    )
                    for field, old, new in changes
                ],
            }
        )
    return rows, page_obj


def _related_labels(changes) -> dict:
    """{(field name, id): label} for the foreign-key values in these changes: one query per
    foreign key that appears, whatever the number of records."""
    wanted: dict = {}
    for field, old, new in changes:
        if field.is_relation:
            values = (v for v in (old, new) if v is not _NONE and v not in (None, ""))
            wanted.setdefault(field, set()).update(values)
    labels = {}
    for field, ids in wanted.items():
        if not ids:
            continue
        model = field.related_model
        for target in model._base_manager.filter(pk__in=ids):
            label = target.get_username() if hasattr(target, "get_username") else str(target)
            labels[(field.name, target.pk)] = label
    return labels


def history_rows(obj: models.Model, *, limit: int = 50) -> list[dict]:
    """The newest page of an object's changes (kept for callers of the first version)."""
    return history_page(obj)[0]


def attribute(obj: models.Model, user=None, reason: str = "") -> models.Model:
    """Name the user (and a reason) that the next save or delete of `obj` records in its
    history, for services that run outside a request (Celery, the shell); inside a request
    simple-history's middleware knows the user already."""
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user
    if reason:
        obj._change_reason = reason[:REASON_MAX]
    return obj
