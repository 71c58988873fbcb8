"""Registry of data-quality checks shown on the data-quality page.

Each app registers the checks about its own rows from its AppConfig.ready(), so the page
(in customers) lists order problems without importing sales. A check is a queryset of the
rows with the problem; the page shows its count and the first rows, each with a link to
where the problem is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class QualityCheck:
    """One kind of problem.

    `rows(user)` returns a queryset (ordered) of model instances or of dicts (for grouped
    checks such as duplicates); `cells(row)` gives the cells shown for a row and `link(row)`
    the URL where it is fixed.
    """

    key: str
    title: Any
    description: Any
    rows: Callable[[Any], Any]
    headers: tuple = ()
    cells: Callable[[Any], list] = field(default=lambda row: [str(row)])
    link: Callable[[Any], str] = field(default=lambda row: row.get_absolute_url())
    order: int = 100


_checks: dict[str, QualityCheck] = {}


def register_check(check: QualityCheck) -> None:
    _checks[check.key] = check


def checks() -> list[QualityCheck]:
    return sorted(_checks.values(), key=lambda c: (c.order, c.key))


def get_check(key: str) -> QualityCheck | None:
    return _checks.get(key)
