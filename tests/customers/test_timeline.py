"""The customer timeline: newest first across sources, paged by a cursor."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import registry
from crm.registry import TimelineEvent
from crm.roles import Role
from customers.timeline import timeline_page
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_source():
    """A stand-in for the sales app's order source, registered for one test."""
    now = timezone.now()

    def orders(request, customer, before, limit):
        events = [
            TimelineEvent(
                when=now - timedelta(hours=h), kind="order", icon="receipt", title=f"Order {h}"
            )
            for h in (1, 5, 30)
        ]
        return [e for e in events if before is None or e.when < before][:limit]

    saved = registry.timeline_sources()
    registry.register_timeline_source("order", orders)
    yield
    registry._timeline.clear()
    registry._timeline.update(saved)


def test_timeline_merges_sources_newest_first_and_pages(rf, users, order_source):
    customer = CustomerFactory()
    now = timezone.now()
    for h in (2, 3, 40):
        InteractionFactory(
            customer=customer, subject=f"Call {h}", occurred_at=now - timedelta(hours=h)
        )
    request = rf.get("/")
    request.user = users[Role.SALES_REP]
    first, cursor = timeline_page(request, customer, limit=4)
    assert [e.title for e in first] == ["Order 1", "Call 2", "Call 3", "Order 5"]
    second, end = timeline_page(request, customer, before=cursor, limit=4)
    assert [e.title for e in second] == ["Order 30", "Call 40"]
    assert end is None


def test_timeline_on_the_page_and_older_events_by_htmx(client_for):
    customer = CustomerFactory()
    now = timezone.now()
    for i in range(25):
        InteractionFactory(
            customer=customer, subject=f"Touch {i:02d}", occurred_at=now - timedelta(minutes=i)
        )
    client = client_for(Role.SUPPORT_AGENT)
    page = client.get(customer.get_absolute_url())
    titles = [e.title for e in page.context["timeline"]]
    assert titles == [f"Touch {i:02d}" for i in range(20)]
    older = client.get(
        reverse("customers:customer_timeline", args=[customer.pk]),
        {"before": page.context["timeline_next"]},
        HTTP_HX_REQUEST="true",
    )
    body = older.content.decode()
    assert "Touch 20" in body and "Touch 24" in body and "Touch 19" not in body
    assert 'id="timeline-older"' not in body


def test_events_at_the_same_instant_are_never_split_across_pages(rf, users):
    customer = CustomerFactory()
    now = timezone.now().replace(microsecond=0)
    for i in range(4):
        InteractionFactory(
            customer=customer, subject=f"Early {i}", occurred_at=now - timedelta(minutes=i)
        )
    tied = now - timedelta(hours=1)
    for i in range(3):
        InteractionFactory(customer=customer, subject=f"Tied {i}", occurred_at=tied)
    InteractionFactory(customer=customer, subject="Oldest", occurred_at=now - timedelta(days=1))
    request = rf.get("/")
    request.user = users[Role.SALES_REP]
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = timeline_page(request, customer, before=cursor, limit=5)
        seen += [e.title for e in page]
        pages += 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(
        [f"Early {i}" for i in range(4)] + [f"Tied {i}" for i in range(3)] + ["Oldest"]
    )
    assert len(seen) == len(set(seen)) == 8
    assert pages == 2
