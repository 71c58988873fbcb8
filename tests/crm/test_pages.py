"""Every landing page for every role: 200 or 403 as DESIGN.md's role table says."""

import pytest
from django.urls import reverse

from crm.roles import Role
from tests.factories import CustomerFactory, OrderLineFactory, TicketFactory

pytestmark = pytest.mark.django_db

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN

LANDING = {
    "customers:customer_list": {R: 200, A: 200, M: 200, AD: 200},
    "sales:index": {R: 200, A: 200, M: 200, AD: 200},
    "service:ticket_list": {R: 200, A: 200, M: 200, AD: 200},
    "analytics:index": {R: 403, A: 403, M: 200, AD: 200},
    "admin:index": {R: 302, A: 302, M: 302, AD: 200},
}


@pytest.mark.parametrize("url_name", LANDING)
@pytest.mark.parametrize("role", list(Role))
def test_landing_page_status_by_role(client_for, url_name, role):
    response = client_for(role).get(reverse(url_name))
    assert response.status_code == LANDING[url_name][role]


@pytest.mark.parametrize("url_name", [n for n in LANDING if not n.startswith("admin")])
def test_anonymous_is_sent_to_login(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "expected"),
    [(R, "/customers/"), (A, "/service/tickets/"), (M, "/analytics/"), (AD, "/analytics/")],
)
def test_home_sends_each_role_to_its_start_page(client_for, role, expected):
    response = client_for(role).get("/")
    assert response.status_code == 302
    assert response["Location"] == expected


def test_navigation_follows_the_role(client_for):
    rep_page = client_for(R).get("/customers/").content.decode()
    assert 'href="/sales/orders/"' in rep_page and 'href="/sales/deals/board/"' in rep_page
    assert 'href="/analytics/"' not in rep_page
    assert 'href="/admin/"' not in rep_page
    admin_page = client_for(AD).get("/customers/").content.decode()
    assert 'href="/analytics/"' in admin_page and 'href="/admin/"' in admin_page


def test_detail_pages_and_another_reps_ticket_is_404(client_for, users):
    mine = TicketFactory(customer=CustomerFactory(owner=users[R]))
    theirs = TicketFactory(customer=CustomerFactory(owner=users["peer"]))
    rep = client_for(R)
    assert rep.get(mine.get_absolute_url()).status_code == 200
    assert rep.get(theirs.get_absolute_url()).status_code == 404
    line = OrderLineFactory()
    page = rep.get(line.order.get_absolute_url())
    assert page.status_code == 200
    assert line.product.name in page.content.decode()
    assert rep.get(mine.customer.get_absolute_url()).status_code == 200


def test_unknown_page_is_404_in_the_layout(client_for):
    response = client_for(R).get("/customers/999999/")
    assert response.status_code == 404
    assert "not yours to see" in response.content.decode()


def test_sensitive_fields_only_for_managers(client_for):
    import datetime
    from decimal import Decimal

    customer = CustomerFactory(
        birth_date=datetime.date(1990, 5, 17), annual_income=Decimal("87654.00")
    )
    rep_page = client_for(R).get(customer.get_absolute_url()).content.decode()
    assert "87,654" not in rep_page and "1990" not in rep_page
    assert "30-39" in rep_page or "20-29" in rep_page
    manager_page = client_for(M).get(customer.get_absolute_url()).content.decode()
    assert "87,654" in manager_page


def test_customer_search_finds_by_phone_and_name(client_for):
    CustomerFactory(name="Zhang Wei", phone="+8613912345678")
    CustomerFactory(name="Other Person", phone="+14155550000")
    page = client_for(R).get("/customers/", {"q": "1391234"}).content.decode()
    assert "Zhang Wei" in page and "Other Person" not in page
