"""The generic CSV import engine shared by every importer (customers, orders, products).

An importer runs in three steps, each a plain function of plain data so it is tested
without HTTP or Celery:

1. `read_csv` turns the raw bytes into a DataFrame of text, one row per record, indexed by
   the row number a spreadsheet shows (the header is row 1). It detects the encoding
   (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK, Windows-1252/Latin-1) and
   the separator (comma, semicolon or tab), honours quoted fields with newlines, enforces
   the size and row limits, and raises `FileProblem` (a message for the user) for anything
   that is not a usable CSV file. Rows with the wrong number of fields become rejects.
2. The importer's `plan` cleans and validates column by column with vectorised pandas
   (`Cleaner`), records every problem as a reject (row, column, reason), collapses
   duplicates inside the file, matches rows to stored ones and returns a `Plan`: the rows
   to create, the rows to update (with their previous values, for undo), the rejects and
   a count of each kind of cleaning applied.
3. The importer's `write` applies a plan in one transaction with set-based SQL
   (`insert_frame`, `update_from_frame`): COPY on PostgreSQL, executemany on SQLite, one
   UPDATE ... FROM a staging table on both. Never one query per row.

The engine knows no model of any app; importers register here (`register_importer`) from
their AppConfig.ready(), so the batch machinery in `customers` reaches the sales importers
without importing upward.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .bulk import bulk_insert

# Limits stated on the upload page. 100 MB holds about a million order lines or 400k
# customers; pandas needs roughly five times the file size in memory while validating.
MAX_FILE_BYTES = getattr(settings, "IMPORT_MAX_FILE_BYTES", 100 * 1024 * 1024)
MAX_ROWS = getattr(settings, "IMPORT_MAX_ROWS", 1_000_000)
# Rows per IN (...) lookup: far below SQLite's 32k variable limit, few round trips.
LOOKUP_CHUNK = 5_000
# A quoted field longer than this is not data a CRM stores; csv's default is 128 KiB.
MAX_FIELD_CHARS = 100_000

# What each cleaning code means, shown on the preview with its count.
CLEANING_LABELS: dict[str, Any] = {
    "trimmed": gettext_lazy("Spaces trimmed around values"),
    "blank_lines": gettext_lazy("Blank lines skipped"),
    "email_lowered": gettext_lazy("Emails lower-cased"),
    "phone_e164": gettext_lazy("Phone numbers normalised to E.164"),
    "dates_parsed": gettext_lazy("Dates read from other formats"),
    "gender_synonym": gettext_lazy("Gender synonyms mapped"),
    "education_synonym": gettext_lazy("Education synonyms mapped"),
    "choice_synonym": gettext_lazy("Kind, stage or flag synonyms mapped"),
    "country_upper": gettext_lazy("Country codes upper-cased"),
    "numbers_cleaned": gettext_lazy("Numbers with currency signs or thousands separators read"),
    "tags_normalised": gettext_lazy("Tags lower-cased and de-duplicated"),
    "formula_unescaped": gettext_lazy("Spreadsheet formula escapes removed"),
    "collapsed": gettext_lazy("Duplicate rows inside the file collapsed"),
    "price_from_product": gettext_lazy("Unit prices taken from the product list"),
    "names_spaced": gettext_lazy("Repeated spaces inside names collapsed"),
}


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_FILE_BYTES
    max_rows: int = MAX_ROWS


@dataclass
class ParsedFile:
    """A CSV file read into text columns; `frame` is indexed by spreadsheet row number."""

    frame: pd.DataFrame
    original: pd.DataFrame  # the values as they were in the file, for the rejects download
    header: list[str]
    encoding: str
    delimiter: str
    ignored_columns: list[str]
    rejects: Rejects
    blank_lines: int = 0
    needs_trim: bool = True
    has_apostrophe: bool = True


# --- Reading --------------------------------------------------------------------------

_ENCODING_LABELS = {
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "gb18030": "GB18030/GBK",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
}


def _looks_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 is plausibly Chinese rather than misread Latin-1.

    Real Chinese text is almost all GB2312 characters; Latin-1 accents read as GB18030
    land in the rare extension areas (their second byte is an ASCII letter).
    """
    odd = [ch for ch in text[:200_000] if ord(ch) > 127]
    if not odd:
        return True
    common = 0
    for ch in odd:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(odd)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for the encodings CRM users' files come in."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileProblem(
                _("The file says it is UTF-8 but byte %(position)s is not valid UTF-8.")
                % {"position": exc.start + 3}
            ) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileProblem(_("The file says it is UTF-16 but is not valid UTF-16.")) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _looks_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of, outside quotes."""
    first = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# Every character `\s` matches (all below U+3001), so a file can be checked for values with
# spaces around them by plain substring searches, which run at memory speed, instead of one
# regular expression with alternatives over the whole text (seconds on a 100k-row file).
_SPACES = [c for c in map(chr, range(0x3001)) if re.match(r"\s", c)]
_RARE_SPACE = re.compile("[" + re.escape("".join(c for c in _SPACES if c not in " \t")) + "]")


def _needs_trim(text: str, delimiter: str) -> bool:
    """Whether any field can start or end with whitespace (quoted or not); the same answer
    as the pattern `(^|d)SPACE | SPACE($|d|\\r) | (^|d)"\\s | \\s"($|d|\\r)` with SPACE any
    whitespace but a line break, found by substring searches."""
    # " " and TAB are checked directly; one scan says whether any rarer space occurs at all
    # (29 single-character scans of a 10 MB text cost more than the whole check otherwise).
    rare = "".join(c for c in _SPACES if c not in " \t")
    present = [c for c in " \t" if c in text]
    if _RARE_SPACE.search(text) is not None:
        present += [c for c in rare if c in text]
    if not present:
        return False
    for c in present:
        if c not in "\r\n":
            if text.startswith(c) or text.endswith(c):
                return True
            if any(x in text for x in (delimiter + c, c + delimiter, "\n" + c, c + "\n", c + "\r")):
                return True
        if text.startswith('"' + c) or text.endswith(c + '"'):
            return True
        quoted = (
            delimiter + '"' + c,
            '\n"' + c,
            c + '"' + delimiter,
            c + '"\n',
            c + '"\r',
        )
        if any(x in text for x in quoted):
            return True
    return False


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().strip("\ufeff").strip().lower())


def read_csv(
    source: bytes | str | Path,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    limits: Limits | None = None,
) -> ParsedFile:
    """Read a CSV file (bytes or a path) into text columns; see the module docstring."""
    limits = limits or Limits()
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise FileProblem(_("The uploaded file could not be read.")) from exc
        if size > limits.max_bytes:
            raise _too_big(limits)
        data = path.read_bytes()
    else:
        data = source
    if len(data) > limits.max_bytes:
        raise _too_big(limits)
    if not data.strip():
        raise FileProblem(_("The file is empty."))
    check_looks_like_text(data[:65536])
    text, encoding = decode_bytes(data)
    del data
    if "\x00" in text:
        raise FileProblem(_("The file contains binary data, so it is not a CSV text file."))
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text)
    # One pass over the text tells whether any field can need trimming or unescaping, so
    # clean machine-written files skip those column passes (they cost most of the time).
    needs_trim = _needs_trim(text, delimiter)
    has_apostrophe = "'" in text

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header_row = next(reader)
    except StopIteration as exc:
        raise FileProblem(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise _unreadable(exc, 1) from exc
    # "E-Mail", "External ID" and "postal code" name the columns email, external_id and
    # postal_code: compare names without case, spaces, dashes or underscores.
    loose = {c.replace("_", ""): c for c in columns}
    header = [_normalise_header(h) for h in header_row]
    header = [loose.get(h.replace("_", ""), h) for h in header]
    _check_header(header, columns, required)
    width = len(header)

    fast = _parse_with_pandas(text, delimiter, header)
    if fast is not None:
        frame, bad, blank = fast
        if len(frame) + len(bad) > limits.max_rows:
            raise FileProblem(
                _("The file has more than %(limit)s rows; split it into smaller files.")
                % {"limit": f"{limits.max_rows:,}"}
            )
    else:
        frame, bad, blank = _parse_with_csv(reader, header, limits)
    del text
    ignored = [h for h in header if h not in columns]
    frame = frame.loc[:, ~frame.columns.duplicated()]
    for name in columns:
        if name not in frame.columns:
            frame[name] = ""
    original = frame[[*[c for c in header if c in columns], *ignored]].copy()
    frame = frame[list(columns)]

    rejects = Rejects()
    if bad:
        bad_frame = pd.DataFrame(
            [(r + [""] * width)[:width] for _n, r in bad], columns=header, dtype=object
        )
        bad_frame.index = pd.Index([n for n, _r in bad], dtype="int64", name="row")
        bad_frame = bad_frame.loc[:, ~bad_frame.columns.duplicated()]
        for name in columns:
            if name not in bad_frame.columns:
                bad_frame[name] = ""
        reasons = [
            _("Expected %(expected)s fields, found %(found)s.")
            % {"expected": width, "found": len(r)}
            for _n, r in bad
        ]
        rejects.add(
            pd.Series(True, index=bad_frame.index), "", pd.Series(reasons, index=bad_frame.index)
        )
        original = pd.concat([original, bad_frame[original.columns]]).sort_index()
    if frame.empty and not bad:
        raise FileProblem(_("The file has a header but no data rows."))
    return ParsedFile(
        frame=frame,
        original=original,
        header=header,
        encoding=_ENCODING_LABELS.get(encoding, encoding),
        delimiter=delimiter,
        ignored_columns=ignored,
        rejects=rejects,
        blank_lines=blank,
        needs_trim=needs_trim,
        has_apostrophe=has_apostrophe,
    )


def _parse_with_csv(reader, header: list[str], limits: Limits):
    """The careful path: Python's csv reader, row by row, for files the C parser refuses
    (rows with too many fields and other damage). Returns (frame, bad rows, blank lines)."""
    width = len(header)
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[tuple[int, list[str]]] = []
    blank = 0
    row_no = 1
    try:
        for row_no, row in enumerate(reader, start=2):  # noqa: B007 (used in the message)
            if len(row) == width:
                if not any(row):
                    blank += 1
                    continue
                rows.append(row)
                numbers.append(row_no)
            elif not row or not any(row):
                blank += 1
                continue
            else:
                bad.append((row_no, row))
            if len(rows) + len(bad) > limits.max_rows:
                raise FileProblem(
                    _("The file has more than %(limit)s rows; split it into smaller files.")
                    % {"limit": f"{limits.max_rows:,}"}
                )
    except csv.Error as exc:
        raise _unreadable(exc, row_no + 1) from exc

    frame = pd.DataFrame(rows, columns=header, dtype=object)
    del rows
    frame.index = pd.Index(numbers, dtype="int64", name="row")
    return frame, bad, blank


def _parse_with_pandas(text: str, delimiter: str, header: list[str]):
    """The fast path: pandas' C parser, about ten times quicker than the csv module.

    Every record must have the header's number of fields (checked first: the C parser
    would quietly pad a short row). Machine-written files quote empty strings and values
    with separators or line breaks; when every quote opens and closes a whole field, those
    fields are taken out of a copy of the text, whose lines are then the records and are
    counted the same way. Returns None otherwise (a stray quote, a short or long record)
    and the caller takes the careful path, which also reports the bad rows. Row numbers
    are record numbers, as the csv module counts them."""
    width = len(header)
    quoted = '"' in text
    plain = text
    if quoted:
        # Every quote must open and close a whole field ("a;b", "" and "say ""hi""");
        # with those fields taken out, records are lines and can be counted like below.
        d = re.escape(delimiter)
        whole_fields = re.compile(rf'(?<![^\n{d}])"(?:[^"]|"")*"(?=[{d}\r\n]|\Z)')
        plain = whole_fields.sub("", text)
        if '"' in plain:
            return None
    lines = plain.split("\n")
    if lines[-1] == "":
        lines.pop()
    # str.count per line: a regular expression per line costs ten times more.
    if not all(ln.count(delimiter) == width - 1 or ln in ("", "\r") for ln in lines):
        return None
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=0,
            index_col=False,
            dtype=object,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            doublequote=True,
            on_bad_lines="error",
            engine="c",
            low_memory=False,
        )
    except Exception:  # any refusal of the C parser means: read it the careful way
        return None
    if raw.shape != (len(lines) - 1, width):
        return None
    raw.columns = header
    raw.index = pd.RangeIndex(2, 2 + len(raw), name="row")
    raw = raw.where(raw.notna(), "")
    nonblank = (raw != "").any(axis=1)
    frame = raw[nonblank]
    frame.index = pd.Index(frame.index, dtype="int64", name="row")
    return frame, [], int((~nonblank).sum())


