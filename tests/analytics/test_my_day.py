"""The "my day" page: each rep and agent sees their own work only, in a constant number of
queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import CustomerScore, Recommendation
from crm.roles import Role
from tests.factories import CustomerFactory, ProductFactory, TicketFactory, UserFactory
from tests.sales.factories import TaskFactory, make_deal, make_pipeline
from tests.service.factories import FeedbackFactory

pytestmark = pytest.mark.django_db

URL = "/analytics/my-day/"
NOW = timezone.now()


def _rep_world(rep, tag: str, n: int = 1):
    """For one rep: n open deals, overdue tasks, customers at risk and recommendations, each
    named with `tag` so a page can be searched for another rep's rows."""
    pipeline = make_pipeline()
    for i in range(n):
        customer = CustomerFactory(owner=rep, name=f"{tag} customer {i}")
        make_deal(
            pipeline=pipeline,
            owner=rep,
            customer=customer,
            title=f"{tag} deal {i}",
            stage_name="Proposal",
            lines=((Decimal("100.00"), 1),),
        )
        TaskFactory(
            title=f"{tag} task {i}",
            assignee=rep,
            customer=customer,
            due_at=NOW - timedelta(hours=i + 1),
        )
        CustomerScore.objects.create(
            customer=customer,
            churn_probability=0.8,
            churn_drivers=[{"feature": "recency_days", "value": 120.0, "effect": 0.3}],
            predicted_value_12m=Decimal("500.00"),
        )
        bought, offered = (
            ProductFactory(name=f"{tag} bought {i}"),
            ProductFactory(name=f"{tag} offer {i}"),
        )
        Recommendation.objects.create(
            customer=customer,
            product=offered,
            rank=1,
            confidence=0.6,
            lift=2.5,
            because=[bought.pk],
        )
    return pipeline


def test_rep_sees_their_own_pipeline_tasks_risks_and_recommendations(client_for, users):
    _rep_world(users[Role.SALES_REP], "Mine", n=2)
    _rep_world(users["peer"], "Theirs", n=2)
    html = client_for(Role.SALES_REP).get(URL).content.decode()
    for part in ("my-pipeline", "my-overdue", "my-at-risk", "my-recommendations"):
        assert f'data-testid="{part}"' in html
    assert "Mine task 0" in html and "Mine task 1" in html
    assert "Mine customer 0" in html and "Mine offer 1" in html and "Mine bought 0" in html
    assert "Days since last order: 120" in html
    assert "Theirs" not in html  # another rep's deals, tasks, customers and offers never show
    assert 'data-testid="pipeline-total">$200.00<' in html  # two open deals of 100
    assert 'data-testid="agent-day"' not in html  # service sections are for agents


def test_agent_sees_their_queue_breaching_tickets_and_scores(client_for, users):
    agent = users[Role.SUPPORT_AGENT]
    other = UserFactory(username="other_agent", role=Role.SUPPORT_AGENT)
    TicketFactory(subject="Mine waits", assignee=agent, resolution_due=NOW + timedelta(days=2))
    TicketFactory(subject="Mine burns", assignee=agent, resolution_due=NOW + timedelta(minutes=30))
    TicketFactory(subject="Nobody burns", resolution_due=NOW - timedelta(minutes=5))
    TicketFactory(subject="Other burns", assignee=other, resolution_due=NOW - timedelta(hours=1))
    TicketFactory(subject="Mine closed", assignee=agent, status="closed")
    for csat in (5, 4, 2):
        FeedbackFactory(agent=agent, csat=csat, nps=10, submitted_at=NOW - timedelta(days=3))
    FeedbackFactory(agent=other, csat=1, submitted_at=NOW - timedelta(days=3))
    html = client_for(Role.SUPPORT_AGENT).get(URL).content.decode()
    queue = html[html.index('data-testid="my-queue"') : html.index('data-testid="breaching-soon"')]
    assert "Mine waits" in queue and "Mine burns" in queue
    assert "Mine closed" not in queue and "Other burns" not in queue
    breaching = html[html.index('data-testid="breaching-soon"') :]
    assert "Mine burns" in breaching and "Nobody burns" in breaching
    assert "Other burns" not in breaching and "Mine waits" not in breaching[:2000]
    assert 'data-testid="my-csat">66.7%<' in html  # two of three answers are 4 or 5
    assert 'data-testid="rep-day"' not in html  # no deals or customer scores for agents


def test_manager_gets_both_sections_of_their_own(client_for):
    html = client_for(Role.MANAGER).get(URL).content.decode()
    assert 'data-testid="rep-day"' in html and 'data-testid="agent-day"' in html
    assert "No open deals." in html and "Nothing overdue." in html


def test_my_day_is_in_the_navigation_of_reps_and_agents(client_for):
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        assert f'href="{URL}"' in client_for(role).get("/customers/").content.decode()
    manager_nav = client_for(Role.MANAGER).get("/customers/").content.decode()
    nav = manager_nav[manager_nav.index('data-testid="main-nav"') :]
    assert f'href="{URL}"' not in nav[: nav.index("</ul>")]


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _count(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_rep_day_queries_do_not_grow(client_for, users, django_assert_max_num_queries):
    client = client_for(Role.SALES_REP)
    _rep_world(users[Role.SALES_REP], "A", n=2)
    small = _count(client)
    _rep_world(users[Role.SALES_REP], "B", n=25)
    assert _count(client) == small
    with django_assert_max_num_queries(14):
        client.get(URL)


def test_agent_day_queries_do_not_grow(client_for, users, django_assert_max_num_queries):
    agent = users[Role.SUPPORT_AGENT]
    client = client_for(Role.SUPPORT_AGENT)

    def tickets(n):
        for i in range(n):
            TicketFactory(assignee=agent, resolution_due=NOW + timedelta(minutes=i))
            FeedbackFactory(agent=agent, submitted_at=NOW - timedelta(days=i * 7))

    tickets(2)
    small = _count(client)
    tickets(30)
    assert _count(client) == small
    with django_assert_max_num_queries(14):
        client.get(URL)
