"""The request id of the work in progress (a web request or a Celery task), for log lines.

A context variable rather than a thread-local: it follows the code into threads started
with contextvars.copy_context() and is reset cleanly at the end of each request and task.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from contextlib import contextmanager

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a client or a proxy; anything else is replaced by our own id, so a
# header cannot inject newlines or megabytes into the logs.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crm_request_id", default=None
)
task_var: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "crm_task", default=None
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The given id when it is safe to log, else a fresh one."""
    if value and _VALID.match(value):
        return value
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


@contextmanager
def request_id_context(value: str | None = None):
    """Run a block under a request id (a fresh one unless given); yields the id."""
    token = request_id_var.set(clean_request_id(value))
    try:
        yield request_id_var.get()
    finally:
        request_id_var.reset(token)
