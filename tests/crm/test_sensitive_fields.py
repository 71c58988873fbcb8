"""Annual income and birth date (DESIGN.md "Sensitive fields"): managers and admins see them;
reps and agents see an age band instead, and cannot find, sort, set or clear them through
any channel: pages, the edit form, the API, CSV exports and search."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from crm import roles
from crm.history import is_audited
from crm.roles import Role
from crm.templatetags.crm_tags import age_band_of
from customers.models import Customer
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN
BIRTH = date(1979, 3, 14)
INCOME = Decimal("87654.32")
# How the values could show up in a page, an export or JSON.
LEAKS = ("87654", "87,654", "87 654", "1979", "3/14/", "14.03.", "Mar. 14", "March 14")


@pytest.fixture
def rich(users):
    """A customer of the rep with both sensitive fields set, and a second one without."""
    customer = CustomerFactory(
        name="Rich Person",
        owner=users[R],
        birth_date=BIRTH,
        annual_income=INCOME,
        email="rich@example.com",
    )
    CustomerFactory(name="Plain Person", owner=users[R], annual_income=Decimal("10.00"))
    return customer


def leaks(text: str) -> list[str]:
    return [s for s in LEAKS if s in text]


def form_data(form) -> dict:
    """What the browser would send back for an unchanged form."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "" if value is None else value
    return data


@pytest.mark.parametrize("role", [R, A])
def test_reps_and_agents_see_an_age_band_and_no_value_on_any_page(client_for, rich, role):
    client = client_for(role)
    band = age_band_of(BIRTH)
    detail = client.get(rich.get_absolute_url()).content.decode()
    assert band in detail and not leaks(detail)
    listing = client.get(reverse("customers:customer_list"), {"q": "Rich"}).content.decode()
    assert "Rich Person" in listing and not leaks(listing)
    edit = client.get(reverse("customers:customer_update", args=[rich.pk]))
    assert edit.status_code == 200
    assert not {"birth_date", "annual_income"} & set(edit.context["form"].fields)
    assert not leaks(edit.content.decode())
    timeline = client.get(reverse("customers:customer_timeline", args=[rich.pk]))
    assert not leaks(timeline.content.decode())
    # The pages of other apps that show the customer.
    order = OrderFactory(customer=rich)
    assert not leaks(client.get(order.get_absolute_url()).content.decode())
    if role is A:
        ticket = TicketFactory(customer=rich)
        assert not leaks(client.get(ticket.get_absolute_url()).content.decode())


@pytest.mark.parametrize("role", [M, AD])
def test_managers_and_admins_see_the_values(client_for, rich, role):
    client = client_for(role)
    detail = client.get(rich.get_absolute_url()).content.decode()
    assert "87,654.32" in detail
    edit = client.get(reverse("customers:customer_update", args=[rich.pk]))
    form = edit.context["form"]
    assert form["annual_income"].value() == INCOME and str(form["birth_date"].value()) == (
        "1979-03-14"
    )


@pytest.mark.parametrize("role", [R, A])
def test_saving_the_edit_form_can_neither_clear_nor_set_them(client_for, rich, role):
    client = client_for(role)
    url = reverse("customers:customer_update", args=[rich.pk])
    data = form_data(client.get(url).context["form"])
    data.update(city="Springfield", annual_income="", birth_date="")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    data.update(city="Shelbyville", annual_income="1.00", birth_date="2000-01-01")
    assert client.post(url, data).status_code == 302
    rich.refresh_from_db()
    assert rich.city == "Shelbyville"  # the save happened...
    assert (rich.annual_income, rich.birth_date) == (INCOME, BIRTH)  # ...and left these alone


@pytest.mark.parametrize("role", [R, A])
def test_search_filters_and_sorting_do_not_reveal_them_in_pages(client_for, rich, role):
    client = client_for(role)
    url = reverse("customers:customer_list")
    for term in ("87654", "87654.32", "1979-03-14", "1979"):
        page = client.get(url, {"q": term})
        assert page.status_code == 200
        assert "Rich Person" not in page.content.decode(), term
    # Unknown filters are ignored rather than narrowing the list by a hidden value.
    for params in (
        {"annual_income": "87654.32"},
        {"annual_income__gte": "50000"},
        {"birth_date": "1979-03-14"},
    ):
        page = client.get(url, params).content.decode()
        assert "Rich Person" in page and "Plain Person" in page, params
    # Sorting by a hidden column is not offered.
    page = client.get(url, {"o": "annual_income"})
    assert page.status_code == 200
    assert "annual_income" not in dict(page.context["filter"].form.fields["o"].choices)


