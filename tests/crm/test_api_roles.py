"""Every endpoint, for each role and for another user's objects: the same rules as the
pages (crm.roles). One row per (who, what, on which object) with the expected status."""

import pytest

from crm.roles import Role
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderLineFactory,
    ProductFactory,
    TagFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

REP, AGENT, MANAGER, ADMIN, PEER = (
    Role.SALES_REP,
    Role.SUPPORT_AGENT,
    Role.MANAGER,
    Role.ADMIN,
    "peer",
)


@pytest.fixture
def world(users):
    from customers.models import Need

    own = CustomerFactory(owner=users[REP], name="Own")
    other = CustomerFactory(owner=users[PEER], name="Other", external_id="OTHER-1")
    plain = CustomerFactory(owner=users[REP], name="Plain")  # nothing refers to it
    product = ProductFactory()
    line = OrderLineFactory(order__customer=own, order__external_id="SO-OLD", product=product)
    from datetime import date, timedelta

    from django.utils import timezone

    from analytics.models import (
        AssociationRule,
        CustomerScore,
        CustomerSegment,
        Forecast,
        JobRun,
        Recommendation,
        SatisfactionPeriod,
        Segment,
    )
    from sales.models import Task
    from service.models import Feedback, TicketComment
    from tests.sales.factories import make_deal, make_pipeline

    pipeline = make_pipeline()
    ticket_own = TicketFactory(customer=own)
    ticket_other = TicketFactory(customer=other)
    run = JobRun.objects.create(kind="segmentation", status="succeeded")
    segment = Segment.objects.create(run=run, number=0, name="mid_regular", size=2)
    for customer in (own, other):
        CustomerSegment.objects.create(customer=customer, segment=segment)
    due = timezone.now() + timedelta(days=1)
    return {
        "pipeline": pipeline,
        "lead": pipeline.stages.get(name="Lead"),
        "proposal": pipeline.stages.get(name="Proposal"),
        "deal_own": make_deal(pipeline=pipeline, owner=users[REP], customer=own),
        "deal_other": make_deal(pipeline=pipeline, owner=users[PEER], customer=other),
        "task_own": Task.objects.create(
            title="Call", due_at=due, assignee=users[REP], customer=own
        ),
        "task_other": Task.objects.create(
            title="Call", due_at=due, assignee=users[PEER], customer=other
        ),
        "comment_own": TicketComment.objects.create(ticket=ticket_own, body="Hello"),
        "comment_other": TicketComment.objects.create(ticket=ticket_other, body="Hello"),
        "feedback_own": Feedback.objects.create(customer=own, csat=4),
        "feedback_other": Feedback.objects.create(customer=other, csat=2),
        "score_own": CustomerScore.objects.create(customer=own, churn_probability=0.2),
        "score_other": CustomerScore.objects.create(customer=other, churn_probability=0.7),
        "rec_own": Recommendation.objects.create(
            customer=own, product=product, rank=1, confidence=0.5, lift=2.0, because=[]
        ),
        "rec_other": Recommendation.objects.create(
            customer=other, product=product, rank=1, confidence=0.5, lift=2.0, because=[]
        ),
        "segment": segment,
        "rule": AssociationRule.objects.create(
            run=run,
            antecedents=[product.pk],
            consequents=[product.pk + 1],
            antecedent_size=1,
            support=0.1,
            confidence=0.8,
            lift=3.0,
            baskets=10,
        ),
        "forecast": Forecast.objects.create(
            run=run, granularity="month", period_start=date(2026, 1, 1), row_kind="future"
        ),
        "satisfaction": SatisfactionPeriod.objects.create(
            month=date(2026, 1, 1), responses=2, csat=3.0
        ),
        "own": own,
        "other": other,
        "plain": plain,
        "product": product,
        "order": line.order,
        "ticket_own": ticket_own,
        "ticket_other": ticket_other,
        "interaction": InteractionFactory(customer=other, user=users[PEER]),
        "need": Need.objects.create(customer=other, description="Wants a quote"),
        "tag": TagFactory(name="vip"),
        "user": users[PEER],
    }


