"""The posts of a period with their latest figures: the whole list (the export, the command
line, the best-time model) and one sorted page of it (the posts page and its API), and the
period's top and bottom posts.

A page is asked of the database: the count, and the page's 25 ids sorted by the date, the
views, the engagements, a custom metric or the engagement rate (worked out in SQL,
``rated.post_rate``: per follower of the account on its day for a post without views), read
from the (workspace, published) index; then only the page's posts are read and built (and
only their accounts), so a month of a thousand accounts costs what 25 posts do, plus an
index scan. The top posts are four such lists.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.measure import flows, rated
from guanxi.measure.custom_metrics import custom_values, sql_value
from guanxi.measure.definitions import engagement_rate, engagements
from guanxi.measure.formulas import parse
from guanxi.measure.models import CustomMetric, MeasuredPost, PostFiguresRead
from guanxi.measure.service import FOLLOWERS_LOOKBACK, channels_of, engagement_sum, period_bounds
from guanxi.measure.store import measure_store

PAGE_SIZE = 25
PLATFORM_DAYS = ZoneInfo("Asia/Shanghai")  # the platforms' days, as account days are kept
# Columns rather than objects: a list of a month's posts builds no ORM objects.
_ROW_COLUMNS = (
    MeasuredPost.id,
    MeasuredPost.channel_id,
    MeasuredPost.external_id,
    MeasuredPost.published_at,
    MeasuredPost.format,
    MeasuredPost.url,
    MeasuredPost.text_excerpt,
    MeasuredPost.last_observed_at,
    MeasuredPost.illustrative,
)
_METRIC_COLUMNS = tuple(getattr(MeasuredPost, metric.value) for metric in Metric)


class PostOrder(StrEnum):
    """How the posts list is sorted (the highest first, the newest for ``published``)."""

    PUBLISHED = "published"
    VIEWS = "views"
    ENGAGEMENTS = "engagements"
    RATE = "rate"


CUSTOM_SORT_PREFIX = "metric-"  # a sort by a custom metric: "metric-<its id>"


def sort_key(order: PostOrder | CustomMetric) -> str:
    """How a sort is written in an address: the order's value, or "metric-<id>"."""
    return order.value if isinstance(order, PostOrder) else f"{CUSTOM_SORT_PREFIX}{order.id}"


def resolve_sort(value: str, metrics: Sequence[CustomMetric]) -> PostOrder | CustomMetric | None:
    """The sort an address asks for (``sort_key``'s form) among the figures and ``metrics``;
    None when it names neither."""
    if value in set(PostOrder):
        return PostOrder(value)
    return next((metric for metric in metrics if sort_key(metric) == value), None)


@dataclass(frozen=True)
class PostsPage:
    """One page of a period's posts, sorted by a figure or by one of the workspace's own
    metrics (whose values each row carries in ``custom``)."""

    rows: list[PostFiguresRead]
    page: int
    pages: int
    total: int
    order: PostOrder | CustomMetric
    illustrative: bool  # a post on this page is the demo's made-up history

    @property
    def sort(self) -> str:
        """The page's sort as the address writes it."""
        return sort_key(self.order)


def _platform_day(moment: datetime) -> date:
    return moment.astimezone(PLATFORM_DAYS).date()


def followers_by_day(
    db: Session, channel_days: Mapping[int, Sequence[date]]
) -> dict[int, tuple[list[date], list[int]]]:
    """Each channel's follower counts over the days asked for (and a month before), in day
    order, to find the count on or just before a day; one query for every channel."""
    found: dict[int, tuple[list[date], list[int]]] = {}
    if not channel_days:
        return found
    first = min(min(days) for days in channel_days.values()) - FOLLOWERS_LOOKBACK
    last = max(max(days) for days in channel_days.values())
    for channel_id, counts in measure_store(db).followers(list(channel_days), first, last).items():
        found[channel_id] = ([day for day, _ in counts], [count for _, count in counts])
    return found


