"""Celery tasks of the marketing app: thin, idempotent wrappers that take ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="marketing.tasks.send_customer_email_task", bind=True, max_retries=None)
def send_customer_email_task(self, email_id: int) -> str | None:
    """Send one email written to a customer. A failure is retried after 1, 2, 4...
    EMAIL_RETRY_BASE_SECONDS; the last allowed attempt marks it failed (never dropped)."""
    final = self.request.retries + 1 >= settings.EMAIL_SEND_MAX_ATTEMPTS
    try:
        return services.email_deliver(email_id, final_attempt=final)
    except Exception as exc:
        # throw=False: the retry is queued and this run ends quietly (its failure is
        # recorded on the email); run eagerly (tests, CELERY_TASK_ALWAYS_EAGER) the returned
        # Retry makes Celery run the next attempt at once instead of raising it.
        return self.retry(
            exc=exc, countdown=services.retry_delay(self.request.retries + 1), throw=False
        )


@shared_task(name="marketing.tasks.campaign_start_task")
def campaign_start_task(campaign_id: int) -> int:
    return services.campaign_start(campaign_id=campaign_id)


@shared_task(name="marketing.tasks.campaign_send_batch_task")
def campaign_send_batch_task(campaign_id: int) -> dict:
    """One batch of a campaign; queues the next one after the rate-limit pause."""
    result = services.campaign_send_batch(campaign_id=campaign_id)
    if result["more"]:
        campaign_send_batch_task.apply_async(
            (campaign_id,), countdown=services.batch_interval_seconds()
        )
    return result


@shared_task(name="marketing.tasks.marketing_tick_task")
def marketing_tick_task() -> dict:
    """Start due scheduled campaigns, resume retries, re-queue lost emails (beat)."""
    return services.marketing_tick()
