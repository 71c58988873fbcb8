"""Trigram GIN indexes for the customer search, on PostgreSQL only.

The list page searches with `icontains`, which Django turns into
`UPPER(col::text) LIKE UPPER('%term%')`; these expression indexes are built on exactly that
expression so PostgreSQL answers a search over 100k+ customers with a bitmap index scan
instead of reading the whole table. SQLite (the embedded default) has no pg_trgm and gets
nothing: its tables are small.
"""

from django.db import migrations

COLUMNS = ("name", "email", "phone", "city")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm ON customers_customer "
            f"USING gin ((UPPER(({column})::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_lifecycle_history_saved_views_merges"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
