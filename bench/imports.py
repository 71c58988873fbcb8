"""Imports: CSV files through the real import path, against a raw COPY of the same file
into a bare table, both in the same scratch database in the same run. Each row also shows
the write floor of the app's own tables (`table_floor`): the imported rows inserted again
into them, so a reader sees how much of the gap to COPY the schema itself accounts for.

The files are exported once from the seeded database (COPY TO) in the contract's columns
and cached under bench/data/. The scratch database is a copy of the seeded one (CREATE
DATABASE ... TEMPLATE): orders are imported with its customers and products in place,
customers into an emptied customers table; it is dropped afterwards."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

from . import database, proc
from .config import DATA_DIR, ROOT, Config
from .results import Check, Row

SECTION = "Imports (rows per second)"
MIN_SHARE = 30.0  # % of the raw COPY's rows per second (issue 4)

# The contract's CSV columns (DESIGN.md) with the types a bare table gives them.
COLUMNS = {
    "customers": [
        ("external_id", "text"),
        ("name", "text"),
        ("kind", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("street", "text"),
        ("city", "text"),
        ("region", "text"),
        ("postal_code", "text"),
        ("country", "text"),
        ("birth_date", "date"),
        ("gender", "text"),
        ("annual_income", "numeric(14,2)"),
        ("education", "text"),
        ("organisation_external_id", "text"),
        ("owner_username", "text"),
        ("lifecycle_stage", "text"),
        ("tags", "text"),
    ],
    "orders": [
        ("order_external_id", "text"),
        ("customer_external_id", "text"),
        ("ordered_at", "timestamptz"),
        ("product_sku", "text"),
        ("quantity", "integer"),
        ("unit_price", "numeric(12,2)"),
    ],
}

# Organisations first, so a file importer that resolves organisation_external_id row by
# row finds them; tags joined with "|" (never a comma, which would need quoting anyway).
EXPORT_SQL = {
    "customers": """
        SELECT c.external_id, c.name, c.kind, c.email, c.phone, c.street, c.city, c.region,
               c.postal_code, c.country, c.birth_date, c.gender, c.annual_income, c.education,
               o.external_id AS organisation_external_id, u.username AS owner_username,
               c.lifecycle_stage,
               COALESCE((SELECT string_agg(t.name, '|' ORDER BY t.name)
                         FROM customers_customer_tags ct JOIN customers_tag t ON t.id = ct.tag_id
                         WHERE ct.customer_id = c.id), '') AS tags
        FROM customers_customer c
        LEFT JOIN customers_customer o ON o.id = c.organisation_id
        LEFT JOIN auth_user u ON u.id = c.owner_id
        ORDER BY c.organisation_id IS NOT NULL, c.id
        LIMIT {limit}
    """,
    "orders": """
        SELECT o.external_id AS order_external_id, c.external_id AS customer_external_id,
               o.ordered_at, p.sku AS product_sku, l.quantity, l.unit_price
        FROM sales_orderline l
        JOIN sales_order o ON o.id = l.order_id
        JOIN customers_customer c ON c.id = o.customer_id
        JOIN sales_product p ON p.id = l.product_id
        ORDER BY l.order_id, l.id
        LIMIT {limit}
    """,
}

# Rows per file at each scale: 100k customers and 1M order lines at M (issue 11).
ROWS = {
    "XS": {"customers": 300, "orders": 3_000},
    "S": {"customers": 10_000, "orders": 100_000},
    "M": {"customers": 100_000, "orders": 1_000_000},
    "L": {"customers": 1_000_000, "orders": 10_000_000},
}


def create_bare_table(cursor, table: str, kind: str) -> None:
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(type_))
        for name, type_ in COLUMNS[kind]
    )
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), cols))


def copy_baseline(conn, *, kind: str, path: Path, table: str = "") -> tuple[int, float]:
    """The physical limit: COPY the file into a bare table of its columns (typed, no index,
    no constraint) and commit. Returns (rows, seconds of COPY and commit); the table is
    dropped afterwards. `conn` is a psycopg2 connection not in autocommit."""
    table = table or f"bench_copy_{kind}"
    with conn.cursor() as cur:
        create_bare_table(cur, table, kind)
    conn.commit()
    try:
        started = time.perf_counter()
        with conn.cursor() as cur, open(path, encoding="utf-8") as f:
            cur.copy_expert(
                sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)")
                .format(sql.Identifier(table))
                .as_string(conn),
                f,
            )
            rows = cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.commit()
    return rows, seconds


# The tables an import of each kind fills, parents first.
FLOOR_TABLES = {
    "orders": ["sales_order", "sales_orderline"],
    "customers": ["customers_customer"],
}


def table_floor(conn, tables: list[str]) -> tuple[int, float]:
    """The write floor of the app's schema: the rows an import stored, inserted again into
    their own tables (every index, check and deferred foreign key) from a copy, in one
    transaction with its commit, where the foreign-key checks run. No parsing, validation,
    history or summaries: no importer of that file into these tables can be faster.

    Run after the import, in the scratch database (it empties `tables` with TRUNCATE ...
    CASCADE and refills them). Returns (rows of the first table, seconds of the inserts and
    commit). `conn` is a psycopg2 connection not in autocommit."""

    def copy_of(table: str) -> sql.Identifier:
        return sql.Identifier(f"bench_floor_{table}")

    try:
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(copy_of(table)))
                cur.execute(
                    sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
                        copy_of(table), sql.Identifier(table)
                    )
                )
            cur.execute(
                sql.SQL("TRUNCATE {} CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                )
            )
        conn.commit()
        started = time.perf_counter()
        rows = 0
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(
                    sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                        sql.Identifier(table), copy_of(table)
                    )
                )
                rows = rows or cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(copy_of(table)))
        conn.commit()
    return rows, seconds


def export_files(cfg: Config, marker: dict, log=print) -> dict[str, Path]:
    """The CSV files for this scale, exported from the seeded data once and cached."""
    folder = DATA_DIR / f"{cfg.scale}-seed{cfg.seed}-{marker.get('fingerprint', 'x')}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, query in EXPORT_SQL.items():
        path = folder / f"{kind}.csv"
        done = folder / f"{kind}.csv.done"
        if not done.exists():
            t0 = time.monotonic()
            tmp = path.with_suffix(".tmp")
            with database.cursor(cfg.db_name) as cur, open(tmp, "w", encoding="utf-8") as out:
                cur.execute("SET TimeZone = 'UTC'")
                copy = f"COPY ({query.format(limit=int(ROWS[cfg.scale][kind]))}) TO STDOUT WITH (FORMAT csv, HEADER true)"
                cur.copy_expert(copy, out)
            tmp.rename(path)
            done.write_text(str(_count_rows(path)))
            log(f"  exported {path.relative_to(ROOT)} in {time.monotonic() - t0:.1f}s")
        files[kind] = path
    return files


def _count_rows(path: Path) -> int:
    # Quoted fields may hold newlines, so count records with the csv module.
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def file_rows(path: Path) -> int:
    done = path.with_name(path.name + ".done")
    return int(done.read_text()) if done.exists() else _count_rows(path)


def _prepare_scratch(cfg: Config) -> str:
    name = cfg.import_db_name
    database.drop(name)
    with database.cursor("postgres") as cur:
        # A copy needs the source to be idle; any session there is a leftover of ours.
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [cfg.db_name],
        )
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(cfg.db_name)
        )
        try:
            # A file copy (PostgreSQL 15+) is much faster than WAL-logging a large template.
            cur.execute(create + sql.SQL(" STRATEGY FILE_COPY"))
        except psycopg2.errors.SyntaxError:
            cur.execute(create)
    return name


def _truncate(dbname: str, table: str) -> None:
    with database.cursor(dbname) as cur:
        cur.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.Identifier(table)))


def _real_import(cfg: Config, *, kind: str, path: Path, dbname: str) -> dict:
    done = proc.run(
        [cfg.python, "-m", "bench.import_worker", kind, str(path)],
        # Anything the import hands to Celery runs inline, so it is timed too.
        env=cfg.app_env(db=dbname, CELERY_TASK_ALWAYS_EAGER="1"),
        cwd=ROOT,
        timeout=cfg.import_timeout,
    )
    if done.timed_out:
        return {"available": True, "error": f"timed out after {cfg.import_timeout:.0f}s"}
    try:
        out = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"available": True, "error": f"worker exit {done.returncode}: {done.stderr[-500:]}"}
    out["peak_rss_mb"] = done.peak_rss_mb
    return out


def measure(cfg: Config, *, marker: dict, log=print) -> list[Row]:
    files = export_files(cfg, marker, log=log)
    scratch = _prepare_scratch(cfg)
    rows = []
    try:
        # Orders first, into the copy's customers and products; then customers into an
        # emptied customers table (which also removes the orders just imported).
        for kind, table in [("orders", "sales_order"), ("customers", "customers_customer")]:
            path = files[kind]
            n = file_rows(path)
            conn = database.connect(scratch)
            try:
                best = min(
                    (copy_baseline(conn, kind=kind, path=path) for _ in range(2)),
                    key=lambda r: r[1],
                )
            finally:
                conn.close()
            base_rps = best[0] / best[1]
            log(f"  raw COPY {kind}: {best[0]:,} rows in {best[1]:.2f}s ({base_rps:,.0f} rows/s)")
            _truncate(scratch, table)
            real = _real_import(cfg, kind=kind, path=path, dbname=scratch)
            label = f"{n:,} {'order lines' if kind == 'orders' else 'customers'}"
            if not real.get("available", True) or "reason" in real:
                log(f"  import {kind}: not available ({real.get('reason')})")
                rows.append(Row(SECTION, label, unavailable=real.get("reason", "")))
                rows.append(
                    Row(
                        SECTION,
                        f"{label}: raw COPY baseline",
                        figures={
                            "rows": best[0],
                            "seconds": round(best[1], 2),
                            "rows/s": round(base_rps),
                        },
                        checks=[Check("rows", "==", n, best[0])],
                        notes="bare typed table, no index; best of 2",
                    )
                )
                continue
            if "error" in real:
                log(f"  import {kind}: FAILED {real['error']}")
                rows.append(
                    Row(
                        SECTION,
                        label,
                        figures={"baseline rows/s": round(base_rps)},
                        checks=[Check("import ran", "==", 1, None)],
                        notes=real["error"][:300],
                    )
                )
                continue
            rps = n / real["seconds"]
            share = 100 * rps / base_rps
            log(
                f"  import {kind}: {real['seconds']:.1f}s ({rps:,.0f} rows/s, {share:.0f}% of COPY)"
            )
            conn = database.connect(scratch)
            try:
                floor_s = table_floor(conn, FLOOR_TABLES[kind])[1]
            finally:
                conn.close()
            log(
                f"  floor {kind}: the stored rows inserted again into their tables in "
                f"{floor_s:.1f}s ({100 * best[1] / floor_s:.1f}% of COPY)"
            )
            rows.append(
                Row(
                    SECTION,
                    label,
                    figures={
                        "seconds": round(real["seconds"], 2),
                        "rows/s": round(rps),
                        "baseline s": round(best[1], 2),
                        "baseline rows/s": round(base_rps),
                        "% of baseline": round(share, 1),
                        "peak MB": round(real["peak_rss_mb"]),
                        "table floor s": round(floor_s, 2),
                        "floor % of COPY": round(100 * best[1] / floor_s, 1),
                        "% of floor": round(100 * floor_s / real["seconds"], 1),
                    },
                    checks=[
                        Check("rows/s % of COPY", ">=", MIN_SHARE, share, "%"),
                        Check("rows stored", "==", n, real.get("rows_stored")),
                    ],
                    notes=(
                        f"via {real.get('via')}; baseline: COPY into a bare typed table, best "
                        f"of 2; table floor: the stored rows of {', '.join(FLOOR_TABLES[kind])} "
                        "inserted again into those tables (indexes, constraints, commit), "
                        "no parsing"
                    ),
                )
            )
    finally:
        database.drop(scratch)
    return rows
