"""Gunicorn settings for the CRM (used by the systemd unit, the Dockerfile and compose.yaml):
gunicorn -c deploy/gunicorn.conf.py crm.wsgi:application

Everything can be changed through the environment, so one file serves every machine.
"""

import multiprocessing
import os

# Behind nginx on the same machine; in a container, 0.0.0.0:8000 (set by the Dockerfile).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the app is CPU-light and database-bound; 2 per core plus one is the usual.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Long work runs in Celery; a request taking a minute is a bug, and the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The proxy's X-Forwarded-* headers are trusted from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory, not on a possibly slow or full disk (Docker's advice too).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Gunicorn's runtime control socket would be created in the service user's home, which
# the systemd unit makes read-only; signals (HUP, TTIN/TTOU) do the same job.
control_socket_disable = True

# Logs to stdout/stderr (journald or the container runtime collects them). One JSON line per
# request, with the request id the app put on the response.
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = (
    '{"ts":"%(t)s","logger":"gunicorn.access","remote":"%(h)s","method":"%(m)s",'
    '"path":"%(U)s","status":%(s)s,"bytes":"%(B)s","duration_ms":%(M)s,'
    '"request_id":"%({x-request-id}o)s"}'
)
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR, forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
