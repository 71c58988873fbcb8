from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: health and readiness, metrics, request ids in logs, worker heartbeats,
    backups and data retention."""

    name = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from django.core.signals import request_finished

        from . import celery_signals, retention
        from .middleware import clear_request_id

        request_finished.connect(clear_request_id, dispatch_uid="ops.clear_request_id")
        celery_signals.connect()
        retention.register_defaults()
