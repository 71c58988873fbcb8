"""Readiness checks behind /readyz. Each returns "ok" or a short reason."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from crm.views import _broker_ok, _database_ok

from . import heartbeat

logger = logging.getLogger(__name__)

_migrations_applied = False  # once true it stays true for this process's code


def migrations_ok() -> bool:
    """True when every migration this code knows of is applied to the database.

    A process that finds them applied remembers it (migrations are not unapplied under a
    running release); one that starts before `migrate` has run keeps checking."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_applied = not plan
    return _migrations_applied


def required_queues() -> list[str]:
    from crm.celery import app

    return list(settings.READYZ_QUEUES) or [q.name for q in app.conf.task_queues]


def readiness() -> dict:
    """Every check's state, and `down`: the names of those that failed."""
    checks: dict[str, str] = {"database": "ok" if _database_ok() else "down"}
    checks["broker"] = "ok" if _broker_ok() else "down"
    queues: dict[str, str] = {}
    if checks["database"] != "ok":
        checks["migrations"] = checks["workers"] = "unknown"
    else:
        try:
            checks["migrations"] = "ok" if migrations_ok() else "pending"
        except Exception:
            logger.exception("readiness: could not read the migration state")
            checks["migrations"] = "unknown"
        if settings.CELERY_TASK_ALWAYS_EAGER:
            checks["workers"] = "ok"  # tasks run inside the web process: no worker needed
        else:
            wanted = required_queues()
            missing = heartbeat.queues_without_worker(wanted)
            queues = {q: ("no worker" if q in missing else "ok") for q in wanted}
            checks["workers"] = "ok" if not missing else "down"
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ok" if not down else "unavailable", **checks, "down": down}
    if queues:
        body["queues"] = queues
    return body