BODIES = {
    "customer_new": lambda w: {"name": "New Co", "kind": "organisation"},
    "customer_name": lambda w: {"name": "Renamed"},
    "customer_phone": lambda w: {"phone": "+1 415 555 0199"},
    "ticket_new": lambda w: {"customer": w["own"].pk, "subject": "Broken", "problem": "It broke"},
    "ticket_priority": lambda w: {"priority": "high"},
    "order_new": lambda w: {
        "customer": w["own"].pk,
        "lines": [{"product": w["product"].pk, "quantity": 2}],
    },
    "order_status": lambda w: {"status": "shipped"},
    "product_new": lambda w: {"sku": "NEW-1", "name": "New", "unit_price": "5.00"},
    "product_name": lambda w: {"name": "Renamed"},
    "interaction_new": lambda w: {"customer": w["other"].pk, "channel": "phone", "subject": "Call"},
    "interaction_subject": lambda w: {"subject": "Changed"},
    "need_new": lambda w: {"customer": w["other"].pk, "description": "Needs training"},
    "need_priority": lambda w: {"priority": "high"},
    "tag_new": lambda w: {"name": "wholesale"},
    "tag_name": lambda w: {"name": "gold"},
    "customers_bulk": lambda w: [{"name": "B1"}, {"name": "B2"}],
    "products_bulk": lambda w: [{"sku": "B-1", "name": "B", "unit_price": "1.00"}],
    "orders_bulk": lambda w: [
        {"customer": w["own"].pk, "lines": [{"product": w["product"].pk, "quantity": 1}]}
    ],
    "interactions_bulk": lambda w: [
        {"customer": w["other"].pk, "channel": "sms", "subject": "Hi"},
    ],
    "deal_new": lambda w: {"customer": w["own"].pk, "title": "New deal", "stage": w["lead"].pk},
    "deal_title": lambda w: {"title": "Renamed"},
    "deal_move": lambda w: {"stage": w["proposal"].pk},
    "task_new": lambda w: {
        "title": "Call back",
        "due_at": "2030-01-01T10:00:00Z",
        "customer": w["own"].pk,
    },
    "task_done": lambda w: {"done": True},
    "comment_new": lambda w: {"ticket": w["ticket_other"].pk, "body": "We are on it."},
    "comment_own_ticket": lambda w: {"ticket": w["ticket_own"].pk, "body": "We are on it."},
    "feedback_new": lambda w: {"customer": w["other"].pk, "csat": 5, "nps": 9},
    "feedback_bulk": lambda w: [{"customer": w["other"].pk, "csat": 3}],
    "customer_upsert": lambda w: {"name": "Synced"},
    "product_upsert": lambda w: {"name": "Synced", "unit_price": "2.00"},
    "order_upsert": lambda w: {
        "customer": w["own"].pk,
        "lines": [{"product": w["product"].pk, "quantity": 1}],
    },
}

RESOURCES = (
    "customers",
    "interactions",
    "needs",
    "orders",
    "products",
    "tags",
    "tickets",
    "users",
    "deals",
    "tasks",
    "ticket-comments",
    "feedback",
    "segments",
    "scores",
    "recommendations",
    "association-rules",
    "forecasts",
    "satisfaction",
)

