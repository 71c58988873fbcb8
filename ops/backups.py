"""Database backup and restore: pg_dump's custom format on PostgreSQL, SQLite's online
backup API on SQLite (a consistent copy even while the app writes)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class BackupError(Exception):
    pass


def _is_postgres(db: dict) -> bool:
    return db["ENGINE"] in (
        "django.db.backends.postgresql",
        "django.db.backends.postgresql_psycopg2",
    )


def _pg_args(db: dict) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore, password through the environment
    (never on the command line, where `ps` shows it)."""
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _db_from_url(url: str) -> dict:
    """A settings-style dict for a DATABASE_URL (postgres://... or sqlite:///path)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path) or ":memory:"}
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": parts.port or "",
        }
    raise BackupError(f"unsupported database URL scheme: {parts.scheme}")


def _run(cmd: list[str], env: dict[str, str]) -> None:
    tool = cmd[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (package postgresql-client)")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-2000:]}")


def default_backup_path(alias: str = "default") -> Path:
    db = settings.DATABASES[alias]
    suffix = "dump" if _is_postgres(db) else "sqlite3"
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")  # two backups in a second differ
    return Path(settings.BACKUP_DIR) / f"crm-{stamp}.{suffix}"


def backup_database(*, output: Path | None = None, alias: str = "default") -> Path:
    """Write a backup of the database `alias` to `output` (default: BACKUP_DIR/crm-<time>)."""
    db = settings.DATABASES[alias]
    output = Path(output or default_backup_path(alias))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    if _is_postgres(db):
        args, env = _pg_args(db)
        _run(["pg_dump", "--format=custom", *args, "--file", str(partial), db["NAME"]], env)
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        connection = connections[alias]
        connection.ensure_connection()
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"no backup method for {db['ENGINE']}")
    # Renamed only when complete: a crash never leaves a file that looks like a backup.
    partial.replace(output)
    logger.info("backup written", extra={"path": str(output), "bytes": output.stat().st_size})
    return output


def restore_database(*, source: Path, alias: str = "default", target_url: str = "") -> None:
    """Replace the contents of the database `alias` (or of `target_url`) with a backup.

    PostgreSQL: pg_restore --clean in one transaction, so a failed restore changes nothing.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no such backup file: {source}")
    db = _db_from_url(target_url) if target_url else settings.DATABASES[alias]
    if _is_postgres(db):
        if not target_url:
            connections[alias].close()
        args, env = _pg_args(db)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *args,
                "--dbname",
                db["NAME"],
                str(source),
            ],
            env,
        )
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        with open(source, "rb") as fh:
            if not fh.read(16).startswith(b"SQLite format 3"):
                raise BackupError(f"{source} is not an SQLite backup")
        backup = sqlite3.connect(source)
        try:
            if target_url:
                target = sqlite3.connect(db["NAME"])
                try:
                    backup.backup(target)
                finally:
                    target.close()
            else:
                connection = connections[alias]
                connection.ensure_connection()
                backup.backup(connection.connection)
        finally:
            backup.close()
    else:
        raise BackupError(f"no restore method for {db['ENGINE']}")
    logger.info("backup restored", extra={"path": str(source)})