def check_looks_like_text(head: bytes) -> None:
    """Raise FileProblem for spreadsheets, archives and other binary files."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _(
                "This is an Excel workbook, not a CSV file. In Excel choose "
                "File › Save As › CSV UTF-8, then upload that file."
            )
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text has NUL bytes by design
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"\x1f\x8b", b"GIF8", b"\xff\xd8")):
        raise FileProblem(_("This file is not a CSV text file. Save it as CSV and try again."))


def _too_big(limits: Limits) -> FileProblem:
    return FileProblem(
        _("The file is larger than %(limit)s MB; split it into smaller files.")
        % {"limit": limits.max_bytes // (1024 * 1024)}
    )


def _unreadable(exc: Exception, row: int) -> FileProblem:
    return FileProblem(
        _("The file cannot be read as CSV near row %(row)s (%(error)s).")
        % {"row": row, "error": exc}
    )


def _check_header(header: list[str], columns: Sequence[str], required: Sequence[str]) -> None:
    if not any(header):
        raise FileProblem(_("The first row must be a header with the column names."))
    seen = Counter(h for h in header if h)
    doubled = sorted(h for h, n in seen.items() if n > 1 and h in columns)
    if doubled:
        raise FileProblem(
            _("The header names these columns twice: %(columns)s.")
            % {"columns": ", ".join(doubled)}
        )
    missing = [c for c in required if c not in seen]
    if missing:
        raise FileProblem(
            _("The header lacks the required columns %(missing)s. Expected columns: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ",".join(columns)}
        )


csv.field_size_limit(MAX_FIELD_CHARS)


# --- Rejects and cleaning ---------------------------------------------------------------


class Rejects:
    """Problems found, one per (row, column): a row with any problem is rejected."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self._rows: set[int] = set()

    def add(
        self,
        mask: pd.Series,
        column: str,
        reason: str | pd.Series | Callable[[Any], str],
        values: pd.Series | None = None,
    ) -> None:
        """Reject the rows where mask is true. `reason` is one text, a Series by row, or a
        function of the row's value in `values` (called for the rejected rows only, so a
        million good rows cost no message formatting)."""
        hit = mask[mask.fillna(False).astype(bool)].index
        if len(hit) == 0:
            return
        if values is not None:
            texts = [reason(v) for v in values.loc[hit]]
        elif isinstance(reason, pd.Series):
            texts = list(reason.loc[hit])
        else:
            texts = [str(reason)] * len(hit)
        self._parts.append(
            pd.DataFrame({"row": np.asarray(hit), "column": column, "reason": texts})
        )
        self._rows.update(int(r) for r in hit)

    @property
    def rows(self) -> set[int]:
        return self._rows

    def mask(self, index: pd.Index) -> pd.Series:
        """True for the rows of `index` that have a reject."""
        return pd.Series(index.isin(list(self._rows)), index=index)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({"row": [], "column": [], "reason": []})
        out = pd.concat(self._parts, ignore_index=True)
        return out.sort_values(["row"], kind="stable").reset_index(drop=True)

    def __len__(self) -> int:
        return len(self._rows)


