"""Where the benchmark runs: paths, the database per scale, the ports, and the environment
the app's processes get (production settings on plain HTTP on 127.0.0.1)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / "data"  # generated CSV files, cached between runs (gitignored)
RESULTS_DIR = BENCH_DIR / "results"
LOG_DIR = ROOT / "var" / "bench"

# Every setting can be overridden from the environment.
PG_URL_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "crm_bench_")
HOST = "127.0.0.1"  # the load never leaves the loopback interface


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _locust() -> str:
    found = os.environ.get("BENCH_LOCUST") or str(ROOT / ".venv-bench" / "bin" / "locust")
    return found if Path(found).exists() else (shutil.which("locust") or "")


@dataclass
class Config:
    scale: str = "M"
    seed: int = 42
    port: int = int(os.environ.get("BENCH_PORT", "8107"))
    # Seconds of load per page and level: 15 keeps all pages, imports and jobs at scale M
    # within 30 minutes from a fresh clone, and still gives some hundreds of samples.
    duration: float = float(os.environ.get("BENCH_DURATION", "15"))
    users: tuple[int, ...] = (4, 16)
    # Sync workers: the usual 2 x cores + 1; each holds one request at a time, so the
    # queueing at 16 users is part of what p95 measures.
    workers: int = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
    parts: tuple[str, ...] = ("pages", "imports", "jobs")
    job_timeout: float = 300.0  # one job, or one baseline, may not take longer than this
    jobs_budget: float = 720.0  # all jobs and their baselines together
    import_timeout: float = 600.0  # 1M order lines through the real importer, on a busy machine
    strict: bool = False
    note: str = ""
    python: str = field(default_factory=_python)
    locust: str = field(default_factory=_locust)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    @property
    def db_name(self) -> str:
        return f"{DB_PREFIX}{self.scale.lower()}"

    @property
    def import_db_name(self) -> str:
        """A scratch database for the import runs, migrated empty, dropped afterwards."""
        return f"{self.db_name}_import"

    def db_url(self, name: str | None = None) -> str:
        return f"{PG_URL_BASE}/{name or self.db_name}"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def app_env(self, *, db: str | None = None, **extra: str) -> dict[str, str]:
        """Production settings (DEBUG=0) for plain HTTP on the loopback: no TLS redirect,
        no secure-only cookies; the bench-only endpoints on; no shared Redis."""
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
        env.update(
            DJANGO_SETTINGS_MODULE="crm.settings",
            DATABASE_URL=self.db_url(db),
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS=HOST,
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            BENCH_ENDPOINTS="1",
            # The load generator logs in with a password; two-factor is a step of the login
            # page only (the OTP middleware still runs on every measured request), so the
            # manager's pages are measured rather than its device check.
            OTP_REQUIRED_ROLES="",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env
