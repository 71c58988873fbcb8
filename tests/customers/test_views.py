"""The role rules of DESIGN.md on every customers view, and the page features around them."""

import pytest
from django.urls import reverse

from crm.roles import Role
from customers.models import Customer, Interaction, LifecycleChange, Need, SavedView
from tests.customers.factories import NeedFactory, SavedViewFactory
from tests.factories import CustomerFactory, OrderFactory, TagFactory

pytestmark = pytest.mark.django_db

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN


@pytest.fixture
def own_and_other(users):
    """A customer owned by the rep, and one owned by another rep."""
    return (
        CustomerFactory(name="Own Customer", owner=users[R]),
        CustomerFactory(name="Other Customer", owner=users["peer"]),
    )


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [(R, 200, 403), (A, 200, 200), (M, 200, 200), (AD, 200, 200)],
)
def test_edit_page_by_role(client_for, own_and_other, role, own, other):
    client = client_for(role)
    for customer, expected in zip(own_and_other, (own, other), strict=True):
        url = reverse("customers:customer_update", args=[customer.pk])
        assert client.get(url).status_code == expected
        if expected == 403:
            assert client.post(url, {"name": "Changed"}).status_code == 403
    assert Customer.objects.filter(name="Changed").count() == 0


@pytest.mark.parametrize(("role", "expected"), [(R, 403), (A, 403), (M, 200), (AD, 200)])
def test_delete_only_for_managers(client_for, own_and_other, role, expected):
    own, _ = own_and_other
    client = client_for(role)
    url = reverse("customers:customer_delete", args=[own.pk])
    assert client.get(url).status_code == expected
    response = client.post(url)
    assert Customer.objects.filter(pk=own.pk).exists() is (expected == 403)
    if expected == 200:
        assert response.status_code == 302