@pytest.mark.parametrize("role", [R, A])
def test_the_api_hides_them_from_search_filters_and_ordering(api_for, rich, role):
    client = api_for(role)
    url = "/api/v1/customers/"
    everyone = {c["id"] for c in client.get(url).json()["results"]}
    assert len(everyone) == 2
    for term in ("87654", "1979-03-14"):
        assert client.get(url, {"q": term}).json()["results"] == [], term
    for params in ({"annual_income": "87654.32"}, {"birth_date": "1979-03-14"}):
        found = {c["id"] for c in client.get(url, params).json()["results"]}
        assert found == everyone, params
    # Ordering by income would rank the rich customer; it is not an ordering field.
    by_income = client.get(url, {"ordering": "-annual_income"})
    default = client.get(url)
    assert [c["id"] for c in by_income.json()["results"]] == [
        c["id"] for c in default.json()["results"]
    ]
    detail = client.get(f"{url}{rich.pk}/").json()
    assert detail["age_band"] == age_band_of(BIRTH)
    assert not leaks(client.get(f"{url}{rich.pk}/").content.decode())
    # By external id too, and an upsert that sends them is refused, not half-applied.
    rich.external_id = "RICH-1"
    rich.save(update_fields=["external_id"])
    response = client.put(
        f"{url}by-external-id/RICH-1/", {"annual_income": "1.00", "name": "X"}, format="json"
    )
    assert response.status_code in (400, 403)
    rich.refresh_from_db()
    assert (rich.name, rich.annual_income) == ("Rich Person", INCOME)


def test_managers_find_them_through_the_api(api_for, rich):
    data = api_for(M).get(f"/api/v1/customers/{rich.pk}/").json()
    assert data["annual_income"] == "87654.32" and data["birth_date"] == "1979-03-14"


def _csv_rows(response) -> tuple[str, dict[str, dict]]:
    """A CSV download as {customer name: row}, the user's way of reading it."""
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return body, {row["name"]: row for row in csv.DictReader(io.StringIO(body))}


def test_csv_exports_carry_them_for_managers_only(client_for, rich):
    """Every role that may see the customers exports them; only managers' and admins' files
    carry income and birth date, reps' and agents' carry the age band instead."""
    url = reverse("customers:customer_export")
    body, rows = _csv_rows(client_for(M).get(url))
    assert rows["Rich Person"]["annual_income"] == "87654.32"
    assert rows["Rich Person"]["birth_date"] == "1979-03-14"
    assert "age_band" not in rows["Rich Person"]
    band = age_band_of(BIRTH)
    assert band
    for role in (R, A):
        body, rows = _csv_rows(client_for(role).get(url))
        assert not leaks(body), role
        assert rows["Rich Person"]["annual_income"] == "", role
        assert rows["Rich Person"]["birth_date"] == "", role
        assert rows["Rich Person"]["age_band"] == band, role
        assert rows["Plain Person"]["annual_income"] == "", role
    # The other exports say nothing of them.
    TicketFactory(customer=rich)
    OrderFactory(customer=rich)
    for name in ("service:ticket_export", "sales:order_export"):
        body = b"".join(client_for(M).get(reverse(name)).streaming_content).decode()
        assert not leaks(body), name
    assert Customer.objects.get(pk=rich.pk).annual_income == INCOME


def test_generic_views_know_which_fields_to_hide(users):
    hidden = {role: roles.hidden_fields(users[role], Customer) for role in (R, A, M, AD)}
    assert hidden[R] == hidden[A] == {"birth_date", "annual_income"}
    assert hidden[M] == hidden[AD] == frozenset()


def test_the_history_page_hides_them_from_reps(client_for, rich):
    url = reverse("object_history", args=["customers.customer", rich.pk])
    assert is_audited(Customer)
    response = client_for(R).get(url)
    assert response.status_code == 200
    rich.annual_income = Decimal("99999.00")
    rich.save()
    page = response.content.decode() + client_for(R).get(url).content.decode()
    assert not leaks(page) and "99999" not in page
    assert "99999" in client_for(M).get(url).content.decode().replace(",", "")
