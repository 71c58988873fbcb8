"""The import baseline (raw COPY into a bare table) and the CSV export of the seeded data."""

import csv
import io
from pathlib import Path

import pytest
from django.db import connection

from bench.import_worker import call_arguments
from bench.imports import COLUMNS, EXPORT_SQL, FLOOR_TABLES, copy_baseline, file_rows, table_floor
from tests.factories import CustomerFactory, OrderLineFactory, TagFactory

# The contract's columns (DESIGN.md, Contracts, CSV files).
CONTRACT = {
    "customers": "external_id,name,kind,email,phone,street,city,region,postal_code,country,"
    "birth_date,gender,annual_income,education,organisation_external_id,owner_username,"
    "lifecycle_stage,tags",
    "orders": "order_external_id,customer_external_id,ordered_at,product_sku,quantity,unit_price",
}

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's; the suite runs there in CI"
)


def test_bare_table_columns_are_the_contract_columns():
    for kind, header in CONTRACT.items():
        assert ",".join(name for name, _ in COLUMNS[kind]) == header


def _tiny_orders_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        CONTRACT["orders"] + "\n"
        "ORD-1,C1,2025-03-01 10:00:00+00,SKU-1,2,9.99\n"
        'ORD-1,C1,2025-03-01 10:00:00+00,"SKU,2",1,100.00\n'
        "ORD-2,C2,2025-03-02 11:30:00+00,SKU-1,5,0.50\n",
        encoding="utf-8",
    )
    return path


def test_file_rows_counts_records_not_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('a,b\n1,"two\nlines"\n3,4\n', encoding="utf-8")
    assert file_rows(path) == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_copy_baseline_loads_the_file_and_drops_its_table(tmp_path):
    path = _tiny_orders_file(tmp_path)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg2 connection under Django's wrapper
    rows, seconds = copy_baseline(raw, kind="orders", path=path, table="bench_copy_test")
    assert rows == 3
    assert seconds > 0
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_copy_test')")
        assert cur.fetchone()[0] is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_copy_baseline_rejects_a_bad_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CONTRACT["orders"] + "\nORD-1,C1,not a date,SKU-1,2,9.99\n", encoding="utf-8")
    connection.ensure_connection()
    with pytest.raises(Exception, match="timestamp"):
        copy_baseline(connection.connection, kind="orders", path=path, table="bench_copy_bad")
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_copy_bad')")
        assert cur.fetchone()[0] is None


@postgres_only
@pytest.mark.django_db
def test_export_queries_write_the_contract_columns():
    org = CustomerFactory(external_id="ORG-1", kind="organisation", name="Acme")
    line = OrderLineFactory(
        order__external_id="ORD-9",
        order__customer__external_id="C9",
        order__customer__organisation=org,
        quantity=3,
    )
    order, customer = line.order, line.order.customer
    customer.tags.add(TagFactory(name="vip"), TagFactory(name="b2b"))
    for kind, query in EXPORT_SQL.items():
        out = io.StringIO()
        with connection.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            cur.cursor.copy_expert(
                f"COPY ({query.format(limit=10)}) TO STDOUT WITH (FORMAT csv, HEADER true)", out
            )
        records = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert ",".join(records[0].keys()) == CONTRACT[kind]
        if kind == "orders":
            assert records == [
                {
                    "order_external_id": order.external_id,
                    "customer_external_id": customer.external_id,
                    "ordered_at": records[0]["ordered_at"],
                    "product_sku": line.product.sku,
                    "quantity": str(line.quantity),
                    "unit_price": f"{line.unit_price:.2f}",
                }
            ]
        else:
            # Organisations first, so their contacts can refer to them.
            assert [r["external_id"] for r in records] == ["ORG-1", "C9"]
            assert records[1]["organisation_external_id"] == "ORG-1"
            assert records[1]["tags"] == "b2b|vip"
            assert records[1]["email"] == customer.email


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_table_floor_inserts_the_stored_rows_again_and_leaves_them_as_they_were():
    lines = [OrderLineFactory(quantity=q) for q in (1, 2, 3)]
    lines.append(OrderLineFactory(order=lines[0].order, quantity=4))

    def stored():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, order_id, product_id, quantity FROM sales_orderline ORDER BY id"
            )
            line_rows = cur.fetchall()
            cur.execute("SELECT id, external_id, customer_id, total FROM sales_order ORDER BY id")
            return line_rows, cur.fetchall()

    before = stored()
    connection.ensure_connection()
    rows, seconds = table_floor(connection.connection, FLOOR_TABLES["orders"])
    assert rows == 3  # the orders, the first table
    assert seconds > 0
    assert stored() == before
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_floor_sales_order')")
        assert cur.fetchone()[0] is None


def test_importer_arguments_are_mapped_by_name():
    def run_import(kind, path, user, commit=False, *, encoding="utf-8"):
        pass

    args, kwargs = call_arguments(run_import, kind="orders", path="/f.csv", user="u")
    assert args == []
    assert kwargs == {"kind": "orders", "path": "/f.csv", "user": "u", "commit": True}

    def other(*, file, by, dry_run=False):
        pass

    assert call_arguments(other, kind="orders", path="/f.csv", user="u") == (
        [],
        {"file": "/f.csv", "by": "u"},
    )


def test_importer_with_a_parameter_we_cannot_supply_is_reported():
    def run_import(kind, path, user, mapping):
        pass

    with pytest.raises(TypeError, match="mapping"):
        call_arguments(run_import, kind="orders", path="/f.csv", user="u")
