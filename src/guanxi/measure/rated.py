"""A period's posts with their engagement rate worked out by the database, so that the
analysis pages group and rank a half year of a thousand accounts' posts in SQL instead of
building every post in Python.

The rate is the one ``definitions.engagement_rate`` gives a built post: engagements per
view when views are reported (none when the views are zero), else per follower of the
account on the post's day (its platform day, the last count on or before it; the post's own
follower figure when the account has none), else none. Both databases divide the same
doubles, so a rate is the same number either way.

Hours and days in a zone: PostgreSQL converts with the zone's rules (``AT TIME ZONE``);
SQLite has no zones, so the zone's offsets over the period are worked out here and the
moment shifted by the one in force (a ``CASE`` over the few changes a period holds).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    case,
    cast,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from guanxi.measure.models import MeasuredPost
from guanxi.measure.service import FOLLOWERS_LOOKBACK, engagement_sum
from guanxi.measure.store import measure_store

PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")  # the platforms' days, as account days are kept
# What Python's str.strip() strips, so that SQL trims a text to the same length.
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def _offset_s(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def zone_offsets(zone: ZoneInfo, begins: datetime, ends: datetime) -> list[tuple[datetime, int]]:
    """The zone's offsets from UTC in seconds over [``begins``, ``ends``): (from when, offset)
    pairs, the first from ``begins``; a change is found to the second."""
    found = [(begins, _offset_s(zone, begins))]
    day = begins
    while day < ends:
        following = min(day + timedelta(days=1), ends)
        if _offset_s(zone, following) != found[-1][1]:
            # The change is in (low, high], found in whole seconds as the zone rules are.
            low, high = math.floor(day.timestamp()), math.ceil(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_s(zone, datetime.fromtimestamp(middle, UTC)) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, UTC)
            found.append((changed, _offset_s(zone, changed)))
        day = following
    return found


class LocalTime:
    """A UTC column's hour, weekday (Monday 0) and date in a zone, as SQL."""

    def __init__(
        self, db: Session, column: Any, zone: ZoneInfo, begins: datetime, ends: datetime
    ) -> None:
        self.postgresql = db.get_bind().dialect.name == "postgresql"
        if self.postgresql:
            self.moment: Any = func.timezone(zone.key, column)
            return
        offsets = zone_offsets(zone, begins, ends)
        shifts = [f"{seconds:+d} seconds" for _start, seconds in offsets]
        modifier: Any = literal(shifts[-1])
        if len(offsets) > 1:
            modifier = case(
                *(
                    (column < start, shift)
                    for (start, _s), shift in zip(offsets[1:], shifts[:-1], strict=True)
                ),
                else_=shifts[-1],
            )
        self.moment = func.datetime(column, modifier)

    def weekday_hour(self) -> ColumnElement[int]:
        """The weekday and the hour as one number (``weekday_and_hour`` reads it): one
        conversion of the moment a row on SQLite, where each costs a parse."""
        if self.postgresql:
            return cast(
                extract("isodow", self.moment) * 100 + extract("hour", self.moment), Integer
            )
        return cast(func.strftime("%w%H", self.moment), Integer)

    @staticmethod
    def weekday_and_hour(value: int) -> tuple[int, int]:
        """The weekday (Monday 0, as Python's ``weekday()``) and the hour (0 to 23) of a
        ``weekday_hour`` (weekday × 100 + hour, the weekday from Sunday 0 or 7)."""
        return (value // 100 + 6) % 7, value % 100

    def day(self) -> ColumnElement[Any]:
        """The date (on SQLite its ISO text, as dates are kept there)."""
        return cast(self.moment, Date) if self.postgresql else func.date(self.moment)


def trimmed_length(db: Session, column: Any) -> ColumnElement[int]:
    """The length of a text without the whitespace at either end, as Python's
    ``len(text.strip())``."""
    trim = func.btrim if db.get_bind().dialect.name == "postgresql" else func.trim
    return func.length(trim(column, WHITESPACE))


def period_posts(
    workspace_id: int, channel_ids: Sequence[int] | None, begins: datetime, ends: datetime
) -> Select[Any]:
    """The posts of the workspace (of ``channel_ids`` among its channels; None: all of them)
    published in [``begins``, ``ends``), no columns yet."""
    query = select().where(
        MeasuredPost.workspace_id == workspace_id,
        MeasuredPost.published_at >= begins,
        MeasuredPost.published_at < ends,
    )
    return query if channel_ids is None else query.where(MeasuredPost.channel_id.in_(channel_ids))


def post_rate(db: Session, query: Select[Any], begins: datetime, ends: datetime) -> RatedColumns:
    """The engagements, the engagement rate and whether it is per follower, for the posts of
    ``query`` (a ``period_posts`` query over [``begins``, ``ends``))."""
    engaged = engagement_sum()
    views = MeasuredPost.views
    share = cast(engaged, Float)
    per_view = (views > 0, share / views)
    # Without a post lacking views, the figures alone (the period's index) give every rate.
    first = db.scalar(query.add_columns(func.min(MeasuredPost.published_at)).where(views.is_(None)))
    if first is None:
        return RatedColumns(engaged, case((engaged.is_(None), None), per_view, else_=None), None)
    # Follower counts are read back to a month before the first post rated by them, as
    # listing.followers_by_day reads them for the built posts.
    first_day = first.astimezone(PLATFORM_ZONE).date() - FOLLOWERS_LOOKBACK
    day = LocalTime(db, MeasuredPost.published_at, PLATFORM_ZONE, begins, ends).day()
    on_day = measure_store(db).followers_on_day(
        MeasuredPost.channel_id,
        day,
        first=first_day,
        last=ends.astimezone(PLATFORM_ZONE).date(),
        channels=query.add_columns(MeasuredPost.channel_id).where(views.is_(None)).distinct(),
    )
    audience = func.coalesce(on_day, MeasuredPost.followers)
    by_followers = views.is_(None) & engaged.is_not(None) & (audience != 0)
    rate = case((engaged.is_(None), None), per_view, (by_followers, share / audience), else_=None)
    return RatedColumns(engaged, rate, case((by_followers, 1), else_=None))


@dataclass(frozen=True)
class RatedColumns:
    """A post's engagements, engagement rate and (1 or NULL) whether it is per follower
    (None: no post of the query is)."""

    engaged: Any
    rate: Any
    by_followers: Any