# (who, method, path, body, expected status)
CASES = [
    # customers: everyone reads all; reps create and change their own; agents change contact
    # details; managers and admins everything.
    *[(who, "get", "/customers/", None, 200) for who in (REP, AGENT, MANAGER, ADMIN)],
    *[(who, "get", "/customers/{other}/", None, 200) for who in (REP, AGENT, MANAGER, ADMIN)],
    (REP, "post", "/customers/", "customer_new", 201),
    (AGENT, "post", "/customers/", "customer_new", 403),
    (MANAGER, "post", "/customers/", "customer_new", 201),
    (ADMIN, "post", "/customers/", "customer_new", 201),
    (REP, "patch", "/customers/{own}/", "customer_name", 200),
    (REP, "patch", "/customers/{other}/", "customer_name", 403),
    (PEER, "patch", "/customers/{other}/", "customer_name", 200),
    (PEER, "patch", "/customers/{own}/", "customer_name", 403),
    (AGENT, "patch", "/customers/{other}/", "customer_phone", 200),
    (AGENT, "patch", "/customers/{other}/", "customer_name", 403),
    (MANAGER, "patch", "/customers/{other}/", "customer_name", 200),
    (REP, "delete", "/customers/{plain}/", None, 403),
    (AGENT, "delete", "/customers/{plain}/", None, 403),
    (MANAGER, "delete", "/customers/{plain}/", None, 204),
    (ADMIN, "delete", "/customers/{plain}/", None, 204),
    (MANAGER, "delete", "/customers/{own}/", None, 409),  # it has orders and tickets
    # tickets: reps see only their customers' tickets (another's is a 404) and open one;
    # agents work all; managers and admins everything.
    (REP, "get", "/tickets/{ticket_own}/", None, 200),
    (REP, "get", "/tickets/{ticket_other}/", None, 404),
    (PEER, "get", "/tickets/{ticket_own}/", None, 404),
    (PEER, "get", "/tickets/{ticket_other}/", None, 200),
    (AGENT, "get", "/tickets/{ticket_other}/", None, 200),
    (REP, "post", "/tickets/", "ticket_new", 201),
    (AGENT, "post", "/tickets/", "ticket_new", 201),
    (REP, "patch", "/tickets/{ticket_own}/", "ticket_priority", 403),
    (REP, "patch", "/tickets/{ticket_other}/", "ticket_priority", 404),
    (AGENT, "patch", "/tickets/{ticket_other}/", "ticket_priority", 200),
    (MANAGER, "patch", "/tickets/{ticket_other}/", "ticket_priority", 200),
    (REP, "delete", "/tickets/{ticket_own}/", None, 403),
    (AGENT, "delete", "/tickets/{ticket_own}/", None, 403),
    (ADMIN, "delete", "/tickets/{ticket_own}/", None, 204),
    # orders: everyone reads; reps create; managers change and delete.
    *[(who, "get", "/orders/{order}/", None, 200) for who in (REP, PEER, AGENT, MANAGER, ADMIN)],
    (REP, "post", "/orders/", "order_new", 201),
    (AGENT, "post", "/orders/", "order_new", 403),
    (MANAGER, "post", "/orders/", "order_new", 201),
    (REP, "patch", "/orders/{order}/", "order_status", 403),
    (AGENT, "patch", "/orders/{order}/", "order_status", 403),
    (MANAGER, "patch", "/orders/{order}/", "order_status", 200),
    (REP, "delete", "/orders/{order}/", None, 403),
    (MANAGER, "delete", "/orders/{order}/", None, 204),
    # products: everyone reads; managers and admins write.
    *[(who, "get", "/products/{product}/", None, 200) for who in (REP, AGENT, MANAGER, ADMIN)],
    (REP, "post", "/products/", "product_new", 403),
    (AGENT, "post", "/products/", "product_new", 403),
    (MANAGER, "post", "/products/", "product_new", 201),
    (REP, "patch", "/products/{product}/", "product_name", 403),
    (ADMIN, "patch", "/products/{product}/", "product_name", 200),
    (MANAGER, "delete", "/products/{product}/", None, 409),  # sold on an order
    # interactions: reps and agents read and log on any customer; managers change.
    (REP, "get", "/interactions/{interaction}/", None, 200),
    (AGENT, "get", "/interactions/", None, 200),
    (REP, "post", "/interactions/", "interaction_new", 201),
    (AGENT, "post", "/interactions/", "interaction_new", 201),
    (REP, "patch", "/interactions/{interaction}/", "interaction_subject", 403),
    (PEER, "patch", "/interactions/{interaction}/", "interaction_subject", 403),
    (MANAGER, "patch", "/interactions/{interaction}/", "interaction_subject", 200),
    (AGENT, "delete", "/interactions/{interaction}/", None, 403),
    (MANAGER, "delete", "/interactions/{interaction}/", None, 204),
    # needs: as interactions.
    (REP, "get", "/needs/{need}/", None, 200),
    (AGENT, "post", "/needs/", "need_new", 201),
    (REP, "patch", "/needs/{need}/", "need_priority", 403),
    (MANAGER, "patch", "/needs/{need}/", "need_priority", 200),
    # tags: everyone reads; managers write.
    (REP, "get", "/tags/", None, 200),
    (REP, "post", "/tags/", "tag_new", 403),
    (MANAGER, "post", "/tags/", "tag_new", 201),
    (AGENT, "patch", "/tags/{tag}/", "tag_name", 403),
    (ADMIN, "delete", "/tags/{tag}/", None, 204),
    # users: read only, for everyone with a role; never written through the API.
    *[(who, "get", "/users/", None, 200) for who in (REP, AGENT, MANAGER, ADMIN)],
    (REP, "get", "/users/{user}/", None, 200),
    (MANAGER, "post", "/users/", "tag_new", 405),
    (ADMIN, "delete", "/users/{user}/", None, 405),
    # bulk create: the "add" rule of each model.
    (REP, "post", "/customers/bulk/", "customers_bulk", 201),
    (AGENT, "post", "/customers/bulk/", "customers_bulk", 403),
    (MANAGER, "post", "/customers/bulk/", "customers_bulk", 201),
    (REP, "post", "/products/bulk/", "products_bulk", 403),
    (ADMIN, "post", "/products/bulk/", "products_bulk", 201),
    (REP, "post", "/orders/bulk/", "orders_bulk", 201),
    (AGENT, "post", "/orders/bulk/", "orders_bulk", 403),
    (AGENT, "post", "/interactions/bulk/", "interactions_bulk", 201),
    (MANAGER, "post", "/interactions/bulk/", "interactions_bulk", 201),
    # deals: reps their own (another rep's is a 404), agents none (403, as the deal pages),
    # managers and admins all.
    (REP, "get", "/deals/", None, 200),
    (AGENT, "get", "/deals/", None, 403),
    (REP, "get", "/deals/{deal_own}/", None, 200),
    (REP, "get", "/deals/{deal_other}/", None, 404),
    (PEER, "get", "/deals/{deal_own}/", None, 404),
    (AGENT, "get", "/deals/{deal_own}/", None, 403),
    (MANAGER, "get", "/deals/{deal_other}/", None, 200),
    (REP, "post", "/deals/", "deal_new", 201),
    (AGENT, "post", "/deals/", "deal_new", 403),
    (MANAGER, "post", "/deals/", "deal_new", 201),
    (REP, "patch", "/deals/{deal_own}/", "deal_title", 200),
    (REP, "patch", "/deals/{deal_other}/", "deal_title", 404),
    (AGENT, "patch", "/deals/{deal_own}/", "deal_title", 403),
    (ADMIN, "patch", "/deals/{deal_other}/", "deal_title", 200),
    (REP, "post", "/deals/{deal_own}/move/", "deal_move", 200),
    (REP, "post", "/deals/{deal_other}/move/", "deal_move", 404),
    (PEER, "post", "/deals/{deal_own}/move/", "deal_move", 404),
    (AGENT, "post", "/deals/{deal_own}/move/", "deal_move", 403),
    (MANAGER, "post", "/deals/{deal_other}/move/", "deal_move", 200),
    (REP, "delete", "/deals/{deal_own}/", None, 403),
    (MANAGER, "delete", "/deals/{deal_own}/", None, 204),
    # tasks: reps the tasks assigned to them; agents none (403, as the task pages); managers
    # and admins all.
    (AGENT, "get", "/tasks/", None, 403),
    (REP, "get", "/tasks/{task_own}/", None, 200),
    (REP, "get", "/tasks/{task_other}/", None, 404),
    (PEER, "get", "/tasks/{task_own}/", None, 404),
    (AGENT, "get", "/tasks/{task_own}/", None, 403),
    (MANAGER, "get", "/tasks/{task_other}/", None, 200),
    (REP, "post", "/tasks/", "task_new", 201),
    (AGENT, "post", "/tasks/", "task_new", 403),
    (MANAGER, "post", "/tasks/", "task_new", 201),
    (REP, "patch", "/tasks/{task_own}/", "task_done", 200),
    (REP, "patch", "/tasks/{task_other}/", "task_done", 404),
    (ADMIN, "patch", "/tasks/{task_other}/", "task_done", 200),
    (REP, "delete", "/tasks/{task_own}/", None, 403),
    (MANAGER, "delete", "/tasks/{task_own}/", None, 204),
    # ticket comments: as their ticket; reps read only, on their own customers' tickets.
    (REP, "get", "/ticket-comments/{comment_own}/", None, 200),
    (REP, "get", "/ticket-comments/{comment_other}/", None, 404),
    (PEER, "get", "/ticket-comments/{comment_own}/", None, 404),
    (AGENT, "get", "/ticket-comments/{comment_other}/", None, 200),
    (MANAGER, "get", "/ticket-comments/{comment_other}/", None, 200),
    (REP, "post", "/ticket-comments/", "comment_own_ticket", 403),
    (AGENT, "post", "/ticket-comments/", "comment_new", 201),
    (MANAGER, "post", "/ticket-comments/", "comment_new", 201),
    (ADMIN, "post", "/ticket-comments/", "comment_new", 201),
    (AGENT, "patch", "/ticket-comments/{comment_other}/", "comment_new", 405),
    (MANAGER, "delete", "/ticket-comments/{comment_other}/", None, 405),
    # feedback: reps read their own customers'; agents read all and record; managers all.
    (REP, "get", "/feedback/{feedback_own}/", None, 200),
    (REP, "get", "/feedback/{feedback_other}/", None, 404),
    (PEER, "get", "/feedback/{feedback_own}/", None, 404),
    (AGENT, "get", "/feedback/{feedback_other}/", None, 200),
    (REP, "post", "/feedback/", "feedback_new", 403),
    (AGENT, "post", "/feedback/", "feedback_new", 201),
    (MANAGER, "post", "/feedback/", "feedback_new", 201),
    (AGENT, "post", "/feedback/bulk/", "feedback_bulk", 201),
    (REP, "post", "/feedback/bulk/", "feedback_bulk", 403),
    (AGENT, "delete", "/feedback/{feedback_other}/", None, 403),
    (MANAGER, "delete", "/feedback/{feedback_other}/", None, 204),
    (MANAGER, "patch", "/feedback/{feedback_other}/", "feedback_new", 405),
    # analytics: reps their own customers' scores and recommendations; agents only the
    # service figures; managers and admins everything; nothing is written.
    (REP, "get", "/scores/{own}/", None, 200),
    (REP, "get", "/scores/{other}/", None, 404),
    (PEER, "get", "/scores/{own}/", None, 404),
    (AGENT, "get", "/scores/", None, 403),
    (AGENT, "get", "/scores/{own}/", None, 403),
    (MANAGER, "get", "/scores/{other}/", None, 200),
    (ADMIN, "get", "/scores/{own}/", None, 200),
    (REP, "get", "/recommendations/{rec_own}/", None, 200),
    (REP, "get", "/recommendations/{rec_other}/", None, 404),
    (AGENT, "get", "/recommendations/", None, 403),
    (MANAGER, "get", "/recommendations/{rec_other}/", None, 200),
    *[
        (who, "get", path, None, 403)
        for who in (REP, AGENT)
        for path in ("/segments/", "/association-rules/", "/forecasts/")
    ],
    (REP, "get", "/segments/{segment}/", None, 403),
    (MANAGER, "get", "/segments/{segment}/", None, 200),
    (MANAGER, "get", "/association-rules/{rule}/", None, 200),
    (ADMIN, "get", "/forecasts/{forecast}/", None, 200),
    (REP, "get", "/satisfaction/", None, 403),
    (AGENT, "get", "/satisfaction/{satisfaction}/", None, 200),
    (MANAGER, "get", "/satisfaction/", None, 200),
    (MANAGER, "delete", "/scores/{own}/", None, 405),
    (ADMIN, "post", "/segments/", "tag_new", 405),
    # upsert: "add" for a new key, "change" on the object for an existing one.
    (REP, "put", "/customers/by-external-id/NEW-1/", "customer_upsert", 201),
    (AGENT, "put", "/customers/by-external-id/NEW-1/", "customer_upsert", 403),
    (PEER, "put", "/customers/by-external-id/OTHER-1/", "customer_upsert", 200),
    (REP, "put", "/customers/by-external-id/OTHER-1/", "customer_upsert", 403),
    (MANAGER, "put", "/customers/by-external-id/OTHER-1/", "customer_upsert", 200),
    (REP, "put", "/products/by-sku/NEW-SKU/", "product_upsert", 403),
    (MANAGER, "put", "/products/by-sku/NEW-SKU/", "product_upsert", 201),
    (AGENT, "put", "/orders/by-external-id/SO-NEW/", "order_upsert", 403),
    (REP, "put", "/orders/by-external-id/SO-NEW/", "order_upsert", 201),
    (REP, "put", "/orders/by-external-id/SO-OLD/", "order_upsert", 403),
    (ADMIN, "put", "/orders/by-external-id/SO-OLD/", "order_upsert", 200),
]


