"""Streamed CSV exports: columns, filters, roles, formula escaping, round trip."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from customers.exporting import export_customers
from customers.import_services import run_import
from customers.importing import CUSTOMER_COLUMNS
from customers.models import Customer
from sales.importing import ORDER_COLUMNS
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    TagFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def read(response):
    assert response.streaming, "exports are streamed"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_customer_export_has_the_import_columns_and_escapes_formulas(client_for):
    org = CustomerFactory(external_id="ORG", name="Acme", kind="organisation")
    c = CustomerFactory(
        external_id="C1",
        name='=HYPERLINK("http://evil")',
        organisation=org,
        birth_date=date(1990, 5, 3),
        annual_income=Decimal("1234.50"),
        city="-Dash",
    )
    c.tags.add(TagFactory(name="vip"), TagFactory(name="b2b"))
    rows = read(client_for(Role.MANAGER).get(reverse("customers:customer_export")))
    assert rows[0] == CUSTOMER_COLUMNS
    record = dict(zip(rows[0], next(r for r in rows if r[0] == "C1"), strict=True))
    assert record["name"] == '\'=HYPERLINK("http://evil")'
    assert record["city"] == "'-Dash"
    assert record["organisation_external_id"] == "ORG"
    assert record["birth_date"] == "1990-05-03" and record["annual_income"] == "1234.50"
    assert record["tags"] == "b2b|vip"


def test_export_follows_the_list_filter(client_for):
    CustomerFactory(name="Alice Shanghai", city="Shanghai")
    CustomerFactory(name="Bob Boston", city="Boston")
    rows = read(client_for(Role.MANAGER).get(reverse("customers:customer_export") + "?q=Shanghai"))
    assert [r[1] for r in rows[1:]] == ["Alice Shanghai"]


def test_roles_without_sensitive_fields_get_them_blank(users):
    CustomerFactory(external_id="S1", birth_date=date(1980, 1, 1), annual_income=Decimal("99"))
    rep_rows = list(export_customers(user=users[Role.SALES_REP], params=QueryDict()))
    manager_rows = list(export_customers(user=users[Role.MANAGER], params=QueryDict()))
    b, i = CUSTOMER_COLUMNS.index("birth_date"), CUSTOMER_COLUMNS.index("annual_income")
    assert (rep_rows[0][b], rep_rows[0][i]) == (None, None)
    assert manager_rows[0][b] == date(1980, 1, 1) and manager_rows[0][i] == Decimal("99.00")


@pytest.mark.parametrize(
    "name",
    [
        "customers:customer_export",
        "sales:order_export",
        "sales:deal_export",
        "service:ticket_export",
    ],
)
def test_exports_need_a_role(client, users, name):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse(name)).status_code == 403


def test_reps_and_agents_export_customers_with_an_age_band_instead_of_sensitive_fields(
    client_for,
):
    today = timezone.localdate()
    CustomerFactory(
        external_id="S1",
        birth_date=date(today.year - 35, 1, 1),
        annual_income=Decimal("99000"),
    )
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        rows = read(client_for(role).get(reverse("customers:customer_export")))
        assert rows[0] == [*CUSTOMER_COLUMNS, "age_band"]
        record = dict(zip(rows[0], rows[1], strict=True))
        assert record["external_id"] == "S1"
        assert record["birth_date"] == "" and record["annual_income"] == ""
        assert record["age_band"] == "30-39"
    rows = read(client_for(Role.MANAGER).get(reverse("customers:customer_export")))
    assert rows[0] == CUSTOMER_COLUMNS
    assert rows[1][CUSTOMER_COLUMNS.index("annual_income")] == "99000.00"


def test_customer_export_follows_every_list_filter(client_for):
    CustomerFactory(external_id="L1", lifecycle_stage="lead", city="Leeds")
    CustomerFactory(external_id="L2", lifecycle_stage="customer", city="Leeds")
    CustomerFactory(external_id="L3", lifecycle_stage="lead", city="York")
    url = reverse("customers:customer_export")
    rows = read(client_for(Role.SALES_REP).get(url + "?lifecycle_stage=lead&city=Leeds"))
    assert [r[0] for r in rows[1:]] == ["L1"]


def test_deal_export_by_role_holds_only_visible_deals(client_for, users):
    from tests.sales.factories import make_deal, make_pipeline

    pipeline = make_pipeline("New business")
    rep, peer = users[Role.SALES_REP], users["peer"]
    make_deal(pipeline=pipeline, owner=rep, title="=cmd|calc", customer=CustomerFactory(owner=rep))
    make_deal(pipeline=pipeline, owner=peer, title="Peer deal")
    url = reverse("sales:deal_export")

    rep_rows = read(client_for(Role.SALES_REP).get(url))
    assert rep_rows[0][:4] == ["deal_id", "title", "customer_external_id", "customer_name"]
    assert [r[1] for r in rep_rows[1:]] == ["'=cmd|calc"]  # own deal only, formula escaped
    manager_rows = read(client_for(Role.MANAGER).get(url))
    assert sorted(r[1] for r in manager_rows[1:]) == ["'=cmd|calc", "Peer deal"]
    filtered = read(client_for(Role.MANAGER).get(url + "?q=Peer"))
    assert [r[1] for r in filtered[1:]] == ["Peer deal"]
    # Agents have no access to deals at all (DESIGN.md's role table).
    assert client_for(Role.SUPPORT_AGENT).get(url).status_code == 403


def test_ticket_export_by_role(client_for, users):
    rep = users[Role.SALES_REP]
    TicketFactory(subject="Mine", customer=CustomerFactory(owner=rep))
    TicketFactory(subject="Not mine", customer=CustomerFactory(owner=users["peer"]))
    url = reverse("service:ticket_export")
    assert [r[1] for r in read(client_for(Role.SALES_REP).get(url))[1:]] == ["Mine"]
    agent_rows = read(client_for(Role.SUPPORT_AGENT).get(url))
    assert sorted(r[1] for r in agent_rows[1:]) == ["Mine", "Not mine"]


def test_order_export_for_reps_and_agents_follows_the_list_filter(client_for):
    for ext in ("O1", "O2"):
        order = OrderFactory(external_id=ext, customer=CustomerFactory(external_id=f"C-{ext}"))
        OrderLineFactory(order=order)
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        rows = read(client_for(role).get(reverse("sales:order_export") + "?q=O2"))
        assert [r[0] for r in rows[1:]] == ["O2"]


def test_export_then_import_changes_nothing(client_for, tmp_path, users):
    for i in range(5):
        c = CustomerFactory(external_id=f"R{i}", name=f"Round {i}", phone=f"+1415555{i:04d}")
        c.tags.add(TagFactory(name="t"))
    CustomerFactory(external_id="R9", name="@risky", city="+plus")
    before = sorted(
        Customer.objects.values_list("id", "name", "email", "phone", "city", "tags__name")
    )
    response = client_for(Role.MANAGER).get(reverse("customers:customer_export"))
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(response.streaming_content))
    result = run_import("customers", path, users[Role.MANAGER], commit=True)
    assert (result.create, result.update, result.reject) == (0, 0, 0)
    after = sorted(
        Customer.objects.values_list("id", "name", "email", "phone", "city", "tags__name")
    )
    assert after == before


def test_order_export_is_one_row_per_line(client_for):
    order = OrderFactory(external_id="O1", customer=CustomerFactory(external_id="C1"))
    OrderLineFactory(order=order, quantity=2, product__sku="SKU-A", unit_price=Decimal("3.50"))
    OrderLineFactory(order=order, quantity=1, product__sku="SKU-B", unit_price=Decimal("1.00"))
    rows = read(client_for(Role.MANAGER).get(reverse("sales:order_export")))
    assert rows[0] == ORDER_COLUMNS
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("O1", "C1", "SKU-A", "2", "3.50"),
        ("O1", "C1", "SKU-B", "1", "1.00"),
    ]


def test_ticket_export(client_for):
    TicketFactory(subject="+Broken", customer=CustomerFactory(external_id="C7"))
    rows = read(client_for(Role.ADMIN).get(reverse("service:ticket_export") + "?status=new"))
    assert rows[1][1] == "'+Broken" and rows[1][2] == "C7"
    assert (
        len(read(client_for(Role.ADMIN).get(reverse("service:ticket_export") + "?status=closed")))
        == 1
    )


def test_export_queries_do_not_grow_with_rows(client_for, django_assert_max_num_queries):
    for i in range(40):
        CustomerFactory(external_id=f"Q{i}").tags.add(TagFactory(name=f"tag{i % 3}"))
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(8):
        rows = read(client.get(reverse("customers:customer_export")))
    assert len(rows) == 41


def test_list_pages_show_the_buttons_by_role(client_for):
    manager_page = client_for(Role.MANAGER).get(reverse("customers:customer_list")).content.decode()
    assert reverse("customers:customer_export") in manager_page
    assert reverse("customers:customer_import") in manager_page
    orders_page = client_for(Role.MANAGER).get(reverse("sales:order_list")).content.decode()
    assert reverse("sales:order_export") in orders_page
    tickets_page = client_for(Role.MANAGER).get(reverse("service:ticket_list")).content.decode()
    assert reverse("service:ticket_export") in tickets_page
    rep_page = client_for(Role.SALES_REP).get(reverse("customers:customer_list")).content.decode()
    assert reverse("customers:customer_export") in rep_page
    assert reverse("customers:customer_import") not in rep_page
    deals_page = client_for(Role.SALES_REP).get(reverse("sales:deal_list")).content.decode()
    assert reverse("sales:deal_export") in deals_page
