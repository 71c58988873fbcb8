"""Recompute the sales report summaries from every order (after data was written around
the services, e.g. by raw SQL or a restore)."""

import time

from django.core.management.base import BaseCommand

from sales import summaries


class Command(BaseCommand):
    help = "Recompute the summary tables the sales reports read from all orders."

    def handle(self, *args, **options):
        started = time.monotonic()
        counts = summaries.rebuild_all()
        self.stdout.write(
            f"sales summaries rebuilt: {counts['days']:,} day rows, "
            f"{counts['products']:,} product-month rows in {time.monotonic() - started:.1f}s"
        )
