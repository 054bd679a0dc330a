"""Analytics' data access: what the pages, the API and the command line show.

- ``daily_series``: one account's figures day by day, with the derived ones;
- ``period_totals``: a period's totals per account and overall, and ``previous_period`` to
  compare it with the period before;
- ``includes_illustrative``: whether a period's figures include the demo's made-up ones.

The posts of a period are listed by ``listing``, what was collected by ``status`` and the
workspace's own metrics are ``custom_metrics``.

Every function takes the workspace and reads nothing of another. Periods are calendar days
in the workspace's zone; account days are the platforms' own days (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.measure.definitions import (
    ENGAGEMENT_METRICS,
    EngagementRate,
    RateBasis,
    engagement_rate,
    engagements,
    net_follower_growth,
)
from guanxi.measure.models import MeasuredPost
from guanxi.measure.store import measure_store

MAX_SERIES_DAYS = 3 * 366 + 1  # a daily series longer than this is a request to narrow
# How far before a post the account's follower count may be taken from, when the day
# itself has none (per-follower rates of platforms that report no views).
FOLLOWERS_LOOKBACK = timedelta(days=31)


def _zone(workspace: Workspace) -> ZoneInfo:
    return ZoneInfo(workspace.timezone)


def period_bounds(workspace: Workspace, start: date, end: date) -> tuple[datetime, datetime]:
    """The moments a period of calendar days begins and ends (exclusive) in the workspace's
    zone; a UserError when it ends before it begins."""
    if end < start:
        raise UserError(
            N_("The period ends ({end}) before it begins ({start}): swap the two dates."),
            start=start.isoformat(),
            end=end.isoformat(),
        )
    zone = _zone(workspace)
    begins = datetime.combine(start, time(0), zone)
    ends = datetime.combine(end + timedelta(days=1), time(0), zone)
    return begins, ends


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before ``start``..``end``."""
    length = end - start + timedelta(days=1)
    return start - length, start - timedelta(days=1)


def change(current: float | None, previous: float | None) -> float | None:
    """The relative change from ``previous`` to ``current`` (0.1 is +10%); None when it has
    no meaning (a figure missing, or nothing before)."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def channels_of(
    db: Session, workspace: Workspace, channel_ids: Sequence[int] | None
) -> list[Channel]:
    """The workspace's accounts (or those of ``channel_ids`` among them) by platform and name."""
    query = select(Channel).where(Channel.workspace_id == workspace.id)
    if channel_ids is not None:
        query = query.where(Channel.id.in_(channel_ids))
    return list(db.scalars(query.order_by(Channel.platform, Channel.name)))


def _channel(db: Session, workspace: Workspace, channel_id: int) -> Channel:
    channel = db.get(Channel, channel_id)
    if channel is None or channel.workspace_id != workspace.id:
        raise NotFoundError(N_("No such connected account in this workspace."))
    return channel


# --- An account's days -------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    """One day of an account: what the platform reported, and the derived figures."""

    day: date
    figures: Mapping[Metric, int]
    collected: bool  # False: no figures for this day (see the collection status for why)
    engagements: int | None = None
    engagement_rate: EngagementRate | None = None
    net_follower_growth: int | None = None


def daily_series(
    db: Session, *, workspace: Workspace, channel_id: int, start: date, end: date
) -> list[DayFigures]:
    """The account's figures for every day from ``start`` to ``end`` (one entry a day,
    collected or not)."""
    channel = _channel(db, workspace, channel_id)
    if end < start:
        start, end = end, start
    if (end - start).days >= MAX_SERIES_DAYS:
        raise UserError(
            N_("A daily series covers at most {limit} days: choose a shorter period."),
            limit=MAX_SERIES_DAYS,
        )
    rows = measure_store(db).days([channel.id], start - timedelta(days=1), end)
    by_day = {row.day: row.reported() for row in rows}
    series = []
    day = start
    while day <= end:
        figures = by_day.get(day)
        if figures is None:
            series.append(DayFigures(day, {}, collected=False))
        else:
            before = by_day.get(day - timedelta(days=1), {}).get(Metric.FOLLOWERS)
            series.append(
                DayFigures(
                    day,
                    figures,
                    collected=True,
                    engagements=engagements(figures),
                    engagement_rate=engagement_rate(figures),
                    net_follower_growth=net_follower_growth(figures, followers_before=before),
                )
            )
        day += timedelta(days=1)
    return series


def includes_illustrative(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
) -> bool:
    """Whether the figures of ``start`` to ``end`` (the workspace's accounts, or these)
    include the demo's made-up history: an illustrative day, or an illustrative post
    published in the period. One query, so a page can say so."""
    begins, ends = period_bounds(workspace, start, end)
    owned = select(Channel.id).where(Channel.workspace_id == workspace.id)
    if channel_ids is not None:
        owned = owned.where(Channel.id.in_(channel_ids))
    posts = select(MeasuredPost.id).where(
        MeasuredPost.workspace_id == workspace.id,
        MeasuredPost.channel_id.in_(owned),
        MeasuredPost.illustrative.is_(True),
        MeasuredPost.published_at >= begins,
        MeasuredPost.published_at < ends,
    )
    if db.scalar(select(posts.exists())):
        return True
    return measure_store(db).has_days(
        list(db.scalars(owned)), first=start, last=end, illustrative=True
    )


