"""Pages under load. The list of pages is data: add a row when a page lands. A page whose
URL does not resolve yet is reported "not available" with the reason, never with a number.

`{placeholders}` in a path are filled from the database by the in-process probe
(bench/probe.py), e.g. the customer with the longest history."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

from . import proc
from .config import LOG_DIR, ROOT, Config
from .results import Check, Row, percentile

# kind: "baseline" (the constant view), "list" and "detail" (p95 at 16 users < 100 ms),
# "dashboard" (< 200 ms). user: the demo user whose session requests the page.
PAGES: list[dict] = [
    {
        "name": "baseline: constant view",
        "path": "/__bench__/constant/",
        "user": "rep",
        "kind": "baseline",
    },
    {"name": "customers: first page", "path": "/customers/", "user": "rep", "kind": "list"},
    {
        "name": "customers: last page",
        "path": "/customers/?page=last",
        "user": "rep",
        "kind": "list",
    },
    {
        "name": "customers: search",
        "path": "/customers/?q={search_term}",
        "user": "rep",
        "kind": "list",
    },
    {
        "name": "customer page, longest history",
        "path": "/customers/{customer_id}/",
        "user": "rep",
        "kind": "detail",
    },
    {"name": "deal board", "path": "/sales/deals/board/", "user": "rep", "kind": "list"},
    {"name": "deal list", "path": "/sales/deals/", "user": "rep", "kind": "list"},
    {"name": "order list", "path": "/sales/orders/", "user": "rep", "kind": "list"},
    {"name": "order page", "path": "/sales/orders/{order_id}/", "user": "rep", "kind": "detail"},
    {"name": "task list", "path": "/sales/tasks/", "user": "rep", "kind": "list"},
    {"name": "ticket queue", "path": "/service/tickets/", "user": "agent", "kind": "list"},
    {
        "name": "ticket page",
        "path": "/service/tickets/{ticket_id}/",
        "user": "agent",
        "kind": "detail",
    },
    {"name": "sales reports", "path": "/sales/reports/", "user": "manager", "kind": "dashboard"},
    {"name": "manager dashboard", "path": "/analytics/", "user": "manager", "kind": "dashboard"},
]

P95_TARGET_MS = {"list": 100.0, "detail": 100.0, "dashboard": 200.0}
THROUGHPUT_MIN_SHARE = 5.0  # % of the baseline's requests per second at the same load
P95_AT_USERS = 16  # the latency target is judged at this many concurrent users
WARMUP_SECONDS = 2.0  # the first seconds of each run (users starting, caches) are not timed

SECTION = "Pages under load"


def run_load(cfg: Config, *, path: str, session: str, users: int) -> dict:
    """One locust run against one page; returns the figures from every request it made."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".json", dir=LOG_DIR, delete=False) as tmp:
        samples_file = Path(tmp.name)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(LOG_DIR),
        "BENCH_PATH": path,
        "BENCH_SESSION": session,
        "BENCH_SAMPLES": str(samples_file),
    }
    run_time = cfg.duration + WARMUP_SECONDS
    cmd = [
        cfg.locust,
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{run_time:g}s",
        "--stop-timeout",
        "5",
        "--host",
        cfg.base_url,
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    try:
        done = proc.run(cmd, env=env, cwd=ROOT, timeout=run_time + 60)
        try:
            samples = json.loads(samples_file.read_text() or "[]")
        except (OSError, ValueError):
            samples = []
    finally:
        samples_file.unlink(missing_ok=True)
    if not samples:
        raise RuntimeError(
            f"locust made no request (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return summarise(samples, warmup=WARMUP_SECONDS)


def summarise(samples: list[list], *, warmup: float) -> dict:
    """Figures from [start, milliseconds, ok] samples: requests/s and percentiles over the
    timed window (after the warm-up), errors over the whole run."""
    t0 = min(s[0] for s in samples)
    timed = [s for s in samples if s[0] >= t0 + warmup] or samples
    start = min(s[0] for s in timed)
    end = max(s[0] + s[1] / 1000 for s in timed)
    window = max(end - start, 1e-9)
    ms = [s[1] for s in timed]
    return {
        "requests": len(samples),
        "rps": len(timed) / window,
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "errors": sum(1 for s in samples if not s[2]),
    }


def page_rows(
    *, page: dict, probe: dict, runs: dict[int, dict], baseline: dict[int, dict]
) -> list[Row]:
    """Rows of one page, one per load level, with their checks."""
    name = page["name"]
    info = probe.get(name, {})
    if not info.get("resolves"):
        return [Row(SECTION, name, unavailable=info.get("reason", "not probed"))]
    rows = []
    for users, figures in sorted(runs.items()):
        label = f"{name} @{users}"
        if "error" in figures:
            rows.append(
                Row(
                    SECTION,
                    label,
                    figures={"users": users},
                    checks=[Check("load run", "==", 1, None)],
                    notes=figures["error"],
                )
            )
            continue
        base = baseline.get(users, {})
        share = (
            100 * figures["rps"] / base["rps"]
            if base.get("rps") and page["kind"] != "baseline"
            else None
        )
        row = Row(
            SECTION,
            label,
            figures={
                "users": users,
                "req/s": round(figures["rps"], 1),
                "p50 ms": round(figures["p50"], 1),
                "p95 ms": round(figures["p95"], 1),
                "p99 ms": round(figures["p99"], 1),
                "errors": figures["errors"],
                "queries": info.get("queries"),
                "% of baseline": round(share, 1) if share is not None else None,
            },
            notes=f"{unquote(info.get('path', ''))} as {page['user']}, {figures['requests']:,} requests",
        )
        row.checks.append(Check("errors", "==", 0, figures["errors"]))
        if page["kind"] != "baseline":
            row.checks.append(Check("req/s % of baseline", ">=", THROUGHPUT_MIN_SHARE, share, "%"))
            if users == P95_AT_USERS:
                target = P95_TARGET_MS[page["kind"]]
                row.checks.append(Check("p95", "<", target, figures["p95"], " ms"))
        rows.append(row)
    return rows


def measure(cfg: Config, *, probe: dict, sessions: dict[str, str], log=print) -> list[Row]:
    """Load every page that resolves at each level; the baseline first, so each page's
    throughput is compared with the baseline measured minutes before it, in the same run."""
    results: dict[str, dict[int, dict]] = {}
    for page in PAGES:
        info = probe.get(page["name"], {})
        if not info.get("resolves"):
            log(f"  {page['name']}: not available ({info.get('reason', 'not probed')})")
            continue
        runs = {}
        for users in cfg.users:
            t0 = time.monotonic()
            try:
                runs[users] = run_load(
                    cfg, path=info["path"], session=sessions[page["user"]], users=users
                )
            except Exception as exc:  # a failed run is a MISS row, not a crashed benchmark
                runs[users] = {"error": str(exc)[:300]}
            fig = runs[users]
            if "error" in fig:
                log(f"  {page['name']} @{users}: FAILED {fig['error']}")
            else:
                log(
                    f"  {page['name']} @{users}: {fig['rps']:.1f} req/s, p95 {fig['p95']:.0f} ms, "
                    f"{fig['errors']} errors ({time.monotonic() - t0:.0f}s)"
                )
        results[page["name"]] = runs
    baseline = results.get(PAGES[0]["name"], {})
    rows = []
    for page in PAGES:
        rows += page_rows(
            page=page, probe=probe, runs=results.get(page["name"], {}), baseline=baseline
        )
    return rows
