"""Structured logs: one JSON object per line, with the request id and the Celery task.

Settings' LOGGING uses `JsonFormatter` when LOG_FORMAT=json (the default with DEBUG=0) and
`RequestIdFilter` on the console handler, so every line, from Django, Celery or our code,
carries `request_id` (and `task_id`/`task_name` inside a task).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from .context import request_id_var, task_var

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class RequestIdFilter(logging.Filter):
    """Put the current request id and task on the record (None outside of both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        task = task_var.get()
        if task and getattr(record, "task_id", None) is None:
            record.task_id, record.task_name = task
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as a single line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
