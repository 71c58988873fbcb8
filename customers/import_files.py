"""The files an import keeps on disk: the uploaded CSV of each batch and its rejected rows.

Two things happen to them after the import:
- Erasure of a customer's personal data removes that person's rows from every stored file
  (`scrub_person`), after the erasure's transaction has committed.
- IMPORT_FILE_RETENTION_DAYS after a batch finished (committed, cancelled, failed, undone),
  the nightly `expire_import_files` deletes its files; the batch page then says so.

Files are read with the importer's own reader (crm.importing.read_csv: decoding, separator,
header names) and rewritten record by record, so the rows that stay keep their bytes.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm.importing import (
    Cleaner,
    Importer,
    Limits,
    decode_bytes,
    get_importer,
    importer_kinds,
    read_csv,
)

from .cleaning import normalize_phone
from .import_models import ImportBatch, ImportStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    """The values that find a customer's rows in a file, taken before the erasure."""

    external_id: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def of(cls, customer) -> Person:
        return cls(
            external_id=customer.external_id or "",
            email=(customer.email or "").strip().lower(),
            phone=customer.phone or "",
        )

    def __bool__(self) -> bool:
        return bool(self.external_id or self.email or self.phone)


# --- erasure ----------------------------------------------------------------------------


def _person_kinds() -> dict[str, Importer]:
    """The importers whose files hold people's rows (Importer.person_columns)."""
    kinds = {kind: get_importer(kind) for kind in importer_kinds()}
    return {kind: imp for kind, imp in kinds.items() if getattr(imp, "person_columns", None)}


def scrub_person(person: Person) -> dict[str, int]:
    """Remove the person's rows from every stored import file; returns {"files": files
    rewritten, "rows": rows removed}. A file that cannot be read or written is logged and
    skipped: the erasure in the database has happened already and stands."""
    files = rows = 0
    if not person:
        return {"files": 0, "rows": 0}
    importers = _person_kinds()
    batches = ImportBatch.objects.filter(kind__in=list(importers)).exclude(file="", rejects_file="")
    for batch in batches.iterator():
        for field in (batch.file, batch.rejects_file):
            if not field:
                continue
            try:
                removed = scrub_file(Path(field.path), importers[batch.kind], person)
            except Exception:  # unreadable, gone, not ours to fix here: the others go on
                logger.warning(
                    "erasure: import file of batch %s could not be scrubbed (%s)",
                    batch.pk,
                    field.name,
                    exc_info=True,
                )
                continue
            if removed:
                files += 1
                rows += removed
    return {"files": files, "rows": rows}


def scrub_file(path: Path, importer: Importer, person: Person) -> int:
    """Remove the person's records from one CSV file (atomically: a temporary file in the
    same folder replaces it); returns the number of records removed."""
    data = path.read_bytes()
    # A stored file was accepted once: no size or row limit refuses it now.
    parsed = read_csv(
        data,
        columns=importer.columns,
        required=(),
        limits=Limits(max_bytes=len(data) + 1, max_rows=10**9),
    )
    hit = _matching_rows(parsed.original, importer.person_columns, person)
    if not hit:
        return 0
    text, encoding = decode_bytes(data)
    del data
    records = _records(text, parsed.delimiter)
    # Records are numbered as read_csv numbers rows: the header is 1, its first row 2.
    if max(hit) > len(records):
        raise ValueError(f"{path}: row {max(hit)} beyond the {len(records)} records read")
    kept = "".join(r for number, r in enumerate(records, start=1) if number not in hit)
    if encoding == "utf-8-sig":
        out = b"\xef\xbb\xbf" + kept.encode("utf-8")
    else:
        out = kept.encode(encoding)
    _replace(path, out)
    return len(hit)


