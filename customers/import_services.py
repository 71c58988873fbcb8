"""Import batches: upload, preview, commit, cancel and undo (every write of the import flow).

Views, Celery tasks, the `import_csv` command and the benchmark all go through these
functions. The heavy work (reading, validating, writing) runs in Celery tasks that take a
batch id and are idempotent: each checks the batch's status under a row lock first, so a
task delivered twice does its work once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.history import audited_model, record_snapshot
from crm.importing import CLEANING_LABELS, FileProblem, Limits, Plan, get_importer, insert_frame

from .import_models import ImportBatch, ImportRecord, ImportStatus
from .importing import UndoBlocked

logger = logging.getLogger(__name__)

PREVIEW_REJECTS = 200  # rejects shown on the preview page; the download has them all
PREVIEW_ROWS = 20


class ImportError_(Exception):
    """A request the batch's state does not allow; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


@dataclass
class ImportSummary:
    """What an import did (or would do): the same figures on the page and the console."""

    kind: str
    rows: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    reject: int = 0
    collapsed: int = 0
    committed: bool = False
    batch_id: int | None = None
    encoding: str = ""
    delimiter: str = ""
    cleaning: dict = field(default_factory=dict)
    rejects: list = field(default_factory=list)  # [row, column, reason], the first ones
    message: str = ""

    def lines(self) -> list[str]:
        if self.message:
            return [_("The file cannot be imported: %(message)s") % {"message": self.message}]
        out = [
            _(
                "%(kind)s: %(rows)s rows · %(create)s to create · %(update)s to update · "
                "%(unchanged)s unchanged · %(reject)s rejected · %(collapsed)s duplicates "
                "collapsed"
            )
            % self.__dict__,
            _("Encoding %(encoding)s, separator “%(delimiter)s”.")
            % {"encoding": self.encoding, "delimiter": self.delimiter.replace("\t", "TAB")},
        ]
        for code, count in self.cleaning.items():
            if count:
                out.append(f"  {CLEANING_LABELS.get(code, code)}: {count}")
        for row, column, reason in self.rejects[:20]:
            where = f"{column}: " if column else ""
            out.append(
                _("  Row %(row)s rejected: %(reason)s") % {"row": row, "reason": where + reason}
            )
        if self.reject > 20:
            out.append(_("  … and %(more)s more rejected rows.") % {"more": self.reject - 20})
        if self.committed:
            out.append(
                _("Committed as batch #%(batch)s: %(create)s created, %(update)s updated.")
                % {"batch": self.batch_id, "create": self.create, "update": self.update}
            )
        else:
            out.append(_("Nothing was written (a dry run)."))
        return out


def _summary(plan: Plan) -> ImportSummary:
    s = plan.summary()
    return ImportSummary(
        kind=plan.kind,
        rows=s["rows"],
        create=s["create"],
        update=s["update"],
        unchanged=s["unchanged"],
        reject=s["reject"],
        collapsed=s["collapsed"],
        encoding=plan.encoding,
        delimiter=plan.delimiter,
        cleaning={k: int(v) for k, v in plan.notes.items() if v},
        rejects=plan.rejects.head(PREVIEW_REJECTS).to_numpy().tolist(),
    )


# --- The plain-function path (command line, benchmark) -------------------------------------


def run_import(
    kind: str, path: str | Path, user=None, *, commit: bool = True, limits: Limits | None = None
) -> ImportSummary:
    """Read, validate and (with commit) write one CSV file in one transaction, recording an
    ImportBatch that can be undone. Returns the summary; a file-level problem is returned
    in `summary.message`, never raised."""
    importer = get_importer(kind)
    path = Path(path)
    try:
        parsed = importer.read(path, limits)
        plan = importer.plan(parsed, user=user)
    except FileProblem as exc:
        return ImportSummary(kind=kind, message=exc.message)
    summary = _summary(plan)
    if not commit:
        return summary
    batch = ImportBatch.objects.create(
        kind=kind,
        original_name=path.name,
        size=path.stat().st_size,
        status=ImportStatus.COMMITTING,
        created_by=user,
        committed_by=user,
        language=translation.get_language() or "",
    )
    with transaction.atomic():
        _write(batch, plan, importer, user)
    summary.committed = True
    summary.batch_id = batch.pk
    return summary


# --- The browser flow -----------------------------------------------------------------------


