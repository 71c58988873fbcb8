from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from analytics.demo.generator import SCALES
from analytics.demo.seed import AlreadySeeded, seed_demo


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: S = 10k customers, 100k orders; M = 100k, 1M; "
        "L = 1M, 10M (XS is a tiny set for tests). Also creates the demo users."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="S")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--end-date", help="last day of the data (YYYY-MM-DD); default today")
        parser.add_argument(
            "--reset", action="store_true", help="delete existing demo tables first"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers exist already"
        )

    def handle(self, *args, scale, seed, end_date, reset, if_empty, **options):
        end = parse_date(end_date) if end_date else timezone.localdate()
        if end is None:
            raise CommandError(f"--end-date {end_date!r} is not a date (YYYY-MM-DD)")
        try:
            counts = seed_demo(scale=scale, seed=seed, end=end, reset=reset, log=self.stdout.write)
        except AlreadySeeded:
            if if_empty:
                self.stdout.write("Customers exist already; demo data not loaded again.")
                return
            raise CommandError(
                "The database holds customers already; use --reset to replace them."
            ) from None
        summary = ", ".join(f"{label} {n:,}" for label, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data at scale {scale}: {summary}"))
