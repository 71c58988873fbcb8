"""Celery signal handlers: the request id travels with each task, task durations and
failures become metrics, and workers write heartbeats.

The request id rides in the task message's headers (set on publish from the current
request or task), and is put back into the logging context before the task runs, so a
task's log lines share the id of the web request that sent it.
"""

from __future__ import annotations

import logging
import os
import time

from celery import signals
from django.conf import settings

from . import heartbeat, metrics
from .context import new_request_id, request_id_var, task_var

logger = logging.getLogger(__name__)

HEADER = "request_id"

# task id -> [start time, context tokens, duration recorded]; per process, entries live
# only while a task runs.
_running: dict[str, list] = {}
_worker: heartbeat.WorkerIdentity | None = None
_last_beat = 0.0


def add_request_id_header(headers=None, **kwargs) -> None:
    if headers is not None and not headers.get(HEADER):
        headers[HEADER] = request_id_var.get() or new_request_id()


def task_started(task_id=None, task=None, **kwargs) -> None:
    # Eager tasks run inside the caller and keep its id; a task from beat gets its own.
    request_id = getattr(task.request, HEADER, None) or request_id_var.get() or new_request_id()
    tokens = (request_id_var.set(request_id), task_var.set((task_id, task.name)))
    _running[task_id] = [time.perf_counter(), *tokens, False]


def _observe(task_id: str, task_name: str, state: str) -> None:
    entry = _running.get(task_id)
    if entry and not entry[3]:
        metrics.observe_task(task=task_name, state=state, seconds=time.perf_counter() - entry[0])
        entry[3] = True


def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    _observe(task_id, task.name, state or "UNKNOWN")
    entry = _running.pop(task_id, None)
    if entry is not None:
        task_var.reset(entry[2])
        request_id_var.reset(entry[1])


def task_failed(sender=None, task_id=None, **kwargs) -> None:
    """Counted here because an eager task that raises never reaches task_postrun; the
    context stays set until postrun so that Celery's own error line keeps the request id."""
    name = getattr(sender, "name", "unknown")
    metrics.count_task_failure(task=name)
    _observe(task_id, name, "FAILURE")


def _serve_worker_metrics() -> None:
    """CELERY_METRICS_PORT set: this worker serves its task figures itself (for workers on
    machines or in containers that share no PROMETHEUS_MULTIPROC_DIR with the web)."""
    port = int(os.environ.get("CELERY_METRICS_PORT") or 0)
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    # Opt-in (CELERY_METRICS_PORT) for workers on other machines, so every interface by
    # default; CELERY_METRICS_ADDR narrows it.
    addr = os.environ.get("CELERY_METRICS_ADDR", "0.0.0.0")  # nosec B104
    start_http_server(port, addr=addr, registry=registry)


def worker_ready(sender=None, **kwargs) -> None:
    global _worker, _last_beat
    try:
        _serve_worker_metrics()
    except Exception:
        logger.exception("could not serve the worker's metrics")
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
