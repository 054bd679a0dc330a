"""The collector: the figures of every measured channel, kept from the day it is connected.

One run of a channel takes these steps in order, each committing after every unit of work
(a timeline page, a batch of posts, a range of days), so a run stopped anywhere loses at
most that unit and the next run goes on from the stored state:

1. **posts published with guanxi** become measured posts (from publishing's tables, no call);
2. **the account's own posts** (``account_posts``), at most hourly, so posts published
   elsewhere are measured too;
3. **snapshots** of the posts due, on a decaying schedule after publishing (1 h, 6 h, 24 h,
   3 d, 7 d, 30 d, then every 30 days), in batches of the connector's ``post_batch``; a post
   older than the API reports on gets one last snapshot before that age and then no more;
4. **account days** up to the freshest day the platform gives (today − its delay), once a
   day, in ranges of ``account_range_days``;
5. **the backfill**, from the first day collected back to the oldest the platform gives (or
   until a long stretch before the oldest figures found holds none), a few ranges per run,
   resumable from ``CollectionState.history_from``.

Every write is an insert-or-update on the row's natural key (a post on its channel and id,
a snapshot on its post and moment, a day on its channel and day): running a day again
changes nothing. A rate limit or a spent quota pauses the channel (``pause_channel``, as
publishing and the inbox do), a refused token parks it until reconnected, and any other
connector error is written on the collection state; the next run tries again. A platform
that says it has no figures (``MetricsUnavailableError``) is recorded as a missing range
with its reason, and the collector moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import (
    channel_context,
    is_paused,
    mark_needs_reconnect,
    pause_channel,
)
from guanxi.connectors.base import (
    ChannelContext,
    Connector,
    ConnectorError,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
)
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.upsert import get_or_create
from guanxi.measure.days import backfill_days, collect_days
from guanxi.measure.models import CollectionState
from guanxi.measure.posts import discover_published, discover_timeline, snapshot_posts
from guanxi.measure.runs import CollectReport, Run, measurable


def collection_state(db: Session, channel_id: int) -> CollectionState:
    """The channel's collection state, created (and committed) on its first run."""
    state = db.get(CollectionState, channel_id)
    if state is None:  # a scheduled run and "sync now" may start the channel at once
        state, _ = get_or_create(db, CollectionState, key={"channel_id": channel_id})
        db.commit()
    return state


def collect_channel(
    db: Session,
    *,
    channel: Channel,
    connector: Connector,
    context: ChannelContext,
    now: datetime | None = None,
) -> CollectReport:
    """Collect what is due for ``channel`` (see the module's steps); commits. Connector
    errors are recorded, never raised."""
    now = now or utcnow()
    report = CollectReport(channel.id, channel.name)
    metrics = measurable(connector)
    if metrics is None:
        report.skipped = "no_metrics"
        return report
    if channel.status != ChannelStatus.CONNECTED:
        report.skipped = str(channel.status)
        return report
    if is_paused(channel, now=now):
        report.skipped = "paused"
        return report
    state = collection_state(db, channel.id)
    run = Run(db, channel, connector, metrics, context, state, now, report)
    try:
        for step in STEPS:
            step(run)
    except ConnectorError as exc:
        db.rollback()
        _record_failure(run, exc)
    else:
        state.last_error, state.last_error_params, state.last_error_code = "", {}, ""
    state.last_run_at = now
    report.backfill_done = state.backfill_done_at is not None
    db.commit()
    return report


def _record_failure(run: Run, error: ConnectorError) -> None:
    state, report = run.state, run.report
    report.error, report.error_params, report.error_code = error.message, error.params, error.code
    state.last_error, state.last_error_params = error.message, dict(error.params)
    state.last_error_code, state.last_error_at = error.code[:40], run.now
    if isinstance(error, TokenError):
        mark_needs_reconnect(run.db, channel=run.channel, reason=str(error))
    elif isinstance(error, RateLimitedError | QuotaExhaustedError):
        pause_channel(run.db, channel=run.channel, error=error, now=run.now)


STEPS: tuple[Callable[[Run], None], ...] = (
    discover_published,
    discover_timeline,
    snapshot_posts,
    collect_days,
    backfill_days,
)


# --- Every channel -----------------------------------------------------------------------


def collect_channel_id(
    sessions: sessionmaker[Session],
    channel_id: int,
    *,
    connector_for: Callable[[Channel], Connector],
    box: SecretBox,
    owner: str,
    now: datetime | None = None,
) -> CollectReport | None:
    """Collect one channel by id in its own session; None when it has nothing to measure
    (gone, or its connector is not installed)."""
    with sessions() as db:
        channel = db.get(Channel, channel_id)
        if channel is None:
            return None
        try:
            connector = connector_for(channel)
        except LookupError:  # a plugin connector that is no longer installed
            return None
        context = channel_context(channel, sessions=sessions, box=box, owner=owner)
        return collect_channel(db, channel=channel, connector=connector, context=context, now=now)


def measured_channel_ids(
    sessions: sessionmaker[Session],
    *,
    connector_for: Callable[[Channel], Connector],
    workspace_id: int | None = None,
) -> list[int]:
    """The connected channels (of one workspace, or all) whose connector reads metrics."""
    with sessions() as db:
        query = select(Channel).where(Channel.status == ChannelStatus.CONNECTED)
        if workspace_id is not None:
            query = query.where(Channel.workspace_id == workspace_id)
        found = []
        for channel in db.scalars(query.order_by(Channel.id)):
            try:
                connector = connector_for(channel)
            except LookupError:
                continue
            if measurable(connector) is not None:
                found.append(channel.id)
        return found
