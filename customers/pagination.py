"""A paginator that stays fast on the last page of a large table.

Two costs grow with the table: `COUNT(*)` on every request, and `OFFSET n` that makes the
database walk n rows before the page. So:

- when the list is unfiltered and the table is large (PostgreSQL's planner estimate
  `pg_class.reltuples` above ESTIMATE_THRESHOLD), the count is that estimate, shown as
  "about N"; a filtered list (a search, a stage) is counted exactly, through its indexes;
- a page in the second half is read in reversed order from the end (`ORDER BY ... DESC
  LIMIT k OFFSET small`) and turned round, so the last page costs what the first one does.
  This needs a total order, which the list selector guarantees (every ordering ends in id);
- the offset is walked over ids only (an index-only scan on the (column, id) indexes), then
  one more query loads the page's rows with their joins ("deferred join").
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import connection
from django.utils.functional import cached_property

ESTIMATE_THRESHOLD = 50_000


def estimated_row_count(model) -> int:
    """PostgreSQL's estimate of a table's rows (-1 or 0 when never analysed); 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


class FastPaginator(Paginator):
    estimate_threshold = ESTIMATE_THRESHOLD

    @cached_property
    def _estimate(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query") or qs.query.where:
            return 0
        return estimated_row_count(qs.model)

    @cached_property
    def estimated(self) -> bool:
        return self._estimate > self.estimate_threshold

    @cached_property
    def count(self) -> int:
        if self.estimated:
            return self._estimate
        return super().count

    def _first_page(self) -> Page | None:
        """Page 1 from one query of page-size-plus-one ids. When they are all there is (a
        search that finds a few rows) the count is their number, and the COUNT query,
        which costs as much as the search itself on a trigram index, is not run."""
        qs = self.object_list
        if not hasattr(qs, "values_list"):
            return None
        limit = self.per_page + self.orphans
        ids = list(qs.prefetch_related(None).values_list("pk", flat=True)[: limit + 1])
        if len(ids) <= limit:
            self.__dict__["count"] = len(ids)  # fills the cached_property
        else:
            ids = ids[: self.per_page]
        number = self.validate_number(1)
        return self._get_page(self._rows(qs, ids), number, self)

    def page(self, number) -> Page:
        if str(number).strip() == "1" and (first := self._first_page()) is not None:
            return first
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        qs = self.object_list
        if not hasattr(qs, "values_list"):
            return self._get_page(qs[bottom:top], number, self)
        if bottom > self.count // 2 and qs.ordered:
            ids = list(
                qs.reverse()
                .prefetch_related(None)
                .values_list("pk", flat=True)[self.count - top : self.count - bottom]
            )
            ids.reverse()
        else:
            ids = list(qs.prefetch_related(None).values_list("pk", flat=True)[bottom:top])
        return self._get_page(self._rows(qs, ids), number, self)

    @staticmethod
    def _rows(qs, ids: list) -> list:
        """The full rows (with their joins and prefetches) of one page of ids, in order.

        Walking the offset over ids alone is an index-only scan; joining the owner and the
        organisation for the 50,000 skipped rows is what made middle pages slow (measured
        on 100k customers: 31 ms against 370 ms for page 2,000 sorted by date).
        """
        if not ids:
            return []
        by_pk = {obj.pk: obj for obj in qs.filter(pk__in=ids).order_by()}
        return [by_pk[pk] for pk in ids if pk in by_pk]