def followers_on(found: tuple[list[date], list[int]] | None, day: date) -> int | None:
    if not found:
        return None
    days, counts = found
    index = bisect_right(days, day)
    return counts[index - 1] if index else None


def _followers_for(db: Session, rows: Sequence[Any]) -> dict[int, tuple[list[date], list[int]]]:
    """The follower counts the rows without views are rated by (rows: channel_id,
    published_at and views)."""
    without_views: dict[int, list[date]] = defaultdict(list)
    for row in rows:
        if row.views is None:
            without_views[row.channel_id].append(_platform_day(row.published_at))
    return followers_by_day(db, without_views)


def _period_query(
    workspace: Workspace, channels: Sequence[int], begins: datetime, ends: datetime
) -> Select[Any]:
    return select().where(
        MeasuredPost.workspace_id == workspace.id,
        MeasuredPost.published_at >= begins,
        MeasuredPost.published_at < ends,
        MeasuredPost.channel_id.in_(channels),
    )


def _build(
    db: Session,
    rows: Sequence[Any],
    channels: Mapping[int, Channel],
    metrics: Sequence[CustomMetric] = (),
) -> list[PostFiguresRead]:
    """The rows (``_ROW_COLUMNS`` then ``_METRIC_COLUMNS``) as posts with their figures and
    the values of the custom ``metrics``."""
    followers = _followers_for(db, rows)
    tags = flows.tags_of(db, [row.id for row in rows])
    built = []
    for row in rows:
        figures = {
            m: v for m, v in zip(Metric, row[len(_ROW_COLUMNS) :], strict=True) if v is not None
        }
        channel = channels[row.channel_id]
        audience = followers_on(followers.get(row.channel_id), _platform_day(row.published_at))
        rate = engagement_rate(figures, followers=audience)
        built.append(
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
                tags=tags.get(row.id, []),
                custom=custom_values(metrics, figures),
            )
        )
    return built


def post_figures(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
    metrics: Sequence[CustomMetric] = (),
) -> list[PostFiguresRead]:
    """The posts published from ``start`` to ``end`` (the workspace's days), oldest first,
    each with its latest figures: views, engagements and the engagement rate, per view or,
    where the platform reports no views, per follower of the account on that day; and the
    values of the custom ``metrics``."""
    begins, ends = period_bounds(workspace, start, end)
    channels = {c.id: c for c in channels_of(db, workspace, channel_ids)}
    rows = db.execute(
        _period_query(workspace, list(channels), begins, ends)
        .add_columns(*_ROW_COLUMNS, *_METRIC_COLUMNS)
        .order_by(MeasuredPost.published_at, MeasuredPost.id)
    ).all()
    return _build(db, rows, channels, metrics)


def _channels_of(db: Session, rows: Sequence[Any]) -> dict[int, Channel]:
    """The accounts of the rows (with ``channel_id``) by id: only those shown are read."""
    wanted = {row.channel_id for row in rows}
    return {c.id: c for c in db.scalars(select(Channel).where(Channel.id.in_(wanted)))}


def _highest_first(column: Any) -> tuple[Any, ...]:
    """Highest first, posts without the figure last, ties oldest first."""
    return (column.is_(None), column.desc(), MeasuredPost.published_at, MeasuredPost.id)


@dataclass(frozen=True)
class RankedPosts:
    """A period's best and worst posts by engagement rate and by views."""

    highest_rate: list[PostFiguresRead]
    lowest_rate: list[PostFiguresRead]
    most_views: list[PostFiguresRead]
    fewest_views: list[PostFiguresRead]


