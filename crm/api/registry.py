"""Where apps plug into the API: viewsets for the router and webhook events.

Each app calls these from its AppConfig.ready(); crm.api.urls builds the router from what is
registered, so crm never imports an app. Adding a resource is one serializer, one viewset
and one `register_viewset` line in the app's api.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_viewsets: dict[str, tuple[type, str]] = {}


def register_viewset(prefix: str, viewset: type, basename: str) -> None:
    """Serve `viewset` at /api/v1/<prefix>/ (router names "<basename>-list", "-detail")."""
    _viewsets[prefix] = (viewset, basename)


def viewsets() -> dict[str, tuple[type, str]]:
    return dict(sorted(_viewsets.items()))


@dataclass(frozen=True)
class WebhookEvent:
    """An event that webhook endpoints may subscribe to.

    `serialize(queryset)` returns the payload "data" of each object of the queryset (one
    query set's worth of queries, whatever its size); it runs when the change commits.
    """

    name: str  # "customer.created"
    label: Any  # a lazy translation, for the admin
    model: str  # "customers.customer"
    serialize: Callable[[Any], Iterable[dict]]


_events: dict[str, WebhookEvent] = {}


def register_event(event: WebhookEvent) -> None:
    _events[event.name] = event


def webhook_events() -> dict[str, WebhookEvent]:
    return dict(sorted(_events.items()))
