"""Celery tasks of the import flow: thin wrappers that take a batch id (see import_services).

Each is idempotent: the service checks the batch's status under a row lock, so a task that
is delivered again after a lost worker does nothing the second time.
"""

from celery import shared_task

from . import import_services


@shared_task(name="customers.import_preview_task")
def import_preview_task(batch_id: int) -> None:
    import_services.batch_preview(batch_id=batch_id)


@shared_task(name="customers.import_commit_task")
def import_commit_task(batch_id: int) -> None:
    import_services.batch_commit(batch_id=batch_id)


@shared_task(name="customers.import_undo_task")
def import_undo_task(batch_id: int) -> None:
    import_services.batch_undo(batch_id=batch_id)
