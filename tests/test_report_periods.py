"""A report's period and the period it is compared to: whole days in the workspace's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from guanxi.report.models import Comparison, PeriodKind
from guanxi.report.periods import ReportPeriod, report_period, today_in

PREVIOUS, LAST_YEAR, NONE = (
    Comparison.PREVIOUS_PERIOD,
    Comparison.SAME_PERIOD_LAST_YEAR,
    Comparison.NONE,
)


@pytest.mark.parametrize(
    ("kind", "comparison", "today", "expected"),
    [
        # Weeks start on Monday: on Wednesday 9 Dec 2026, last week is 30 Nov - 6 Dec.
        (
            PeriodKind.LAST_WEEK,
            PREVIOUS,
            date(2026, 12, 9),
            ReportPeriod(
                date(2026, 11, 30), date(2026, 12, 6), date(2026, 11, 23), date(2026, 11, 29)
            ),
        ),
        # On a Monday, last week ended yesterday.
        (
            PeriodKind.LAST_WEEK,
            NONE,
            date(2026, 12, 7),
            ReportPeriod(date(2026, 11, 30), date(2026, 12, 6)),
        ),
        # January's last month is the December before; compared with all of November.
        (
            PeriodKind.LAST_MONTH,
            PREVIOUS,
            date(2027, 1, 15),
            ReportPeriod(
                date(2026, 12, 1), date(2026, 12, 31), date(2026, 11, 1), date(2026, 11, 30)
            ),
        ),
        # March against the whole of a leap February.
        (
            PeriodKind.LAST_MONTH,
            PREVIOUS,
            date(2024, 4, 1),
            ReportPeriod(date(2024, 3, 1), date(2024, 3, 31), date(2024, 2, 1), date(2024, 2, 29)),
        ),
        # A leap February against last year's February: 29 February becomes 28 February.
        (
            PeriodKind.LAST_MONTH,
            LAST_YEAR,
            date(2024, 3, 10),
            ReportPeriod(date(2024, 2, 1), date(2024, 2, 29), date(2023, 2, 1), date(2023, 2, 28)),
        ),
        # A February of 28 days against the whole leap February before it.
        (
            PeriodKind.LAST_MONTH,
            LAST_YEAR,
            date(2025, 3, 1),
            ReportPeriod(date(2025, 2, 1), date(2025, 2, 28), date(2024, 2, 1), date(2024, 2, 29)),
        ),
        # Last quarter from early January: Q4 of the year before, against Q3.
        (
            PeriodKind.LAST_QUARTER,
            PREVIOUS,
            date(2027, 1, 2),
            ReportPeriod(
                date(2026, 10, 1), date(2026, 12, 31), date(2026, 7, 1), date(2026, 9, 30)
            ),
        ),
        (
            PeriodKind.LAST_QUARTER,
            LAST_YEAR,
            date(2026, 5, 20),
            ReportPeriod(date(2026, 1, 1), date(2026, 3, 31), date(2025, 1, 1), date(2025, 3, 31)),
        ),
    ],
)
def test_calendar_periods(
    kind: PeriodKind, comparison: Comparison, today: date, expected: ReportPeriod
) -> None:
    assert report_period(kind, comparison, today=today) == expected


def test_a_custom_period_is_compared_with_as_many_days_just_before() -> None:
    period = report_period(
        PeriodKind.CUSTOM,
        PREVIOUS,
        today=date(2026, 12, 7),
        custom=(date(2026, 11, 10), date(2026, 11, 19)),
    )
    assert (period.compare_start, period.compare_end) == (date(2026, 10, 31), date(2026, 11, 9))
    assert period.days == 10


def test_a_custom_period_from_29_february_last_year_starts_on_28_february() -> None:
    period = report_period(
        PeriodKind.CUSTOM,
        LAST_YEAR,
        today=date(2024, 3, 9),
        custom=(date(2024, 2, 29), date(2024, 3, 6)),
    )
    assert (period.compare_start, period.compare_end) == (date(2023, 2, 28), date(2023, 3, 6))


@pytest.mark.parametrize(
    ("zone", "expected_start"),
    [
        # Monday 7 Dec 2026 at 01:00 in Shanghai is still Sunday 6 Dec in UTC and New York.
        ("Asia/Shanghai", date(2026, 11, 30)),
        ("UTC", date(2026, 11, 23)),
        ("America/New_York", date(2026, 11, 23)),
    ],
)
def test_last_week_is_counted_in_the_workspaces_zone(zone: str, expected_start: date) -> None:
    now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # 01:00 on Monday in Shanghai
    period = report_period(PeriodKind.LAST_WEEK, NONE, today=today_in(zone, now))
    assert period.start == expected_start
    assert period.start.weekday() == 0
    assert period.days == 7
