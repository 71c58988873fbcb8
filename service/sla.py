"""The service-level clock: business time, as pure functions on plain data.

A `Schedule` is the business hours of each weekday in one time zone, minus holidays. The due
time of a target is the moment when that many business minutes have passed since the start;
while a ticket is pending on the customer the clock stops, and when it resumes the due time
moves on by the business time that was still left when it stopped. Intervals are turned into
UTC before any arithmetic, so a daylight-saving change never adds or loses an hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A ticket whose nearest target falls due within this window is "breaching soon".
WARNING_WINDOW = timedelta(hours=2)
# How far ahead the clock looks for business hours before giving up: a schedule with no
# hours at all (or a year of holidays) would otherwise loop for ever.
MAX_DAYS = 3 * 366

Interval = tuple[time, time]


@dataclass(frozen=True)
class Schedule:
    """Business hours per weekday (0 = Monday) in `tz`, and the holidays without any."""

    hours: Mapping[int, tuple[Interval, ...]]
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: frozenset[date] = frozenset()

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[int, time, time]],
        *,
        tz: str | ZoneInfo = "UTC",
        holidays: Iterable[date] = (),
    ) -> Schedule:
        """From (weekday, opens, closes) rows; a close of 00:00 means the end of the day."""
        hours: dict[int, list[Interval]] = {}
        for weekday, opens, closes in rows:
            hours.setdefault(int(weekday), []).append((opens, closes))
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return cls(
            hours={d: tuple(sorted(v)) for d, v in hours.items()},
            tz=zone,
            holidays=frozenset(holidays),
        )

    @classmethod
    def always_open(cls) -> Schedule:
        """Round the clock, every day: the fallback when a priority has no policy."""
        return cls.build([(d, time(0), time(0)) for d in range(7)])

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The business intervals of one local day, as UTC datetimes."""
        if day in self.holidays:
            return []
        out = []
        for opens, closes in self.hours.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=self.tz)
            if closes == time(0):
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
            else:
                end = datetime.combine(day, closes, tzinfo=self.tz)
            start, end = start.astimezone(UTC), end.astimezone(UTC)
            if end > start:
                out.append((start, end))
        return out

    def _days_from(self, moment: datetime) -> Iterable[date]:
        day = moment.astimezone(self.tz).date()
        for offset in range(MAX_DAYS):
            yield day + timedelta(days=offset)


def add_business_time(start: datetime, amount: timedelta, schedule: Schedule) -> datetime:
    """The moment when `amount` of business time has passed since `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    start = start.astimezone(UTC)
    remaining = amount
    for day in schedule._days_from(start):
        for begin, end in schedule.intervals_on(day):
            if end <= start:
                continue
            begin = max(begin, start)
            if begin + remaining <= end:
                return begin + remaining
            remaining -= end - begin
    raise ValueError("the schedule has no business hours in reach")


def add_business_minutes(start: datetime, minutes: int, schedule: Schedule) -> datetime:
    return add_business_time(start, timedelta(minutes=minutes), schedule)


def business_time_between(start: datetime, end: datetime, schedule: Schedule) -> timedelta:
    """How much business time lies between two moments (zero if end is not after start)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("moments must be time-zone aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= start:
        return total
    last_day = end.astimezone(schedule.tz).date()
    for day in schedule._days_from(start):
        if day > last_day:
            break
        for begin, finish in schedule.intervals_on(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta(0):
                total += overlap
    return total


def resume_due(
    due: datetime | None, paused_at: datetime, resumed_at: datetime, schedule: Schedule
) -> datetime | None:
    """A due time after a pause: what was left of it at `paused_at` counts on from
    `resumed_at`. A target already missed before the pause stays where it was."""
    if due is None or due <= paused_at:
        return due
    left = business_time_between(paused_at, due, schedule)
    return add_business_time(resumed_at, left, schedule)
