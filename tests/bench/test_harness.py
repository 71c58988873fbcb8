"""Harness pieces: child processes (time, peak memory, process groups), job rows, the
database fingerprint."""

import sys

from bench import proc
from bench.config import ROOT, Config
from bench.database import seed_fingerprint
from bench.jobs import _unavailable_reason, job_row
from bench.results import MISS, NA, PASS


def test_run_measures_wall_time_and_peak_memory_of_the_child():
    code = "import time; b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.2)"
    done = proc.run([sys.executable, "-c", code], env={}, cwd=ROOT, timeout=30)
    assert done.returncode == 0
    assert done.seconds >= 0.2
    assert done.peak_rss_mb > 80
    assert not proc._RUNNING


def test_run_kills_the_whole_group_at_its_time_limit():
    # The child starts a grandchild; both must be gone after the time limit.
    code = (
        "import subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print(p.pid, flush=True); time.sleep(60)"
    )
    done = proc.run([sys.executable, "-c", code], env={}, cwd=ROOT, timeout=1.5)
    assert done.timed_out
    assert done.seconds < 10
    grandchild = int(done.stdout.split()[0])
    import os
    import time

    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("grandchild still running")


def test_start_and_stop_a_server_process():
    server = proc.start([sys.executable, "-c", "import time; time.sleep(60)"], env={}, cwd=ROOT)
    assert server in proc._RUNNING
    proc.stop_all()
    assert server.poll() is not None
    assert not proc._RUNNING


def test_production_environment_for_the_app():
    cfg = Config(scale="S")
    env = cfg.app_env()
    assert cfg.db_name.endswith("_s")
    assert env["DEBUG"] == "0"
    assert env["SECURE_SSL_REDIRECT"] == env["SESSION_COOKIE_SECURE"] == "0"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1"
    assert env["BENCH_ENDPOINTS"] == "1"
    assert len(env["SECRET_KEY"]) >= 50
    assert "REDIS_URL" not in env
    assert env["DATABASE_URL"].endswith("/" + cfg.db_name)


def test_seed_fingerprint_is_stable():
    assert seed_fingerprint() == seed_fingerprint()
    assert len(seed_fingerprint()) == 16


def test_job_row_targets():
    base = {"seconds": 10.0, "call_seconds": 4.0, "peak_mb": 300.0, "info": {}}
    assert job_row("forecast", {"seconds": 14.0, "peak_mb": 500.0}, base).status == PASS
    slow = job_row("forecast", {"seconds": 16.0, "peak_mb": 500.0}, base)
    assert slow.status == MISS
    assert slow.figures["ratio"] == 1.6
    assert slow.figures["ratio to call"] == 4.0
    fat = job_row("forecast", {"seconds": 11.0, "peak_mb": 2500.0}, base)
    assert fat.status == MISS
    assert job_row("forecast", {"error": "exit 1: boom"}, base).status == MISS
    absent = job_row("churn", {"unavailable": "run_job does not exist yet"}, {})
    assert absent.status == NA
    assert absent.figures == {}


def test_a_missing_job_is_told_from_a_failing_one():
    missing = proc.Finished(1, 1.0, 50.0, "", "Unknown command: 'run_job'\nType 'manage.py help'")
    assert "does not exist" in _unavailable_reason(missing, "churn")
    unknown = proc.Finished(2, 1.0, 50.0, "", "error: argument kind: invalid choice: 'churn'")
    assert "does not know 'churn'" in _unavailable_reason(unknown, "churn")
    failed = proc.Finished(1, 1.0, 50.0, "", "Traceback ... ZeroDivisionError")
    assert _unavailable_reason(failed, "churn") is None


def test_a_part_that_fails_is_a_miss_row_and_the_run_goes_on():
    from bench.__main__ import _part

    def broken():
        raise RuntimeError("gunicorn did not answer within 60 s")

    logged = []
    rows = _part("Pages under load", logged.append, broken)
    assert [r.status for r in rows] == [MISS]
    assert "gunicorn did not answer" in rows[0].notes
    assert logged


def test_a_part_gets_its_own_keyword_arguments():
    from bench.__main__ import _part

    rows = _part("Imports", print, lambda *, log, marker: [marker, log], log="L", marker="M")
    assert rows == ["M", "L"]


def test_a_baseline_without_its_job_still_gives_a_row():
    from bench.jobs import baseline_row

    row = baseline_row("churn", {"seconds": 20.0, "call_seconds": 12.0, "peak_mb": 220.0})
    assert row.status == PASS
    assert row.figures["baseline s"] == 20.0
    assert "1.5 x 20.0 s" in row.notes
    assert baseline_row("churn", {"error": "baseline exit 1: boom"}).status == MISS
