"""Streamed CSV exports: constant memory whatever the row count.

Rows come from a queryset iterator (a server-side cursor on PostgreSQL) in chunks, are
written to text a chunk at a time and handed to a StreamingHttpResponse, so a million-row
export holds one chunk in memory. Every cell that a spreadsheet would run as a formula is
escaped (crm.importing.escape_formula), and the importer strips that escape again, so an
exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from .importing import escape_formula

CHUNK_ROWS = 2_000  # rows per database fetch and per piece of the response


def chunked(iterable: Iterable, size: int = CHUNK_ROWS) -> Iterator[list]:
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def cell(value: Any) -> str:
    """One value as CSV text: ISO dates and times (in the site's time zone), plain
    Decimals, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return escape_formula(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text in pieces: a BOM (so Excel reads UTF-8), the header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    for batch in chunked(rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([cell(v) for v in row] for row in batch)
        yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


class CsvExportView:
    """GET: stream `rows(user=..., params=request.GET)` as CSV with `header` (a list, or a
    function of the user when the columns depend on the role).

    Configured in urls with as_view(filename=..., header=..., rows=..., model=...). Export
    is allowed to every role that may see rows of `model` (roles.may_see_rows_of),
    403 otherwise; the rows function applies roles.visible() and the role's field rules, so
    a file never holds a row or a field its reader could not see on the page.
    """

    @classmethod
    def as_view(cls, **initkwargs):
        from django.core.exceptions import PermissionDenied
        from django.views.generic import View

        from . import roles

        class _View(View):
            filename = "export"
            header: Sequence[str] | Callable = ()
            rows = None
            model = None
            http_method_names = ["get", "head"]

            def dispatch(self, request, *args, **kwargs):
                if self.model is None or not roles.may_see_rows_of(request.user, self.model):
                    raise PermissionDenied
                return super().dispatch(request, *args, **kwargs)

            def get(self, request, *args, **kwargs):
                header = self.header(request.user) if callable(self.header) else self.header
                return csv_response(
                    self.filename, header, self.rows(user=request.user, params=request.GET)
                )

        return _View.as_view(**initkwargs)
