"""Outgoing webhooks: events in, signed HTTP POSTs out, through Celery.

How an event travels:
1. `emit(event, instance)` is called where the change happens (the apps connect post_save
   receivers, see their api.py). It only registers a `transaction.on_commit` callback, so a
   rolled-back change sends nothing and the payload shows the committed state (an order with
   its lines and total).
2. After the commit, `dispatch` finds the active endpoints subscribed to the event (one
   query; nothing more when there are none), serialises the objects once, writes one
   WebhookDelivery per endpoint and object, and queues `deliver_webhook_task` for each with
   `delay_on_commit`. No network call happens in the request.
3. The task claims the delivery (a conditional UPDATE, so two workers never send the same
   attempt), POSTs it with an HMAC-SHA256 signature, and logs the response; a failure is
   retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS, then marked failed.
   `retry_stuck_webhooks_task` (beat) re-queues deliveries whose task was lost.

Inside `with batch():` (bulk endpoints) events are collected and dispatched as one batch per
event after the commit, instead of one callback per row.

Receivers verify: hex(HMAC_SHA256(secret, f"{X-CRM-Timestamp}." + body)) == the part after
"sha256=" in X-CRM-Signature, and reject old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import registry
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
EVENT_HEADER = "X-CRM-Event"
DELIVERY_HEADER = "X-CRM-Delivery"

_local = threading.local()


def emit(event: str, instance) -> None:
    """Announce `event` about `instance` once the current transaction commits."""
    if event not in registry.webhook_events():
        raise ValueError(f"Unknown webhook event {event!r}")
    collector = getattr(_local, "collector", None)
    if collector is not None:
        collector[event].append(instance.pk)
        return
    transaction.on_commit(partial(_safe_dispatch, event, [instance.pk]))


@contextmanager
def batch():
    """Collect the events emitted inside the block and dispatch each event's objects as one
    batch after the commit. Use inside the transaction.atomic() that writes them."""
    outer = getattr(_local, "collector", None)
    if outer is not None:  # nested: the outermost batch dispatches
        yield
        return
    _local.collector = defaultdict(list)
    try:
        yield
        collected = _local.collector
    finally:
        _local.collector = None
    for event, pks in collected.items():
        transaction.on_commit(partial(_safe_dispatch, event, pks))


def _safe_dispatch(event: str, pks: list[int]) -> None:
    # The change is committed already: a webhook problem must never turn it into an error.
    try:
        dispatch(event, pks)
    except Exception:
        logger.exception("webhooks: could not queue %s for %s", event, pks)


def subscribed_endpoints(event: str) -> list[WebhookEndpoint]:
    return [e for e in WebhookEndpoint.objects.filter(active=True) if event in (e.events or [])]


def dispatch(event: str, pks: list[int]) -> list[int]:
    """Write the deliveries of `event` for these objects and queue them; returns their ids."""
    endpoints = subscribed_endpoints(event)
    if not endpoints or not pks:
        return []
    spec = registry.webhook_events()[event]
    model = apps.get_model(spec.model)
    objects = model._default_manager.filter(pk__in=pks)
    now = timezone.now()
    deliveries = []
    for data in spec.serialize(objects):
        body = {
            "event": event,
            "occurred_at": now.isoformat(),
            "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        }
        event_id = uuid.uuid4()
        body["id"] = str(event_id)
        for endpoint in endpoints:
            deliveries.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    event_id=event_id,
                    event=event,
                    payload=body,
                    next_attempt_at=now,
                )
            )
    with transaction.atomic():
        created = WebhookDelivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in created]
        for pk in ids:
            deliver_webhook_task.delay_on_commit(pk, 1)
    return ids


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff_seconds(attempt: int) -> int:
    """Wait after failed attempt `attempt` (1-based): base, 2×base, 4×base… capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return int(min(base * 2 ** (attempt - 1), settings.WEBHOOK_RETRY_MAX_SECONDS))


def _claim(delivery_id: int, attempt: int) -> bool:
    """Take attempt number `attempt` of a delivery; False when it is done or taken."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            attempts=attempt - 1,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        ).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            last_attempt_at=timezone.now(),
        )
    )


def send(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """POST the delivery; (response code or None, response text, error text)."""
    # URLField also admits ftp://; webhooks are HTTP(S) only, never file: or custom schemes.
    if urllib.parse.urlsplit(delivery.endpoint.url).scheme not in ("http", "https"):
        return None, "", "only http and https URLs are delivered"
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(timezone.now().timestamp()))
    request = urllib.request.Request(  # noqa: S310 - admins register http(s) URLs only
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CRM-Webhooks/1",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.event_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(delivery.endpoint.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as resp:  # noqa: S310  # nosec B310 - the scheme is checked above: http and https only
            return resp.status, resp.read(2000).decode(errors="replace"), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode(errors="replace"), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "", str(getattr(exc, "reason", exc))[:500]


@shared_task(name="crm.api.webhooks.deliver_webhook_task", ignore_result=True)
def deliver_webhook_task(delivery_id: int, attempt: int = 1) -> str:
    """Attempt `attempt` of one delivery; idempotent (a repeated or late attempt is skipped)."""
    if not _claim(delivery_id, attempt):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    code, text, error = send(delivery)
    now = timezone.now()
    delivery.response_code = code
    delivery.response_body = text
    delivery.error = error
    if code is not None and 200 <= code < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.error = ""
    elif attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        wait = backoff_seconds(attempt)
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.save(
        update_fields=[
            "status",
            "response_code",
            "response_body",
            "error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if delivery.status == DeliveryStatus.RETRYING:
        deliver_webhook_task.apply_async((delivery.pk, attempt + 1), countdown=wait)
    return delivery.status


@shared_task(name="crm.api.webhooks.retry_stuck_webhooks_task", ignore_result=True)
def retry_stuck_webhooks_task() -> int:
    """Re-queue deliveries whose task never ran (broker down when queued, worker lost).

    A delivery counts as stuck when its next attempt is overdue by WEBHOOK_STUCK_AFTER, or
    it has been "sending" that long. Safe to run often: the claim skips anything that moved.
    """
    now = timezone.now()
    late = now - timedelta(seconds=settings.WEBHOOK_STUCK_AFTER_SECONDS)
    sending = WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, last_attempt_at__lt=late
    )
    sending.update(status=DeliveryStatus.RETRYING, next_attempt_at=now)
    stuck = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], next_attempt_at__lt=late
    ).values_list("pk", "attempts")[:1000]
    count = 0
    for pk, attempts in stuck:
        deliver_webhook_task.delay(pk, attempts + 1)
        count += 1
    return count
