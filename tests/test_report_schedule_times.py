"""When a report schedule fires: at its local time in the workspace's zone, across the days
the clocks change, and the period each firing covers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import cast

import pytest

from guanxi.report.models import Comparison, ReportDefinition
from guanxi.report.schedule_models import Frequency
from guanxi.report.schedules import next_run, run_period


def weekly(at: time, zone: str, after: datetime, weekday: int = 0) -> datetime:
    return next_run(
        frequency=Frequency.WEEKLY,
        weekday=weekday,
        day_of_month=1,
        local_time=at,
        time_zone=zone,
        after=after,
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone", "before_change", "after_change"),
    [
        # Paris: CET (+1) until 29 March 2026, then CEST (+2).
        ("Europe/Paris", utc(2026, 3, 23, 8, 0), utc(2026, 3, 30, 7, 0)),
        # New York: EST (-5) until 8 March 2026, then EDT (-4).
        ("America/New_York", utc(2026, 3, 2, 14, 0), utc(2026, 3, 9, 13, 0)),
        # Shanghai has no summer time: 01:00 UTC every week.
        ("Asia/Shanghai", utc(2026, 3, 23, 1, 0), utc(2026, 3, 30, 1, 0)),
    ],
)
def test_a_monday_0900_schedule_fires_at_0900_local_on_both_sides_of_the_spring_change(
    zone: str, before_change: datetime, after_change: datetime
) -> None:
    first = weekly(time(9, 0), zone, after=before_change.replace(hour=0))
    second = weekly(time(9, 0), zone, after=first)

    assert (first, second) == (before_change, after_change)


def test_a_monday_0900_schedule_keeps_0900_local_across_the_autumn_change() -> None:
    """Paris goes back to CET on 25 October 2026: 07:00 UTC, then 08:00 UTC."""
    first = weekly(time(9, 0), "Europe/Paris", after=utc(2026, 10, 19, 0, 0))
    second = weekly(time(9, 0), "Europe/Paris", after=first)

    assert (first, second) == (utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0))


def test_a_time_the_spring_change_skips_fires_once_just_after_the_gap() -> None:
    """02:30 does not exist in Paris on 29 March 2026 (02:00 → 03:00): it fires at 03:30
    CEST (01:30 UTC), then at 02:30 as usual the next week."""
    first = weekly(time(2, 30), "Europe/Paris", after=utc(2026, 3, 28, 0, 0), weekday=6)
    second = weekly(time(2, 30), "Europe/Paris", after=first, weekday=6)

    assert first == utc(2026, 3, 29, 1, 30)
    assert second == utc(2026, 4, 5, 0, 30)


def test_a_time_the_autumn_change_repeats_fires_once_at_its_first_occurrence() -> None:
    """01:30 happens twice in New York on 1 November 2026: the schedule fires at the first
    (EDT, 05:30 UTC) and not at the second (EST, 06:30 UTC)."""
    first = weekly(time(1, 30), "America/New_York", after=utc(2026, 10, 31, 12, 0), weekday=6)
    second = weekly(time(1, 30), "America/New_York", after=first, weekday=6)

    assert first == utc(2026, 11, 1, 5, 30)
    assert second == utc(2026, 11, 8, 6, 30)


def monthly(day: int, after: datetime, frequency: Frequency = Frequency.MONTHLY) -> datetime:
    return next_run(
        frequency=frequency,
        weekday=0,
        day_of_month=day,
        local_time=time(8, 0),
        time_zone="Asia/Shanghai",
        after=after,
    )


def test_a_day_past_the_months_end_fires_on_its_last_day() -> None:
    fired = [monthly(31, utc(2026, 1, 30, 0, 0))]
    for _ in range(3):
        fired.append(monthly(31, fired[-1]))

    assert [f.date() for f in fired] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert fired[1].hour == 0  # 08:00 in Shanghai


def test_a_quarterly_schedule_fires_in_the_first_month_of_each_quarter() -> None:
    first = monthly(2, utc(2026, 5, 10, 0, 0), Frequency.QUARTERLY)
    second = monthly(2, first, Frequency.QUARTERLY)

    assert (first, second) == (utc(2026, 7, 2, 0, 0), utc(2026, 10, 2, 0, 0))


@pytest.mark.parametrize(
    ("frequency", "due_at", "covered"),
    [
        # Monday 00:30 in Shanghai is still Sunday in UTC: the week just ended is local.
        (Frequency.WEEKLY, utc(2026, 12, 6, 16, 30), (date(2026, 11, 30), date(2026, 12, 6))),
        (Frequency.MONTHLY, utc(2026, 12, 1, 1, 0), (date(2026, 11, 1), date(2026, 11, 30))),
        (Frequency.QUARTERLY, utc(2027, 1, 2, 1, 0), (date(2026, 10, 1), date(2026, 12, 31))),
    ],
)
def test_a_firing_covers_the_period_just_ended_in_the_workspaces_zone(
    frequency: Frequency, due_at: datetime, covered: tuple[date, date]
) -> None:
    definition = cast(ReportDefinition, SimpleNamespace(comparison=Comparison.PREVIOUS_PERIOD))

    period = run_period(frequency, definition, due_at=due_at, time_zone="Asia/Shanghai")

    assert (period.start, period.end) == covered