def map_distinct(series: pd.Series, func: Callable[[str], Any]) -> pd.Series:
    """Apply a per-value function once per distinct value (the slow Python rules, such as
    phone parsing, cost what the distinct values cost, not what the rows cost)."""
    uniques = pd.unique(series.to_numpy())
    table = {u: func(u) for u in uniques}
    return series.map(table)


_ISO_TIME = r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?([+-]\d\d:?\d\d|Z)?"
_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
_DATE_FORMATS = ["%Y/%m/%d", "%d.%m.%Y", "%Y.%m.%d", "%Y%m%d", "%d-%m-%Y", "%Y年%m月%d日"]
_TIME_SUFFIXES = ["", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S"]
_TRUE = {"1", "true", "yes", "y", "t", "on", "active", "是", "真", "启用"}
_FALSE = {"0", "false", "no", "n", "f", "off", "inactive", "否", "假", "停用"}


def _fixed(col: pd.Series, places: int) -> pd.Series:
    """Plain non-negative decimal text to exactly `places` decimals ("7" -> "7.00"),
    through integers so no float rounding shows."""
    units = (pd.to_numeric(col) * 10**places).round().astype("int64")
    scale = 10**places
    whole = (units // scale).astype(str)
    if not places:
        return whole.astype(object)
    return (whole + "." + (units % scale).astype(str).str.zfill(places)).astype(object)


class Cleaner:
    """Column-by-column vectorised cleaning of a text frame, recording rejects and notes.

    Every method takes a column name, returns the cleaned Series (same index) and adds a
    reject for each bad value; blank stays blank (None for typed columns) unless `required`.
    """

    def __init__(self, frame: pd.DataFrame, rejects: Rejects, notes: Counter):
        self.frame = frame
        self.rejects = rejects
        self.notes = notes

    # Text ---------------------------------------------------------------------------
    @staticmethod
    def trim_all(
        frame: pd.DataFrame, notes: Counter, *, trim: bool = True, unescape: bool = True
    ) -> pd.DataFrame:
        """Strip spaces around every value and undo spreadsheet formula escapes ('=...).
        `trim` and `unescape` False skip work the raw text showed is not needed."""
        out = frame.copy()
        if not trim and not unescape:
            return out
        trimmed = 0
        unescaped = 0
        for name in out.columns:
            col = out[name].astype(object).fillna("").astype(str)
            stripped = col.str.strip() if trim else col
            if trim:
                trimmed += int((stripped != col).sum())
            quoted = stripped.str.startswith("'") if unescape else None
            if quoted is not None and quoted.any():
                escaped = quoted & stripped.str.match(r"^'[=+\-@]")
                unescaped += int(escaped.sum())
                stripped = stripped.where(~escaped, stripped.str.slice(1))
            out[name] = stripped
        notes["trimmed"] += trimmed
        notes["formula_unescaped"] += unescaped
        return out

    def text(self, name: str, *, max_length: int, required: bool = False) -> pd.Series:
        col = self.frame[name]
        too_long = col.str.len() > max_length
        self.rejects.add(
            too_long,
            name,
            _("Longer than %(limit)s characters.") % {"limit": max_length},
        )
        if required:
            self.rejects.add(col == "", name, _("This value is required."))
        return col

    def choice(
        self, name: str, synonyms: dict[str, str], *, note: str = "choice_synonym"
    ) -> pd.Series:
        """Map through {lower-case spelling: stored value}; blank stays blank."""
        col = self.frame[name]
        # A few distinct spellings in many rows: look each one up once.
        mapped = map_distinct(col, lambda v: synonyms.get(" ".join(v.lower().split())))
        unknown = mapped.isna() & (col != "")
        allowed = ", ".join(sorted({str(v) for v in synonyms.values() if v}))
        self.rejects.add(
            unknown,
            name,
            lambda v: (
                _("“%(value)s” is not one of: %(allowed)s.") % {"value": v, "allowed": allowed}
            ),
            values=col,
        )
        changed = mapped.notna() & (mapped != col) & (col != "")
        self.notes[note] += int(changed.sum())
        return mapped.fillna("").astype(object)

    def with_rule(
        self,
        name: str,
        rule: Callable[[str], tuple[str, str]],
        *,
        note: str,
        by: pd.Series | None = None,
    ) -> pd.Series:
        """Apply a `customers.cleaning` style rule (value -> (clean, error)) per distinct
        value (or per distinct (value, by) pair)."""
        col = self.frame[name]
        if by is None:
            pairs = map_distinct(col, rule)
        else:
            keyed = col + "\x1f" + by.fillna("")
            pairs = map_distinct(keyed, lambda k: rule(*k.split("\x1f", 1)))
        clean = pairs.map(lambda p: p[0])
        errors = pairs.map(lambda p: p[1])
        self.rejects.add(errors != "", name, errors)
        self.notes[note] += int(((clean != col) & (errors == "") & (col != "")).sum())
        return clean.where(errors == "", "")

    # Numbers ----------------------------------------------------------------------------
    def decimal(
        self,
        name: str,
        *,
        max_digits: int,
        decimal_places: int,
        minimum: int | None = 0,
        required: bool = False,
    ) -> pd.Series:
        """Decimal text ("1234.50") from what people type ("$1,234.5", "1.234,50", "12,5");
        None for blank."""
        col = self.frame[name]
        # Most files hold plain numbers ("1234.5") or blanks: those need no further cleaning,
        # and are checked and formatted once per distinct value.
        pattern = re.compile(rf"\d{{1,{max_digits - decimal_places}}}(\.\d{{1,{decimal_places}}})?")
        distinct = pd.Series(pd.unique(col.to_numpy()), dtype=object)
        plain_u = distinct.map(lambda v: v == "" or pattern.fullmatch(v) is not None)
        if plain_u.all():
            filled = distinct != ""
            fixed = _fixed(distinct.where(filled, "0"), decimal_places).where(filled, None)
            out = col.map(dict(zip(distinct, fixed, strict=True))).astype(object)
            if required:
                self.rejects.add(col == "", name, _("This value is required."))
            return out.where(col != "", None)
        plain = col.map(dict(zip(distinct, plain_u, strict=True))).astype(bool) & (col != "")
        if plain.all():
            return _fixed(col, decimal_places)
        if plain.any():
            rest = Cleaner(self.frame.loc[~plain], self.rejects, self.notes).decimal(
                name,
                max_digits=max_digits,
                decimal_places=decimal_places,
                minimum=minimum,
                required=required,
            )
            fixed = _fixed(col.where(plain, "0"), decimal_places)
            return fixed.where(plain, rest.reindex(col.index))
        text = col.str.replace(
            r"[\s$€£¥￥]|^(USD|EUR|GBP|CNY|RMB)|(USD|EUR|GBP|CNY|RMB|元)$", "", regex=True
        )
        both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
        comma_last = text.str.rfind(",") > text.str.rfind(".")
        # 1.234,56 -> 1234.56 ; 1,234.56 -> 1234.56
        eu = both & comma_last
        text = text.where(
            ~eu, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        )
        text = text.where(~(both & ~comma_last), text.str.replace(",", "", regex=False))
        only_comma = ~both & text.str.contains(",", regex=False)
        decimal_comma = only_comma & text.str.match(r"^-?\d+,\d{1,2}$")
        text = text.where(~decimal_comma, text.str.replace(",", ".", regex=False))
        text = text.where(~(only_comma & ~decimal_comma), text.str.replace(",", "", regex=False))
        self.notes["numbers_cleaned"] += int(((text != col) & (col != "")).sum())
        blank = col == ""
        valid = text.str.match(_DECIMAL_RE.pattern) & ~blank
        bad = ~valid & ~blank
        self.rejects.add(
            bad, name, lambda v: _("“%(value)s” is not a number.") % {"value": v}, values=col
        )
        parts = text.where(valid, "0").str.lstrip("-").str.split(".", n=1)
        whole = parts.str[0].str.lstrip("0")
        frac = parts.str[1].astype(object)
        frac = frac.where(frac.notna(), "").astype(str)
        too_precise = valid & (frac.str.rstrip("0").str.len() > decimal_places)
        self.rejects.add(
            too_precise,
            name,
            _("More than %(places)s decimal places.") % {"places": decimal_places},
        )
        too_big = valid & (whole.str.len() > max_digits - decimal_places)
        self.rejects.add(too_big, name, _("The number is too large."))
        negative = valid & text.str.startswith("-") & (text.str.strip("-0.") != "")
        if minimum is not None and minimum >= 0:
            self.rejects.add(negative, name, _("Must not be negative."))
        if required:
            self.rejects.add(blank, name, _("This value is required."))
        frac = frac.str.rstrip("0").str.pad(decimal_places, side="right", fillchar="0")
        sign = np.where(negative, "-", "")
        out = pd.Series(sign, index=col.index) + whole.where(whole != "", "0") + "." + frac
        ok = valid & ~too_precise & ~too_big
        return out.astype(object).where(ok, None)

    def integer(
        self, name: str, *, minimum: int = 0, maximum: int = 2_147_483_647, required: bool = False
    ) -> pd.Series:
        col = self.frame[name]
        distinct = pd.unique(col.to_numpy())
        if len(distinct) * 4 < len(col):
            # Quantities repeat: clean each distinct text once on a small frame, then map the
            # numbers and the rejects back to the rows.
            return self._by_distinct(
                name,
                col,
                distinct,
                lambda cl: cl.integer(name, minimum=minimum, maximum=maximum, required=required),
            )
        text = col.str.replace(r"[\s,]", "", regex=True).str.replace(r"\.0+$", "", regex=True)
        blank = col == ""
        valid = text.str.fullmatch(r"-?\d{1,18}") & ~blank
        self.rejects.add(
            ~valid & ~blank,
            name,
            lambda v: _("“%(value)s” is not a whole number.") % {"value": v},
            values=col,
        )
        numbers = pd.to_numeric(text.where(valid, None), errors="coerce")
        out_of_range = valid & ((numbers < minimum) | (numbers > maximum))
        self.rejects.add(
            out_of_range,
            name,
            _("Must be between %(low)s and %(high)s.") % {"low": minimum, "high": maximum},
        )
        if required:
            self.rejects.add(blank, name, _("This value is required."))
        return numbers.where(valid & ~out_of_range).astype("Int64")

    def _by_distinct(self, name: str, col: pd.Series, distinct, clean) -> pd.Series:
        """Run `clean` (a Cleaner method that records no notes) on one row per distinct
        value of `col`, then give every row its value's result and its value's rejects."""
        small = pd.DataFrame({name: pd.Series(distinct, dtype=object)})
        sub_rejects = Rejects()
        result = clean(Cleaner(small, sub_rejects, Counter()))
        position = pd.Series(small.index, index=small[name].to_numpy())
        where = col.map(position).to_numpy()
        bad = sub_rejects.frame()
        for (column, reason), part in bad.groupby(["column", "reason"], sort=False):
            hit = pd.Series(np.isin(where, part["row"].to_numpy()), index=col.index)
            self.rejects.add(hit, column, reason)
        return pd.Series(result.array.take(where), index=col.index)

    def boolean(self, name: str) -> pd.Series:
        """True/False/None from yes/no, true/false, 1/0, 是/否 and the like."""
        col = self.frame[name]
        key = col.str.lower()
        out = pd.Series([None] * len(col), index=col.index, dtype=object)
        out[key.isin(_TRUE)] = True
        out[key.isin(_FALSE)] = False
        out = out.where(key.isin(_TRUE) | key.isin(_FALSE), None)
        bad = out.isna() & (col != "")
        self.rejects.add(
            bad, name, lambda v: _("“%(value)s” is not yes or no.") % {"value": v}, values=col
        )
        self.notes["choice_synonym"] += int((out.notna() & ~key.isin({"true", "false"})).sum())
        return out

    # Dates -----------------------------------------------------------------------------
    def _day_first(self, col: pd.Series) -> bool:
        """Slash dates: day first unless the file shows month first (a second part > 12)
        or, with no evidence either way, the default region is the US."""
        parts = col[col.str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}.*")].str.split("/")
        if parts.empty:
            return True
        first = pd.to_numeric(parts.str[0], errors="coerce")
        second = pd.to_numeric(parts.str[1], errors="coerce")
        if (first > 12).any():
            return True
        if (second > 12).any():
            return False
        return settings.PHONE_DEFAULT_REGION != "US"

    def _parse(self, col: pd.Series, *, with_time: bool) -> pd.Series:
        """Naive Timestamps (NaT where unreadable) trying ISO then the common formats."""
        result = pd.to_datetime(col.where(col != "", None), format="ISO8601", errors="coerce")
        slash = ["%d/%m/%Y"] if self._day_first(col) else ["%m/%d/%Y"]
        for base in [*_DATE_FORMATS, *slash]:
            todo = result.isna() & (col != "")
            if not todo.any():
                break
            for suffix in _TIME_SUFFIXES if with_time else [""]:
                todo = result.isna() & (col != "")
                if not todo.any():
                    break
                parsed = pd.to_datetime(col[todo], format=base + suffix, errors="coerce")
                result = result.where(~todo, parsed)
        return result

    def date(
        self, name: str, *, earliest: date | None = None, latest: date | None = None
    ) -> pd.Series:
        """ISO date text ("1990-05-03") or None."""
        col = self.frame[name]
        # Birth dates repeat: parse each distinct text once, then map the rows.
        distinct = pd.Series(pd.unique(col.to_numpy()), dtype=object)
        has_offset = distinct.str.contains(r"[+-]\d\d:?\d\d$|Z$", regex=True)
        parsed_u = self._parse(
            distinct.where(~has_offset, distinct.str.slice(0, 10)), with_time=False
        )
        if isinstance(parsed_u.dtype, pd.DatetimeTZDtype):
            parsed_u = parsed_u.dt.tz_localize(None)
        parsed = col.map(pd.Series(parsed_u.to_numpy(), index=distinct.to_numpy()))
        parsed = pd.to_datetime(parsed)
        bad = parsed.isna() & (col != "")
        self.rejects.add(
            bad, name, lambda v: _("“%(value)s” is not a date.") % {"value": v}, values=col
        )
        text = parsed.dt.strftime("%Y-%m-%d")
        self.notes["dates_parsed"] += int((parsed.notna() & (text != col)).sum())
        if earliest is not None:
            self.rejects.add(
                parsed.notna() & (parsed < pd.Timestamp(earliest)),
                name,
                _("Earlier than %(date)s.") % {"date": earliest.isoformat()},
            )
        if latest is not None:
            self.rejects.add(
                parsed.notna() & (parsed > pd.Timestamp(latest)),
                name,
                _("Later than %(date)s.") % {"date": latest.isoformat()},
            )
        return text.astype(object).where(parsed.notna(), None)

    def datetime(self, name: str, *, required: bool = False) -> pd.Series:
        """UTC timestamps; times without an offset are in settings.TIME_ZONE."""
        col = self.frame[name]
        distinct = pd.unique(col.to_numpy())
        if len(distinct) * 4 < len(col) * 3:
            # The lines of one order share its time: parse each distinct text once.
            small = pd.DataFrame({name: pd.Series(distinct, dtype=object)})
            sub = Cleaner(small, Rejects(), Counter())
            result = sub.datetime(name, required=required)
            where = col.map(pd.Series(small.index, index=small[name].to_numpy())).to_numpy()
            out = pd.Series(result.array.take(where), index=col.index)
            iso = pd.Series(small[name].str.fullmatch(_ISO_TIME).to_numpy()[where], index=col.index)
            return self._datetime_checks(col, out, required=required, iso=iso)
        has_offset = col.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
        result = pd.Series(pd.NaT, index=col.index, dtype="datetime64[us, UTC]")
        if has_offset.any():
            aware = pd.to_datetime(col[has_offset], format="ISO8601", errors="coerce", utc=True)
            result[has_offset] = aware
        naive_part = col[~has_offset]
        if len(naive_part):
            naive = self._parse(naive_part, with_time=True)
            if isinstance(naive.dtype, pd.DatetimeTZDtype):
                naive = naive.dt.tz_convert("UTC")
            else:
                naive = naive.dt.tz_localize(
                    settings.TIME_ZONE, ambiguous="NaT", nonexistent="NaT"
                ).dt.tz_convert("UTC")
            result[~has_offset] = naive
        return self._datetime_checks(col, result, required=required)

    def _datetime_checks(
        self, col: pd.Series, result: pd.Series, *, required: bool, iso: pd.Series | None = None
    ) -> pd.Series:
        """Rejects and notes of `datetime` for parsed `result`, row by row."""
        name = col.name
        bad = result.isna() & (col != "")
        self.rejects.add(
            bad,
            name,
            lambda v: _("“%(value)s” is not a date and time.") % {"value": v},
            values=col,
        )
        if required:
            self.rejects.add(col == "", name, _("This value is required."))
        if iso is None:
            iso = col.str.fullmatch(_ISO_TIME)
        self.notes["dates_parsed"] += int((result.notna() & ~iso).sum())
        future = result.notna() & (result > pd.Timestamp(timezone.now()) + pd.Timedelta(days=1))
        self.rejects.add(future, name, _("Lies in the future."))
        return result


# --- Planning ---------------------------------------------------------------------------


@dataclass
class Plan:
    """What an import would do; `write` applies it.

    `creates` and `updates` hold database column values (text, numbers, None); `updates`
    carries the target "id". `previous` holds the stored values of the updated rows, keyed
    by id, for the undo record. `extra` is importer-specific (tags, order lines).
    """

    kind: str
    total_rows: int
    creates: pd.DataFrame
    updates: pd.DataFrame
    unchanged: int
    rejects: pd.DataFrame  # row, column, reason
    original: pd.DataFrame  # every row of the file as given, indexed by row number
    notes: Counter
    encoding: str = ""
    delimiter: str = ","
    ignored_columns: list[str] = field(default_factory=list)
    create_rows: list[int] = field(default_factory=list)
    update_rows: list[int] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)  # sample of updates: row, label, fields
    extra: dict = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return int(self.rejects["row"].nunique()) if len(self.rejects) else 0

    def summary(self) -> dict:
        return {
            "rows": self.total_rows,
            "create": len(self.creates),
            "update": len(self.updates),
            "unchanged": self.unchanged,
            "reject": self.rejected,
            "collapsed": int(self.notes.get("collapsed", 0)),
        }

    def rejected_rows_csv(self) -> str:
        """The rejected rows with their original values, a row number and a reason column."""
        if not len(self.rejects):
            return ""
        reasons = (
            self.rejects.assign(
                text=lambda f: np.where(
                    f["column"] != "", f["column"] + ": " + f["reason"], f["reason"]
                )
            )
            .groupby("row", sort=True)["text"]
            .agg("; ".join)
        )
        rows = self.original.loc[self.original.index.isin(reasons.index)].copy()
        rows = rows.apply(lambda s: s.map(escape_formula))
        rows.insert(0, "row", rows.index)
        rows["reason"] = reasons.reindex(rows.index).to_numpy()
        return rows.to_csv(index=False, lineterminator="\r\n")


class Importer(ABC):
    """Base of the per-kind importers: columns, required header, `plan` and `write`.

    Subclasses set `kind`, `label`, `columns`, `required` and implement `plan(parsed, *,
    user)` and `write(plan, *, user, batch_id) -> dict` (the rows written and the undo
    records) and `undo(records)`.
    """

    kind: str = ""
    label: Any = ""
    columns: Sequence[str] = ()
    required: Sequence[str] = ()
    # Shown on the upload page: what each column holds.
    help_rows: Sequence[tuple[str, Any]] = ()
    # Columns that identify a person, by the Person value they hold ("external_id",
    # "email", "phone"): an erasure removes that person's rows from stored files by them.
    person_columns: dict[str, str] = {}

    def read(self, source: bytes | str | Path, limits: Limits | None = None) -> ParsedFile:
        return read_csv(source, columns=self.columns, required=self.required, limits=limits)

    @abstractmethod
    def plan(self, parsed: ParsedFile, *, user) -> Plan:
        """What committing would do: rows to create and update, rejects, cleaning notes."""

    @abstractmethod
    def write(self, plan: Plan, *, user, batch_id: int) -> list[tuple[str, int, Any]]:
        """Write a plan; returns the undo records (model label, id, previous values)."""

    @abstractmethod
    def undo(self, records: pd.DataFrame) -> None:
        """Restore what a batch's undo records describe."""

    def start_plan(self, parsed: ParsedFile) -> tuple[pd.DataFrame, Rejects, Counter, Cleaner]:
        notes: Counter = Counter()
        notes["blank_lines"] += parsed.blank_lines
        frame = Cleaner.trim_all(
            parsed.frame, notes, trim=parsed.needs_trim, unescape=parsed.has_apostrophe
        )
        return frame, parsed.rejects, notes, Cleaner(frame, parsed.rejects, notes)


_importers: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    _importers[importer.kind] = importer


def get_importer(kind: str) -> Importer:
    try:
        return _importers[kind]
    except KeyError:
        raise LookupError(f"no importer for {kind!r}; known: {sorted(_importers)}") from None


def importer_kinds() -> list[str]:
    return sorted(_importers)


# --- Collapsing and matching helpers --------------------------------------------------------


def collapse_last(frame: pd.DataFrame, key: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """One row per key: later non-blank values win, blanks keep earlier values. Returns the
    collapsed frame (indexed by the first row number of each key) and, for every input row,
    the row it was collapsed into."""
    if key.is_unique:  # the common case (one row per customer or order line): nothing to merge
        out = frame.astype(object).where(frame.notna(), "").sort_index()
        out.index = out.index.astype("int64")
        out.index.name = frame.index.name
        return out, pd.Series(frame.index, index=frame.index)
    first_row = pd.Series(frame.index, index=frame.index).groupby(key.to_numpy()).transform("min")
    blanked = frame.replace("", None) if len(frame) else frame
    grouped = blanked.groupby(first_row.to_numpy(), sort=True).last()
    grouped = grouped.reindex(columns=frame.columns)
    grouped = grouped.astype(object).where(grouped.notna(), "")
    grouped.index = grouped.index.astype("int64")
    grouped.index.name = frame.index.name
    return grouped, first_row


def fetch_values(
    model: type[Model], lookup: str, keys: Iterable, fields: Sequence[str]
) -> pd.DataFrame:
    """Rows of `model` whose `lookup` column is in keys, as a DataFrame of `fields` (plain
    column names). One `= ANY(array)` query on PostgreSQL; IN (...) chunks on SQLite.
    Values are converted as the ORM would (dates, decimals, booleans)."""
    distinct = pd.unique(
        pd.Series(list(keys) if not hasattr(keys, "to_numpy") else keys, dtype=object)
    )
    keys = [k for k in distinct.tolist() if not is_blank(k)]
    q = connection.ops.quote_name
    opts = model._meta
    model_fields = [opts.get_field(f) for f in fields]
    cols = ", ".join(q(f.column) for f in model_fields)
    where = q(opts.get_field(lookup).column)
    base = f"SELECT {cols} FROM {q(opts.db_table)} WHERE {where}"  # nosec B608 - table and column names come from model metadata, quoted by the backend; values are parameters
    rows: list = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if keys:
                cursor.execute(f"{base} = ANY(%s)", [list(keys)])
                rows = cursor.fetchall()
        else:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                part = keys[start : start + LOOKUP_CHUNK]
                cursor.execute(f"{base} IN ({', '.join(['%s'] * len(part))})", part)
                rows.extend(cursor.fetchall())
    frame = pd.DataFrame(rows, columns=list(fields), dtype=object)
    if len(frame):
        for name, f in zip(fields, model_fields, strict=True):
            expression = f.get_col(opts.db_table)
            converters = connection.ops.get_db_converters(expression) + f.get_db_converters(
                connection
            )
            for converter in converters:
                frame[name] = [
                    converter(v, expression, connection) if v is not None else None
                    for v in frame[name]
                ]
    return frame


def is_blank(value: Any) -> bool:
    """None, NaN, NA and "" alike (pandas hands back any of them for a missing value).
    Called per cell on large columns, so no pd.isna (slow on scalars)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, float):
        return value != value  # NaN
    return False


def as_text(value: Any) -> str | None:
    """Stored values as the text the importer compares and the undo record keeps."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (date,)) and not hasattr(value, "hour"):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    return str(value)


# --- Writing ------------------------------------------------------------------------------


def reserve_ids(model: type[Model], count: int) -> np.ndarray:
    """Primary keys for `count` new rows, known before the insert so rows can refer to each
    other (a contact to its new organisation) and undo knows what it created.

    PostgreSQL hands them out from the table's sequence (safe beside other writers);
    SQLite runs the import in an IMMEDIATE transaction, so max(id) cannot move under us.
    """
    if count == 0:
        return np.array([], dtype="int64")
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is looked up once: pg_get_serial_sequence inside the series would
            # run its catalog lookup for every id (about 4 s a million). One text value
            # instead of `count` result rows: 100k ids arrive in one fetch.
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)::regclass::oid", [table, pk])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT string_agg(nextval(%s::oid::regclass)::text, ',') "
                "FROM generate_series(1, %s)",
                [sequence, count],
            )
            return np.array(cursor.fetchone()[0].split(","), dtype="int64")
        q = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({q(pk)}), 0) FROM {q(table)}")  # nosec B608 - table and column names come from model metadata, quoted by the backend; values are parameters
        top = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row and row[0] and row[0] > top:
                top = row[0]
        return np.arange(top + 1, top + 1 + count, dtype="int64")


