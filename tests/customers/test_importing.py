"""The customer importer through the real database: counts, matching, idempotence, undo."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from crm.importing import get_importer
from customers.import_models import ImportBatch, ImportRecord, ImportStatus
from customers.import_services import run_import, undo_now
from customers.models import Customer, Tag
from tests.customers.import_files import customer_row, to_csv
from tests.factories import CustomerFactory, OrderFactory, TagFactory

pytestmark = pytest.mark.django_db

# Bad rows, one kind per entry: (column, bad values for customer_row, reason fragment).
BAD_KINDS = [
    ("email", {"email": "not-an-email"}, "not a valid email"),
    ("phone", {"phone": "12"}, "phone number"),
    ("birth_date", {"birth_date": "31/31/1990"}, "not a date"),
    ("birth_date", {"birth_date": "2999-01-01"}, "Later than"),
    ("birth_date", {"birth_date": "1850-01-01"}, "Earlier than"),
    ("gender", {"gender": "robot"}, "not a known gender"),
    ("education", {"education": "kindergarten"}, "education"),
    ("annual_income", {"annual_income": "lots"}, "not a number"),
    ("annual_income", {"annual_income": "-5"}, "negative"),
    ("annual_income", {"annual_income": "1.234"}, "decimal places"),
    ("annual_income", {"annual_income": "1" * 20}, "too large"),
    ("kind", {"kind": "alien"}, "not one of"),
    ("lifecycle_stage", {"lifecycle_stage": "vip"}, "not one of"),
    ("country", {"country": "USA"}, "two-letter"),
    ("owner_username", {"owner_username": "nobody"}, "No active user"),
    ("organisation_external_id", {"organisation_external_id": "NOORG"}, "No organisation"),
    ("name", {"name": "x" * 201}, "Longer than 200"),
    ("name", {"name": ""}, "name is required"),
    ("tags", {"tags": "t" * 51}, "longer than 50"),
]


NEW = 6900
REJECTS = 50 * len(BAD_KINDS) + 50


def snapshot():
    """Every stored value of the tables an import touches, for exact comparisons."""
    customers = {c["id"]: c for c in Customer.objects.values()}
    links = sorted(Customer.tags.through.objects.values_list("id", "customer_id", "tag_id"))
    tags = sorted(Tag.objects.values_list("id", "name"))
    return customers, links, tags


@pytest.fixture
def stored(users):
    """Stored customers that the big file matches in each way."""
    by_ext = [
        Customer(external_id=f"E{i:04d}", name=f"Stored {i}", city="Old", country="US")
        for i in range(1000)
    ]
    by_email = [
        Customer(name=f"Mail {i}", email=f"m{i}@example.com", city="Old") for i in range(200)
    ]
    by_phone = [
        Customer(name=f"Phone {i}", phone=f"+1212555{i:04d}", city="Old") for i in range(100)
    ]
    same = [
        Customer(external_id=f"U{i:04d}", name=f"Same {i}", city="Same", country="US")
        for i in range(300)
    ]
    Customer.objects.bulk_create(by_ext + by_email + by_phone + same)
    org = CustomerFactory(
        external_id="ORG-1", kind="organisation", name="Acme Ltd", email="", phone=""
    )
    vip = TagFactory(name="vip")
    Customer.objects.get(external_id="E0000").tags.add(vip)
    return {"org": org, "manager": users["manager"]}


def big_file():
    """10,000 rows: 6,900 new (500 of them repeated), 1,300 updates by external_id, email
    and phone, 300 unchanged, 50 rejects of each kind in BAD_KINDS (950 rows) and 50 rows
    with the wrong number of fields."""
    rows = []
    for i in range(NEW):
        rows.append(
            customer_row(
                external_id=f"N{i:05d}",
                name=f"New Person {i}",
                email=f"n{i}@example.com",
                phone=f"(415) 555-{i:04d}",
                city="Shanghai" if i % 2 else "Boston",
                country="CN" if i % 2 else "US",
                birth_date="1990-05-03" if i % 3 else "03.05.1985",
                gender="F" if i % 2 else "男",
                annual_income="12,345.50" if i % 5 == 0 else "",
                education="bachelors" if i % 4 == 0 else "",
                organisation_external_id="ORG-1" if i % 10 == 0 else "",
                owner_username="manager" if i % 7 == 0 else "",
                lifecycle_stage="customer",
                tags="VIP; wholesale" if i % 9 == 0 else "",
            )
        )
    for i in range(500):  # repeats of new rows, collapsed into the first
        rows.append(customer_row(external_id=f"N{i:05d}", street=f"{i} Repeat Street"))
    for i in range(1000):
        rows.append(customer_row(external_id=f"E{i:04d}", name=f"Stored {i}", city="New"))
    for i in range(200):
        rows.append(customer_row(email=f"M{i}@Example.com", city="New"))
    for i in range(100):
        rows.append(customer_row(phone=f"212-555-{i:04d}", city="New"))
    for i in range(300):
        rows.append(customer_row(external_id=f"U{i:04d}", name=f"Same {i}", city="Same"))
    n = 0
    for _column, values, _reason in BAD_KINDS:
        for _ in range(50):
            base = {"external_id": f"BAD{n:05d}", "name": f"Bad {n}"}
            base.update(values)
            rows.append(customer_row(**base))
            n += 1
    malformed = [f"MAL{i},only two fields\n" for i in range(50)]
    assert len(rows) + len(malformed) == 10_000
    return to_csv(rows, extra_lines=malformed)


def test_ten_thousand_rows_give_exactly_the_expected_counts(tmp_path, stored):
    path = tmp_path / "customers.csv"
    path.write_text(big_file(), encoding="utf-8")
    before = Customer.objects.count()

    importer = get_importer("customers")
    plan = importer.plan(importer.read(path), user=stored["manager"])
    summary = plan.summary()
    assert summary == {
        "rows": 10_000,
        "create": NEW,
        "update": 1300,
        "unchanged": 300,
        "reject": REJECTS,
        "collapsed": 500,
    }
    # Every bad row is rejected at its own column with a reason naming the problem.
    rejects = plan.rejects
    first_bad_row = 2 + NEW + 500 + 1000 + 200 + 100 + 300
    for k, (column, _values, reason) in enumerate(BAD_KINDS):
        rows = range(first_bad_row + 50 * k, first_bad_row + 50 * (k + 1))
        mine = rejects[rejects["row"].isin(rows)]
        assert set(mine["row"]) == set(rows), column
        assert (mine["column"] == column).all(), column
        assert mine["reason"].str.contains(reason, case=False, regex=False).all(), (column, reason)
    malformed = rejects[rejects["row"] >= first_bad_row + 50 * len(BAD_KINDS)]
    assert len(malformed) == 50
    assert malformed["reason"].str.startswith("Expected 18 fields, found 2").all()

    result = run_import("customers", path, stored["manager"], commit=True)
    assert (result.create, result.update, result.reject) == (NEW, 1300, REJECTS)
    assert Customer.objects.count() == before + NEW
    assert Customer.objects.filter(city="New").count() == 1300
    new = Customer.objects.get(external_id="N00000")
    assert new.email == "n0@example.com"
    assert new.phone == "+14155550000"
    assert new.birth_date == date(1985, 5, 3)
    assert new.gender == "male"
    assert new.annual_income == Decimal("12345.50")
    assert new.education == "bachelor"
    assert new.organisation == stored["org"]
    assert new.owner == stored["manager"]
    assert new.street == "0 Repeat Street"  # the repeat's value merged in
    assert new.source == "import"
    assert set(new.tags.values_list("name", flat=True)) == {"vip", "wholesale"}
    assert Customer.objects.get(external_id="N00001").phone == "+864155550001"
    # Matched by email and phone: no new row, the stored one changed.
    assert Customer.objects.get(email="m7@example.com").city == "New"
    assert Customer.objects.get(phone="+12125550007").city == "New"


def test_importing_the_same_file_twice_creates_nothing_new(tmp_path, stored):
    path = tmp_path / "customers.csv"
    path.write_text(big_file(), encoding="utf-8")
    run_import("customers", path, stored["manager"], commit=True)
    after_first = snapshot()

    second = run_import("customers", path, stored["manager"], commit=True)

    assert (second.create, second.update) == (0, 0)
    assert second.unchanged == NEW + 1300 + 300
    customers, links, tags = snapshot()
    assert len(customers) == len(after_first[0])
    assert links == after_first[1] and tags == after_first[2]


def test_undo_restores_the_database_exactly(tmp_path, stored):
    before = snapshot()
    path = tmp_path / "customers.csv"
    path.write_text(big_file(), encoding="utf-8")
    result = run_import("customers", path, stored["manager"], commit=True)
    assert snapshot() != before

    batch = undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=stored["manager"])

    assert batch.status == ImportStatus.UNDONE
    assert batch.undone_by == stored["manager"] and batch.undone_at is not None
    assert snapshot() == before
    assert not ImportRecord.objects.filter(batch=batch).exists()


def test_undo_is_refused_when_later_data_uses_the_created_rows(tmp_path, users):
    path = tmp_path / "c.csv"
    path.write_text(to_csv([customer_row(external_id="X1", name="Xavier")]))
    result = run_import("customers", path, users["manager"], commit=True)
    OrderFactory(customer=Customer.objects.get(external_id="X1"))

    batch = undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=users["manager"])

    assert batch.status == ImportStatus.COMMITTED
    assert "order" in batch.message
    assert Customer.objects.filter(external_id="X1").exists()


def test_only_the_latest_batch_of_a_kind_can_be_undone(tmp_path, users):
    path = tmp_path / "c.csv"
    path.write_text(to_csv([customer_row(external_id="X1", name="One")]))
    first = run_import("customers", path, users["manager"], commit=True)
    path.write_text(to_csv([customer_row(external_id="X1", name="Two")]))
    second = run_import("customers", path, users["manager"], commit=True)

    from customers.import_services import ImportError_

    with pytest.raises(ImportError_):
        undo_now(batch=ImportBatch.objects.get(pk=first.batch_id), user=users["manager"])
    undo_now(batch=ImportBatch.objects.get(pk=second.batch_id), user=users["manager"])
    assert Customer.objects.get(external_id="X1").name == "One"
    undo_now(batch=ImportBatch.objects.get(pk=first.batch_id), user=users["manager"])
    assert not Customer.objects.filter(external_id="X1").exists()


def test_matching_rules_refuse_to_guess(tmp_path, users):
    CustomerFactory(external_id="A1", email="shared@example.com", phone="+14155550123")
    CustomerFactory(email="twice@example.com")
    CustomerFactory(email="twice@example.com")
    rows = [
        # Email of a customer with a different external ID: rejected, not merged.
        customer_row(external_id="B1", name="B", email="shared@example.com"),
        # Email held by two stored customers: ambiguous.
        customer_row(name="C", email="twice@example.com"),
        # Two rows of the file reaching the same stored customer.
        customer_row(external_id="A1", name="A"),
        customer_row(name="A again", phone="(415) 555-0123"),
    ]
    path = tmp_path / "c.csv"
    path.write_text(to_csv(rows))
    importer = get_importer("customers")
    plan = importer.plan(importer.read(path), user=None)
    reasons = dict(zip(plan.rejects["row"], plan.rejects["reason"], strict=True))
    assert "external ID “A1”" in reasons[2]
    assert "Several stored customers" in reasons[3]
    assert "same stored customer as row 4" in reasons[5]
    assert list(plan.updates["external_id"]) == ["A1"] and len(plan.creates) == 0


def test_contacts_may_point_at_an_organisation_created_by_the_same_file(tmp_path):
    rows = [
        customer_row(external_id="P1", name="Pat", organisation_external_id="O1"),
        customer_row(external_id="O1", name="Org One", kind="Company"),
    ]
    path = tmp_path / "c.csv"
    path.write_text(to_csv(rows))
    result = run_import("customers", path, None, commit=True)
    assert result.create == 2
    assert Customer.objects.get(external_id="P1").organisation.external_id == "O1"


def test_empty_cells_keep_stored_values_and_tags_are_added(tmp_path):
    c = CustomerFactory(external_id="K1", name="Kim", email="kim@example.com", city="Paris")
    c.tags.add(TagFactory(name="old"))
    path = tmp_path / "c.csv"
    path.write_text(to_csv([customer_row(external_id="K1", city="Lyon", tags="new")]))
    run_import("customers", path, None, commit=True)
    c.refresh_from_db()
    assert (c.name, c.email, c.city) == ("Kim", "kim@example.com", "Lyon")
    assert set(c.tags.values_list("name", flat=True)) == {"old", "new"}


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("gbk", b""), ("gb18030", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("latin-1", b"")],
)
def test_encodings_import_correctly(tmp_path, encoding, bom):
    name = "张伟" if encoding.startswith("gb") or encoding == "utf-8" else "Müller Żak"[:6]
    city = "上海" if encoding.startswith("gb") or encoding == "utf-8" else "Köln"
    if encoding == "latin-1":
        name, city = "José Müller", "Köln"
    text = (
        to_csv([customer_row(external_id="G1", name=name, city=city, gender="女")])
        if encoding != "latin-1"
        else to_csv([customer_row(external_id="G1", name=name, city=city, gender="f")])
    )
    path = tmp_path / "c.csv"
    path.write_bytes(bom + text.encode(encoding))
    result = run_import("customers", path, None, commit=True)
    assert result.message == "" and result.create == 1
    c = Customer.objects.get(external_id="G1")
    assert (c.name, c.city, c.gender) == (name, city, "female")


def test_semicolons_and_quoted_newlines(tmp_path):
    text = 'external_id;name;street;annual_income\nS1;"Smith; John";"1 Main St\nApt 2";"1.234,50"\n'
    path = tmp_path / "c.csv"
    path.write_text(text)
    result = run_import("customers", path, None, commit=True)
    assert result.create == 1, result.rejects
    c = Customer.objects.get(external_id="S1")
    assert (c.name, c.street, c.annual_income) == (
        "Smith; John",
        "1 Main St\nApt 2",
        Decimal("1234.50"),
    )


def test_command_line_summary(tmp_path, users, capsys):
    from django.core.management import call_command

    path = tmp_path / "c.csv"
    path.write_text(
        to_csv([customer_row(external_id="Q1", name="Quinn"), customer_row(name="R", email="bad")])
    )
    call_command("import_csv", "customers", str(path))
    out = capsys.readouterr().out
    assert "2 rows · 1 to create" in out and "Row 3 rejected" in out and "dry run" in out
    assert not Customer.objects.filter(external_id="Q1").exists()
    call_command("import_csv", "customers", str(path), "--commit", "--user", "manager")
    out = capsys.readouterr().out
    assert "Committed as batch" in out
    assert Customer.objects.filter(external_id="Q1").exists()
    assert ImportBatch.objects.get().committed_by == users["manager"]


def test_command_reports_a_bad_file_without_a_traceback(tmp_path, capsys):
    from django.core.management import CommandError, call_command

    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(CommandError, match="Excel"):
        call_command("import_csv", "customers", str(path))


def test_postgres_writes_use_copy_and_set_based_sql(tmp_path, django_assert_max_num_queries):
    """The write is a fixed number of statements whatever the row count."""
    rows = [customer_row(external_id=f"Z{i}", name=f"Z {i}", tags="a|b") for i in range(300)]
    path = tmp_path / "c.csv"
    path.write_text(to_csv(rows))
    with django_assert_max_num_queries(40):
        run_import("customers", path, None, commit=True)
    rows = [customer_row(external_id=f"Z{i}", name=f"Zed {i}") for i in range(300)]
    path.write_text(to_csv(rows))
    with django_assert_max_num_queries(40):
        result = run_import("customers", path, None, commit=True)
    assert result.update == 300
    assert connection.vendor in ("sqlite", "postgresql")
