"""The benchmark's PostgreSQL database per scale: built once with `seed_demo`, then reused
while its row counts still match what was seeded (keyed by scale, seed and the demo code)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from . import proc
from .config import PG_URL_BASE, ROOT, Config

# The tables seed_demo fills; their row counts identify a seeded database.
COUNTED_TABLES = [
    "customers_customer",
    "customers_interaction",
    "sales_product",
    "sales_order",
    "sales_orderline",
    "service_ticket",
]


def connect(dbname: str):
    parts = urlsplit(PG_URL_BASE)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname=dbname,
    )
    return conn


@contextlib.contextmanager
def cursor(dbname: str, *, autocommit: bool = True):
    conn = connect(dbname)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            yield cur
        if not autocommit:
            conn.commit()
    finally:
        conn.close()


def exists(name: str) -> bool:
    with cursor("postgres") as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def create(name: str) -> None:
    with cursor("postgres") as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(name: str) -> None:
    with cursor("postgres") as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed_fingerprint() -> str:
    """A hash of the code that generates the demo data: a change there means a reseed."""
    files = sorted(ROOT.glob("analytics/demo/*.py")) + sorted(ROOT.glob("*/demo.py"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def row_counts(name: str) -> dict[str, int]:
    counts = {}
    with cursor(name) as cur:
        for table in COUNTED_TABLES:
            try:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[table] = cur.fetchone()[0]
            except psycopg2.errors.UndefinedTable:
                counts[table] = -1
    return counts


def read_marker(name: str) -> dict | None:
    with cursor("postgres") as cur:
        cur.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        found = cur.fetchone()
    if not found or not found[0]:
        return None
    try:
        return json.loads(found[0])
    except ValueError:
        return None


def write_marker(name: str, marker: dict) -> None:
    with cursor("postgres") as cur:
        cur.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(json.dumps(marker, sort_keys=True))
            )
        )


def reusable(name: str, *, scale: str, seed: int) -> tuple[bool, str]:
    """Whether the database holds exactly what seed_demo wrote for this scale and seed."""
    if not exists(name):
        return False, "database does not exist"
    marker = read_marker(name)
    if not marker:
        return False, "no seed marker"
    wanted = {"scale": scale, "seed": seed, "fingerprint": seed_fingerprint()}
    for key, value in wanted.items():
        if marker.get(key) != value:
            return False, f"seeded with {key}={marker.get(key)!r}, want {value!r}"
    counts = row_counts(name)
    if counts != marker.get("counts"):
        return False, f"row counts changed: {counts} != {marker.get('counts')}"
    return True, "row counts match"


def manage(cfg: Config, *args: str, db: str | None = None, timeout: float = 1800) -> None:
    """Run a management command against a bench database; raise with its output on failure."""
    done = proc.run(
        [cfg.python, "manage.py", *args], env=cfg.app_env(db=db), cwd=ROOT, timeout=timeout
    )
    if done.returncode != 0 or done.timed_out:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def ensure(cfg: Config, log=print) -> dict:
    """Migrate, and seed unless the existing data can be reused; returns the marker."""
    name = cfg.db_name
    ok, why = reusable(name, scale=cfg.scale, seed=cfg.seed)
    if not exists(name):
        create(name)
    manage(cfg, "migrate", "--no-input")
    if ok:
        log(f"database {name}: reused ({why})")
        return read_marker(name)
    log(f"database {name}: seeding scale {cfg.scale} ({why}) ...")
    done = proc.run(
        [cfg.python, "manage.py", "seed_demo", "--scale", cfg.scale, "--seed", str(cfg.seed)]
        + ["--reset"],
        env=cfg.app_env(),
        cwd=ROOT,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seed_demo failed:\n{done.stdout}\n{done.stderr}")
    marker = {
        "scale": cfg.scale,
        "seed": cfg.seed,
        "fingerprint": seed_fingerprint(),
        "counts": row_counts(name),
        "seed_seconds": round(done.seconds, 1),
    }
    write_marker(name, marker)
    log(f"database {name}: seeded in {done.seconds:.0f}s: {marker['counts']}")
    return marker
