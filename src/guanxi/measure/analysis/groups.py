"""The content analysis's groups counted by the database: a period's posts reduced to a
few hundred rows of sums (count, sum and sum of squares of the engagement rate, the views
and the engagements), which add up to every grouping the page shows.

- one GROUP BY over (format, length bucket, weekday and hour, tagged or not, with a ``#``
  or not), each post's rate and keys worked out once (a materialized CTE): its cells add
  up to the groups by format, length, hour and weekday, to the tagged posts and to all;
- when a post has a tag, one GROUP BY tag, read from the tags guanxi gave the posts it
  published (the untagged are all the posts less the tagged ones);
- when a text has a ``#``, those posts one by one: their hashtags are found in Python
  (each platform writes them its own way); the other posts have none.

Each statement works the period's posts out again, so a workspace without tags or hashtags
reads its posts once.

A half year of 1,000 accounts' 16,000 posts was 970 ms p50 building every post; see
docs/benchmarks.md for what this reads instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CTE

from guanxi.measure.analysis.flows import has_tags, tag_rows
from guanxi.measure.analysis.stats import Moments
from guanxi.measure.models import MeasuredPost
from guanxi.measure.rated import LocalTime, period_posts, post_rate, trimmed_length

UNKNOWN_FORMAT = "unknown"


@dataclass(frozen=True)
class GroupSums:
    """A group's posts and the moments of their engagement rates, views and engagements
    (each over the posts that have the figure)."""

    posts: int = 0
    rate: Moments = field(default_factory=Moments)
    views: Moments = field(default_factory=Moments)
    engagements: Moments = field(default_factory=Moments)

    @classmethod
    def of(
        cls, rates: Sequence[float], views: Sequence[float], engaged: Sequence[float], posts: int
    ) -> GroupSums:
        """The sums of ``posts`` posts' figures (each list: the posts that have it)."""
        return cls(posts, Moments.of(rates), Moments.of(views), Moments.of(engaged))

    @classmethod
    def merged(cls, parts: Sequence[GroupSums]) -> GroupSums:
        """The sums of the posts of all the ``parts`` (none of them in two)."""
        moments = [(s.rate, s.views, s.engagements) for s in parts]
        return cls(
            sum(s.posts for s in parts),
            *(Moments.merged([m[figure] for m in moments]) for figure in range(3)),
        )

    def __add__(self, other: GroupSums) -> GroupSums:
        return GroupSums(
            self.posts + other.posts,
            self.rate + other.rate,
            self.views + other.views,
            self.engagements + other.engagements,
        )

    def __sub__(self, other: GroupSums) -> GroupSums:
        return GroupSums(
            self.posts - other.posts,
            self.rate - other.rate,
            self.views - other.views,
            self.engagements - other.engagements,
        )


@dataclass(frozen=True)
class Cell:
    """The posts of one format, length bucket, weekday and hour (the workspace's)."""

    format: str
    length: str
    weekday: int
    hour: int
    sums: GroupSums


@dataclass(frozen=True)
class HashtagPost:
    """A post whose text has a ``#``: its text and figures."""

    text: str
    rate: float | None
    views: int | None
    engagements: int | None


@dataclass(frozen=True)
class ContentSums:
    """What the content analysis is worked out from."""

    cells: list[Cell]
    rated_by_followers: int  # posts rated per follower (the others: per view)
    tags: list[tuple[str, GroupSums]]  # by tag, with each tag's posts
    tagged: GroupSums  # the posts with any tag
    hashtag_posts: list[HashtagPost]


def _moments(column: Any) -> list[Any]:
    value = cast(column, Float)
    return [func.count(value), func.sum(value), func.sum(value * value)]


def _aggregates(posts: CTE) -> list[Any]:
    return [
        func.count(),
        *_moments(posts.c.rate),
        *_moments(posts.c.views),
        *_moments(posts.c.engaged),
    ]


def _sums(row: Sequence[Any], at: int = 0) -> GroupSums:
    """The GroupSums of ``_aggregates``' columns, from ``at`` in ``row``."""
    values = row[at : at + 10]

    def moments(first: int) -> Moments:
        return Moments(values[first] or 0, values[first + 1] or 0.0, values[first + 2] or 0.0)

    return GroupSums(values[0], moments(1), moments(4), moments(7))


def content_sums(
    db: Session,
    *,
    workspace_id: int,
    zone: ZoneInfo,
    channel_ids: Sequence[int] | None,
    begins: datetime,
    ends: datetime,
    length_buckets: Sequence[tuple[int, str]],
) -> ContentSums:
    """The sums of the posts of the channels published in [``begins``, ``ends``), in cells
    and by tag, and the posts with a ``#``; ``length_buckets``: (below which length, key),
    shortest first, the text's length counted without whitespace at either end."""
    query = period_posts(workspace_id, channel_ids, begins, ends)
    rated = post_rate(db, query, begins, ends)
    local = LocalTime(db, MeasuredPost.published_at, zone, begins, ends)
    # Materialized: each post's rate and keys worked out once, not once per sum.
    posts = (
        query.add_columns(
            MeasuredPost.id,
            MeasuredPost.variant_id,
            MeasuredPost.views,
            rated.engaged.label("engaged"),
            rated.rate.label("rate"),
            (literal(None) if rated.by_followers is None else rated.by_followers).label(
                "by_followers"
            ),
            func.coalesce(MeasuredPost.format, UNKNOWN_FORMAT).label("format"),
            trimmed_length(db, MeasuredPost.text_excerpt).label("length"),
            local.weekday_hour().label("weekday_hour"),
            has_tags(MeasuredPost.variant_id).label("tagged"),
            case((MeasuredPost.text_excerpt.contains("#", autoescape=True), 1), else_=0).label(
                "hash"
            ),
        )
        .cte("posts")
        .prefix_with("MATERIALIZED")
    )
    length = case(
        *((posts.c.length < limit, key) for limit, key in length_buckets[:-1]),
        else_=length_buckets[-1][1],
    )
    keys = (posts.c.format, length, posts.c.weekday_hour, posts.c.tagged, posts.c.hash)
    rows = db.execute(
        select(*keys, *_aggregates(posts), func.count(posts.c.by_followers)).group_by(*keys)
    ).all()
    cells = [
        Cell(row[0], row[1], *local.weekday_and_hour(row[2]), _sums(row, len(keys))) for row in rows
    ]
    tagged = GroupSums.merged([cell.sums for cell, row in zip(cells, rows, strict=True) if row[3]])
    tags: list[tuple[str, GroupSums]] = []
    if tagged.posts:
        tag_query, tag = tag_rows(posts, workspace_id)
        by_tag = db.execute(tag_query.add_columns(tag, *_aggregates(posts)).group_by(tag))
        tags = [(row[0], _sums(row, 1)) for row in by_tag]
    hashtag_posts: list[HashtagPost] = []
    if any(row[4] for row in rows):
        with_hash = db.execute(
            select(MeasuredPost.text_excerpt, posts.c.rate, posts.c.views, posts.c.engaged)
            .join(MeasuredPost, MeasuredPost.id == posts.c.id)
            .where(posts.c.hash == 1)
        )
        hashtag_posts = [
            HashtagPost(row.text_excerpt, row.rate, row.views, row.engaged) for row in with_hash
        ]
    by_followers = sum(row[-1] for row in rows)
    return ContentSums(cells, by_followers, tags, tagged, hashtag_posts)
