"""The days a report covers and the days it is compared to, as whole days in the workspace's
time zone: a week runs Monday to Sunday, a month and a quarter are calendar ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from guanxi.report.models import Comparison, PeriodKind


@dataclass(frozen=True)
class ReportPeriod:
    """A report's days, ``start`` to ``end`` inclusive, and those it is compared to."""

    start: date
    end: date
    compare_start: date | None = None
    compare_end: date | None = None

    @property
    def days(self) -> int:
        """How many days the period covers."""
        return (self.end - self.start).days + 1


def today_in(time_zone: str, now: datetime) -> date:
    """The date it is at ``now`` in ``time_zone``."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def covered_days(
    kind: PeriodKind, *, today: date, custom: tuple[date, date] | None = None
) -> tuple[date, date]:
    """The first and last day of a ``kind`` period as seen on ``today``."""
    kind = PeriodKind(kind)  # as stored: a plain string
    if kind is PeriodKind.LAST_WEEK:
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    if kind is PeriodKind.LAST_MONTH:
        this_month = _month_start(today, 0)
        return _month_start(today, 1), this_month - timedelta(days=1)
    if kind is PeriodKind.LAST_QUARTER:
        quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return _month_start(quarter_start, 3), quarter_start - timedelta(days=1)
    if custom is None:
        msg = "a custom period needs its first and last day"
        raise ValueError(msg)
    return custom


def _year_before(day: date) -> date:
    """The same day a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _calendar_months(start: date, end: date) -> int | None:
    """How many whole calendar months ``start`` to ``end`` is, or None if not whole months."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def compared_days(
    start: date, end: date, comparison: Comparison
) -> tuple[date, date] | tuple[None, None]:
    """The days ``start`` to ``end`` is compared to.

    The period before is as long, just before; whole calendar months (a month, a quarter)
    are compared with the months before them, so March is set against all of February.
    The same period last year moves each end back a year (29 February to 28 February;
    a February that ends on the 28th is compared with a whole leap February's 29 days).
    """
    comparison = Comparison(comparison)  # as stored: a plain string
    if comparison is Comparison.NONE:
        return None, None
    if comparison is Comparison.SAME_PERIOD_LAST_YEAR:
        last = _year_before(end)
        if _calendar_months(start, end) is not None:  # whole months stay whole months
            last = _month_start(end, 11) - timedelta(days=1)
        return _year_before(start), last
    months = _calendar_months(start, end)
    if months is not None:
        return _month_start(start, months), start - timedelta(days=1)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def report_period(
    kind: PeriodKind,
    comparison: Comparison,
    *,
    today: date,
    custom: tuple[date, date] | None = None,
) -> ReportPeriod:
    """The period a report made on ``today`` covers, with the period it is compared to."""
    start, end = covered_days(kind, today=today, custom=custom)
    compare_start, compare_end = compared_days(start, end, comparison)
    return ReportPeriod(start, end, compare_start, compare_end)
