"""Very similar names in the same city: the precomputed pair list behind the duplicates page.

Comparing every name with every other while a manager waits is quadratic; instead a job
(`refresh_similar_names`, run by Celery beat at night and shortly after imports) writes the
pairs into `SimilarNamePair`, and the page reads the best of them in one query.

On PostgreSQL the job works on the distinct (city, name) texts (lower-cased, trimmed; a
city of many "John Smith" rows is one probe), puts a pg_trgm GIN index on them and joins
them with the `%` operator, which that index answers, keeping only pairs in the same city:
the city blocks the comparison, the trigram index avoids the quadratic scan. Pairs whose
names are equal after trimming and case are left out: the page lists those already as
"same name and city". SQLite has no pg_trgm; there the job pairs names that are equal once
punctuation and spaces are removed ("Anne-Marie Dupont" and "Anne Marie Dupont").
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Customer, SimilarNamePair, SimilarNameRun

# pg_trgm similarity from which two names in one city count as "very similar". 0.6 keeps
# one-letter typos and reordered spacing ("Jon Smith" / "John Smith": 0.67) and drops
# different people with a shared surname ("Anna Lee" / "Mark Lee": 0.27).
THRESHOLD = 0.6
# The page shows the best pairs; more than this many is a data problem no list solves.
MAX_PAIRS = 5_000
# A scheduled check runs the job when customers changed since the last run, and at most
# this often (an import of 100k rows should not start a run per batch).
MIN_INTERVAL = timedelta(minutes=10)


def refresh_similar_names(*, threshold: float = THRESHOLD, limit: int = MAX_PAIRS) -> int:
    """Replace the pair list with the pairs found now; returns how many were stored."""
    started = time.monotonic()
    now = timezone.now()
    changed_at = Customer.objects.aggregate(m=Max("updated_at"))["m"]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            count = _refresh_postgresql(threshold=threshold, limit=limit, now=now)
        else:
            count = _refresh_fallback(limit=limit, now=now)
        SimilarNameRun.objects.all().delete()
        SimilarNameRun.objects.create(
            finished_at=timezone.now(),
            customers_changed_at=changed_at,
            pairs=count,
            seconds=round(time.monotonic() - started, 3),
        )
    return count


def refresh_due() -> bool:
    """Whether the scheduled check should run the job: never run, or customers changed
    since the last run and that run is older than MIN_INTERVAL."""
    last = SimilarNameRun.objects.first()
    if last is None:
        return True
    if timezone.now() - last.finished_at < MIN_INTERVAL:
        return False
    changed_at = Customer.objects.aggregate(m=Max("updated_at"))["m"]
    return changed_at is not None and (
        last.customers_changed_at is None or changed_at > last.customers_changed_at
    )


def last_run() -> SimilarNameRun | None:
    return SimilarNameRun.objects.first()


def _refresh_postgresql(*, threshold: float, limit: int, now) -> int:
    table = Customer._meta.db_table
    pairs = SimilarNamePair._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [float(threshold)])
        # The distinct-name table and its index are built in memory, not spilled to disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '128MB'")
        cursor.execute("DROP TABLE IF EXISTS similar_names_stage")
        cursor.execute(
            "CREATE TEMP TABLE similar_names_stage ON COMMIT DROP AS "
            "SELECT lower(btrim(city)) AS city, lower(btrim(name)) AS name, min(id) AS id "
            f"FROM {table} "  # nosec B608 - the table name comes from model metadata
            "WHERE btrim(city) <> '' AND btrim(name) <> '' GROUP BY 1, 2"
        )
        cursor.execute("CREATE INDEX ON similar_names_stage USING gin (name gin_trgm_ops)")
        cursor.execute("ANALYZE similar_names_stage")
        cursor.execute(f"DELETE FROM {pairs}")  # nosec B608 - model metadata
        cursor.execute(
            f"INSERT INTO {pairs} (first_id, second_id, similarity, computed_at) "  # nosec B608 - model metadata
            "SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id), similarity(a.name, b.name), %s "
            "FROM similar_names_stage a JOIN similar_names_stage b "
            "ON b.name %% a.name AND b.city = a.city AND a.name < b.name "
            "ORDER BY 3 DESC, 1, 2 LIMIT %s",
            [now, int(limit)],
        )
        return cursor.rowcount


_LOOSE = re.compile(r"[\W_]+", re.UNICODE)


def _refresh_fallback(*, limit: int, now) -> int:
    """Without pg_trgm: names equal once case, spaces and punctuation are ignored."""
    groups: dict[tuple[str, str], dict[str, int]] = {}
    rows = Customer.objects.exclude(city="").exclude(name="").values_list("id", "name", "city")
    for pk, name, city in rows.iterator(chunk_size=5000):
        exact = name.strip().lower()
        loose = _LOOSE.sub("", exact)
        if not loose:
            continue
        spellings = groups.setdefault((city.strip().lower(), loose), {})
        spellings[exact] = min(pk, spellings.get(exact, pk))
    found = []
    for spellings in groups.values():
        ids = sorted(spellings.values())
        found += [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    SimilarNamePair.objects.all().delete()
    SimilarNamePair.objects.bulk_create(
        [
            SimilarNamePair(first_id=a, second_id=b, similarity=1.0, computed_at=now)
            for a, b in sorted(found)[:limit]
        ],
        batch_size=1000,
    )
    return min(len(found), limit)