def batch_create(*, kind: str, upload, user, language: str = "") -> ImportBatch:
    """Store an uploaded file and queue its reading; the form has checked size and type."""
    get_importer(kind)
    batch = ImportBatch(
        kind=kind,
        original_name=Path(upload.name).name[:255],
        size=upload.size,
        created_by=user,
        language=language,
    )
    batch.file.save(Path(upload.name).name, upload, save=False)
    batch.save()
    from .import_tasks import import_preview_task

    transaction.on_commit(
        lambda: _queue(import_preview_task, batch.pk, fallback=ImportStatus.FAILED)
    )
    return batch


def _queue(task, batch_id: int, *, fallback: str) -> None:
    """Send a task; when the broker cannot be reached, say so on the batch instead of
    failing the request (the batch returns to `fallback`, so the user can try again)."""
    try:
        task.delay(batch_id)
    except Exception:  # any broker error: the page must explain, not crash
        logger.exception("import batch %s: could not queue %s", batch_id, task.name)
        _set(
            batch_id,
            status=fallback,
            message=_("The background worker could not be reached. Try again in a moment."),
        )


def _set(batch_id: int, **fields) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(**fields)


def batch_preview(*, batch_id: int) -> None:
    """Read and validate the batch's file, storing counts, samples and the rejects file.
    Runs in a Celery task; does nothing unless the batch waits to be read."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status not in (ImportStatus.PENDING, ImportStatus.PARSING):
            return
        batch.status = ImportStatus.PARSING
        batch.progress = 5
        batch.save(update_fields=["status", "progress"])
    with translation.override(batch.language or settings.LANGUAGE_CODE):
        importer = get_importer(batch.kind)
        try:
            parsed = importer.read(batch.file.path)
            _set(batch_id, progress=40)
            plan = importer.plan(parsed, user=batch.created_by)
            _set(batch_id, progress=85)
        except FileProblem as exc:
            _set(batch_id, status=ImportStatus.FAILED, message=exc.message, progress=100)
            return
        except Exception:  # the batch must not stay "reading" forever
            logger.exception("import batch %s: reading failed", batch_id)
            _set(
                batch_id,
                status=ImportStatus.FAILED,
                progress=100,
                message=_("The file could not be read because of an error on our side."),
            )
            raise
        _store_preview(batch, plan)


def _store_preview(batch: ImportBatch, plan: Plan) -> None:
    s = plan.summary()
    creates = plan.creates.drop(columns=[c for c in plan.creates.columns if c.startswith("_")])
    sample = creates.head(PREVIEW_ROWS)
    sample = sample.astype(object).where(sample.notna(), "")
    preview = {
        "creates": {
            "columns": [str(c) for c in sample.columns],
            "rows": [
                [int(r), *[str(v) for v in vals]]
                for r, vals in zip(sample.index, sample.to_numpy().tolist(), strict=True)
            ],
        },
        "changes": plan.changes[:PREVIEW_ROWS],
        "rejects": [
            [int(r), str(c), str(m)]
            for r, c, m in plan.rejects.head(PREVIEW_REJECTS).to_numpy().tolist()
        ],
        "reject_lines": len(plan.rejects),
        "collapsed_into": plan.extra.get("collapsed_into", [])[:50],
        "ignored_columns": plan.ignored_columns,
    }
    batch.total_rows = s["rows"]
    batch.to_create = s["create"]
    batch.to_update = s["update"]
    batch.unchanged = s["unchanged"]
    batch.rejected = s["reject"]
    batch.collapsed = s["collapsed"]
    batch.cleaning = {k: int(v) for k, v in plan.notes.items() if v}
    batch.preview = preview
    batch.encoding = plan.encoding
    batch.delimiter = plan.delimiter
    if s["reject"]:
        text = "\ufeff" + plan.rejected_rows_csv()  # BOM: Excel then reads UTF-8 correctly
        stem = Path(batch.original_name).stem[:80] or "import"
        batch.rejects_file.save(
            f"{stem}-rejected.csv", ContentFile(text.encode("utf-8")), save=False
        )
    batch.status = ImportStatus.READY
    batch.progress = 100
    batch.message = ""
    batch.save()


def batch_request_commit(*, batch: ImportBatch, user) -> None:
    """Queue the commit of a previewed batch."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportStatus.READY:
            raise ImportError_(_("Only a previewed batch can be committed."))
        batch.status = ImportStatus.COMMITTING
        batch.committed_by = user
        batch.progress = 0
        batch.save(update_fields=["status", "committed_by", "progress"])
        from .import_tasks import import_commit_task

        transaction.on_commit(
            lambda: _queue(import_commit_task, batch.pk, fallback=ImportStatus.READY)
        )


