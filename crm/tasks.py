from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(name="crm.tasks.clear_expired_sessions_task")
def clear_expired_sessions_task() -> int:
    """Delete expired sessions; returns how many were removed."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