def db_timestamp(value) -> str:
    """An aware datetime as the text crm.bulk writes for it (UTC), for constant columns."""
    utc = pd.Timestamp(value).tz_convert("UTC")
    if connection.vendor == "postgresql":
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f")


def with_defaults(model: type[Model], frame: pd.DataFrame) -> pd.DataFrame:
    """Add every concrete column of the model that the frame lacks, with the field's
    default (called once), so a raw insert fills what Django would."""
    out = frame.copy()
    now = timezone.now()
    for f in model._meta.concrete_fields:
        if f.column in out.columns:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.primary_key:
            continue
        else:
            raise ValueError(f"{model.__name__}.{f.name} has no default; the importer must set it")
        if isinstance(value, (dict, list)):
            import json

            value = json.dumps(value)
        if hasattr(value, "tzinfo") and hasattr(value, "hour"):
            out[f.column] = db_timestamp(value)  # one text for every row, no per-row strftime
        else:
            out[f.column] = pd.Series([value] * len(out), index=out.index, dtype=object)
    return out


def insert_frame(model: type[Model], frame: pd.DataFrame) -> int:
    """Insert rows (with explicit ids) by COPY on PostgreSQL, executemany on SQLite."""
    return bulk_insert(model, with_defaults(model, frame))


def update_from_frame(model: type[Model], frame: pd.DataFrame, key: str = "id") -> int:
    """One set-based UPDATE of the columns in `frame` from a staging table keyed by `key`.

    The staging table is a temporary copy of the target's column types (CREATE TEMP TABLE
    ... AS SELECT ... WHERE 1 = 0), loaded by COPY on PostgreSQL and executemany on SQLite,
    then joined once: UPDATE target SET ... FROM staging WHERE target.key = staging.key.
    """
    if frame.empty:
        return 0
    q = connection.ops.quote_name
    table = model._meta.db_table
    stage = f"import_stage_{uuid.uuid4().hex[:12]}"
    cols = [c for c in frame.columns if c != key]
    select = ", ".join(q(c) for c in [key, *cols])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {q(stage)} AS SELECT {select} FROM {q(table)} WHERE 1 = 0"  # nosec B608 - table and column names come from model metadata, quoted by the backend; values are parameters
        )
        try:
            bulk_insert(model, frame[[key, *cols]], table=stage)
            assignments = ", ".join(f"{q(c)} = {q(stage)}.{q(c)}" for c in cols)
            cursor.execute(
                f"UPDATE {q(table)} SET {assignments} FROM {q(stage)} "  # nosec B608 - table and column names come from model metadata, quoted by the backend; values are parameters
                f"WHERE {q(table)}.{q(key)} = {q(stage)}.{q(key)}"
            )
            count = cursor.rowcount
        finally:
            cursor.execute(f"DROP TABLE {q(stage)}")
    return count


