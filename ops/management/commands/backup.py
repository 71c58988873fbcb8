"""python manage.py backup [--output PATH]"""

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, backup_database


class Command(BaseCommand):
    help = (
        "Back up the database: pg_dump custom format on PostgreSQL, an SQLite copy on SQLite "
        "(default file: BACKUP_DIR/crm-<time>)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: BACKUP_DIR/crm-<time>)")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, output, database, **options):
        try:
            path = backup_database(output=output, alias=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written to {path}"))
