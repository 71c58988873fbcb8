"""Celery wrappers around analytics.services (thin: ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from .choices import JobKind


@shared_task(name="analytics.tasks.run_job_task", acks_late=True, reject_on_worker_lost=True)
def run_job_task(job_run_id: int) -> str:
    """Run one queued JobRun. Late acknowledgement: a worker killed mid-run gets the message
    again, and execute_job_run picks the run up again (its writer is all-or-nothing)."""
    from .services import execute_job_run

    return execute_job_run(job_run_id=job_run_id).status


@shared_task(name="analytics.tasks.scheduled_job_task", acks_late=True)
def scheduled_job_task(kind: str) -> str:
    """Beat's nightly entry: queue and run a job of `kind` here, unless one is already active."""
    from .services import JobAlreadyActive, execute_job_run, start_job

    try:
        run = start_job(kind=JobKind(kind).value, user=None, enqueue=False)
    except JobAlreadyActive:
        return "skipped"
    return execute_job_run(job_run_id=run.pk).status
