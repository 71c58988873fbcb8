"""Prometheus metrics, served at /metrics (see views.metrics).

Counters and histograms are defined once here and updated by the request middleware and
by the Celery signal handlers. With several processes (gunicorn workers, Celery's pool)
set PROMETHEUS_MULTIPROC_DIR to a directory they all share, emptied at each start: every
process then writes its figures there and a scrape adds them up. Queue lengths, broker
state and worker heartbeats are read live at scrape time.
"""

from __future__ import annotations

import logging
import os

from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # A missing folder would make every request fail on its first counter.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUESTS = Counter(
    "crm_http_requests_total",
    "HTTP requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASK_DURATION = Histogram(
    "crm_celery_task_duration_seconds",
    "Run time of Celery tasks, by task and final state.",
    ["task", "state"],
    # Analytics jobs run for minutes; the fast queue's tasks for milliseconds.
    buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
TASK_FAILURES = Counter(
    "crm_celery_task_failures_total",
    "Celery tasks that raised, by task.",
    ["task"],
)


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    HTTP_LATENCY.labels(view=view, method=method).observe(seconds)


def observe_task(*, task: str, state: str, seconds: float) -> None:
    TASK_DURATION.labels(task=task, state=state).observe(seconds)


def count_task_failure(*, task: str) -> None:
    TASK_FAILURES.labels(task=task).inc()


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each Celery queue, or None when the broker cannot be reached."""
    from crm.celery import app

    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            channel = conn.default_channel
            # _size is kombu's per-transport message count (Redis: the list lengths of
            # every priority step; file system: the waiting files).
            return {q.name: int(channel._size(q.name)) for q in app.conf.task_queues}
    except Exception:  # a scrape must answer even when the broker is down
        logger.warning("metrics: broker unreachable, no queue lengths")
        return None


class LiveCollector:
    """Figures read at scrape time: queue lengths, broker state, worker heartbeat ages."""

    def collect(self):
        lengths = queue_lengths()
        up = GaugeMetricFamily("crm_broker_up", "1 when the Celery broker answers.")
        up.add_metric([], 0 if lengths is None else 1)
        yield up
        queues = GaugeMetricFamily(
            "crm_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        for name, length in (lengths or {}).items():
            queues.add_metric([name], length)
        yield queues

        from .models import WorkerHeartbeat

        ages = GaugeMetricFamily(
            "crm_worker_heartbeat_age_seconds",
            "Seconds since each Celery worker last reported.",
            labels=["worker", "queues"],
        )
        now = timezone.now()
        try:
            for beat in WorkerHeartbeat.objects.all():
                ages.add_metric([beat.hostname, beat.queues], (now - beat.seen_at).total_seconds())
        except Exception:  # database down: the other figures still count
            logger.warning("metrics: database unreachable, no worker heartbeats")
        yield ages


def render() -> tuple[bytes, str]:
    """The exposition text of every metric, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    live = CollectorRegistry(auto_describe=False)
    live.register(LiveCollector())
    return generate_latest(registry) + generate_latest(live), CONTENT_TYPE_LATEST
