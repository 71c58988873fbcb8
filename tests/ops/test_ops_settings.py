"""Operations settings from the environment: the replica, log format, metrics access."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT = (
    "import django; django.setup(); from django.conf import settings as s;"
    "print(sorted(s.DATABASES)); print(s.DATABASES.get('replica', {}).get('TEST'));"
    "print(s.DATABASE_ROUTERS); print(s.LOGGING['handlers']['console']['formatter']);"
    "print(s.METRICS_ALLOWED_IPS); print(s.RETENTION_DAYS)"
)


def _settings(**env: str) -> list[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "DEBUG", "SECRET_KEY", "LOG_", "METRICS_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="crm.settings")
    out = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_defaults_have_no_replica_and_text_logs():
    databases, replica_test, routers, formatter, allowed, retention = _settings()
    assert databases == "['default']"
    assert replica_test == "None"
    assert routers == "['crm.db_router.ReplicaRouter']"
    assert formatter == "text"
    assert allowed == "[]"
    assert retention == "{}"


def test_production_with_a_replica_logs_json():
    databases, replica_test, _, formatter, allowed, retention = _settings(
        DEBUG="0",
        SECRET_KEY="s" * 60,
        DATABASE_URL="postgres://crm@db1:5432/crm",
        DATABASE_REPLICA_URL="postgres://crm_ro@db2:5432/crm",
        METRICS_ALLOWED_IPS="127.0.0.1,10.0.0.0/8",
        RETENTION_DAYS="access_logs=90,sessions=0",
    )
    assert databases == "['default', 'replica']"
    assert "'MIRROR': 'default'" in replica_test
    assert formatter == "json"
    assert allowed == "['127.0.0.1', '10.0.0.0/8']"
    assert retention == "{'access_logs': 90, 'sessions': 0}"
