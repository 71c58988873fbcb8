"""Analytics jobs end to end (`manage.py run_job KIND --sync`: load, compute, write) against
their baselines (bench/job_baselines.py: one query for the same input plus the raw library
calls), each in a process of its own so its wall time and peak memory are its alone."""

from __future__ import annotations

import json
import time

from . import database, proc
from .config import ROOT, Config
from .results import Check, Row

SECTION = "Analytics jobs"
KINDS = ["segmentation", "association_rules", "forecast", "churn", "customer_value"]
MAX_RATIO = 1.5  # job seconds / baseline seconds (issue 7)
MAX_PEAK_MB = 2048.0
MAX_TOTAL_SECONDS = 120.0  # all five jobs together


def _unavailable_reason(done: proc.Finished, kind: str) -> str | None:
    """Tell "the job does not exist yet" from "the job failed"."""
    text = f"{done.stdout}\n{done.stderr}"
    if "Unknown command" in text and "run_job" in text:
        return "manage.py run_job does not exist yet"
    if "invalid choice" in text and kind in text:
        return f"run_job does not know {kind!r} yet"
    return None


def run_job(cfg: Config, kind: str, timeout: float) -> dict:
    done = proc.run(
        [cfg.python, "manage.py", "run_job", kind, "--sync"],
        # Anything the job hands to Celery runs inline, so it is timed too.
        env=cfg.app_env(CELERY_TASK_ALWAYS_EAGER="1"),
        cwd=ROOT,
        timeout=timeout,
    )
    if done.returncode != 0 and not done.timed_out:
        reason = _unavailable_reason(done, kind)
        if reason:
            return {"unavailable": reason}
        return {"error": f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"}
    if done.timed_out:
        return {"error": f"timed out after {timeout:.0f}s", "seconds": done.seconds}
    # run_job prints "KIND: STATUS in S s, peak memory M MB (run N)", then the metrics.
    first = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if not first.startswith(f"{kind}: succeeded"):
        return {"error": f"job did not succeed: {done.stdout.strip()[:300]}"}
    try:
        metrics = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError:
        metrics = {}
    return {"seconds": done.seconds, "peak_mb": done.peak_rss_mb, "metrics": metrics}


def chosen_parameters(kind: str, metrics: dict) -> dict:
    """What the job chose on this data (its JobRun metrics), so that the baseline makes the
    very same library call: the k of KMeans, the support of fpgrowth."""
    if kind == "segmentation" and metrics.get("k"):
        return {"k": metrics["k"]}
    if kind == "association_rules" and metrics.get("min_support"):
        return {"min_support": metrics["min_support"]}
    return {}


def run_baseline(cfg: Config, kind: str, timeout: float, params: dict | None = None) -> dict:
    done = proc.run(
        [cfg.python, "-m", "bench.job_baselines", kind, json.dumps(params or {})],
        env=cfg.app_env(),
        cwd=ROOT,
        timeout=timeout,
    )
    if done.returncode != 0 or done.timed_out:
        why = "timed out" if done.timed_out else f"exit {done.returncode}"
        return {"error": f"baseline {why}: {done.stderr.strip()[-300:]}"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out.update(seconds=done.seconds, peak_mb=done.peak_rss_mb)
    return out


def job_row(kind: str, job: dict, base: dict) -> Row:
    if "unavailable" in job:
        return Row(SECTION, kind, unavailable=job["unavailable"])
    figures: dict = {}
    checks: list[Check] = []
    notes = []
    if "error" in base:
        notes.append(base["error"])
    else:
        figures.update(
            {
                "baseline s": round(base["seconds"], 2),
                "of which call s": round(base["call_seconds"], 3),
                "baseline MB": round(base["peak_mb"]),
            }
        )
        notes.append(f"baseline data: {base.get('info')}")
    if "error" in job:
        notes.insert(0, job["error"])
        checks.append(Check("job ran", "==", 1, None))
        return Row(SECTION, kind, figures=figures, checks=checks, notes="; ".join(notes))
    ratio = job["seconds"] / base["seconds"] if base.get("seconds") else None
    stages = (job.get("metrics") or {}).get("seconds") or {}
    if stages:
        notes.insert(
            0,
            "job load/compute/write s: "
            + "/".join(f"{stages.get(k, 0):.1f}" for k in ("load", "compute", "write")),
        )
    figures = {
        "seconds": round(job["seconds"], 2),
        "peak MB": round(job["peak_mb"]),
        **figures,
        "ratio": round(ratio, 2) if ratio is not None else None,
        "ratio to call": (
            round(job["seconds"] / base["call_seconds"], 1) if base.get("call_seconds") else None
        ),
    }
    checks = [
        Check("ratio", "<=", MAX_RATIO, ratio, "x"),
        Check("peak", "<", MAX_PEAK_MB, job["peak_mb"], " MB"),
    ]
    return Row(SECTION, kind, figures=figures, checks=checks, notes="; ".join(notes))


def baseline_row(kind: str, base: dict) -> Row:
    """A baseline measured while its job does not exist yet: the time the job will be held
    to (times MAX_RATIO)."""
    if "error" in base:
        return Row(
            SECTION,
            f"{kind}: baseline",
            checks=[Check("completed", "==", 1, None)],
            notes=base["error"],
        )
    return Row(
        SECTION,
        f"{kind}: baseline",
        figures={
            "baseline s": round(base["seconds"], 2),
            "of which call s": round(base["call_seconds"], 3),
            "baseline MB": round(base["peak_mb"]),
        },
        checks=[Check("completed", "==", 1, 1)],
        notes=f"the job will be held to {MAX_RATIO:g} x {base['seconds']:.1f} s; data: {base.get('info')}",
    )


def fail_leftover_runs(cfg: Config) -> int:
    """Runs an interrupted benchmark left queued or running would refuse this run's start
    (one active run per kind) until they go stale after two hours: the benchmark owns its
    database, so it marks them failed first."""
    with database.cursor(cfg.db_name) as cur:
        cur.execute(
            "UPDATE analytics_jobrun SET status = 'failed', finished_at = now(), "
            "message = 'Left by an interrupted benchmark run.' "
            "WHERE status IN ('queued', 'running')"
        )
        return cur.rowcount


def measure(cfg: Config, log=print) -> list[Row]:
    if left_over := fail_leftover_runs(cfg):
        log(f"  marked {left_over} run(s) left by an interrupted benchmark as failed")
    started = time.monotonic()
    rows: list[Row] = []
    jobs: dict[str, dict] = {}
    for kind in KINDS:
        left = cfg.jobs_budget - (time.monotonic() - started)
        if left <= 5:
            jobs[kind] = {"error": "not run: the jobs' time budget was spent"}
            rows.append(job_row(kind, jobs[kind], {}))
            continue
        job = run_job(cfg, kind, min(cfg.job_timeout, left))
        jobs[kind] = job
        left = cfg.jobs_budget - (time.monotonic() - started)
        params = chosen_parameters(kind, job.get("metrics") or {})
        base = run_baseline(cfg, kind, max(5.0, min(cfg.job_timeout, left)), params)
        if "unavailable" in job:
            # The baseline alone still tells the job's author what to aim at.
            log(f"  {kind}: not available ({job['unavailable']}); baseline {base}")
            rows += [job_row(kind, job, {}), baseline_row(kind, base)]
            continue
        row = job_row(kind, job, base)
        log(f"  {kind}: {row.status} {row.figures}")
        rows.append(row)
    missing = [k for k, j in jobs.items() if "unavailable" in j]
    if missing:
        rows.append(
            Row(
                SECTION, "all five together", unavailable=f"not available yet: {', '.join(missing)}"
            )
        )
    else:
        total = sum(j.get("seconds", 0.0) for j in jobs.values())
        failed = [k for k, j in jobs.items() if "error" in j]
        rows.append(
            Row(
                SECTION,
                "all five together",
                figures={"seconds": round(total, 1)},
                checks=[Check("total", "<", MAX_TOTAL_SECONDS, None if failed else total, " s")],
                notes=f"failed: {', '.join(failed)}" if failed else "",
            )
        )
    return rows
