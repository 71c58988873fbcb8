"""Celery signal handlers: the request id travels with each task, task durations and
failures become metrics, and workers write heartbeats.

The request id rides in the task message's headers (set on publish from the current
request or task), and is put back into the logging context before the task runs, so a
task's log lines share the id of the web request that sent it.
"""

from __future__ import annotations

import logging
import time

from celery import signals
from django.conf import settings

from . import heartbeat, metrics
from .context import new_request_id, request_id_var, task_var

logger = logging.getLogger(__name__)

HEADER = "request_id"

# task id -> (start time, context tokens); per process, entries live only while a task runs.
_running: dict[str, tuple[float, object, object]] = {}
_worker: heartbeat.WorkerIdentity | None = None
_last_beat = 0.0


def add_request_id_header(headers=None, **kwargs) -> None:
    if headers is not None and not headers.get(HEADER):
        headers[HEADER] = request_id_var.get() or new_request_id()


def task_started(task_id=None, task=None, **kwargs) -> None:
    # Eager tasks run inside the caller and keep its id; a task from beat gets its own.
    request_id = getattr(task.request, HEADER, None) or request_id_var.get() or new_request_id()
    tokens = (request_id_var.set(request_id), task_var.set((task_id, task.name)))
    _running[task_id] = (time.perf_counter(), *tokens)


def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    entry = _running.pop(task_id, None)
    if entry is None:
        return
    started, request_token, task_token = entry
    metrics.observe_task(
        task=task.name, state=state or "UNKNOWN", seconds=time.perf_counter() - started
    )
    task_var.reset(task_token)
    request_id_var.reset(request_token)


def task_failed(sender=None, **kwargs) -> None:
    metrics.count_task_failure(task=getattr(sender, "name", "unknown"))


def worker_ready(sender=None, **kwargs) -> None:
    global _worker, _last_beat
    queues = list(sender.app.amqp.queues.consume_from or sender.app.amqp.queues)
    _worker = heartbeat.WorkerIdentity(hostname=sender.hostname, queues=queues)
    try:
        heartbeat.record_heartbeat(_worker)
        _last_beat = time.monotonic()
    except Exception:  # the next beat tries again; readiness shows the gap meanwhile
        logger.exception("worker heartbeat failed")


def heartbeat_sent(**kwargs) -> None:
    """Celery's event heartbeat ticks every 2 s; write ours every WORKER_HEARTBEAT_INTERVAL."""
    global _last_beat
    if _worker is None or time.monotonic() - _last_beat < settings.WORKER_HEARTBEAT_INTERVAL:
        return
    _last_beat = time.monotonic()
    try:
        heartbeat.record_heartbeat(_worker)
    except Exception:
        logger.exception("worker heartbeat failed")


def worker_stopping(**kwargs) -> None:
    if _worker is not None:
        try:
            heartbeat.forget_worker(_worker.hostname)
        except Exception:
            logger.exception("could not remove the worker heartbeat")


def connect() -> None:
    signals.before_task_publish.connect(add_request_id_header, dispatch_uid="ops.request_id")
    signals.task_prerun.connect(task_started, dispatch_uid="ops.task_started")
    signals.task_postrun.connect(task_finished, dispatch_uid="ops.task_finished")
    signals.task_failure.connect(task_failed, dispatch_uid="ops.task_failed")
    signals.worker_ready.connect(worker_ready, dispatch_uid="ops.worker_ready")
    signals.heartbeat_sent.connect(heartbeat_sent, dispatch_uid="ops.heartbeat")
    signals.worker_shutdown.connect(worker_stopping, dispatch_uid="ops.worker_stopping")