def _id(case):
    who, method, path, body, expected = case
    return f"{getattr(who, 'value', who)}-{method}-{path}-{body}-{expected}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_role_rules(api_for, world, case):
    who, method, path, body, expected = case
    url = "/api/v1" + path.format(**{k: getattr(v, "pk", v) for k, v in world.items()})
    data = BODIES[body](world) if body else None
    response = getattr(api_for(who), method)(url, data, format="json")
    assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_requests_are_401(world, resource):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(f"/api/v1/{resource}/").status_code == 401
    assert client.post(f"/api/v1/{resource}/", {}, format="json").status_code == 401


@pytest.mark.parametrize("resource", RESOURCES)
def test_roleless_users_are_403(world, resource):
    from tests.api_support import token_client
    from tests.factories import UserFactory

    client = token_client(UserFactory(username="no-role"))
    assert client.get(f"/api/v1/{resource}/").status_code == 403


def test_another_reps_ticket_is_not_in_their_list(api_for, world):
    listed = {row["id"] for row in api_for(REP).get("/api/v1/tickets/").json()["results"]}
    assert listed == {world["ticket_own"].pk}


def test_inactive_users_are_hidden_from_reps_but_not_from_managers(api_for, users):
    users[PEER].is_active = False
    users[PEER].save()
    assert api_for(REP).get(f"/api/v1/users/{users[PEER].pk}/").status_code == 404
    assert api_for(MANAGER).get(f"/api/v1/users/{users[PEER].pk}/").status_code == 200


