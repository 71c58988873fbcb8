"""python manage.py restore FILE [--database-url URL] [--no-input]"""

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, restore_database


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup`, replacing the database's contents "
        "(or those of --database-url, e.g. a scratch database to check a backup)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="backup file")
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--database-url", default="", help="restore into this database instead")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="do not ask"
        )

    def handle(self, *args, file, database, database_url, interactive, **options):
        target = database_url or f"the '{database}' database"
        if interactive:
            answer = input(f"This replaces everything in {target} with {file}. Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            restore_database(source=file, alias=database, target_url=database_url)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {file} into {target}"))
