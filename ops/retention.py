"""Data retention: what old data is deleted, and after how long.

Each policy is a name, a default number of days and a `purge(cutoff)` function that deletes
what is older than the cutoff and returns how many items went. The nightly
`retention_task` runs them all. The days can be changed per policy with the setting
RETENTION_DAYS (env: RETENTION_DAYS=sessions=0,access_logs=30); 0 keeps nothing older than
now, a negative number switches the policy off.

To add one, from an app's AppConfig.ready():

    from ops.retention import register_model_retention
    register_model_retention("notifications", "notifications.Notification", "created_at",
                             default_days=90, extra={"read": True})

or `register_retention(name, default_days=..., purge=function)` for anything else, and
`register_file_retention(...)` for a folder of files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    default_days: int
    purge: Callable[[datetime], int]
    description: str = ""

    @property
    def days(self) -> int:
        return int(settings.RETENTION_DAYS.get(self.name, self.default_days))


_policies: dict[str, RetentionPolicy] = {}


def register_retention(
    name: str, *, default_days: int, purge: Callable[[datetime], int], description: str = ""
) -> None:
    _policies[name] = RetentionPolicy(name, default_days, purge, description)


def policies() -> list[RetentionPolicy]:
    return sorted(_policies.values(), key=lambda p: p.name)


def register_model_retention(
    name: str,
    model_label: str,
    date_field: str,
    *,
    default_days: int,
    extra: dict | None = None,
    description: str = "",
) -> None:
    """Delete rows of `model_label` whose `date_field` is older than the cutoff (and that
    match `extra`). Skipped quietly while that model is not installed."""

    def purge(cutoff: datetime) -> int:
        try:
            model = apps.get_model(model_label)
        except LookupError:
            return 0
        rows = model._default_manager.filter(**{f"{date_field}__lt": cutoff}, **(extra or {}))
        deleted, _ = rows.delete()
        return deleted

    register_retention(
        name,
        default_days=default_days,
        purge=purge,
        description=description or f"{model_label} by {date_field}",
    )


def register_file_retention(
    name: str, folder: Callable[[], Path], *, default_days: int, pattern: str = "**/*"
) -> None:
    """Delete files under `folder()` last modified before the cutoff."""

    def purge(cutoff: datetime) -> int:
        root = folder()
        if not root.is_dir():
            return 0
        limit = cutoff.timestamp()
        removed = 0
        for path in root.glob(pattern):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    register_retention(
        name, default_days=default_days, purge=purge, description=f"files under {name}"
    )


def run_retention(*, now: datetime | None = None, only: list[str] | None = None) -> dict:
    """Run every policy (or those named in `only`); returns {name: items deleted}.

    One policy's failure is logged and does not stop the others."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    for policy in policies():
        if (only and policy.name not in only) or policy.days < 0:
            continue
        cutoff = now - timedelta(days=policy.days)
        try:
            results[policy.name] = policy.purge(cutoff)
        except Exception:
            logger.exception("retention policy %s failed", policy.name)
            results[policy.name] = -1
        else:
            logger.info(
                "retention: %s deleted %d older than %s",
                policy.name,
                results[policy.name],
                cutoff.isoformat(),
                extra={"policy": policy.name, "deleted": results[policy.name]},
            )
    return results


def _purge_sessions(cutoff: datetime) -> int:
    from django.contrib.sessions.models import Session

    # A session is dead once expired; `cutoff` lets a few days' grace be configured.
    deleted, _ = Session.objects.filter(expire_date__lt=cutoff).delete()
    return deleted


def register_defaults() -> None:
    """The policies for what exists in the project today."""
    register_retention(
        "sessions", default_days=0, purge=_purge_sessions, description="expired sessions"
    )
    register_model_retention(
        "worker_heartbeats",
        "ops.WorkerHeartbeat",
        "seen_at",
        default_days=7,
        description="rows of workers that stopped without saying so",
    )
    # django-axes: login attempts and the access log (who logged in from where).
    register_model_retention(
        "login_attempts", "axes.AccessAttempt", "attempt_time", default_days=30
    )
    register_model_retention("access_logs", "axes.AccessLog", "attempt_time", default_days=180)
    register_model_retention(
        "access_failure_logs", "axes.AccessFailureLog", "attempt_time", default_days=180
    )
    # Uploaded import files are not here: customers.import_files deletes them by batch
    # (IMPORT_FILE_RETENTION_DAYS after the import finished) so the batch page can say so.
    register_file_retention(
        "backups",
        lambda: Path(settings.BACKUP_DIR),
        default_days=14,
        pattern="crm-*",
    )
