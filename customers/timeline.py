"""The customer timeline: events of every kind merged newest first, a page at a time.

Each source (this app's interactions; orders, deal changes, tickets and feedback registered
by the apps above) returns its newest `limit` events older than a cursor; merging them and
keeping the newest `limit` gives one page in one query per source, however long the history.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from crm.registry import TimelineEvent, timeline_sources

PAGE_SIZE = 20


def interaction_events(request, customer, before: datetime | None, limit: int):
    qs = customer.interactions.select_related("user").order_by("-occurred_at", "-id")
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    for i in qs[:limit]:
        yield TimelineEvent(
            when=i.occurred_at,
            kind="interaction",
            icon={
                "phone": "telephone",
                "email": "envelope",
                "meeting": "people",
                "sms": "chat-dots",
                "chat": "chat",
                "social": "share",
                "web_form": "globe",
            }.get(i.channel, "chat"),
            title=i.subject,
            detail=f"{i.get_channel_display()} · {i.get_direction_display()}",
            user=i.user.get_username() if i.user else "",
            url=reverse("customers:customer_detail", args=[customer.pk]) + f"#interaction-{i.pk}",
        )


def timeline_page(request, customer, before: datetime | None = None, limit: int = PAGE_SIZE):
    """(events, next_cursor): one page of the merged timeline; next_cursor is None at the end."""
    events: list[TimelineEvent] = []
    for source in timeline_sources().values():
        events.extend(source(request, customer, before, limit + 1))
    events.sort(key=lambda e: e.when, reverse=True)
    page = events[:limit]
    next_cursor = page[-1].when if len(events) > limit else None
    return page, next_cursor
