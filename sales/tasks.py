"""Thin Celery wrappers around sales services."""

from celery import shared_task

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
