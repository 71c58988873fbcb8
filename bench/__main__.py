"""`python -m bench [--scale M|S]`: the whole benchmark (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from . import database, imports, jobs, machine, pages, proc, server
from .config import LOG_DIR, RESULTS_DIR, Config
from .results import Check, Row, summary, text_table, write

DEMO_USERS = ["rep", "agent", "manager"]


def parse_args(argv: list[str]) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=["XS", "S", "M", "L"], default="M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=float, help="seconds of load per page and level")
    parser.add_argument("--users", help="concurrent users, comma-separated (default 4,16)")
    parser.add_argument(
        "--only", help="comma-separated parts to run: pages, imports, jobs (default all)"
    )
    parser.add_argument("--port", type=int)
    parser.add_argument("--strict", action="store_true", help="exit 1 when any row is a MISS")
    parser.add_argument(
        "--note", default=os.environ.get("BENCH_NOTE", ""), help="stored with the results"
    )
    args = parser.parse_args(argv)
    cfg = Config(scale=args.scale, seed=args.seed)
    if args.duration:
        cfg.duration = args.duration
    if args.users:
        cfg.users = tuple(int(u) for u in args.users.split(","))
    if args.only:
        cfg.parts = tuple(p.strip() for p in args.only.split(","))
        unknown = set(cfg.parts) - {"pages", "imports", "jobs"}
        if unknown:
            parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.port:
        cfg.port = args.port
    cfg.strict = args.strict
    cfg.note = args.note
    return cfg


def _pages(cfg: Config, log) -> list[Row]:
    if not cfg.locust:
        reason = "locust is not installed (make bench installs requirements-bench.txt)"
        return [Row(pages.SECTION, p["name"], unavailable=reason) for p in pages.PAGES]
    server.collectstatic(cfg)
    done = proc.run(
        [cfg.python, "-m", "bench.probe"],
        env=cfg.app_env(ALLOWED_HOSTS="127.0.0.1,testserver"),
        cwd=database.ROOT,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"page probe failed:\n{done.stderr[-3000:]}")
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    for name, info in probe.items():
        if info.get("resolves") and info.get("status") != 200:
            log(f"  warning: {name} answered {info.get('status')} in-process")
    gunicorn = server.start_gunicorn(cfg)
    try:
        password = _demo_password()
        sessions = {u: server.login(cfg, u, password) for u in DEMO_USERS}
        return pages.measure(cfg, probe=probe, sessions=sessions, log=log)
    finally:
        proc.stop(gunicorn)


def _part(section: str, say, func, *args, **kwargs) -> list[Row]:
    """Run one part; if the harness itself fails there, say so in a MISS row and go on
    with the other parts, so a run always ends with its results written."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # reported as a row; Ctrl-C and SIGTERM still stop the run
        say(f"  {section}: FAILED {exc}")
        proc.stop_all()
        return [
            Row(
                section,
                "harness",
                checks=[Check("part ran", "==", 1, None)],
                notes=f"{type(exc).__name__}: {str(exc)[-500:]}",
            )
        ]


def _demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "demo-pass-123")


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so `finally` stops the children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.0f}s] {msg}", flush=True)

    with database.cursor("postgres") as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    meta = machine.describe(postgres_version=pg_version)
    meta.update(
        {
            "scale": cfg.scale,
            "seed": str(cfg.seed),
            "server": f"gunicorn, {cfg.workers} sync workers, DEBUG=0, on 127.0.0.1",
            "load": (
                f"locust headless on 127.0.0.1, {cfg.duration:g} s per page and level after a "
                f"{pages.WARMUP_SECONDS:g} s warm-up, users {', '.join(map(str, cfg.users))}"
            ),
        }
    )
    if cfg.note:
        meta["note"] = cfg.note
    rows: list[Row] = []
    try:
        log(f"database for scale {cfg.scale} ...")
        marker = database.ensure(cfg, log=log)
        meta["database"] = f"{cfg.db_name}: {marker.get('counts')}"
        if "imports" in cfg.parts:
            log("imports ...")
            rows += _part(imports.SECTION, log, imports.measure, cfg, marker=marker, log=log)
        if "jobs" in cfg.parts:
            log("jobs ...")
            rows += _part(jobs.SECTION, log, jobs.measure, cfg, log=log)
        if "pages" in cfg.parts:
            log("pages ...")
            rows = _part(pages.SECTION, log, _pages, cfg, log) + rows
    finally:
        proc.stop_all()
    meta["load average at end (1, 5, 15 min)"] = machine.load_average()
    meta["duration"] = f"{(time.monotonic() - started) / 60:.1f} min"
    print()
    print(text_table(rows))
    stem = (
        f"scale-{cfg.scale}"
        if set(cfg.parts) == {"pages", "imports", "jobs"}
        else (f"scale-{cfg.scale}-{'-'.join(cfg.parts)}")
    )
    json_path, md_path = write(
        rows,
        directory=RESULTS_DIR,
        stem=stem,
        title=f"Benchmark at scale {cfg.scale}",
        meta=meta,
        preamble=PREAMBLE,
    )
    print(
        f"\nwritten: {json_path.relative_to(database.ROOT)}, {md_path.relative_to(database.ROOT)}"
    )
    print(f"logs: {LOG_DIR.relative_to(database.ROOT)}/")
    # A MISS is a finding, not a failure of the harness: the exit code says whether the run
    # completed; --strict makes misses fail too.
    return 1 if cfg.strict and summary(rows)["MISS"] else 0


PREAMBLE = """Made by `make bench` (scale M) or `make bench SCALE=S`; see `bench/__init__.py`.
Every figure is compared with a baseline measured in the same run on the same data:
pages with a constant view behind the same middleware and gunicorn, imports with a raw
`COPY` of the same file into a bare table (each row also shows the write floor of the app's
own tables: the stored rows inserted into them again), jobs with one query for the same
input plus the raw library calls. N/A rows are features not built yet; they carry no number."""


if __name__ == "__main__":
    sys.exit(main())
