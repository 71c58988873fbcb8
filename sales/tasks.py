"""Thin Celery wrappers around sales services."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True)
def send_task_reminders_task() -> int:
    """Remind assignees of due tasks (beat, every few minutes). Safe to run twice at once:
    each reminder is claimed by a conditional update before it is sent."""
    return services.send_due_task_reminders()


@shared_task(acks_late=True)
def rebuild_sales_summaries_task() -> dict:
    """Recompute the report summaries from all orders (beat, nightly): the safety net for
    writes that went around the services. Idempotent; a rerun gives the same rows."""
    from . import summaries

    return summaries.rebuild_all()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_customer_summaries_task(customer_ids: list[int]) -> None:
    """Recompute the report summaries of these customers' orders after they changed owner.
    Idempotent: it recomputes from the orders as they are when it runs."""
    from . import summaries

    summaries.refresh_customers(customer_ids)