def batch_commit(*, batch_id: int) -> None:
    """Validate the file again against today's data and write it in one transaction.
    Runs in a Celery task; does nothing unless the batch is waiting to be committed."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.COMMITTING:
        return
    with translation.override(batch.language or settings.LANGUAGE_CODE):
        importer = get_importer(batch.kind)
        try:
            plan = importer.plan(importer.read(batch.file.path), user=batch.committed_by)
            with transaction.atomic():
                locked = ImportBatch.objects.select_for_update().get(pk=batch_id)
                if locked.status != ImportStatus.COMMITTING:
                    return
                _write(locked, plan, importer, locked.committed_by)
            if batch.kind == "customers":
                _refresh_similar_names_soon()
        except FileProblem as exc:
            _set(batch_id, status=ImportStatus.FAILED, message=exc.message)
        except Exception:
            logger.exception("import batch %s: commit failed", batch_id)
            _set(
                batch_id,
                status=ImportStatus.READY,
                message=_("The commit failed and nothing was written. Try again."),
            )
            raise


def record_import_history(records: pd.DataFrame, *, undo: bool, user, batch_id: int) -> None:
    """The audit trail of an import's commit or undo, from its undo records (model label,
    object_id, previous: None for a created row). Set-based: crm.history.record_snapshot
    copies the rows of each audited model into its historical table with one
    INSERT ... SELECT per batch of ids, never a query per row.

    Commit (after the write): created rows get a "+" record, updated rows a "~" record.
    Undo: call it before the importer's undo, so the created rows still exist for their
    "-" record; the restored rows get their "~" record from `record_restored_history`
    after it. Labels of models that are not audited (products, tags, links) are skipped.
    """
    if records.empty:
        return
    reason = (_("Undo of import batch #%(id)s") if undo else _("Import batch #%(id)s")) % {
        "id": batch_id
    }
    created = records["previous"].isna()
    for label in pd.unique(records["model"]):
        model = audited_model(label)
        if model is None:
            continue
        mine = records["model"] == label
        ids = records.loc[mine & created, "object_id"].astype("int64").tolist()
        record_snapshot(model, ids, kind="-" if undo else "+", user=user, reason=reason)
        if not undo:
            ids = records.loc[mine & ~created, "object_id"].astype("int64").tolist()
            record_snapshot(model, ids, kind="~", user=user, reason=reason)


def record_restored_history(records: pd.DataFrame, *, user, batch_id: int) -> None:
    """After an undo: a "~" history record for each row it restored to its old values."""
    reason = _("Undo of import batch #%(id)s") % {"id": batch_id}
    for label in pd.unique(records["model"]):
        model = audited_model(label)
        if model is None:
            continue
        mine = (records["model"] == label) & records["previous"].notna()
        ids = records.loc[mine, "object_id"].astype("int64").tolist()
        record_snapshot(model, ids, kind="~", user=user, reason=reason)


def _refresh_similar_names_soon() -> None:
    """New customers may be near-duplicates of stored ones: recompute the pair list of the
    duplicates page in the background (the scheduled check would catch it within minutes)."""
    from .tasks import similar_names_task

    try:
        similar_names_task.delay()
    except Exception:  # a broker outage must not turn a committed import into an error
        logger.exception("could not queue the similar-names job after an import")


def _write(batch: ImportBatch, plan: Plan, importer, user) -> None:
    """Inside the caller's transaction: write the plan, its undo records and the counts."""
    written = importer.write(plan, user=user, batch_id=batch.pk)
    record_import_history(
        pd.DataFrame(written, columns=["model", "object_id", "previous"]),
        undo=False,
        user=user,
        batch_id=batch.pk,
    )
    records = _compact(written)
    if records:
        frame = pd.DataFrame(records, columns=["model", "object_id", "previous"])
        frame["previous"] = frame["previous"].map(
            lambda v: None if v is None else json.dumps(v, default=str)
        )
        frame.insert(0, "batch_id", batch.pk)
        insert_frame(ImportRecord, frame)
    s = plan.summary()
    batch.status = ImportStatus.COMMITTED
    batch.committed_at = timezone.now()
    batch.committed_by = user
    batch.created_count = s["create"]
    batch.updated_count = s["update"]
    batch.total_rows = s["rows"]
    batch.to_create = s["create"]
    batch.to_update = s["update"]
    batch.unchanged = s["unchanged"]
    batch.rejected = s["reject"]
    batch.collapsed = s["collapsed"]
    batch.encoding = plan.encoding
    batch.delimiter = plan.delimiter
    batch.cleaning = {k: int(v) for k, v in plan.notes.items() if v}
    batch.progress = 100
    batch.message = ""
    batch.save()