def delete_ids(model: type[Model], ids: Sequence[int], column: str = "id") -> int:
    """DELETE ... WHERE column IN (...) in chunks, without Django's per-object collector
    (callers check references first)."""
    q = connection.ops.quote_name
    table = model._meta.db_table
    ids = [int(i) for i in ids]
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), LOOKUP_CHUNK):
            part = ids[start : start + LOOKUP_CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"DELETE FROM {q(table)} WHERE {q(column)} IN ({marks})", part)  # nosec B608 - table and column names come from model metadata, quoted by the backend; values are parameters
            count += cursor.rowcount
    return count


def count_references(model: type[Model], ids: Sequence[int], *, ignore: Iterable = ()) -> dict:
    """{verbose name plural: count} of rows in other tables that point at these ids
    (reverse foreign keys and one-to-ones; many-to-many links are the caller's business).
    Rows of the same model that are themselves among `ids` do not count."""
    out: dict[str, int] = {}
    idset = [int(i) for i in ids]
    ignore = set(ignore)
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model in ignore:
            continue
        related = rel.related_model
        total = 0
        for start in range(0, len(idset), LOOKUP_CHUNK):
            part = idset[start : start + LOOKUP_CHUNK]
            qs = related._base_manager.filter(**{f"{rel.field.name}__in": part})
            if related is model:
                qs = qs.exclude(pk__in=part)
            total += qs.count()
        if total:
            out[str(related._meta.verbose_name_plural)] = total
    return out


# --- Formula escaping (exports and rejects files) ----------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe.

    Plain negative numbers ("-12.50") stay as they are: they are data, not formulas.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if value[0] == "-" and re.fullmatch(r"-\d+(\.\d+)?", value):
            return value
        return "'" + value
    return value
