"""Query-count guards: the list and the customer page run a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from customers.models import LifecycleChange
from tests.customers.factories import NeedFactory, OrganisationFactory
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    TagFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_list_page_queries_do_not_grow_with_rows(client_for, django_assert_max_num_queries):
    tags = [TagFactory(name=f"t{i}") for i in range(4)]
    owners = [UserFactory(role=Role.SALES_REP) for _ in range(4)]
    org = OrganisationFactory()
    for i in range(40):
        c = CustomerFactory(owner=owners[i % 4], organisation=org if i % 3 == 0 else None)
        c.tags.add(tags[i % 4], tags[(i + 1) % 4])
    client = client_for(Role.MANAGER)
    url = reverse("customers:customer_list")
    # 14 on PostgreSQL: one more for the planner's row estimate of the unfiltered table,
    # one for the segment choices.
    with django_assert_max_num_queries(14):
        response = client.get(url, {"o": "owner"})
    assert len(response.context["customers"]) == 25
    with django_assert_max_num_queries(13):
        response = client.get(url, {"q": "example.com", "page": "2", "kind": "person"})
    assert response.status_code == 200


def test_customer_page_queries_do_not_grow_with_history(
    client_for, users, django_assert_max_num_queries
):
    customer = OrganisationFactory(owner=users[Role.SALES_REP])
    customer.tags.add(TagFactory(name="vip"), TagFactory(name="b2b"))
    now = timezone.now()
    tickets = [TicketFactory(customer=customer) for _ in range(3)]
    for i in range(50):
        interaction = InteractionFactory(
            customer=customer, user=users[Role.SALES_REP], occurred_at=now - timedelta(hours=i)
        )
        if i % 5 == 0:
            interaction.related_object = tickets[i % 3]
            interaction.save()
    for _ in range(10):
        NeedFactory(customer=customer)
        CustomerFactory(organisation=customer)
        OrderFactory(customer=customer)
        LifecycleChange.objects.create(customer=customer, to_stage="customer")
    client = client_for(Role.SALES_REP)
    # Constant, whatever the history: the page's own reads plus a fixed one to three per
    # panel and timeline source that the sales, service and analytics apps register.
    with django_assert_max_num_queries(32):
        response = client.get(customer.get_absolute_url())
    assert len(response.context["timeline"]) == 20
    assert len(response.context["needs"]) == 10
