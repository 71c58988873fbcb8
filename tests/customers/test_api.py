"""Customers, tags, needs and interactions through the API: sensitive fields, contact data
cleaning, tags, contacts of an organisation, upsert by external_id, all-or-nothing bulk."""

from datetime import date
from decimal import Decimal

import pytest

from crm.roles import Role
from customers.models import Customer, Tag
from tests.factories import CustomerFactory, InteractionFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def rich(users):
    return CustomerFactory(
        owner=users[Role.SALES_REP],
        birth_date=date(1985, 6, 1),
        annual_income=Decimal("85000.00"),
    )


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SUPPORT_AGENT])
def test_sensitive_fields_are_hidden_from_reps_and_agents(api_for, rich, role):
    data = api_for(role).get(f"{URL}{rich.pk}/").json()
    assert "birth_date" not in data and "annual_income" not in data
    assert data["age_band"]
    listed = api_for(role).get(URL).json()["results"][0]
    assert "annual_income" not in listed


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_sensitive_fields_are_shown_to_managers_and_admins(api_for, rich, role):
    data = api_for(role).get(f"{URL}{rich.pk}/").json()
    assert data["birth_date"] == "1985-06-01" and data["annual_income"] == "85000.00"


def test_a_rep_cannot_set_sensitive_fields(api_for, rich):
    response = api_for(Role.SALES_REP).patch(
        f"{URL}{rich.pk}/", {"annual_income": "1.00"}, format="json"
    )
    assert response.status_code == 400 and "annual_income" in response.json()
    rich.refresh_from_db()
    assert rich.annual_income == Decimal("85000.00")


def test_contact_data_is_cleaned(api_for):
    response = api_for(Role.SALES_REP).post(
        URL,
        {"name": "Ada", "email": "  Ada@Example.COM ", "phone": "(415) 555-0133", "country": "us"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["email"], data["phone"], data["country"]) == (
        "ada@example.com",
        "+14155550133",
        "US",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("phone", "12"), ("country", "USA"), ("name", "")],
)
def test_bad_contact_data_is_a_400_at_the_field(api_for, field, value):
    body = {"name": "Ada", field: value}
    response = api_for(Role.SALES_REP).post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Customer.objects.exists()


