"""Admins register webhook endpoints and read the delivery log in the Django admin."""

import pytest

from crm.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from crm.roles import Role

pytestmark = pytest.mark.django_db


def test_admin_registers_an_endpoint_with_events(client_for):
    client = client_for(Role.ADMIN)
    form = client.get("/admin/crm/webhookendpoint/add/")
    assert form.status_code == 200
    assert b"customer.created" in form.content and b"ticket.resolved" in form.content
    response = client.post(
        "/admin/crm/webhookendpoint/add/",
        {
            "name": "ERP",
            "url": "https://erp.example.com/hooks",
            "events": ["customer.created", "order.created"],
            "secret": "shared-secret",
            "active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["customer.created", "order.created"]


def test_endpoint_form_refuses_unknown_events_and_other_schemes(client_for):
    response = client_for(Role.ADMIN).post(
        "/admin/crm/webhookendpoint/add/",
        {"name": "x", "url": "ftp://example.com/", "events": ["deal.archived"], "secret": "s"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "url" in errors and "events" in errors
    assert not WebhookEndpoint.objects.exists()


def test_managers_cannot_reach_the_webhook_admin(client_for):
    response = client_for(Role.MANAGER).get("/admin/crm/webhookendpoint/")
    assert response.status_code == 302  # to the admin login


def test_failed_deliveries_can_be_sent_again(client_for, monkeypatch):
    from crm.api import webhooks

    queued = []
    monkeypatch.setattr(
        webhooks.deliver_webhook_task, "delay_on_commit", lambda *args: queued.append(args)
    )
    endpoint = WebhookEndpoint.objects.create(name="e", url="https://e.example.com/", events=[])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="customer.created",
        payload={},
        status=DeliveryStatus.FAILED,
        attempts=6,
    )
    client = client_for(Role.ADMIN)
    assert client.get("/admin/crm/webhookdelivery/").status_code == 200
    response = client.post(
        "/admin/crm/webhookdelivery/",
        {"action": "retry_deliveries", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert queued == [(delivery.pk, 1)]
