from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last sign of life of one Celery worker, written by the worker itself every
    WORKER_HEARTBEAT_INTERVAL seconds; /readyz checks that every queue has a fresh one.

    In the database rather than the broker so that readiness sees a worker that can reach
    the database too, and so that it works on every broker."""

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    queues = models.CharField(_("queues"), max_length=255, help_text=_("Comma-separated."))
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["hostname"]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.queues})"

    @property
    def queue_names(self) -> list[str]:
        return [q for q in self.queues.split(",") if q]
