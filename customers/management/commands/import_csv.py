"""python manage.py import_csv customers|orders|products FILE [--commit] [--user NAME]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.importing import importer_kinds
from customers.import_services import run_import


class Command(BaseCommand):
    help = (
        "Check a CSV file and print what importing it would do; with --commit, write it in "
        "one transaction as an import batch that can be undone in the app."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=importer_kinds())
        parser.add_argument("file")
        parser.add_argument("--commit", action="store_true", help="write the accepted rows")
        parser.add_argument("--user", default="", help="user name recorded on the batch")

    def handle(self, *args, kind, file, commit, user, **options):
        who = None
        if user:
            who = get_user_model()._default_manager.filter(username=user).first()
            if who is None:
                raise CommandError(f"No user is called {user!r}.")
        summary = run_import(kind, file, who, commit=commit)
        if summary.message:
            raise CommandError(summary.lines()[0])
        for line in summary.lines():
            self.stdout.write(line)
