"""The service-level clock on fixed dates: business hours, holidays, time zones, pauses."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.sla import (
    Schedule,
    add_business_minutes,
    business_time_between,
    resume_due,
)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# Monday to Friday, 09:00-17:00 UTC; New Year's Day 2026 (a Thursday) is a holiday.
OFFICE = Schedule.build(
    [(d, time(9), time(17)) for d in range(5)], tz="UTC", holidays=[date(2026, 1, 1)]
)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # Within one day.
        (utc(2026, 1, 5, 10, 0), 60, utc(2026, 1, 5, 11, 0)),
        # Runs over the evening into the next morning.
        (utc(2026, 1, 5, 16, 0), 120, utc(2026, 1, 6, 10, 0)),
        # Friday afternoon to Monday morning: the weekend does not count.
        (utc(2026, 1, 9, 16, 30), 60, utc(2026, 1, 12, 9, 30)),
        # Opened before hours: the clock starts at nine.
        (utc(2026, 1, 5, 7, 0), 30, utc(2026, 1, 5, 9, 30)),
        # Opened on Saturday: starts Monday at nine.
        (utc(2026, 1, 10, 12, 0), 480, utc(2026, 1, 12, 17, 0)),
        # New Year's Eve into the holiday: Thursday is skipped, Friday counts.
        (utc(2025, 12, 31, 16, 0), 120, utc(2026, 1, 2, 10, 0)),
        # Exactly one business day from opening lands on the closing time.
        (utc(2026, 1, 5, 9, 0), 480, utc(2026, 1, 5, 17, 0)),
        # Three business days across a weekend.
        (utc(2026, 1, 8, 12, 0), 3 * 480, utc(2026, 1, 13, 12, 0)),
    ],
)
def test_add_business_minutes_in_office_hours(start, minutes, due):
    assert add_business_minutes(start, minutes, OFFICE) == due


def test_split_shift_skips_the_lunch_break():
    split = Schedule.build([(0, time(9), time(12)), (0, time(13), time(17))])
    assert add_business_minutes(utc(2026, 1, 5, 11, 30), 60, split) == utc(2026, 1, 5, 13, 30)


def test_hours_are_in_the_policy_time_zone():
    shanghai = Schedule.build([(d, time(9), time(18)) for d in range(5)], tz="Asia/Shanghai")
    # 08:00 in Shanghai on Monday; the clock starts at 09:00 local = 01:00 UTC.
    assert add_business_minutes(utc(2026, 1, 5, 0, 0), 60, shanghai) == utc(2026, 1, 5, 2, 0)


def test_daylight_saving_change_neither_adds_nor_loses_an_hour():
    berlin = Schedule.build([(d, time(9), time(17)) for d in range(5)], tz="Europe/Berlin")
    # Friday 27 March 2026, 16:00 CET (15:00 UTC); clocks go forward on Sunday the 29th.
    start = datetime(2026, 3, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    due = add_business_minutes(start, 120, berlin)
    # One hour on Friday, one on Monday: 10:00 CEST = 08:00 UTC.
    assert due == utc(2026, 3, 30, 8, 0)


def test_round_the_clock_schedule():
    always = Schedule.always_open()
    assert add_business_minutes(utc(2026, 1, 10, 23, 30), 90, always) == utc(2026, 1, 11, 1, 0)


def test_business_time_between():
    assert business_time_between(utc(2026, 1, 9, 16, 0), utc(2026, 1, 12, 10, 0), OFFICE) == (
        timedelta(hours=2)
    )
    assert business_time_between(utc(2026, 1, 12, 10, 0), utc(2026, 1, 9, 16, 0), OFFICE) == (
        timedelta(0)
    )
    # The holiday and the weekend count nothing.
    assert business_time_between(utc(2026, 1, 1, 0, 0), utc(2026, 1, 5, 0, 0), OFFICE) == (
        timedelta(hours=8)
    )


def test_pause_moves_the_due_time_by_what_was_left():
    due = add_business_minutes(utc(2026, 1, 5, 16, 0), 120, OFFICE)  # Tue 10:00
    # Paused Monday 16:30 with 30 minutes left on Monday and 60 on Tuesday...
    resumed = resume_due(due, utc(2026, 1, 5, 16, 30), utc(2026, 1, 7, 9, 0), OFFICE)
    # ...and resumed Wednesday 09:00: 90 business minutes from then.
    assert resumed == utc(2026, 1, 7, 10, 30)


def test_pause_outside_business_hours_costs_nothing():
    due = utc(2026, 1, 6, 10, 0)
    # Paused Monday 18:00, resumed Tuesday 08:00: no business time passed.
    assert resume_due(due, utc(2026, 1, 5, 18, 0), utc(2026, 1, 6, 8, 0), OFFICE) == due


def test_a_target_missed_before_the_pause_stays_missed():
    due = utc(2026, 1, 5, 10, 0)
    assert resume_due(due, utc(2026, 1, 5, 12, 0), utc(2026, 1, 6, 12, 0), OFFICE) == due


def test_a_schedule_without_hours_is_refused():
    with pytest.raises(ValueError):
        add_business_minutes(utc(2026, 1, 5, 10, 0), 10, Schedule.build([]))


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 1, 5, 10, 0), 10, OFFICE)  # noqa: DTZ001
