"""python manage.py run_retention [--policy NAME ...] [--list]"""

from django.core.management.base import BaseCommand

from ops.retention import policies, run_retention


class Command(BaseCommand):
    help = "Delete data older than its retention period (what the nightly job does)."

    def add_arguments(self, parser):
        parser.add_argument("--policy", action="append", help="run only this policy")
        parser.add_argument(
            "--list", action="store_true", dest="list_only", help="list the policies and stop"
        )

    def handle(self, *args, policy, list_only, **options):
        if list_only:
            for p in policies():
                state = f"{p.days} days" if p.days >= 0 else "off"
                self.stdout.write(f"{p.name:22} {state:10} {p.description}")
            return
        for name, deleted in run_retention(only=policy).items():
            self.stdout.write(f"{name}: {'FAILED' if deleted < 0 else deleted}")
