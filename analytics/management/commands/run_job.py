import json

from django.core.management.base import BaseCommand, CommandError

from analytics.choices import JobKind
from analytics.services import JobAlreadyActive, execute_job_run, start_job


class Command(BaseCommand):
    help = "Run an analytics job: queue it for the Celery worker, or run it here with --sync."
    # A batch command (beat, the benchmark): the project's checks run in CI and on deploy,
    # not on every nightly start, where they would add a second to each job.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[k.value for k in JobKind])
        parser.add_argument(
            "--sync", action="store_true", help="Run in this process and wait for the result."
        )

    def handle(self, *args, kind, sync, **options):
        try:
            run = start_job(kind=kind, user=None, enqueue=not sync)
        except JobAlreadyActive as exc:
            raise CommandError(
                f"A {kind} job is already {exc.run.status} (run {exc.run.pk}); try again later."
            ) from None
        if not sync:
            self.stdout.write(f"Queued {kind} as run {run.pk}.")
            return
        run = execute_job_run(job_run_id=run.pk)
        self.stdout.write(
            f"{kind}: {run.status} in {run.duration_seconds:.1f}s, "
            f"peak memory {run.peak_memory_mb or 0:.0f} MB (run {run.pk})"
        )
        if run.message:
            self.stdout.write(run.message)
        self.stdout.write(json.dumps(run.metrics, indent=2, default=str))
        if run.status == "failed":
            raise CommandError(f"{kind} failed")