# --- A period's totals -------------------------------------------------------------------


@dataclass
class Totals:
    """A period's figures: followers from the account days, the rest from the posts
    published in the period (their latest lifetime figures)."""

    posts: int = 0
    followers: int | None = None  # at the end of the period
    net_follower_growth: int | None = None
    views: int | None = None  # of the posts that report views
    engagements: int | None = None
    engagement_rate: EngagementRate | None = None


@dataclass
class PeriodTotals:
    """A period's totals per account (by channel id) and for all of them."""

    start: date
    end: date
    overall: Totals
    channels: dict[int, Totals] = field(default_factory=dict)


def engagement_sum() -> ColumnElement[Any]:
    """One post's engagements in SQL: the sum of the figures reported, NULL when none is."""
    columns = [getattr(MeasuredPost, m.value) for m in ENGAGEMENT_METRICS]
    total: ColumnElement[Any] = func.coalesce(columns[0], 0)
    for column in columns[1:]:
        total = total + func.coalesce(column, 0)
    return case((or_(*(column.is_not(None) for column in columns)), total), else_=None)


def period_totals(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
) -> PeriodTotals:
    """The totals of ``start``..``end`` per account and overall (see ``Totals``); the
    engagement rate is per view where views are reported, else per follower, and says so."""
    begins, ends = period_bounds(workspace, start, end)
    channels = channels_of(db, workspace, channel_ids)
    ids = [c.id for c in channels]
    per_post = engagement_sum()
    with_views = MeasuredPost.views.is_not(None)
    rows = db.execute(
        select(
            MeasuredPost.channel_id,
            func.count(),  # not count(id): PostgreSQL can then answer from the index alone
            func.sum(MeasuredPost.views),
            func.sum(per_post),
            func.sum(case((with_views, per_post), else_=None)),
        )
        .where(
            MeasuredPost.workspace_id == workspace.id,
            MeasuredPost.channel_id.in_(ids),
            MeasuredPost.published_at >= begins,
            MeasuredPost.published_at < ends,
        )
        .group_by(MeasuredPost.channel_id)
    ).all()
    posts = {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}
    result = PeriodTotals(start, end, Totals())
    followers = _followers(db, ids, start, end)
    for channel in channels:
        totals = Totals()
        count, views, total, with_view_total = posts.get(channel.id, (0, None, None, None))
        totals.posts, totals.views, totals.engagements = count, _int(views), _int(total)
        totals.followers, totals.net_follower_growth = followers[channel.id]
        if views:
            engaged = _int(with_view_total) or 0
            totals.engagement_rate = EngagementRate(engaged / int(views), RateBasis.VIEWS)
        elif total is not None and totals.followers and count:
            totals.engagement_rate = EngagementRate(
                int(total) / (count * totals.followers), RateBasis.FOLLOWERS
            )
        result.channels[channel.id] = totals
    result.overall = _overall(list(result.channels.values()), posts)
    return result


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _followers(
    db: Session, channel_ids: Sequence[int], start: date, end: date
) -> dict[int, tuple[int | None, int | None]]:
    """Per channel, the followers at the end of the period (the last count reported by
    then) and the net growth over it: the change of the total since the last count before
    the period, or, without one, new − lost when every day of the period reports both.

    The totals are two backward walks of each account's (channel, day) key, whatever the
    period's length; the days of the period are read only for accounts without them."""
    store = measure_store(db)
    last_counts = store.last_followers(channel_ids, upto=end)
    before_counts = store.last_followers(channel_ids, before=start)
    found: dict[int, tuple[int | None, int | None]] = {}
    flows_wanted = []
    for channel_id in channel_ids:
        last, before = last_counts.get(channel_id), before_counts.get(channel_id)
        found[channel_id] = (last, None if last is None or before is None else last - before)
        if found[channel_id][1] is None:
            flows_wanted.append(channel_id)
    if not flows_wanted:
        return found
    for channel_id, flows in store.flows(flows_wanted, start, end).items():
        if flows.new_days == flows.days and flows.lost_days == flows.days:
            found[channel_id] = (found[channel_id][0], (flows.new or 0) - (flows.lost or 0))
    return found


def _overall(
    totals: list[Totals], posts: Mapping[int, tuple[int, object, object, object]]
) -> Totals:
    overall = Totals(posts=sum(t.posts for t in totals))
    known = [t.followers for t in totals if t.followers is not None]
    overall.followers = sum(known) if known else None
    growth = [t.net_follower_growth for t in totals if t.net_follower_growth is not None]
    overall.net_follower_growth = sum(growth) if growth else None
    views = [t.views for t in totals if t.views is not None]
    overall.views = sum(views) if views else None
    engaged = [t.engagements for t in totals if t.engagements is not None]
    overall.engagements = sum(engaged) if engaged else None
    with_views = sum(_int(row[3]) or 0 for row in posts.values())
    if overall.views:
        overall.engagement_rate = EngagementRate(with_views / overall.views, RateBasis.VIEWS)
    else:
        audience = sum(t.posts * t.followers for t in totals if t.followers and t.posts)
        if overall.engagements is not None and audience:
            overall.engagement_rate = EngagementRate(
                overall.engagements / audience, RateBasis.FOLLOWERS
            )
    return overall