def ranked_posts(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    min_views: int,
    limit: int,
    channel_ids: Sequence[int] | None = None,
) -> RankedPosts:
    """The period's ``limit`` posts with the highest and the lowest engagement rate (among
    those with at least ``min_views`` views, or rated per follower where no views are
    reported) and with the most and the fewest views; the bottom lists leave out the posts
    already at the top. Each list is asked of the database (the rate worked out there,
    ``rated.post_rate``; sorted, cut at the list's length); only the posts shown are built."""
    begins, ends = period_bounds(workspace, start, end)
    accounts = (
        None if channel_ids is None else [c.id for c in channels_of(db, workspace, channel_ids)]
    )
    query = rated.period_posts(workspace.id, accounts, begins, ends)
    rate = rated.post_rate(db, query, begins, ends).rate
    ranked = query.add_columns(MeasuredPost.id).where(
        rate.is_not(None), or_(MeasuredPost.views.is_(None), MeasuredPost.views >= min_views)
    )
    viewed = query.add_columns(MeasuredPost.id).where(MeasuredPost.views.is_not(None))

    def ids(chosen: Select[Any], *order: Any, size: int = limit) -> list[int]:
        return list(db.scalars(chosen.order_by(*order).limit(size)))

    highest = ids(ranked, rate.desc(), MeasuredPost.id)
    most = ids(viewed, MeasuredPost.views.desc(), MeasuredPost.id)
    # The bottom lists: the lowest first, less those already at the top.
    lowest = [
        i for i in ids(ranked, rate, MeasuredPost.id.desc(), size=2 * limit) if i not in highest
    ]
    fewest = [
        i
        for i in ids(viewed, MeasuredPost.views, MeasuredPost.id.desc(), size=2 * limit)
        if i not in most
    ]
    lists = [highest, lowest[:limit], most, fewest[:limit]]
    wanted = {post_id for chosen in lists for post_id in chosen}
    rows = db.execute(
        select(*_ROW_COLUMNS, *_METRIC_COLUMNS).where(MeasuredPost.id.in_(wanted))
    ).all()
    built = {post.post_id: post for post in _build(db, rows, _channels_of(db, rows))}
    top, bottom, most_viewed, fewest_viewed = ([built[i] for i in chosen] for chosen in lists)
    return RankedPosts(top, bottom, most_viewed, fewest_viewed)


def posts_page(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    order: PostOrder | CustomMetric = PostOrder.PUBLISHED,
    page: int = 1,
    channel_ids: Sequence[int] | None = None,
    size: int = PAGE_SIZE,
    metrics: Sequence[CustomMetric] = (),
) -> PostsPage:
    """The period's posts with their latest figures and the custom ``metrics``' values,
    sorted by ``order`` (a figure or a custom metric; posts without it last), ``size`` to a
    page; a page past the last shows the last."""
    begins, ends = period_bounds(workspace, start, end)
    accounts = (
        None if channel_ids is None else [c.id for c in channels_of(db, workspace, channel_ids)]
    )
    query = rated.period_posts(workspace.id, accounts, begins, ends)
    total = db.scalar(query.add_columns(func.count())) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    offset = (page - 1) * size
    by: tuple[Any, ...]
    if isinstance(order, CustomMetric):
        by = _highest_first(sql_value(parse(order.formula), MeasuredPost))
    elif order is PostOrder.RATE:
        by = _highest_first(rated.post_rate(db, query, begins, ends).rate)
    else:
        by = {
            PostOrder.PUBLISHED: (MeasuredPost.published_at.desc(), MeasuredPost.id.desc()),
            PostOrder.VIEWS: _highest_first(MeasuredPost.views),
            PostOrder.ENGAGEMENTS: _highest_first(engagement_sum()),
        }[order]
    # The page's ids from the period's index, then only their rows.
    ids = list(
        db.scalars(query.add_columns(MeasuredPost.id).order_by(*by).offset(offset).limit(size))
    )
    found = {
        row.id: row
        for row in db.execute(
            select(*_ROW_COLUMNS, *_METRIC_COLUMNS).where(MeasuredPost.id.in_(ids))
        )
    }
    rows = [found[post_id] for post_id in ids]
    shown = _build(db, rows, _channels_of(db, rows), metrics)
    return PostsPage(shown, page, pages, total, order, any(p.illustrative for p in shown))
