"""The new list endpoints answer from a constant number of queries, whatever the page size
(measured with 30 rows, where an N+1 would show as 30 more)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from crm.roles import Role
from tests.factories import CustomerFactory, ProductFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _tasks(users):
    from sales.models import Task

    for _ in range(30):
        Task.objects.create(
            title="Call",
            due_at=timezone.now() + timedelta(days=1),
            assignee=users[Role.SALES_REP],
            customer=CustomerFactory(),
        )


def _comments(users):
    from service.models import TicketComment

    for _ in range(30):
        TicketComment.objects.create(
            ticket=TicketFactory(), body="Hi", author=users[Role.SUPPORT_AGENT]
        )


def _feedback(users):
    from service.models import Feedback

    for _ in range(30):
        Feedback.objects.create(customer=CustomerFactory(), ticket=TicketFactory(), csat=3)


def _recommendations(users):
    from analytics.models import Recommendation

    product = ProductFactory()
    for _ in range(30):
        Recommendation.objects.create(
            customer=CustomerFactory(), product=product, rank=1, confidence=0.5, lift=2, because=[]
        )


def _forecasts(users):
    from analytics.models import Forecast, JobRun

    run = JobRun.objects.create(kind="forecast", status="succeeded")
    for month in range(1, 31):
        Forecast.objects.create(
            run=run,
            granularity="week",
            period_start=date(2026, 1, 1) + timedelta(weeks=month),
            row_kind="history",
        )


@pytest.mark.parametrize(
    ("resource", "make"),
    [
        ("tasks", _tasks),
        ("ticket-comments", _comments),
        ("feedback", _feedback),
        ("recommendations", _recommendations),
        ("forecasts", _forecasts),
    ],
)
def test_lists_run_a_constant_number_of_queries(
    api_for, users, resource, make, django_assert_max_num_queries
):
    make(users)
    client = api_for(Role.MANAGER)
    client.get(f"/api/v1/{resource}/")  # the token's first use writes last_used_at
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/{resource}/", {"page_size": 30})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 30
