"""The customer timeline: events of every kind merged newest first, a page at a time.

Each source (this app's interactions; orders, deal changes, tickets and feedback registered
by the apps above) returns its newest `limit` events older than a cursor; merging them and
keeping the newest `limit` gives one page in one query per source, however long the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from crm import roles
from crm.registry import TimelineEvent, timeline_sources

from .models import Interaction

PAGE_SIZE = 20

CHANNEL_ICONS = {
    "phone": "telephone",
    "email": "envelope",
    "meeting": "people",
    "sms": "chat-dots",
    "chat": "chat",
    "social": "share",
    "web_form": "globe",
}


def interaction_events(request, customer, before: datetime | None, limit: int):
    """The customer's interactions as timeline events: one query for the interactions and
    their users, plus one per kind of linked object (deal, ticket)."""
    qs = (
        roles.visible(request.user, Interaction)
        .filter(customer=customer)
        .select_related("user")
        .prefetch_related("related_object")
        .order_by("-occurred_at", "-id")
    )
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    for i in qs[:limit]:
        detail = [str(i.get_channel_display()), str(i.get_direction_display())]
        if i.duration_minutes:
            detail.append(_("%(minutes)s min") % {"minutes": i.duration_minutes})
        url = ""
        related = i.related_object
        if related is not None:
            detail.append(_("about %(object)s") % {"object": related})
            url = related.get_absolute_url() if hasattr(related, "get_absolute_url") else ""
        yield TimelineEvent(
            when=i.occurred_at,
            kind="interaction",
            icon=CHANNEL_ICONS.get(i.channel, "chat"),
            title=i.subject,
            detail=" · ".join(detail),
            user=i.user.get_username() if i.user else "",
            url=url,
            body=i.body,
        )


def timeline_page(request, customer, before: datetime | None = None, limit: int = PAGE_SIZE):
    """(events, next_cursor): one page of the merged timeline; next_cursor is None at the end."""
    events: list[TimelineEvent] = []
    for source in timeline_sources().values():
        events.extend(source(request, customer, before, limit + 1))
    events.sort(key=lambda e: e.when, reverse=True)
    if len(events) <= limit:
        return events, None
    # The cursor is "strictly older than", so a page must not end inside a run of events
    # with the same time, or the rest of the run would be skipped: end the page before the
    # run and let the next page start at it (cursor just after its time).
    boundary = events[limit].when
    page = [e for e in events[:limit] if e.when != boundary]
    if page:
        return page, boundary + timedelta(microseconds=1)
    return events[:limit], boundary  # more than a page at one instant: rare, move on