def test_users_carry_their_role(api_for, users):
    rows = api_for(MANAGER).get("/api/v1/users/", {"role": "support_agent"}).json()["results"]
    assert [(r["username"], r["role"]) for r in rows] == [("support_agent", "support_agent")]


@pytest.mark.parametrize(
    ("resource", "own", "other"),
    [
        ("deals", "deal_own", "deal_other"),
        ("tasks", "task_own", "task_other"),
        ("ticket-comments", "comment_own", "comment_other"),
        ("feedback", "feedback_own", "feedback_other"),
        ("recommendations", "rec_own", "rec_other"),
    ],
)
def test_a_reps_lists_hold_only_their_own_rows(api_for, world, resource, own, other):
    rows = api_for(REP).get(f"/api/v1/{resource}/").json()["results"]
    assert {row["id"] for row in rows} == {world[own].pk}
    rows = api_for(MANAGER).get(f"/api/v1/{resource}/").json()["results"]
    assert {world[own].pk, world[other].pk} <= {row["id"] for row in rows}


def test_a_reps_score_list_holds_only_their_customers(api_for, world):
    rows = api_for(REP).get("/api/v1/scores/").json()["results"]
    assert [(r["customer"], r["segment"]) for r in rows] == [(world["own"].pk, world["segment"].pk)]
