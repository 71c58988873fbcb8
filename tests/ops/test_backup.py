"""backup / restore: a round trip gives back every table, row for row.

Runs on the database the suite runs on: pg_dump/pg_restore on PostgreSQL (CI), SQLite's
backup API on SQLite."""

import sqlite3

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from customers.models import Customer
from tests.factories import CustomerFactory, OrderLineFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

IS_PG = connection.vendor == "postgresql"


def _rows(cursor, table: str) -> list:
    cursor.execute(f'SELECT * FROM "{table}"')
    return sorted(cursor.fetchall(), key=repr)


@pytest.fixture
def data():
    user = UserFactory()
    customers = CustomerFactory.create_batch(5, owner=user)
    for customer in customers[:3]:
        OrderLineFactory.create_batch(2, order__customer=customer)
        TicketFactory(customer=customer)
    return customers


@pytest.fixture
def scratch(tmp_path):
    """An empty database to restore into, and a way to read it."""
    if not IS_PG:
        path = tmp_path / "restored.sqlite3"
        # Same type conversion as Django's own connection, so rows compare equal.
        target = sqlite3.connect(
            path, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
        )
        yield f"sqlite:///{path}", target
        target.close()
        return
    params = connection.settings_dict
    name = f"{params['NAME']}_restore"
    dsn = {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
    }
    admin = psycopg2.connect(dbname="postgres", **dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    auth = f"{params['USER']}:{params['PASSWORD']}@" if params["PASSWORD"] else f"{params['USER']}@"
    target = psycopg2.connect(dbname=name, **dsn)
    yield f"postgres://{auth}{params['HOST']}:{params['PORT']}/{name}", target
    target.close()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def test_a_backup_restores_every_table_row_for_row(data, scratch, tmp_path, capsys):
    url, target = scratch
    backup = tmp_path / "crm.backup"
    call_command("backup", output=str(backup))
    assert backup.stat().st_size > 0
    assert "Backup written" in capsys.readouterr().out

    call_command("restore", str(backup), database_url=url, interactive=False)

    tables = connection.introspection.table_names()
    assert {"customers_customer", "sales_order", "service_ticket", "django_migrations"} <= set(
        tables
    )
    with connection.cursor() as source:
        target_cursor = target.cursor()
        for table in tables:
            original = _rows(source, table)
            restored = _rows(target_cursor, table)
            assert len(restored) == len(original), table
            assert restored == original, table
    with connection.cursor() as source:
        assert len(_rows(source, "customers_customer")) == 5


def test_restore_brings_back_what_was_lost(data, tmp_path):
    backup = tmp_path / "crm.backup"
    call_command("backup", output=str(backup))
    Customer.objects.filter(pk=data[4].pk).delete()
    assert Customer.objects.count() == 4

    call_command("restore", str(backup), interactive=False)

    connection.close()
    assert Customer.objects.count() == 5
    assert Customer.objects.filter(pk=data[4].pk, name=data[4].name).exists()


def test_a_file_that_is_no_backup_is_refused_and_changes_nothing(data, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    with pytest.raises(CommandError):
        call_command("restore", str(junk), interactive=False)
    connection.close()
    assert Customer.objects.count() == 5


def test_restore_without_a_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="no such backup file"):
        call_command("restore", str(tmp_path / "missing"), interactive=False)


def test_the_backup_task_writes_into_the_backup_folder(settings, tmp_path, data):
    from ops.tasks import backup_database_task

    settings.BACKUP_DIR = tmp_path / "backups"
    path = backup_database_task.delay().get()
    assert path.startswith(str(tmp_path / "backups" / "crm-"))
    assert not list((tmp_path / "backups").glob("*.partial"))
    settings.BACKUP_SCHEDULE_ENABLED = False
    assert backup_database_task.delay(scheduled=True).get() == ""