def test_wrong_json_types_are_rejected(api_for):
    response = api_for(Role.SALES_REP).post(URL, {"name": 5, "size": "10"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "size"}


def test_tags_by_name_reps_use_existing_managers_create(api_for):
    TagFactory(name="vip")
    rep = api_for(Role.SALES_REP)
    ok = rep.post(URL, {"name": "Ada", "tags": ["VIP"]}, format="json")
    assert ok.status_code == 201 and ok.json()["tags"] == ["vip"]
    refused = rep.post(URL, {"name": "Bob", "tags": ["new-tag"]}, format="json")
    assert refused.status_code == 400 and "tags" in refused.json()
    made = api_for(Role.MANAGER).post(URL, {"name": "Cy", "tags": ["new-tag"]}, format="json")
    assert made.status_code == 201 and Tag.objects.filter(name="new-tag").exists()


def test_a_rep_cannot_give_a_customer_away_but_a_manager_can(api_for, users):
    rep_body = {"name": "Ada", "owner": users["peer"].pk}
    assert api_for(Role.SALES_REP).post(URL, rep_body, format="json").status_code == 400
    made = api_for(Role.MANAGER).post(URL, rep_body, format="json")
    assert made.status_code == 201 and made.json()["owner"] == users["peer"].pk


def test_new_customers_belong_to_their_creator(api_for, users):
    data = api_for(Role.SALES_REP).post(URL, {"name": "Ada"}, format="json").json()
    assert data["owner"] == users[Role.SALES_REP].pk


def test_contacts_of_an_organisation(api_for):
    org = CustomerFactory(kind="organisation", name="Acme")
    people = CustomerFactory.create_batch(2, organisation=org)
    CustomerFactory()  # someone else
    rows = api_for(Role.SALES_REP).get(URL, {"organisation": org.pk}).json()["results"]
    assert {r["id"] for r in rows} == {p.pk for p in people}
    bad = api_for(Role.MANAGER).patch(
        f"{URL}{org.pk}/", {"organisation": people[0].pk}, format="json"
    )
    assert bad.status_code == 400


def test_filters_ordering_and_cursor_pages(api_for):
    for i in range(5):
        CustomerFactory(name=f"C{i}", city="Oslo" if i % 2 else "Rome")
    client = api_for(Role.SALES_REP)
    first = client.get(URL, {"ordering": "name", "page_size": 2}).json()
    assert [r["name"] for r in first["results"]] == ["C0", "C1"]
    second = client.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["C2", "C3"]
    oslo = client.get(URL, {"city": "Oslo"}).json()["results"]
    assert sorted(r["name"] for r in oslo) == ["C1", "C3"]
    assert client.get(URL, {"page_size": "0"}).status_code == 400
    assert client.get(URL, {"cursor": "garbage"}).status_code == 400


def test_list_runs_a_constant_number_of_queries(api_for, django_assert_max_num_queries):
    tags = [TagFactory(name=f"t{i}") for i in range(3)]
    for _ in range(30):
        CustomerFactory().tags.set(tags)
    client = api_for(Role.MANAGER)
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_upsert_creates_then_updates(api_for, users):
    client = api_for(Role.SALES_REP)
    url = f"{URL}by-external-id/ERP-1/"
    created = client.put(url, {"name": "Ada", "city": "Oslo"}, format="json")
    assert created.status_code == 201 and created.json()["external_id"] == "ERP-1"
    replaced = client.put(url, {"name": "Ada Lovelace", "external_id": "IGNORED"}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    customer = Customer.objects.get()
    # Fields left out keep their values; the key in the URL wins over the body.
    assert (customer.name, customer.external_id, customer.city) == ("Ada Lovelace", "ERP-1", "Oslo")


def test_upsert_of_another_reps_customer_is_403(api_for, users):
    CustomerFactory(external_id="ERP-2", owner=users["peer"], name="Theirs")
    response = api_for(Role.SALES_REP).put(
        f"{URL}by-external-id/ERP-2/", {"name": "Mine now"}, format="json"
    )
    assert response.status_code == 403
    assert Customer.objects.get().name == "Theirs"


def test_bulk_creates_all_rows(api_for):
    rows = [{"name": f"C{i}", "external_id": f"E{i}"} for i in range(5)]
    response = api_for(Role.MANAGER).post(f"{URL}bulk/", rows, format="json")
    assert response.status_code == 201
    assert response.json()["count"] == 5
    assert Customer.objects.count() == 5


def test_bulk_and_upsert_answer_with_a_format_suffix_too(api_for):
    # The router also routes bulk.json and by-external-id/<key>.json; they were a 500.
    client = api_for(Role.MANAGER)
    response = client.post(f"{URL}bulk.json", [{"name": "A", "external_id": "A1"}], format="json")
    assert response.status_code == 201
    response = client.put(f"{URL}by-external-id/A1.json", {"name": "B"}, format="json")
    assert response.status_code == 200
    assert Customer.objects.get(external_id="A1").name == "B"


def test_bulk_is_all_or_nothing_with_errors_by_row_and_field(api_for):
    CustomerFactory(external_id="TAKEN")
    rows = [
        {"name": "Good", "external_id": "N1"},
        {"name": "", "email": "bad"},
        {"name": "Dup", "external_id": "N1"},
        {"name": "Clash", "external_id": "TAKEN"},
        "not an object",
    ]
    response = api_for(Role.MANAGER).post(f"{URL}bulk/", rows, format="json")
    assert response.status_code == 400
    errors = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert errors == {
        (1, "name"),
        (1, "email"),
        (2, "external_id"),
        (3, "external_id"),
        (4, "non_field_errors"),
    }
    assert Customer.objects.count() == 1  # only the one that existed


def test_bulk_refuses_more_than_the_limit_and_non_arrays(api_for, settings):
    settings.API_BULK_MAX_ROWS = 3
    client = api_for(Role.MANAGER)
    too_many = client.post(f"{URL}bulk/", [{"name": "x"}] * 4, format="json")
    assert too_many.status_code == 400 and "At most 3" in too_many.json()["detail"]
    assert client.post(f"{URL}bulk/", {"name": "x"}, format="json").status_code == 400
    assert not Customer.objects.exists()


def test_bulk_of_1000_rows_in_one_request(api_for):
    rows = [{"name": f"C{i}", "external_id": f"K{i}"} for i in range(1000)]
    response = api_for(Role.MANAGER).post(f"{URL}bulk/", rows, format="json")
    assert response.status_code == 201 and Customer.objects.count() == 1000


def test_interactions_are_logged_as_the_caller(api_for, users):
    customer = CustomerFactory()
    response = api_for(Role.SUPPORT_AGENT).post(
        "/api/v1/interactions/",
        {"customer": customer.pk, "channel": "email", "subject": "Hello", "direction": "inbound"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["user"] == users[Role.SUPPORT_AGENT].pk
    InteractionFactory(customer=customer)
    rows = api_for(Role.SALES_REP).get("/api/v1/interactions/", {"customer": customer.pk})
    assert len(rows.json()["results"]) == 2


def test_needs_get_resolved_at_when_met(api_for):
    customer = CustomerFactory()
    need = (
        api_for(Role.SALES_REP)
        .post(
            "/api/v1/needs/",
            {"customer": customer.pk, "description": "Bulk pricing"},
            format="json",
        )
        .json()
    )
    met = api_for(Role.MANAGER).patch(
        f"/api/v1/needs/{need['id']}/", {"status": "met"}, format="json"
    )
    assert met.status_code == 200 and met.json()["resolved_at"]


def test_interaction_and_user_lists_run_a_constant_number_of_queries(
    api_for, django_assert_max_num_queries
):
    from django.contrib.contenttypes.models import ContentType

    from tests.factories import UserFactory

    ct = ContentType.objects.get_for_model(Customer)
    for i in range(30):
        InteractionFactory(related_type=ct, related_id=i + 1)
        UserFactory(username=f"staff{i}", role=Role.SUPPORT_AGENT)
    client = api_for(Role.MANAGER)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/interactions/", {"page_size": 30}).json()["results"]) == 30
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/users/", {"page_size": 30}).json()["results"]) == 30
