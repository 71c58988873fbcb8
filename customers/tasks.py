"""Celery tasks of the customers app: thin wrappers around plain functions."""

from celery import shared_task

from . import duplicates


@shared_task(name="customers.similar_names_task", acks_late=True)
def similar_names_task(*, only_if_due: bool = False) -> int | None:
    """Recompute the similar-name pair list (customers.duplicates). Idempotent: a run
    replaces the list in one transaction, so a redelivered task only recomputes it."""
    if only_if_due and not duplicates.refresh_due():
        return None
    return duplicates.refresh_similar_names()
