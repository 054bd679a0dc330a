"""A channel's account figures, day by day: the days since the last run, and the history.

Days come in ranges of the connector's ``account_range_days``, up to the freshest day the
platform gives (today − ``account_delay_days``), once a day. The backfill then walks back
from the first day collected to the oldest day the platform gives, newest first, a few
ranges per run, from ``CollectionState.history_from`` where the last run stopped; it also
stops when a long stretch before the oldest figures found held none (the account did not
exist yet). Each day is an insert-or-update on (channel, day): collecting it again changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from guanxi.connectors.base import NotSupportedError
from guanxi.connectors.metrics import AccountDay as ReportedDay
from guanxi.connectors.metrics import MetricsLimits, MetricsUnavailableError
from guanxi.core import values
from guanxi.core.errors import N_
from guanxi.measure.models import FiguresKind
from guanxi.measure.runs import (
    Run,
    clear_missing,
    figure,
    figure_columns,
    platform_today,
    record_missing,
    unavailable,
)
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import BreakdownFact, DayFact

MAX_DAY_CALLS = 8  # account calls per channel and run for days not yet collected
MAX_BACKFILL_CALLS = 12  # and for the backfill
# The backfill stops this far before the oldest day that had figures, when none came since:
# the account did not exist, or the platform keeps nothing older.
EMPTY_HISTORY = timedelta(days=90)
TOO_OLD = N_("The platform's API gives no figures this old.")


def oldest_reachable(limits: MetricsLimits, today: date) -> date:
    """The oldest day the platform gives account figures for (the floor of ``values``
    when it sets none)."""
    floors = [values.EARLIEST.date()]
    if limits.account_history_start is not None:
        floors.append(limits.account_history_start)
    if limits.account_history_days is not None:
        floors.append(today - timedelta(days=limits.account_history_days))
    return max(floors)


def _fetch_days(run: Run, first: date, last: date) -> int:
    """Collect the account's days from ``first`` to ``last`` (a range the platform takes in
    one call); a range the platform has no figures for is recorded as missing. Returns how
    many days were stored."""
    try:
        answer = run.call(lambda: run.metrics.account_metrics(run.context, start=first, end=last))
    except (MetricsUnavailableError, NotSupportedError) as exc:
        unavailable(run, FiguresKind.ACCOUNT, first, last, exc)
        return 0
    days = [day for day in answer if first <= day.day <= last]
    store_days(
        run.db,
        workspace_id=run.channel.workspace_id,
        channel_id=run.channel.id,
        days=days,
        now=run.now,
    )
    clear_missing(
        run.db, channel_id=run.channel.id, kind=FiguresKind.ACCOUNT, first_day=first, last_day=last
    )
    run.report.days += len(days)
    return len(days)


def store_days(
    db: Session, *, workspace_id: int, channel_id: int, days: Sequence[ReportedDay], now: datetime
) -> None:
    """Insert or update the account's figures of these days and their breakdowns; a figure
    the platform no longer reports keeps its stored value."""
    if not days:
        return
    store = measure_store(db)
    store.write_days(
        [
            DayFact(
                workspace_id=workspace_id,
                channel_id=channel_id,
                day=day.day,
                figures=figure_columns(day.values),
                collected_at=now,
            )
            for day in days
        ]
    )
    splits = {
        (day.day, values.text(breakdown, limit=40), values.text(key, limit=60)): value
        for day in days
        for breakdown, counts in day.breakdowns.items()
        for key, count in counts.items()
        if (value := figure(count)) is not None
    }
    store.write_breakdowns(
        [BreakdownFact(workspace_id, channel_id, d, b, k, v) for (d, b, k), v in splits.items()]
    )


def oldest_day(db: Session, channel_id: int) -> date | None:
    """The first day the account has figures for (None: none yet)."""
    span = measure_store(db).spans([channel_id]).get(channel_id)
    return None if span is None else span.first


def _ranges(first: date, last: date, size: int) -> Iterator[tuple[date, date]]:
    """``first`` to ``last`` in ranges of ``size`` days, oldest first."""
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=max(1, size) - 1))
        yield start, end
        start = end + timedelta(days=1)


def collect_days(run: Run) -> None:
    """The account's days since the last collected, up to the freshest the platform gives;
    once a day. The last day collected is read again: it may have been today, then partial."""
    state, limits = run.state, run.limits
    today = platform_today(run.now)
    newest = today - timedelta(days=limits.account_delay_days)
    done_today = (
        state.days_collected_at is not None and platform_today(state.days_collected_at) == today
    )
    if state.days_through is not None and state.days_through >= newest and done_today:
        return
    oldest = oldest_reachable(limits, today)
    if state.days_through is None:
        first = max(oldest, newest - timedelta(days=max(1, limits.account_range_days) - 1))
    else:
        first = state.days_through
        if first < oldest:
            _unavailable_too_old(run, first + timedelta(days=1), oldest - timedelta(days=1))
            first = oldest
    for calls, (start, end) in enumerate(_ranges(first, newest, limits.account_range_days)):
        if calls == MAX_DAY_CALLS:
            return  # the rest at the next run
        _fetch_days(run, start, end)
        state.days_through = max(state.days_through or end, end)
        state.history_from = min(state.history_from or start, start)
        run.db.commit()
    state.days_collected_at = run.now
    run.db.commit()


def _unavailable_too_old(run: Run, first: date, last: date) -> None:
    if first <= last:
        record_missing(
            run.db,
            channel_id=run.channel.id,
            kind=FiguresKind.ACCOUNT,
            first_day=first,
            last_day=last,
            reason=TOO_OLD,
            now=run.now,
        )
        run.report.missing += 1


def backfill_days(run: Run) -> None:
    """The account's history before the first day collected, one range per call, newest
    first, from where the last run stopped (``history_from``)."""
    state, limits = run.state, run.limits
    if state.backfill_done_at is not None or state.history_from is None:
        return
    floor = oldest_reachable(limits, platform_today(run.now))
    oldest_found = oldest_day(run.db, run.channel.id)
    for _ in range(MAX_BACKFILL_CALLS):
        end = state.history_from - timedelta(days=1)
        reference = oldest_found or state.days_through or state.history_from
        if end < floor or reference - end > EMPTY_HISTORY:
            state.backfill_done_at = run.now
            break
        start = max(floor, end - timedelta(days=max(1, limits.account_range_days) - 1))
        stored = _fetch_days(run, start, end)
        run.report.backfilled += stored
        if stored:
            oldest_found = oldest_day(run.db, run.channel.id)
        state.history_from = start
        run.db.commit()
    run.db.commit()
