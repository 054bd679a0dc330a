"""Days, ranges and figures for the connectors' metrics.

The platforms count their figures in Beijing days; each endpoint takes at most so many days
a call, so a connector splits a range into pieces that fit (``chunks``) and never triggers
the platform's range error. A figure the platform sends that is not a whole number guanxi
can store is taken as "not reported" rather than failing the whole answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from guanxi.connectors.metrics import Metric
from guanxi.core import values
from guanxi.core.db import utcnow

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_today(now: datetime | None = None) -> date:
    """The day it is in Beijing, the day the platforms' daily figures are counted in."""
    return (now or utcnow()).astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    """The moment a Beijing day starts, in UTC (the end of the day before)."""
    return datetime.combine(day, time(0), tzinfo=BEIJING).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The moment a Beijing day ends, in UTC."""
    return day_start(day + timedelta(days=1))


def days(start: date, end: date) -> Iterator[date]:
    """Each day from ``start`` to ``end`` inclusive."""
    for number in range((end - start).days + 1):
        yield start + timedelta(days=number)


def chunks(start: date, end: date, size: int) -> list[tuple[date, date]]:
    """``start``..``end`` (inclusive) cut into ranges of at most ``size`` days, oldest first."""
    pieces = []
    begin = start
    while begin <= end:
        last = min(end, begin + timedelta(days=size - 1))
        pieces.append((begin, last))
        begin = last + timedelta(days=1)
    return pieces


def batches(items: Sequence[str], size: int) -> list[Sequence[str]]:
    """``items`` in consecutive groups of at most ``size``."""
    return [items[index : index + size] for index in range(0, len(items), size)]


def figure(value: Any) -> int | None:
    """A count the platform sent, or None when it sent none or one that cannot be a count."""
    try:
        return values.optional_count(value)
    except values.InvalidValue:
        return None


def figures(row: Mapping[str, Any], names: Mapping[Metric, str]) -> dict[Metric, int]:
    """The metrics whose field (``names``: metric → the platform's field) ``row`` reports."""
    found: dict[Metric, int] = {}
    for metric, name in names.items():
        value = figure(row.get(name))
        if value is not None:
            found[metric] = value
    return found


def parse_day(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` day of the platform's answer, or None."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
