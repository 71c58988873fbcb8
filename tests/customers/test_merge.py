"""Merging duplicates: nothing of either customer is lost, all in one transaction."""

from unittest import mock

import pytest
from django.db import IntegrityError
from django.urls import reverse

from crm.roles import Role
from customers import services
from customers.models import Customer, CustomerMerge, Interaction, LifecycleChange, Need
from sales.models import Order, OrderLine
from service.models import Ticket
from tests.customers.factories import NeedFactory, OrganisationFactory
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderLineFactory,
    TagFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(users):
    keep = CustomerFactory(name="Ann Lee", email="ann@example.com", phone="", city="")
    drop = CustomerFactory(
        name="Ann  Lee",
        email="ann@example.com",
        phone="+14155550111",
        city="Boston",
        external_id="ERP-7",
        marketing_consent=True,
        consent_method="email",
    )
    shared, only_keep, only_drop = (
        TagFactory(name="vip"),
        TagFactory(name="a"),
        TagFactory(name="b"),
    )
    keep.tags.add(shared, only_keep)
    drop.tags.add(shared, only_drop)
    for customer, n in ((keep, 2), (drop, 3)):
        for _ in range(n):
            OrderLineFactory(order__customer=customer)
            TicketFactory(customer=customer)
            InteractionFactory(customer=customer)
            NeedFactory(customer=customer)
    LifecycleChange.objects.create(customer=drop, to_stage="lead")
    contact = CustomerFactory(name="Contact of drop", organisation=drop)
    return keep, drop, contact


def counts(*customers):
    ids = [c.pk for c in customers]
    return {
        "orders": Order.objects.filter(customer_id__in=ids).count(),
        "lines": OrderLine.objects.filter(order__customer_id__in=ids).count(),
        "tickets": Ticket.objects.filter(customer_id__in=ids).count(),
        "interactions": Interaction.objects.filter(customer_id__in=ids).count(),
        "needs": Need.objects.filter(customer_id__in=ids).count(),
        "lifecycle": LifecycleChange.objects.filter(customer_id__in=ids).count(),
    }


def test_merge_keeps_every_related_row_and_records_it(pair, users):
    keep, drop, contact = pair
    before = counts(keep, drop)
    merge = services.customer_merge(user=users[Role.MANAGER], keep=keep, drop=drop)
    assert not Customer.objects.filter(pk=drop.pk).exists()
    assert counts(keep) == before
    assert before == {
        "orders": 5,
        "lines": 5,
        "tickets": 5,
        "interactions": 5,
        "needs": 5,
        "lifecycle": 1,
    }
    assert sorted(keep.tags.values_list("name", flat=True)) == ["a", "b", "vip"]
    contact.refresh_from_db()
    assert contact.organisation == keep
    keep.refresh_from_db()
    # Empty fields of the kept customer are filled from the merged one; its own stay.
    assert (keep.phone, keep.city, keep.external_id) == ("+14155550111", "Boston", "ERP-7")
    assert keep.name == "Ann Lee" and keep.marketing_consent
    assert merge.merged_id == drop.pk and merge.merged_name == "Ann  Lee"
    assert merge.snapshot["email"] == "ann@example.com"
    assert merge.moved["sales.order.customer"] == 3
    assert merge.moved["service.ticket.customer"] == 3
    assert merge.moved["customers.interaction.customer"] == 3
    assert merge.moved["customers.customer.tags"] == 2
    assert CustomerMerge.objects.get().merged_by == users[Role.MANAGER]


def test_merge_into_own_organisation_contact_does_not_point_at_itself(users):
    org = OrganisationFactory()
    person = CustomerFactory(organisation=org)
    services.customer_merge(user=users[Role.MANAGER], keep=person, drop=org)
    person.refresh_from_db()
    assert person.organisation is None


def test_a_failing_merge_changes_nothing(pair, users):
    keep, drop, _ = pair
    before = counts(drop)
    with (
        mock.patch.object(CustomerMerge.objects, "create", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        services.customer_merge(user=users[Role.MANAGER], keep=keep, drop=drop)
    assert Customer.objects.filter(pk=drop.pk).exists()
    assert counts(drop) == before
    assert drop.tags.count() == 2


def test_merge_page_for_managers_only(client_for, pair):
    keep, drop, _ = pair
    url = reverse("customers:customer_merge")
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        client = client_for(role)
        assert client.get(url, {"a": keep.pk, "b": drop.pk}).status_code == 403
        assert client.post(url, {"keep": keep.pk, "drop": drop.pk}).status_code == 403
    assert Customer.objects.filter(pk=drop.pk).exists()
    client = client_for(Role.MANAGER)
    page = client.get(url, {"a": keep.pk, "b": drop.pk})
    assert page.status_code == 200 and "Ann  Lee" in page.content.decode()
    # The page posts the pair and the one to keep (here the second, "drop").
    response = client.post(url, {"keep": drop.pk, "pair": [keep.pk, drop.pk]})
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=keep.pk).exists()
    assert Order.objects.filter(customer=drop).count() == 5
    page = client.get(drop.get_absolute_url())
    assert "Ann Lee" in page.content.decode()  # the merge record names the merged customer
    assert page.context["merges"][0].merged_id == keep.pk


def test_merging_a_customer_with_itself_is_refused(client_for, pair):
    keep, _, _ = pair
    response = client_for(Role.MANAGER).post(
        reverse("customers:customer_merge"), {"keep": keep.pk, "drop": keep.pk}, follow=True
    )
    assert "two different customers" in response.content.decode()
    with pytest.raises(ValueError):
        services.customer_merge(user=None, keep=keep, drop=keep)


def test_duplicate_groups_by_email_phone_and_name_in_city(users):
    from customers.selectors import duplicate_groups

    CustomerFactory(email="x@example.com")
    CustomerFactory(email="x@example.com")
    CustomerFactory(phone="+14155550999")
    CustomerFactory(phone="+14155550999")
    CustomerFactory(name="Jo Smith", city="Leeds")
    CustomerFactory(name=" jo smith", city="LEEDS")
    CustomerFactory(name="Jo Smith", city="York")
    groups = duplicate_groups(user=users[Role.MANAGER])
    found = {(g.reason, g.key, len(g.customers)) for g in groups}
    assert found == {
        ("email", "x@example.com", 2),
        ("phone", "+14155550999", 2),
        ("name_city", "jo smith, leeds", 2),
    }


def test_rows_that_would_break_a_uniqueness_rule_keep_the_kept_customers(users):
    """A table with one row per customer and key (a score, a recommendation) must not end up
    with two for the kept customer; the merged customer's clashing row goes, the rest move."""
    keep, drop = CustomerFactory(), CustomerFactory()
    NeedFactory(customer=keep, description="same")
    NeedFactory(customer=drop, description="same")
    NeedFactory(customer=drop, description="only on drop")
    with mock.patch.object(Need._meta, "unique_together", (("customer", "description"),)):
        merge = services.customer_merge(user=users[Role.MANAGER], keep=keep, drop=drop)
    assert sorted(keep.needs.values_list("description", flat=True)) == ["only on drop", "same"]
    assert merge.moved["customers.need.customer.duplicates_removed"] == 1
    assert merge.moved["customers.need.customer"] == 1
