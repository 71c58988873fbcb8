from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

# The webhook tasks live beside the rest of the webhook code; imported here so that
# autodiscovery registers them.
from .api.webhooks import deliver_webhook_task, retry_stuck_webhooks_task  # noqa: F401


@shared_task(name="crm.tasks.clear_expired_sessions_task")
def clear_expired_sessions_task() -> int:
    """Delete expired sessions; returns how many were removed."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
