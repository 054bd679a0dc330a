"""One channel's collection run: what its steps share, and how they record what is missing.

The steps (``measure.posts``, ``measure.days``) read and write through a ``Run``; each call
to the platform goes through ``Run.call``, which commits first, so SQLite's write lock is
never held across a request and what the run did so far is kept whatever the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.connectors.base import Capability, ChannelContext, Connector, ConnectorError
from guanxi.connectors.metrics import Metric, MetricsLimits, ReadsMetrics
from guanxi.measure.models import CollectionState, FiguresKind, MissingFigures

T = TypeVar("T")

# The platforms report account days in their own zone (connectors.metrics.AccountDay).
PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")
MAX_FIGURE = 2**62  # anything larger is a broken value, not a count


def platform_today(now: datetime) -> date:
    """Today on the platforms' calendar."""
    return now.astimezone(PLATFORM_ZONE).date()


def measurable(connector: Connector) -> ReadsMetrics | None:
    """The connector as a reader of metrics, or None when it reads none."""
    if Capability.METRICS in connector.capabilities and isinstance(connector, ReadsMetrics):
        return connector
    return None


@dataclass
class CollectReport:
    """What one channel's run did."""

    channel_id: int
    channel_name: str
    skipped: str = ""  # why nothing was collected: paused, needs_reconnect, no_metrics
    posts_found: int = 0
    snapshots: int = 0
    days: int = 0  # account days stored (new or updated), backfill included
    backfilled: int = 0  # of those, days before the first collected
    missing: int = 0  # ranges recorded as missing
    calls: int = 0  # calls made to the platform through the connector
    backfill_done: bool = False
    error: str = ""  # a translatable message id, with error_params
    error_params: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""


@dataclass
class Run:
    """A channel's run: what every step reads and writes."""

    db: Session
    channel: Channel
    connector: Connector
    metrics: ReadsMetrics
    context: ChannelContext
    state: CollectionState
    now: datetime
    report: CollectReport

    @property
    def limits(self) -> MetricsLimits:
        """How far back and how much the connector's metrics reach."""
        return self.metrics.metrics_limits

    def call(self, request: Callable[[], T]) -> T:
        """Call the platform with nothing pending: SQLite's write lock is never held across
        a request, and what the run did so far is kept whatever the answer."""
        self.db.commit()
        self.report.calls += 1
        return request()


def record_missing(
    db: Session,
    *,
    channel_id: int,
    kind: FiguresKind,
    first_day: date,
    last_day: date,
    reason: str,
    params: dict[str, Any] | None = None,
    code: str = "",
    now: datetime,
) -> None:
    """Days of ``kind`` figures the platform could not give, and why; a range that touches
    one recorded for the same reason extends it, so a daily failure stays one row."""
    params = params or {}
    near = db.scalars(
        select(MissingFigures).where(
            MissingFigures.channel_id == channel_id,
            MissingFigures.kind == kind,
            MissingFigures.first_day <= last_day + timedelta(days=1),
            MissingFigures.last_day >= first_day - timedelta(days=1),
        )
    ).all()
    for row in near:
        if row.reason == reason and row.reason_params == params and row.code == code[:40]:
            row.first_day, row.last_day = min(row.first_day, first_day), max(row.last_day, last_day)
            row.recorded_at = now
            return
    db.add(
        MissingFigures(
            channel_id=channel_id,
            kind=kind,
            first_day=first_day,
            last_day=last_day,
            reason=reason,
            reason_params=params,
            code=code[:40],
            recorded_at=now,
        )
    )


def clear_missing(
    db: Session, *, channel_id: int, kind: FiguresKind, first_day: date, last_day: date
) -> None:
    """The platform answered for these days: they are no longer missing (a recorded range
    around them is cut to what remains, in two when they were in its middle)."""
    one = timedelta(days=1)
    rows = db.scalars(
        select(MissingFigures).where(
            MissingFigures.channel_id == channel_id,
            MissingFigures.kind == kind,
            MissingFigures.first_day <= last_day,
            MissingFigures.last_day >= first_day,
        )
    ).all()
    for row in rows:
        if row.first_day < first_day and row.last_day > last_day:
            db.add(
                MissingFigures(
                    channel_id=channel_id,
                    kind=kind,
                    first_day=last_day + one,
                    last_day=row.last_day,
                    reason=row.reason,
                    reason_params=row.reason_params,
                    code=row.code,
                    recorded_at=row.recorded_at,
                )
            )
            row.last_day = first_day - one
        elif row.first_day < first_day:
            row.last_day = first_day - one
        elif row.last_day > last_day:
            row.first_day = last_day + one
        else:
            db.delete(row)


def unavailable(
    run: Run, kind: FiguresKind, first: date, last: date, error: ConnectorError
) -> None:
    """The platform says it has no ``kind`` figures from ``first`` to ``last``: recorded
    with its reason for the account's page."""
    record_missing(
        run.db,
        channel_id=run.channel.id,
        kind=kind,
        first_day=first,
        last_day=last,
        reason=error.message,
        params=dict(error.params),
        code=error.code,
        now=run.now,
    )
    run.report.missing += 1


def aware(moment: datetime) -> datetime:
    """``moment`` with its zone; a connector's naive time is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def figure(value: object) -> int | None:
    """A figure to store, or None (not reported) for one no count can be."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FIGURE:
        return None
    return value


def figure_columns(reported: Mapping[Metric, object]) -> dict[str, int | None]:
    """A row's figure columns from what the platform reported (None: not reported)."""
    return {metric.value: figure(reported.get(metric)) for metric in Metric}
