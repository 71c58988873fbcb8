"""Extension points that let a lower app show what higher apps provide, without importing them.

The customers app owns the customer page, but orders, deals, tickets and scores belong to
the apps above it. Each of those registers, in its AppConfig.ready():

- navigation entries (`register_nav`): a top-bar link for the roles that may use it;
- customer-page panels (`register_customer_panel`): a template include and a function that
  returns its context in a fixed number of queries, whatever the customer's history;
- timeline sources (`register_timeline_source`): a function returning the newest events of
  one kind for a customer, which the customer page merges into one timeline;
- owner-change listeners (`register_owner_change_listener`): told, inside the writing
  transaction, which customers got another owner or absorbed another customer's records
  (a merge), for figures kept per owner (the sales report summaries).

Nothing here imports an app; the apps import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .roles import Role


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy translation
    url_name: str
    icon: str  # a bootstrap-icons name, without the "bi-" prefix
    roles: frozenset[Role]
    order: int = 100


@dataclass(frozen=True)
class CustomerPanel:
    """One panel on the customer page.

    `get_context(request, customer)` returns the template context of the panel, or None to
    hide it; it must run a constant number of queries. `roles` limits who sees the panel.
    """

    key: str
    template: str
    get_context: Callable[[Any, Any], dict | None]
    roles: frozenset[Role] = field(default_factory=lambda: frozenset(Role))
    order: int = 100


@dataclass(frozen=True)
class TimelineEvent:
    """One line of the customer timeline."""

    when: datetime
    kind: str  # "interaction", "order", "deal_stage", "ticket", "feedback", ...
    icon: str
    title: str
    detail: str = ""
    url: str = ""
    user: str = ""
    body: str = ""  # longer text shown under the title (an interaction's notes)


# A timeline source: (request, customer, before, limit) -> the newest `limit` events strictly
# older than `before` (or the newest overall when before is None), newest first.
TimelineSource = Callable[[Any, Any, datetime | None, int], Iterable[TimelineEvent]]

# (customer ids) -> None; called by the customers services inside their transaction.
OwnerChangeListener = Callable[[list[int]], None]

_nav: list[NavEntry] = []
_owner_listeners: list[OwnerChangeListener] = []
_panels: dict[str, CustomerPanel] = {}
_timeline: dict[str, TimelineSource] = {}


def register_nav(entry: NavEntry) -> None:
    if all(e.url_name != entry.url_name or e.roles != entry.roles for e in _nav):
        _nav.append(entry)


def nav_entries() -> list[NavEntry]:
    return sorted(_nav, key=lambda e: e.order)


def register_customer_panel(panel: CustomerPanel) -> None:
    _panels[panel.key] = panel


def customer_panels() -> list[CustomerPanel]:
    return sorted(_panels.values(), key=lambda p: p.order)


def register_timeline_source(kind: str, source: TimelineSource) -> None:
    _timeline[kind] = source


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_timeline)


@dataclass(frozen=True)
class PersonalDataSource:
    """What one app holds about a customer, for the personal-data export and erasure.

    `collect(customer)` returns {section name: list of plain dicts (JSON-safe values)}, in a
    fixed number of queries. `erase(customer, user)` anonymises the app's personal values
    about the customer (free text, and the same values in its history tables) inside the
    caller's transaction and returns {what: rows changed}; it keeps what accounting and the
    aggregates need (orders, amounts, scores' totals). Either may be None.
    """

    key: str
    collect: Callable[[Any], dict[str, list[dict]]] | None = None
    erase: Callable[[Any, Any], dict[str, int]] | None = None
    order: int = 100


_personal_data: dict[str, PersonalDataSource] = {}


def register_personal_data(source: PersonalDataSource) -> None:
    _personal_data[source.key] = source


def personal_data_sources() -> list[PersonalDataSource]:
    return sorted(_personal_data.values(), key=lambda s: s.order)


def register_owner_change_listener(listener: OwnerChangeListener) -> None:
    if listener not in _owner_listeners:
        _owner_listeners.append(listener)


def customers_reassigned(customer_ids: Iterable[int]) -> None:
    """Tell the listeners these customers changed owner (or took over merged records)."""
    ids = sorted({int(i) for i in customer_ids})
    if ids:
        for listener in _owner_listeners:
            listener(ids)