def _matching_rows(original: pd.DataFrame, columns: dict[str, str], person: Person) -> set[int]:
    """The row numbers whose person column holds one of the person's values, compared the
    way the importer compares them (trimmed, formula escapes undone, emails lower-case,
    phones in E.164 with the row's country as region)."""
    present = [c for c in columns if c in original.columns]
    if not present:
        return set()
    frame = Cleaner.trim_all(original[present].astype(object).fillna(""), Counter())
    region = (
        original["country"].astype(object).fillna("").astype(str).str.strip().str.upper()
        if "country" in original.columns
        else pd.Series("", index=original.index)
    )
    hit = pd.Series(False, index=original.index)
    for column in present:
        what = columns[column]
        value = getattr(person, what)
        if not value:
            continue
        col = frame[column]
        if what == "email":
            hit |= col.str.lower() == value
        elif what == "phone":
            # Only numbers ending in the same digits go through the (slow) phone parser.
            tail = re.sub(r"\D", "", value)[-6:]
            maybe = col.str.replace(r"\D", "", regex=True).str.endswith(tail) & (col != "")
            for row in col.index[maybe]:
                e164, _error = normalize_phone(col[row], region[row] or None)
                if e164 == value:
                    hit[row] = True
        else:
            hit |= col == value
    return {int(r) for r in hit.index[hit]}


def _records(text: str, delimiter: str) -> list[str]:
    """The file's text cut into CSV records (a quoted value may span lines), each with its
    line ending, exactly as the csv module reads them: joined, they are the text."""
    lines = list(io.StringIO(text, newline=""))
    consumed = 0

    def feed():
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line

    records = []
    start = 0
    for _fields in csv.reader(feed(), delimiter=delimiter, strict=False):
        records.append("".join(lines[start:consumed]))
        start = consumed
    if start < len(lines):  # trailing text the reader yielded nothing for
        records.append("".join(lines[start:]))
    return records


def _replace(path: Path, content: bytes) -> None:
    """Write next to the file, then rename over it: a reader sees the old or the new file,
    never half of one."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- retention --------------------------------------------------------------------------

# When a batch finished, by status. A failed batch has no time of its own: it fails while
# being read, minutes after the upload.
FINISHED_AT = {
    ImportStatus.COMMITTED: "committed_at",
    ImportStatus.CANCELLED: "cancelled_at",
    ImportStatus.UNDONE: "undone_at",
    ImportStatus.FAILED: "created_at",
}


def expire_import_files(*, now: datetime | None = None) -> dict[str, int]:
    """Delete the stored files of batches finished more than IMPORT_FILE_RETENTION_DAYS
    ago (the batch row stays, marked with files_removed_at), and files under
    MEDIA_ROOT/imports that no batch names and that are as old. A negative setting
    switches this off. Idempotent. Returns {"batches", "files", "orphans"}."""
    days = settings.IMPORT_FILE_RETENTION_DAYS
    if days < 0:
        return {"batches": 0, "files": 0, "orphans": 0}
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    finished = Q()
    for status, field in FINISHED_AT.items():
        finished |= Q(status=status, **{f"{field}__lt": cutoff})
    batches = ImportBatch.objects.filter(finished).exclude(file="", rejects_file="")
    done = files = 0
    for batch in batches.iterator():
        for field in (batch.file, batch.rejects_file):
            if field:
                field.storage.delete(field.name)  # a file already gone is no error
                files += 1
        ImportBatch.objects.filter(pk=batch.pk).update(
            file="", rejects_file="", files_removed_at=now
        )
        done += 1
    return {"batches": done, "files": files, "orphans": _delete_orphans(cutoff)}


def _delete_orphans(cutoff: datetime) -> int:
    """Files under MEDIA_ROOT/imports older than the cutoff that no batch names (a batch
    deleted in the admin, an upload whose request failed)."""
    root = Path(settings.MEDIA_ROOT) / "imports"
    if not root.is_dir():
        return 0
    named = set()
    for file, rejects in ImportBatch.objects.values_list("file", "rejects_file").iterator():
        named.update(n for n in (file, rejects) if n)
    limit = cutoff.timestamp()
    removed = 0
    for path in root.glob("**/*"):
        if not path.is_file() or path.stat().st_mtime >= limit:
            continue
        if path.relative_to(settings.MEDIA_ROOT).as_posix() not in named:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