def test_delete_of_a_customer_with_orders_is_refused_with_a_message(client_for):
    customer = OrderFactory().customer
    response = client_for(M).post(
        reverse("customers:customer_delete", args=[customer.pk]), follow=True
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert "cannot be deleted" in response.content.decode()


@pytest.mark.parametrize(("role", "expected"), [(R, 200), (A, 403), (M, 200), (AD, 200)])
def test_create_page_by_role(client_for, role, expected):
    assert client_for(role).get(reverse("customers:customer_create")).status_code == expected


def test_unknown_customer_is_404_everywhere(client_for):
    client = client_for(M)
    for name in ("customer_detail", "customer_update", "customer_delete", "customer_timeline"):
        assert client.get(reverse(f"customers:{name}", args=[999999])).status_code == 404
    post = client.post(reverse("customers:interaction_create", args=[999999]), {})
    assert post.status_code == 404


def test_anonymous_users_are_sent_to_login(client, own_and_other):
    own, _ = own_and_other
    for url in (
        reverse("customers:customer_detail", args=[own.pk]),
        reverse("customers:customer_create"),
        reverse("customers:customer_duplicates"),
    ):
        assert client.get(url).status_code == 302


def test_sensitive_fields_on_the_customer_page(client_for):
    customer = CustomerFactory(birth_date="1985-06-01", annual_income="98765.00")
    url = customer.get_absolute_url()
    for role in (R, A):
        body = client_for(role).get(url).content.decode()
        assert "98,765" not in body and "98765" not in body and "1985" not in body
        assert "30-39" in body or "40-49" in body
    body = client_for(M).get(url).content.decode()
    assert "98,765.00" in body


def test_list_search_filter_and_sort(client_for, users):
    vip = TagFactory(name="vip")
    a = CustomerFactory(name="Zed Alpha", city="Berlin", lifecycle_stage="lead", owner=users[R])
    b = CustomerFactory(name="Amy Beta", city="Berlin", lifecycle_stage="customer")
    c = CustomerFactory(name="Bob Gamma", city="Paris", phone="+14155550177")
    a.tags.add(vip)
    client = client_for(A)
    url = reverse("customers:customer_list")

    def names(**params):
        return [x.name for x in client.get(url, params).context["customers"]]

    assert names(q="gamm") == ["Bob Gamma"]
    assert names(q="(415) 555-0177") == ["Bob Gamma"]
    assert names(city="berlin") == ["Amy Beta", "Zed Alpha"]
    assert names(city="berlin", o="-name") == ["Zed Alpha", "Amy Beta"]
    assert names(lifecycle_stage="lead") == ["Zed Alpha"]
    assert names(owner=users[R].pk) == ["Zed Alpha"]
    assert names(tag=vip.pk) == ["Zed Alpha"]
    assert names(o="city") == ["Zed Alpha", "Amy Beta", "Bob Gamma"]  # ties by id
    assert names(kind="organisation") == []
    assert set(names(created_after="2000-01-01")) == {a.name, b.name, c.name}
    assert names(created_before="2000-01-01") == []
    assert client.get(url, {"o": "owner"}).status_code == 200


def test_saved_views_are_per_user(client_for, users):
    client = client_for(R)
    response = client.post(
        reverse("customers:savedview_create"),
        {"name": "My leads", "query": "lifecycle_stage=lead&page=3&city="},
    )
    view = SavedView.objects.get(user=users[R])
    assert view.query_string == "lifecycle_stage=lead"
    assert response["Location"] == reverse("customers:customer_list") + "?lifecycle_stage=lead"
    assert "My leads" in client.get(reverse("customers:customer_list")).content.decode()
    other = SavedViewFactory(user=users["peer"], name="Peer view")
    assert "Peer view" not in client.get(reverse("customers:customer_list")).content.decode()
    delete_other = client.post(reverse("customers:savedview_delete", args=[other.pk]))
    assert delete_other.status_code == 404
    client.post(reverse("customers:savedview_delete", args=[view.pk]))
    assert list(SavedView.objects.all()) == [other]


def test_bulk_actions_change_only_what_the_user_may(client_for, users, own_and_other):
    own, other = own_and_other
    url = reverse("customers:customer_bulk")
    client = client_for(R)
    response = client.post(
        url, {"ids": [own.pk, other.pk], "action": "change_stage", "stage": "former"}, follow=True
    )
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.lifecycle_stage == "former" and other.lifecycle_stage != "former"
    assert LifecycleChange.objects.filter(customer=own, to_stage="former").count() == 1
    assert "1 customer skipped" in response.content.decode()
    # Reps do not reassign; agents change nothing in bulk.
    client.post(url, {"ids": [own.pk], "action": "assign_owner", "owner": users["peer"].pk})
    own.refresh_from_db()
    assert own.owner == users[R]
    tag = TagFactory(name="wholesale")
    client_for(A).post(url, {"ids": [own.pk], "action": "add_tag", "tag": tag.pk})
    assert not own.tags.exists()
    manager = client_for(M)
    manager.post(url, {"ids": [own.pk, other.pk], "action": "add_tag", "tag": tag.pk})
    manager.post(url, {"ids": [own.pk, other.pk], "action": "add_tag", "tag": tag.pk})
    assert tag.customers.count() == 2
    manager.post(url, {"ids": [own.pk], "action": "assign_owner", "owner": users["peer"].pk})
    own.refresh_from_db()
    assert own.owner == users["peer"]


def test_bulk_action_without_a_value_is_refused_with_a_message(client_for, own_and_other):
    own, _ = own_and_other
    response = client_for(M).post(
        reverse("customers:customer_bulk"), {"ids": [own.pk], "action": "add_tag"}, follow=True
    )
    assert "Choose a value for this action" in response.content.decode()


def test_quick_log_with_htmx_updates_form_and_timeline(client_for, users):
    customer = CustomerFactory()
    client = client_for(A)
    url = reverse("customers:interaction_create", args=[customer.pk])
    response = client.post(
        url,
        {
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": "2026-01-05T10:30",
            "duration_minutes": "12",
            "subject": "Asked about delivery",
            "body": "Wants it before Friday.",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="interaction-form-card"' in body and 'hx-swap-oob="true"' in body
    assert "Asked about delivery" in body and "Wants it before Friday." in body
    interaction = Interaction.objects.get()
    assert interaction.user == users[A] and interaction.duration_minutes == 12
    assert interaction.customer == customer


def test_quick_log_errors_stay_in_the_form(client_for):
    customer = CustomerFactory()
    url = reverse("customers:interaction_create", args=[customer.pk])
    response = client_for(R).post(
        url,
        {
            "channel": "email",
            "direction": "outbound",
            "occurred_at": "2026-01-05T10:30",
            "duration_minutes": "5",
            "subject": "",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "This field is required" in body
    assert "calls, meetings and chats only" in body
    assert "hx-swap-oob" not in body
    assert Interaction.objects.count() == 0


def test_quick_log_links_to_a_ticket_of_the_customer_only(client_for):
    from tests.factories import TicketFactory

    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer, subject="Broken lid")
    foreign = TicketFactory()
    client = client_for(M)
    page = client.get(customer.get_absolute_url())
    assert "Broken lid" in page.content.decode()
    url = reverse("customers:interaction_create", args=[customer.pk])
    data = {
        "channel": "email",
        "direction": "outbound",
        "occurred_at": "2026-01-05T10:30",
        "subject": "Replied",
    }
    bad = client.post(url, {**data, "link": f"service.ticket:{foreign.pk}"})
    assert bad.status_code == 200 and Interaction.objects.count() == 0
    client.post(url, {**data, "link": f"service.ticket:{ticket.pk}"})
    assert Interaction.objects.get().related_object == ticket


def test_needs_added_and_resolved(client_for, users):
    customer = CustomerFactory(owner=users[R])
    client = client_for(R)
    response = client.post(
        reverse("customers:need_create", args=[customer.pk]),
        {"description": "Bulk discount", "priority": "high"},
        HTTP_HX_REQUEST="true",
    )
    assert "Bulk discount" in response.content.decode()
    need = Need.objects.get()
    assert need.resolved_at is None and need.priority == "high"
    client.post(reverse("customers:need_update", args=[need.pk]), {f"need{need.pk}-status": "met"})
    need.refresh_from_db()
    assert need.status == "met" and need.resolved_at is not None
    client.post(reverse("customers:need_update", args=[need.pk]), {f"need{need.pk}-status": "open"})
    need.refresh_from_db()
    assert need.resolved_at is None
    others = NeedFactory(customer=CustomerFactory(owner=users["peer"]))
    response = client.post(
        reverse("customers:need_update", args=[others.pk]), {f"need{others.pk}-status": "met"}
    )
    assert response.status_code == 403
    empty = client.post(
        reverse("customers:need_create", args=[customer.pk]),
        {"description": "  ", "priority": "low"},
        HTTP_HX_REQUEST="true",
    )
    assert "This field is required" in empty.content.decode()
    assert Need.objects.count() == 2


@pytest.mark.parametrize(("role", "expected"), [(R, 403), (A, 403), (M, 200), (AD, 200)])
def test_duplicates_page_by_role(client_for, role, expected):
    CustomerFactory(email="same@example.com")
    CustomerFactory(email="same@example.com")
    response = client_for(role).get(reverse("customers:customer_duplicates"))
    assert response.status_code == expected
    if expected == 200:
        assert "same@example.com" in response.content.decode()


def test_bad_filter_values_are_reported_not_a_crash(client_for):
    CustomerFactory(name="Still Listed")
    response = client_for(Role.SALES_REP).get(
        reverse("customers:customer_list"),
        {"o": "password", "created_after": "yesterday", "lifecycle_stage": "bogus"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid date" in body and "Select a valid choice" in body
    assert [c.name for c in response.context["customers"]] == ["Still Listed"]


def test_agents_get_no_bulk_actions(client_for):
    CustomerFactory()
    response = client_for(Role.SUPPORT_AGENT).get(reverse("customers:customer_list"))
    assert response.context["bulk_form"] is None
    assert 'id="bulk-form"' not in response.content.decode()


def test_quick_log_without_htmx_redirects_or_shows_errors(client_for):
    customer = CustomerFactory()
    url = reverse("customers:interaction_create", args=[customer.pk])
    client = client_for(R)
    bad = client.post(url, {"channel": "phone", "direction": "inbound", "subject": ""})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()
    good = client.post(
        url,
        {
            "channel": "meeting",
            "direction": "outbound",
            "occurred_at": "2026-01-05T10:30",
            "subject": "Visit",
        },
    )
    assert good.status_code == 302 and good["Location"] == customer.get_absolute_url()
    assert Interaction.objects.get().subject == "Visit"
    future = client.post(
        url,
        {
            "channel": "meeting",
            "direction": "outbound",
            "occurred_at": "2099-01-01T10:00",
            "subject": "Later",
        },
    )
    assert "plan future ones as tasks" in future.content.decode()


def test_stage_change_from_the_customer_page(client_for, own_and_other):
    own, other = own_and_other
    client = client_for(R)
    page = client.get(own.get_absolute_url())
    assert 'data-testid="stage-form"' in page.content.decode()
    assert 'data-testid="stage-form"' not in client.get(other.get_absolute_url()).content.decode()
    response = client.post(
        reverse("customers:customer_stage", args=[own.pk]), {"lifecycle_stage": "former"}
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.lifecycle_stage == "former"
    assert LifecycleChange.objects.get(customer=own).to_stage == "former"
    forbidden = client.post(
        reverse("customers:customer_stage", args=[other.pk]), {"lifecycle_stage": "former"}
    )
    assert forbidden.status_code == 403
    bad = client.post(
        reverse("customers:customer_stage", args=[own.pk]), {"lifecycle_stage": "x"}, follow=True
    )
    assert "Choose a lifecycle stage" in bad.content.decode()
    assert LifecycleChange.objects.count() == 1
