"""Personal data of one customer: the export holds what every app stores about them; the
erasure removes their personal values from every table (history included), keeps orders
and amounts, and only admins may do it."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from analytics.models import CustomerScore
from crm.roles import Role
from customers.import_services import run_import
from customers.models import Customer, ErasureRecord, Interaction
from sales.models import Order, OrderLine
from service.models import Ticket, TicketComment
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    OrderLineFactory,
    TicketFactory,
)
from tests.sales.factories import TaskFactory, make_deal, make_pipeline
from tests.service.factories import FeedbackFactory, TicketCommentFactory

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN

EMAIL = "zelda.quill@example.org"
PHONE = "+14155550987"
NAME = "Zelda Quillfeather"


@pytest.fixture
def person(users, tmp_path: Path):
    """A customer with data in every app, changed by an import (so undo records and the
    import's preview hold her values) and edited (so history holds them)."""
    customer = CustomerFactory(
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        owner=users[R],
        external_id="ZQ1",
        street="1 Quill Lane",
        city="Inkwell",
        birth_date=timezone.localdate().replace(year=1980),
        annual_income=Decimal("88000.00"),
        marketing_consent=True,
        consent_method="web_form",
        consent_at=timezone.now(),
    )
    InteractionFactory(customer=customer, subject="Call with Zelda", body=f"Reach her at {PHONE}")
    order = OrderFactory(customer=customer, total=Decimal("42.00"))
    OrderLineFactory(order=order, quantity=2, unit_price=Decimal("21.00"))
    make_deal(pipeline=make_pipeline("Privacy"), owner=users[R], customer=customer, title="Quills")
    TaskFactory(customer=customer, assignee=users[R], notes=f"Email {EMAIL}")
    ticket = TicketFactory(customer=customer, subject="Refund", problem=f"Write to {EMAIL}")
    TicketCommentFactory(ticket=ticket, body=f"Called {PHONE}")
    FeedbackFactory(customer=customer, ticket=ticket, comment=f"Zelda here, {EMAIL}")
    CustomerScore.objects.create(customer=customer, frequency=1, monetary=Decimal("42.00"))
    customer.occupation = "Scribe"
    customer.save()
    path = tmp_path / "update.csv"
    path.write_text(
        "external_id,name,kind,email,phone,street,city,region,postal_code,country,birth_date,"
        "gender,annual_income,education,organisation_external_id,owner_username,"
        "lifecycle_stage,tags\nZQ1,,,,,,Quillton,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    assert run_import("customers", path, users[M], commit=True).update == 1
    customer.refresh_from_db()
    return customer


def _export(client, customer):
    response = client.get(reverse("customers:customer_personal_data", args=[customer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_holds_the_customers_data_from_every_app(client_for, person):
    archive = _export(client_for(M), person)
    data = json.loads(archive.read("data.json"))
    sections = data["sections"]
    assert sections["customer"][0]["email"] == EMAIL
    assert sections["customer"][0]["annual_income"] == "88000.00"
    assert sections["customer"][0]["marketing_consent"] is True
    assert sections["interactions"][0]["subject"] == "Call with Zelda"
    assert sections["orders"][0]["total"] == "42.00"
    assert sections["order_lines"][0]["quantity"] == 2
    assert sections["deals"][0]["title"] == "Quills"
    assert sections["tasks"][0]["notes"] == f"Email {EMAIL}"
    assert sections["tickets"][0]["subject"] == "Refund"
    assert sections["ticket_comments"][0]["body"] == f"Called {PHONE}"
    assert EMAIL in sections["feedback"][0]["comment"]
    assert sections["scores"][0]["monetary"] == "42.00"
    assert len(sections["customer_history"]) >= 3  # created, edited, imported
    names = set(archive.namelist())
    assert {"data.json", "customer.csv", "orders.csv", "tickets.csv"} <= names
    assert EMAIL in archive.read("customer.csv").decode("utf-8-sig")


@pytest.mark.parametrize("role", [R, A])
def test_export_is_for_managers_and_admins_only(client_for, person, role):
    url = reverse("customers:customer_personal_data", args=[person.pk])
    assert client_for(role).get(url).status_code == 403
    assert client_for(AD).get(url).status_code == 200


def _tables_containing(*needles: str) -> dict[str, int]:
    """{table: rows} of every table in the database whose text holds one of the needles."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            q = connection.ops.quote_name
            where = " OR ".join(f"CAST({q(c)} AS TEXT) LIKE %s" for c in columns for _ in needles)
            params = [f"%{n}%" for _c in columns for n in needles]
            cursor.execute(f"SELECT COUNT(*) FROM {q(table)} WHERE {where}", params)  # noqa: S608
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


def test_erasure_removes_the_personal_values_everywhere_and_keeps_the_orders(
    client_for, users, person
):
    assert "customers_historicalcustomer" in _tables_containing(EMAIL)  # the test can fail
    client = client_for(AD)
    url = reverse("customers:customer_erase", args=[person.pk])
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"confirm_name": "Somebody Else"})
    assert wrong.status_code == 400
    assert "This is not the customer" in wrong.content.decode()
    assert Customer.objects.get(pk=person.pk).email == EMAIL
    totals_before = list(Order.objects.filter(customer=person).values_list("total", flat=True))

    response = client.post(url, {"confirm_name": NAME.lower()})
    assert response.status_code == 302

    assert _tables_containing(EMAIL, PHONE, NAME, "1 Quill Lane") == {}
    person.refresh_from_db()
    assert person.name == f"Erased customer #{person.pk}"
    assert (person.email, person.phone, person.birth_date, person.annual_income) == (
        "",
        "",
        None,
        None,
    )
    assert not person.marketing_consent
    assert list(Order.objects.filter(customer=person).values_list("total", flat=True)) == (
        totals_before
    )
    assert OrderLine.objects.filter(order__customer=person).count() == 1
    assert Ticket.objects.filter(customer=person).count() == 1
    assert TicketComment.objects.get(ticket__customer=person).body == "[erased]"
    assert Interaction.objects.get(customer=person).body == ""
    assert not CustomerScore.objects.filter(customer=person).exists()
    record = ErasureRecord.objects.get(customer=person)
    assert record.erased_by == users[AD] and record.customer_ref == person.pk
    erased = person.history.order_by("-history_date").first()
    assert erased.history_user == users[AD] and "erased" in erased.history_change_reason
    # A second request says so instead of erasing again.
    again = client.post(url, {"confirm_name": person.name})
    assert again.status_code == 400


@pytest.mark.parametrize("role", [R, A, M])
def test_only_admins_may_erase(client_for, person, role):
    client = client_for(role)
    url = reverse("customers:customer_erase", args=[person.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm_name": NAME}).status_code == 403
    assert Customer.objects.get(pk=person.pk).email == EMAIL
    assert not ErasureRecord.objects.exists()


def test_erasure_is_all_or_nothing(client_for, person, monkeypatch):
    from crm import registry

    def broken(customer, user):
        raise RuntimeError("disk full")

    source = registry.PersonalDataSource(key="zz_broken", erase=broken, order=999)
    registry.register_personal_data(source)
    try:
        from customers.privacy import personal_data_erase

        with pytest.raises(RuntimeError):
            personal_data_erase(user=None, customer=person)
    finally:
        registry._personal_data.pop("zz_broken")
    person.refresh_from_db()
    assert person.email == EMAIL
    assert Interaction.objects.get(customer=person).subject == "Call with Zelda"
    assert "customers_historicalcustomer" in _tables_containing(EMAIL)
    assert not ErasureRecord.objects.exists()


def test_customer_page_shows_the_buttons_by_role(client_for, person):
    url = person.get_absolute_url()
    admin_page = client_for(AD).get(url).content.decode()
    assert 'data-testid="erase-personal-data"' in admin_page
    assert 'data-testid="export-personal-data"' in admin_page
    manager_page = client_for(M).get(url).content.decode()
    assert 'data-testid="export-personal-data"' in manager_page
    assert 'data-testid="erase-personal-data"' not in manager_page
    rep_page = client_for(R).get(url).content.decode()
    assert "personal-data" not in rep_page
    assert 'data-testid="history-link"' in rep_page
