"""Maintenance tasks. The backup is heavy (it reads the whole database) and is routed to
the `analytics` queue with the other long jobs (crm/celery.py); retention is quick."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from .backups import backup_database
from .retention import run_retention

logger = logging.getLogger(__name__)


@shared_task(name="ops.tasks.retention_task")
def retention_task() -> dict:
    """Delete data past its retention period (ops.retention); idempotent."""
    return run_retention()


@shared_task(name="ops.tasks.backup_database_task")
def backup_database_task(*, scheduled: bool = False) -> str:
    """Write a backup of the database to BACKUP_DIR; returns its path ("" when the
    schedule is switched off by BACKUP_SCHEDULE_ENABLED=0)."""
    if scheduled and not settings.BACKUP_SCHEDULE_ENABLED:
        return ""
    path = backup_database()
    logger.info("scheduled backup finished", extra={"path": str(path)})
    return str(path)
