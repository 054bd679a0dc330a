"""Analytics' data access: what the pages, the API and the command line show.

- ``daily_series``: one account's figures day by day, with the derived ones;
- ``post_figures``: the posts published in a period, each with its latest figures;
- ``period_totals``: a period's totals per account and overall, and ``previous_period`` to
  compare it with the period before;
- ``collection_status``: what was collected for each account, and what is missing and why;
- the workspace's custom metrics, checked when defined and computed from any figures.

Every function takes the workspace and reads nothing of another. Periods are calendar days
in the workspace's zone; account days are the platforms' own days (Asia/Shanghai).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.channels.models import Channel
from guanxi.connectors.base import Metric
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import create_unique
from guanxi.measure.definitions import (
    ENGAGEMENT_METRICS,
    EngagementRate,
    RateBasis,
    engagement_rate,
    engagements,
    formula_figures,
    net_follower_growth,
)
from guanxi.measure.formulas import parse
from guanxi.measure.models import (
    AccountDay,
    CollectionState,
    CustomMetric,
    CustomMetricCreate,
    MeasuredPost,
    MissingFigures,
    PostFiguresRead,
)

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


def _channels(
    db: Session, workspace: Workspace, channel_ids: Sequence[int] | None
) -> list[Channel]:
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
    rows = db.scalars(
        select(AccountDay)
        .where(
            AccountDay.channel_id == channel.id,
            AccountDay.day.between(start - timedelta(days=1), end),
        )
        .order_by(AccountDay.day)
    ).all()
    by_day = {row.day: row.figures() for row in rows}
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


# --- Posts and their latest figures ------------------------------------------------------


def _followers_by_day(
    db: Session, channel_days: Mapping[int, Sequence[date]]
) -> dict[int, tuple[list[date], list[int]]]:
    """Each channel's follower counts over the days asked for (and a month before), in day
    order, to find the count on or just before a day; one query for every channel."""
    found: dict[int, tuple[list[date], list[int]]] = {}
    if not channel_days:
        return found
    first = min(min(days) for days in channel_days.values()) - FOLLOWERS_LOOKBACK
    last = max(max(days) for days in channel_days.values())
    rows = db.execute(
        select(AccountDay.channel_id, AccountDay.day, AccountDay.followers)
        .where(
            AccountDay.channel_id.in_(channel_days),
            AccountDay.day.between(first, last),
            AccountDay.followers.is_not(None),
        )
        .order_by(AccountDay.channel_id, AccountDay.day)
    ).all()
    for channel_id, day, count in rows:
        days, counts = found.setdefault(channel_id, ([], []))
        days.append(day)
        counts.append(count or 0)
    return found


def _followers_on(found: tuple[list[date], list[int]] | None, day: date) -> int | None:
    if not found:
        return None
    days, counts = found
    index = bisect_right(days, day)
    return counts[index - 1] if index else None


def post_figures(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
) -> list[PostFiguresRead]:
    """The posts published from ``start`` to ``end`` (the workspace's days), oldest first,
    each with its latest figures: views, engagements and the engagement rate, per view or,
    where the platform reports no views, per follower of the account on that day."""
    begins, ends = period_bounds(workspace, start, end)
    channels = {c.id: c for c in _channels(db, workspace, channel_ids)}
    # Columns rather than objects: a page of a month's posts builds no ORM objects.
    metric_columns = [getattr(MeasuredPost, metric.value) for metric in Metric]
    rows = db.execute(
        select(
            MeasuredPost.id,
            MeasuredPost.channel_id,
            MeasuredPost.external_id,
            MeasuredPost.published_at,
            MeasuredPost.format,
            MeasuredPost.url,
            MeasuredPost.text_excerpt,
            MeasuredPost.last_observed_at,
            MeasuredPost.illustrative,
            *metric_columns,
        )
        .where(
            MeasuredPost.workspace_id == workspace.id,
            MeasuredPost.published_at >= begins,
            MeasuredPost.published_at < ends,
            MeasuredPost.channel_id.in_(channels),
        )
        .order_by(MeasuredPost.published_at, MeasuredPost.id)
    ).all()
    zone = ZoneInfo("Asia/Shanghai")  # the platforms' days, as account days are kept
    posts = []
    without_views: dict[int, list[date]] = defaultdict(list)
    for row in rows:
        figures = {m: v for m, v in zip(Metric, row[9:], strict=True) if v is not None}
        day = row.published_at.astimezone(zone).date()
        posts.append((row, figures, day))
        if Metric.VIEWS not in figures:
            without_views[row.channel_id].append(day)
    followers = _followers_by_day(db, without_views)
    result = []
    for row, figures, day in posts:
        channel = channels[row.channel_id]
        audience = _followers_on(followers.get(row.channel_id), day)
        rate = engagement_rate(figures, followers=audience)
        result.append(
            PostFiguresRead(
                post_id=row.id,
                platform=channel.platform,
                account=channel.name,
                external_id=row.external_id,
                published_at=row.published_at,
                format=row.format,
                url=row.url,
                text=row.text_excerpt,
                views=figures.get(Metric.VIEWS),
                engagements=engagements(figures),
                engagement_rate=rate.value if rate else None,
                engagement_rate_basis=rate.basis.value if rate else None,
                observed_at=row.last_observed_at,
                illustrative=row.illustrative,
            )
        )
    return result


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
    days = select(AccountDay.day).where(
        AccountDay.channel_id.in_(owned),
        AccountDay.illustrative.is_(True),
        AccountDay.day >= start,
        AccountDay.day <= end,
    )
    posts = select(MeasuredPost.id).where(
        MeasuredPost.workspace_id == workspace.id,
        MeasuredPost.channel_id.in_(owned),
        MeasuredPost.illustrative.is_(True),
        MeasuredPost.published_at >= begins,
        MeasuredPost.published_at < ends,
    )
    return bool(db.scalar(select(or_(days.exists(), posts.exists()))))


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
    channels = _channels(db, workspace, channel_ids)
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


def _last_followers(
    channel_id: Any, *, before: date | None = None, upto: date | None = None
) -> Any:
    """The last follower count of a channel before or up to a day, as a correlated scalar
    subquery: per channel, a backward walk of the (channel, day) key to the first count."""
    query = select(AccountDay.followers).where(
        AccountDay.channel_id == channel_id, AccountDay.followers.is_not(None)
    )
    if before is not None:
        query = query.where(AccountDay.day < before)
    if upto is not None:
        query = query.where(AccountDay.day <= upto)
    return query.order_by(AccountDay.day.desc()).limit(1).scalar_subquery()


def _followers(
    db: Session, channel_ids: Sequence[int], start: date, end: date
) -> dict[int, tuple[int | None, int | None]]:
    """Per channel, the followers at the end of the period (the last count reported by
    then) and the net growth over it: the change of the total since the last count before
    the period, or, without one, new − lost when every day of the period reports both.

    The totals are two backward walks of each account's (channel, day) key, whatever the
    period's length; the days of the period are read only for accounts without them."""
    counts = {
        row[0]: (_int(row[1]), _int(row[2]))
        for row in db.execute(
            select(
                Channel.id,
                _last_followers(Channel.id, upto=end),
                _last_followers(Channel.id, before=start),
            ).where(Channel.id.in_(channel_ids))
        )
    }
    found: dict[int, tuple[int | None, int | None]] = {}
    flows_wanted = []
    for channel_id in channel_ids:
        last, before = counts.get(channel_id, (None, None))
        found[channel_id] = (last, None if last is None or before is None else last - before)
        if found[channel_id][1] is None:
            flows_wanted.append(channel_id)
    if not flows_wanted:
        return found
    flows = db.execute(
        select(
            AccountDay.channel_id,
            func.count(AccountDay.day),
            func.sum(AccountDay.new_followers),
            func.sum(AccountDay.lost_followers),
            func.count(AccountDay.new_followers),
            func.count(AccountDay.lost_followers),
        )
        .where(AccountDay.channel_id.in_(flows_wanted), AccountDay.day.between(start, end))
        .group_by(AccountDay.channel_id)
    )
    for channel_id, days, new, lost, new_days, lost_days in flows:
        if days and new_days == days and lost_days == days:
            found[channel_id] = (found[channel_id][0], (_int(new) or 0) - (_int(lost) or 0))
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


# --- What was collected ------------------------------------------------------------------


@dataclass
class ChannelCollection:
    """What analytics holds for an account, and what it could not collect."""

    channel: Channel
    state: CollectionState | None
    posts: int
    first_day: date | None  # the oldest day with figures (the gaps: see ``missing``)
    last_day: date | None
    missing: list[MissingFigures]


def collection_status(db: Session, *, workspace: Workspace) -> list[ChannelCollection]:
    """Every account of the workspace with what was collected, when, and what is missing."""
    channels = _channels(db, workspace, None)
    ids = [c.id for c in channels]
    states = {
        s.channel_id: s
        for s in db.scalars(select(CollectionState).where(CollectionState.channel_id.in_(ids)))
    }
    posts = dict(
        db.execute(  # count(*): from the (channel, published) index alone
            select(MeasuredPost.channel_id, func.count())
            .where(MeasuredPost.channel_id.in_(ids))
            .group_by(MeasuredPost.channel_id)
        ).all()
    )
    # The first and last day of each account: one walk of its (channel, day) key each way.
    first, last = (
        select(func.min(AccountDay.day)).where(AccountDay.channel_id == Channel.id),
        select(func.max(AccountDay.day)).where(AccountDay.channel_id == Channel.id),
    )
    days = {
        row[0]: (row[1], row[2])
        for row in db.execute(
            select(Channel.id, first.scalar_subquery(), last.scalar_subquery()).where(
                Channel.id.in_(ids)
            )
        )
    }
    missing: dict[int, list[MissingFigures]] = defaultdict(list)
    for row in db.scalars(
        select(MissingFigures)
        .where(MissingFigures.channel_id.in_(ids))
        .order_by(MissingFigures.first_day.desc())
    ):
        missing[row.channel_id].append(row)
    return [
        ChannelCollection(
            channel=c,
            state=states.get(c.id),
            posts=posts.get(c.id, 0),
            first_day=days.get(c.id, (None, None))[0],
            last_day=days.get(c.id, (None, None))[1],
            missing=missing.get(c.id, []),
        )
        for c in channels
    ]


# --- Custom metrics ----------------------------------------------------------------------


def create_custom_metric(
    db: Session, *, workspace: Workspace, data: CustomMetricCreate, actor: User | None
) -> CustomMetric:
    """Define a workspace's metric; a FormulaError says where its formula is wrong, a
    ConflictError that the name is taken."""
    formula = parse(data.formula)
    name = data.name.strip()
    if not name:
        raise UserError(N_("Give the metric a name, for example “Natural open rate”."))
    values = {
        "workspace_id": workspace.id,
        "name": name,
        "formula": formula.source.strip(),
        "display": data.display,
        "unit": data.unit.strip(),
        "description": data.description.strip(),
        "created_by_id": actor.id if actor is not None else None,
    }
    metric = create_unique(db, CustomMetric, values, unique=["workspace_id", "name"])
    if metric is None:
        raise ConflictError(
            N_("A metric named “{name}” exists already: choose another name."), name=name
        )
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="custom_metric.create",
        entity_type="custom_metric",
        entity_id=metric.id,
        after={"name": name, "formula": metric.formula},
    )
    return metric


def list_custom_metrics(db: Session, *, workspace: Workspace) -> list[CustomMetric]:
    """The workspace's custom metrics by name."""
    return list(
        db.scalars(
            select(CustomMetric)
            .where(CustomMetric.workspace_id == workspace.id)
            .order_by(CustomMetric.name)
        )
    )


def delete_custom_metric(
    db: Session, *, workspace: Workspace, metric_id: int, actor: User | None
) -> None:
    """Remove one of the workspace's custom metrics."""
    metric = db.get(CustomMetric, metric_id)
    if metric is None or metric.workspace_id != workspace.id:
        raise NotFoundError(N_("No such metric in this workspace."))
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="custom_metric.delete",
        entity_type="custom_metric",
        entity_id=metric.id,
        before={"name": metric.name, "formula": metric.formula},
    )
    db.delete(metric)


def custom_value(metric: CustomMetric, figures: Mapping[Metric, int]) -> float | None:
    """The custom metric's value for these figures (a post's, or an account day's); None
    when a figure it reads is not reported or it divides by zero."""
    return parse(metric.formula).evaluate(formula_figures(figures))
