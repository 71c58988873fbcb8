"""Worker heartbeats: each Celery worker records that it is alive and which queues it
consumes; readiness checks that every queue has a worker seen recently."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from .models import WorkerHeartbeat


@dataclass
class WorkerIdentity:
    hostname: str
    queues: list[str]
    pid: int = field(default_factory=os.getpid)
    started_at: datetime = field(default_factory=timezone.now)


def record_heartbeat(worker: WorkerIdentity) -> None:
    """Write the worker's row; the connection is closed again so that a worker's main
    process holds none open between beats (and none leaks into a forked pool child)."""
    if not connection.in_atomic_block:
        close_old_connections()
    try:
        WorkerHeartbeat.objects.update_or_create(
            hostname=worker.hostname,
            defaults={
                "queues": ",".join(sorted(worker.queues)),
                "pid": worker.pid,
                "started_at": worker.started_at,
                "seen_at": timezone.now(),
            },
        )
    finally:
        _close()


def _close() -> None:
    # Inside a transaction (a test, or a caller's atomic block) the connection is not ours.
    if not connection.in_atomic_block:
        connection.close()


def forget_worker(hostname: str) -> None:
    """A worker that stops cleanly removes its row, so readiness notices at once."""
    try:
        WorkerHeartbeat.objects.filter(hostname=hostname).delete()
    finally:
        _close()


def max_age() -> timedelta:
    return timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)


def queues_without_worker(queues: list[str], *, now: datetime | None = None) -> list[str]:
    """The queues among `queues` that no worker has reported on within the maximum age."""
    cutoff = (now or timezone.now()) - max_age()
    served: set[str] = set()
    for beat in WorkerHeartbeat.objects.filter(seen_at__gte=cutoff):
        served.update(beat.queue_names)
    return [q for q in queues if q not in served]