CREATED_TO = "created_to"


def _compact(records: list) -> list:
    """Created rows as runs of consecutive ids (one record "id .. created_to" per run):
    ids reserved in one call are consecutive, so 100k created rows need one record."""
    created: dict[str, list[int]] = {}
    out = []
    for model, object_id, previous in records:
        if previous is None:
            created.setdefault(model, []).append(int(object_id))
        else:
            out.append((model, object_id, previous))
    for model, ids in created.items():
        ordered = np.unique(np.asarray(ids, dtype="int64"))
        breaks = np.flatnonzero(np.diff(ordered) != 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(ordered) - 1]])
        out += [
            (model, int(ordered[a]), {CREATED_TO: int(ordered[b])})
            for a, b in zip(starts, ends, strict=True)
        ]
    return out


def _expand(records: pd.DataFrame) -> pd.DataFrame:
    """The inverse of _compact: one row per created id, previous None."""
    runs = records["previous"].map(lambda p: isinstance(p, dict) and CREATED_TO in p)
    if not runs.any():
        return records
    parts = [records[~runs]]
    for model, start, previous in records[runs].itertuples(index=False):
        ids = np.arange(int(start), int(previous[CREATED_TO]) + 1, dtype="int64")
        parts.append(pd.DataFrame({"model": model, "object_id": ids, "previous": None}))
    return pd.concat(parts, ignore_index=True)


def batch_cancel(*, batch: ImportBatch, user) -> None:
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (ImportStatus.READY, ImportStatus.FAILED, ImportStatus.PENDING):
            raise ImportError_(_("This batch can no longer be cancelled."))
        batch.status = ImportStatus.CANCELLED
        batch.cancelled_at = timezone.now()
        batch.save(update_fields=["status", "cancelled_at"])
    if batch.file:
        batch.file.delete(save=False)  # the upload is not needed any more
        ImportBatch.objects.filter(pk=batch.pk).update(file="")


def undo_blocker(batch: ImportBatch) -> str:
    """Why this batch cannot be undone now, or ""."""
    if batch.status != ImportStatus.COMMITTED:
        return _("Only a committed batch can be undone.")
    later = (
        ImportBatch.objects.filter(
            kind=batch.kind, status=ImportStatus.COMMITTED, committed_at__gt=batch.committed_at
        )
        .exclude(pk=batch.pk)
        .exists()
    )
    if later:
        return _("Undo the later imports of the same kind first.")
    return ""


def batch_request_undo(*, batch: ImportBatch, user) -> None:
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        reason = undo_blocker(batch)
        if reason:
            raise ImportError_(reason)
        batch.status = ImportStatus.UNDOING
        batch.undone_by = user
        batch.message = ""
        batch.save(update_fields=["status", "undone_by", "message"])
        from .import_tasks import import_undo_task

        transaction.on_commit(
            lambda: _queue(import_undo_task, batch.pk, fallback=ImportStatus.COMMITTED)
        )


def batch_undo(*, batch_id: int) -> None:
    """Remove the rows the batch created and restore the rows it updated, in one
    transaction; if later data depends on them, nothing changes and the batch says why."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.UNDOING:
        return
    with translation.override(batch.language or settings.LANGUAGE_CODE):
        importer = get_importer(batch.kind)
        try:
            with transaction.atomic():
                locked = ImportBatch.objects.select_for_update().get(pk=batch_id)
                if locked.status != ImportStatus.UNDOING:
                    return
                records = pd.DataFrame(
                    list(locked.records.values_list("model", "object_id", "previous")),
                    columns=["model", "object_id", "previous"],
                )
                expanded = _expand(records)
                who = locked.undone_by
                record_import_history(expanded, undo=True, user=who, batch_id=batch_id)
                importer.undo(expanded)
                record_restored_history(expanded, user=who, batch_id=batch_id)
                locked.records.all().delete()
                locked.status = ImportStatus.UNDONE
                locked.undone_at = timezone.now()
                locked.save(update_fields=["status", "undone_at"])
        except UndoBlocked as exc:
            _set(batch_id, status=ImportStatus.COMMITTED, message=exc.message, undone_by=None)


def undo_now(*, batch: ImportBatch, user) -> ImportBatch:
    """Undo synchronously (command line and tests): request, then run."""
    batch_request_undo(batch=batch, user=user)
    batch_undo(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch
