"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: each event arrives once,
signed; a failing receiver gets retries with backoff; nothing is sent for a rolled-back
change; the request that caused an event makes no network call itself."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from crm.api import webhooks
from crm.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from crm.roles import Role
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A tiny threaded HTTP server that records every POST and answers with the next status
    of `statuses` (the last one repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))  # case-insensitive
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [json.loads(body)["event"] for _headers, body in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,)):
        r = Receiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _endpoint(url, events):
    return WebhookEndpoint.objects.create(name="ERP", url=url, events=events, secret="s3cret")


def _assert_signed(headers, body, secret="s3cret"):
    timestamp = headers["X-CRM-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert headers["X-CRM-Signature"] == "sha256=" + expected.hexdigest()


def test_customer_created_and_changed_arrive_once_and_signed(api_for, receiver):
    r = receiver()
    _endpoint(r.url, ["customer.created", "customer.changed"])
    client = api_for(Role.SALES_REP)
    created = client.post("/api/v1/customers/", {"name": "Ada", "external_id": "A1"}, format="json")
    assert created.status_code == 201
    client.patch(f"/api/v1/customers/{created.json()['id']}/", {"city": "Oslo"}, format="json")
    assert r.events() == ["customer.created", "customer.changed"]
    for headers, body in r.requests:
        _assert_signed(headers, body)
        payload = json.loads(body)
        assert payload["data"]["external_id"] == "A1"
        assert headers["X-CRM-Delivery"] == payload["id"]
        assert "annual_income" not in payload["data"]  # never in webhooks
    assert json.loads(r.requests[1][1])["data"]["city"] == "Oslo"
    assert set(WebhookDelivery.objects.values_list("status", "attempts", "response_code")) == {
        (DeliveryStatus.DELIVERED, 1, 200)
    }


def test_order_created_carries_its_lines_and_total(api_for, users, receiver):
    r = receiver()
    _endpoint(r.url, ["order.created"])
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    product = ProductFactory(unit_price="12.50")
    response = api_for(Role.SALES_REP).post(
        "/api/v1/orders/",
        {"customer": customer.pk, "lines": [{"product": product.pk, "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201
    assert r.events() == ["order.created"]
    data = json.loads(r.requests[0][1])["data"]
    assert data["total"] == "25.00" and len(data["lines"]) == 1


def test_ticket_created_then_resolved(api_for, users, receiver):
    r = receiver()
    _endpoint(r.url, ["ticket.created", "ticket.resolved"])
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    client = api_for(Role.SUPPORT_AGENT)
    ticket = client.post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "Broken", "problem": "It broke"},
        format="json",
    ).json()
    client.patch(f"/api/v1/tickets/{ticket['id']}/", {"status": "open"}, format="json")
    client.patch(
        f"/api/v1/tickets/{ticket['id']}/",
        {"status": "resolved", "solution": "Replaced it"},
        format="json",
    )
    # Saving the resolved ticket again is not a second resolution.
    client.patch(f"/api/v1/tickets/{ticket['id']}/", {"priority": "low"}, format="json")
    assert r.events() == ["ticket.created", "ticket.resolved"]


def test_bulk_create_sends_one_event_per_row(api_for, receiver):
    r = receiver()
    _endpoint(r.url, ["customer.created"])
    rows = [{"name": f"C{i}", "external_id": f"B{i}"} for i in range(3)]
    assert (
        api_for(Role.MANAGER).post("/api/v1/customers/bulk/", rows, format="json").status_code
        == 201
    )
    assert sorted(json.loads(b)["data"]["external_id"] for _h, b in r.requests) == [
        "B0",
        "B1",
        "B2",
    ]


def test_unsubscribed_events_and_inactive_endpoints_get_nothing(api_for, receiver):
    r = receiver()
    _endpoint(r.url, ["order.created"])
    WebhookEndpoint.objects.create(name="off", url=r.url, events=["customer.created"], active=False)
    api_for(Role.SALES_REP).post("/api/v1/customers/", {"name": "Ada"}, format="json")
    assert r.requests == [] and not WebhookDelivery.objects.exists()


def test_rolled_back_change_sends_nothing(receiver):
    r = receiver()
    _endpoint(r.url, ["customer.created"])
    with pytest.raises(RuntimeError), transaction.atomic():
        CustomerFactory()
        raise RuntimeError
    assert r.requests == [] and not WebhookDelivery.objects.exists()


def test_failing_receiver_gets_retries_then_failed(settings, receiver):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    r = receiver(statuses=(500,))
    _endpoint(r.url, ["customer.created"])
    CustomerFactory()
    assert len(r.requests) == 3
    assert len({h["X-CRM-Delivery"] for h, _b in r.requests}) == 1  # the same event each time
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.FAILED,
        3,
        500,
    )


def test_receiver_that_recovers_gets_it_on_a_retry(settings, receiver):
    r = receiver(statuses=(503, 200))
    _endpoint(r.url, ["customer.created"])
    CustomerFactory()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
    )
    assert len(r.requests) == 2


def test_unreachable_receiver_is_logged_not_raised(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    _endpoint("http://127.0.0.1:9/nothing-listens-here", ["customer.created"])
    CustomerFactory()  # the change itself succeeds
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_code is None
    assert delivery.error


def test_backoff_doubles_up_to_the_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 100
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_the_request_makes_no_network_call(api_for, receiver, monkeypatch):
    """The API request only writes the delivery and queues the task; the worker sends it."""
    r = receiver()
    _endpoint(r.url, ["customer.created"])
    queued = []
    monkeypatch.setattr(
        webhooks.deliver_webhook_task, "delay_on_commit", lambda *args: queued.append(args)
    )
    response = api_for(Role.SALES_REP).post("/api/v1/customers/", {"name": "Ada"}, format="json")
    assert response.status_code == 201
    assert r.requests == [] and len(queued) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    webhooks.deliver_webhook_task(*queued[0])  # what the worker does
    assert r.events() == ["customer.created"]
    # A repeated task (late ack, redelivery) does not send it twice.
    assert webhooks.deliver_webhook_task(*queued[0]) == "skipped"
    assert len(r.requests) == 1


def test_stuck_deliveries_are_sent_by_the_sweeper(api_for, receiver, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    r = receiver()
    _endpoint(r.url, ["customer.created"])
    monkeypatch.setattr(webhooks.deliver_webhook_task, "delay_on_commit", lambda *args: None)
    CustomerFactory()  # queued into a broker that lost it
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert webhooks.retry_stuck_webhooks_task() == 1
    assert r.events() == ["customer.created"]


def test_deal_won_and_lost_arrive_once_signed_and_the_win_makes_its_order(api_for, users, receiver):
    from decimal import Decimal

    from sales.models import Order
    from tests.sales.factories import make_deal, make_pipeline, stage

    r = receiver()
    _endpoint(r.url, ["deal.won", "deal.lost", "order.created"])
    pipeline = make_pipeline()
    owner = users[Role.SALES_REP]
    winner = make_deal(pipeline=pipeline, owner=owner, lines=((Decimal("4.00"), 5),))
    loser = make_deal(pipeline=pipeline, owner=owner)
    client = api_for(Role.SALES_REP)

    def move(deal, name, **extra):
        url = f"/api/v1/deals/{deal.pk}/move/"
        body = {"stage": stage(pipeline, name).pk, **extra}
        assert client.post(url, body, format="json").status_code == 200

    move(winner, "Proposal")  # an open stage: no event
    assert r.requests == []
    move(winner, "Won")
    move(winner, "Won")  # already there: no second event, no second order
    move(loser, "Lost", lost_reason="competitor")
    assert sorted(r.events()) == ["deal.lost", "deal.won", "order.created"]
    for headers, body in r.requests:
        _assert_signed(headers, body)
    payloads = {json.loads(b)["event"]: json.loads(b)["data"] for _h, b in r.requests}
    order = Order.objects.get()
    assert payloads["deal.won"]["id"] == winner.pk
    assert payloads["deal.won"]["order"] == order.pk and payloads["deal.won"]["status"] == "won"
    assert payloads["order.created"]["total"] == "20.00"
    assert payloads["deal.lost"]["lost_reason"] == "competitor"
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }


def test_a_deal_created_won_fires_deal_won(api_for, users, receiver):
    from tests.sales.factories import make_pipeline, stage

    r = receiver()
    _endpoint(r.url, ["deal.won"])
    pipeline = make_pipeline()
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    response = api_for(Role.MANAGER).post(
        "/api/v1/deals/",
        {
            "customer": customer.pk,
            "title": "Signed",
            "stage": stage(pipeline, "Won").pk,
            "lines": [{"product": ProductFactory().pk, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 201
    assert r.events() == ["deal.won"]
    assert json.loads(r.requests[0][1])["data"]["order"] is not None
