"""Optimistic locking: two people edit the same record; the second save is refused with a
message saying what changed, and the first person's values stay."""

from __future__ import annotations

from django.urls import reverse

from crm.roles import Role
from tests.crm.test_audit import form_data
from tests.factories import CustomerFactory, TicketFactory
from tests.sales.factories import make_deal, make_pipeline

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN


def _two_clients(client_class, users, first, second):
    one, two = client_class(), client_class()
    one.force_login(users[first])
    two.force_login(users[second])
    return one, two


def test_customer_edit_conflict_keeps_the_first_save(client, users):
    customer = CustomerFactory(owner=users[R], city="Boston", occupation="Baker")
    one, two = _two_clients(type(client), users, M, AD)
    url = reverse("customers:customer_update", args=[customer.pk])
    first, second = form_data(one.get(url)), form_data(two.get(url))
    first["city"] = "Chicago"
    assert one.post(url, first).status_code == 302
    second["occupation"] = "Teacher"
    response = two.post(url, second)
    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-testid="edit-conflict"' in page
    assert "Someone else saved this record" in page
    assert users[M].username in page  # who saved in between
    assert "Chicago" in page and "Boston" in page  # the saved value and the one sent
    customer.refresh_from_db()
    assert (customer.city, customer.occupation) == ("Chicago", "Baker")
    # The form came back with the new version: a deliberate second save goes through.
    again = form_data(response)
    again["occupation"] = "Teacher"
    assert two.post(url, again).status_code == 302
    customer.refresh_from_db()
    assert customer.occupation == "Teacher"


def test_deal_edit_conflict(client, users):
    pipeline = make_pipeline("Locking")
    deal = make_deal(pipeline=pipeline, owner=users[R], title="Original")
    one, two = _two_clients(type(client), users, R, M)
    url = reverse("sales:deal_update", args=[deal.pk])

    def data(response, title):
        values = form_data(response)
        values["title"] = title
        formset = response.context["formset"]
        values.update(
            {
                "lines-TOTAL_FORMS": str(len(formset.forms)),
                "lines-INITIAL_FORMS": "0",
                "lines-MIN_NUM_FORMS": "0",
                "lines-MAX_NUM_FORMS": "1000",
            }
        )
        for i, form in enumerate(formset.forms):
            for name in form.fields:
                value = form[name].value()
                if value not in (None, ""):
                    values[f"lines-{i}-{name}"] = value
        return values

    first, second = data(one.get(url), "Renamed by rep"), data(two.get(url), "Renamed by manager")
    assert one.post(url, first).status_code == 302
    response = two.post(url, second)
    assert response.status_code == 409
    assert "Renamed by rep" in response.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Renamed by rep"


def test_ticket_edit_conflict(client, users):
    ticket = TicketFactory(subject="Printer", problem="It jams.")
    one, two = _two_clients(type(client), users, A, M)
    url = reverse("service:ticket_update", args=[ticket.pk])
    first, second = form_data(one.get(url)), form_data(two.get(url))
    first["subject"] = "Printer jams"
    second["subject"] = "Printer broken"
    assert one.post(url, first).status_code == 302
    response = two.post(url, second)
    assert response.status_code == 409
    assert 'data-testid="edit-conflict"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.subject == "Printer jams"


def test_a_bulk_change_in_between_is_a_conflict_too(client, users):
    customer = CustomerFactory(owner=users[R], lifecycle_stage="lead")
    one, two = _two_clients(type(client), users, M, AD)
    url = reverse("customers:customer_update", args=[customer.pk])
    data = form_data(one.get(url))
    two.post(
        reverse("customers:customer_bulk"),
        {"ids": [customer.pk], "action": "change_stage", "stage": "former"},
    )
    response = one.post(url, data)
    assert response.status_code == 409
    customer.refresh_from_db()
    assert customer.lifecycle_stage == "former"


def test_api_patch_with_a_stale_if_match_is_refused(api_for, users):
    customer = CustomerFactory(owner=users[R], city="Boston")
    url = f"/api/v1/customers/{customer.pk}/"
    client = api_for(M)
    etag = client.get(url)["ETag"]
    assert etag
    fresh = client.patch(url, {"city": "Chicago"}, format="json", HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    stale = client.patch(url, {"city": "Denver"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "Someone else changed this record" in stale.json()["detail"]
    customer.refresh_from_db()
    assert customer.city == "Chicago"
    # The API user's change is in the history, by that user.
    assert customer.history.latest("history_date").history_user == users[M]
    # Without If-Match the API behaves as before.
    assert client.patch(url, {"city": "Denver"}, format="json").status_code == 200
