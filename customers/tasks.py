"""Celery tasks of the customers app: thin wrappers around plain functions."""

from celery import shared_task

from . import duplicates, import_files, privacy


@shared_task(name="customers.similar_names_task", acks_late=True)
def similar_names_task(*, only_if_due: bool = False) -> int | None:
    """Recompute the similar-name pair list (customers.duplicates). Idempotent: a run
    replaces the list in one transaction, so a redelivered task only recomputes it."""
    if only_if_due and not duplicates.refresh_due():
        return None
    return duplicates.refresh_similar_names()


@shared_task(name="customers.import_files_retention_task", acks_late=True)
def import_files_retention_task() -> dict[str, int]:
    """Delete the stored files of imports finished more than IMPORT_FILE_RETENTION_DAYS
    ago (customers.import_files). Idempotent: a deleted file is not deleted again."""
    return import_files.expire_import_files()


@shared_task(name="customers.erasure_import_files_task", acks_late=True)
def erasure_import_files_task(
    record_id: int, external_id: str, email: str, phone: str
) -> dict[str, int]:
    """Remove an erased customer's rows from the stored import files (customers.privacy).
    The values come as arguments because the database no longer holds them; the task logs
    and returns only counts. Idempotent: a second run finds no rows left to remove."""
    person = import_files.Person(external_id=external_id, email=email, phone=phone)
    return privacy.scrub_import_files(record_id=record_id, person=person)
