"""Optional read replica: reads that opt in go to the `replica` database, everything else
stays on `default`.

Routing every read to a replica would break read-your-own-writes (a user saves a form, is
redirected, and the page reads the replica before the change has arrived). So nothing goes
to the replica unless code asks for it: dashboards and reports, which read a lot and may be
a few seconds stale, wrap themselves in `use_replica()` (a context manager and decorator) or
use `ReplicaReadMixin`. Even then the primary answers when:

- no `replica` database is configured (`DATABASE_REPLICA_URL` unset): the same code runs;
- the code is inside a transaction on the primary (it may have written in it);
- the user wrote something moments ago: `ReplicaPinMiddleware` sets a short-lived cookie on
  every unsafe request (POST, PUT, ...), and while it lasts the mixin reads the primary,
  so a redirect after a save never shows stale figures.

Writes and migrations always go to `default`; the replica is a copy PostgreSQL keeps itself.
"""

from __future__ import annotations

import contextvars
from contextlib import ContextDecorator

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PIN_COOKIE = "crm_pin_primary"

_replica_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "crm_replica_wanted", default=False
)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class use_replica(ContextDecorator):  # noqa: N801 - reads as a statement: `with use_replica():`
    """Send the ORM's reads inside this block (or decorated function) to the replica."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._tokens: list[contextvars.Token] = []

    def __enter__(self):
        self._tokens.append(_replica_wanted.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _replica_wanted.reset(self._tokens.pop())
        return False


def reading_from_replica() -> bool:
    """True when a read made now would go to the replica."""
    return (
        _replica_wanted.get()
        and replica_configured()
        and not connections["default"].in_atomic_block
    )


class ReplicaRouter:
    """Django database router (settings.DATABASE_ROUTERS) for the opt-in replica."""

    def db_for_read(self, model, **hints):
        return REPLICA if reading_from_replica() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both databases hold the same rows: an object read from the replica may be
        # related to one from the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


class ReplicaReadMixin:
    """For read-only views (dashboards, reports): serve GET and HEAD from the replica, unless
    the user wrote something in the last REPLICA_PIN_SECONDS."""

    def dispatch(self, request, *args, **kwargs):
        wanted = request.method in ("GET", "HEAD") and PIN_COOKIE not in request.COOKIES
        with use_replica(wanted):
            response = super().dispatch(request, *args, **kwargs)
            # Template responses render after dispatch returns: render inside the block so
            # the template's lazy querysets read from the same database.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response


class ReplicaPinMiddleware:
    """After an unsafe request, pin the user's reads to the primary for a few seconds
    (REPLICA_PIN_SECONDS, about the worst replication lag you accept)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        seconds = getattr(settings, "REPLICA_PIN_SECONDS", 0)
        if replica_configured() and seconds and request.method not in ("GET", "HEAD", "OPTIONS"):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
