"""The analysis of a period's posts: what the content, best-time and top-posts pages show.

- ``content_analysis``: engagement rate, views and engagements per post, by format, text
  length, hashtag use, top hashtags, the posts' own tags, hour and weekday, each with a
  95% Student-t interval (``stats.moments_interval``) and whether it differs from the
  average of all the posts, from sums the database counts (``groups``); the most used
  hashtags and tags first, ties in alphabetical order;
- ``best_time``: one account's hour-of-week effects (``stats.fit_best_time``), and
  ``suggested_times``, the composer's suggested slots, from the same model;
- ``top_posts``: the best and worst posts by engagement rate and by views, each list asked
  of the database (``listing.ranked_posts``).

Hours and weekdays are the workspace's; every function reads only the workspace's posts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.best_times import SuggestedTime
from guanxi.channels.models import Channel
from guanxi.core import fields
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.measure.analysis.groups import (
    UNKNOWN_FORMAT,
    Cell,
    GroupSums,
    HashtagPost,
    content_sums,
)
from guanxi.measure.analysis.models import (
    BestTimeRead,
    ContentAnalysisRead,
    EstimateRead,
    GroupingRead,
    GroupRead,
    SlotRead,
    TopPostsRead,
)
from guanxi.measure.analysis.stats import (
    MIN_GROUP_POSTS,
    Estimate,
    Observation,
    SlotEffect,
    fit_best_time,
    moments_interval,
)
from guanxi.measure.listing import followers_by_day, followers_on, post_figures, ranked_posts
from guanxi.measure.models import POST_FORMAT_LABELS
from guanxi.measure.service import MAX_SERIES_DAYS, _channel, channels_of, period_bounds

WEEKDAY_LABELS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
# Text length, in characters of the text kept with the post (its first 280).
LENGTH_BUCKETS: tuple[tuple[int, str, str], ...] = (
    (1, "none", N_("No text")),
    (50, "short", N_("Under 50 characters")),
    (140, "medium", N_("50 to 139 characters")),
    (280, "long", N_("140 to 279 characters")),
    (10**9, "longest", N_("280 characters or more")),
)
TOP_HASHTAGS = 10
TOP_TAGS = 20  # the post tags shown, most used first
UNTAGGED = ""  # the group of posts without a tag
TOP_POSTS = 10
MIN_VIEWS = 100  # a post with fewer views has a rate too noisy to rank
BEST_TIME_HISTORY = timedelta(days=365)  # the history the composer's suggestions rest on
# Weibo's #topic# (spaces inside, not at either end), then the usual #tag (Xiaohongshu, Douyin...).
DOUBLE_HASH = re.compile(r"#([^#\s](?:[^#\n]{0,38}[^#\s])?)#")
SINGLE_HASH = re.compile(r"(?<![\w#])#(\w{1,40})")


DEFAULT_DAYS = 90  # the period a page shows when none is chosen


@dataclass(frozen=True)
class AnalysisFilters:
    """The period (the workspace's days, both included) and the accounts (none: all)."""

    start: date
    end: date
    channel_ids: tuple[int, ...] = ()

    @property
    def accounts(self) -> list[int] | None:
        """The accounts to read, as the services take them (None: every one)."""
        return list(self.channel_ids) or None


def analysis_filters(
    *,
    workspace: Workspace,
    start: str | None,
    end: str | None,
    accounts: Sequence[str] = (),
    now: datetime | None = None,
) -> AnalysisFilters:
    """The filters a page or an API call was given, as text; by default the last
    ``DEFAULT_DAYS`` days up to today in the workspace's zone."""
    today = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(workspace.timezone))
    last = fields.day(end, field=N_("To")) if end else today.date()
    first = fields.day(start, field=N_("From")) if start else last - timedelta(DEFAULT_DAYS - 1)
    if last < first:
        raise UserError(N_("The start date is after the end date. Swap them."))
    if (last - first).days >= MAX_SERIES_DAYS:
        raise UserError(
            N_("A period covers at most {limit} days: choose a shorter one."),
            limit=MAX_SERIES_DAYS,
        )
    ids = [parse_id(value) for value in accounts if value]
    if None in ids:
        raise UserError(N_("Choose accounts from the list."))
    return AnalysisFilters(first, last, tuple(sorted({i for i in ids if i is not None})))


def hashtags(text: str) -> set[str]:
    """The hashtags of a text, written as the reader sees them (``#新品#`` / ``#新品``)."""
    found = {f"#{tag}#" for tag in DOUBLE_HASH.findall(text)}
    rest = DOUBLE_HASH.sub(" ", text)
    found.update(f"#{tag}" for tag in SINGLE_HASH.findall(rest))
    return found


def _estimate(estimate: Estimate) -> EstimateRead:
    return EstimateRead(
        count=estimate.count, mean=estimate.mean, low=estimate.low, high=estimate.high
    )


def _group(
    key: str, label: str, sums: GroupSums, average: float | None, *, translatable: bool = True
) -> GroupRead:
    rate = moments_interval(sums.rate, floor=0.0)
    return GroupRead(
        key=key,
        label=label,
        translatable=translatable,
        posts=sums.posts,
        engagement_rate=_estimate(rate),
        views=_estimate(moments_interval(sums.views, floor=0.0)),
        engagements=_estimate(moments_interval(sums.engagements, floor=0.0)),
        differs=not rate.covers(average),
    )


def _grouping(
    key: str,
    title: str,
    members: Mapping[str, GroupSums],
    average: float | None,
    labels: dict[str, str],
    *,
    translatable: bool = True,
) -> GroupingRead:
    """The groups of ``members`` (each key's sums) that have posts, in the order of
    ``labels``."""
    groups = [
        # The "" group (posts with none of the keys) has a label to translate.
        _group(
            group, labels[group], members[group], average, translatable=translatable or not group
        )
        for group in labels
        if group in members and members[group].posts
    ]
    return GroupingRead(key=key, title=title, groups=groups)


def _add_up(cells: Sequence[Cell], key: Callable[[Cell], str]) -> dict[str, GroupSums]:
    members: dict[str, list[GroupSums]] = defaultdict(list)
    for cell in cells:
        members[key(cell)].append(cell.sums)
    return {found: GroupSums.merged(sums) for found, sums in members.items()}


def _most_used(counts: Mapping[str, int], limit: int) -> list[str]:
    """The ``limit`` keys with the most posts, ties in alphabetical order."""
    return sorted(counts, key=lambda found: (-counts[found], found))[:limit]


def _hashtag_groups(
    posts: Sequence[HashtagPost],
) -> tuple[GroupSums, dict[str, GroupSums]]:
    """The sums of the posts with hashtags, and of each of the top hashtags' posts."""
    members: dict[str, list[HashtagPost]] = defaultdict(list)
    with_any: list[HashtagPost] = []
    for post in posts:
        found = hashtags(post.text)
        if found:
            with_any.append(post)
        for tag in found:
            members[tag].append(post)
    top = _most_used({tag: len(found) for tag, found in members.items()}, TOP_HASHTAGS)
    return _sums_of(with_any), {tag: _sums_of(members[tag]) for tag in top}


def _sums_of(posts: Sequence[HashtagPost]) -> GroupSums:
    return GroupSums.of(
        [p.rate for p in posts if p.rate is not None],
        [float(p.views) for p in posts if p.views is not None],
        [float(p.engagements) for p in posts if p.engagements is not None],
        len(posts),
    )


def content_analysis(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
) -> ContentAnalysisRead:
    """The period's posts grouped by format, length, hashtag use, top hashtags, tags, hour
    and weekday (see the module's docstring), counted by the database (``groups``)."""
    begins, ends = period_bounds(workspace, start, end)
    found = content_sums(
        db,
        workspace_id=workspace.id,
        zone=ZoneInfo(workspace.timezone),
        channel_ids=None
        if channel_ids is None
        else [c.id for c in channels_of(db, workspace, channel_ids)],
        begins=begins,
        ends=ends,
        length_buckets=[(limit, key) for limit, key, _label in LENGTH_BUCKETS],
    )
    every = GroupSums.merged([cell.sums for cell in found.cells])
    overall = _group("all", N_("All posts"), every, None)
    average = overall.engagement_rate.mean
    with_hashtags, top_hashtags = _hashtag_groups(found.hashtag_posts)
    tags = dict(found.tags)
    formats = {fmt.value: label for fmt, label in POST_FORMAT_LABELS.items()}
    formats[UNKNOWN_FORMAT] = N_("Format not known")
    groupings = [
        _grouping(
            "format", N_("Format"), _add_up(found.cells, lambda c: c.format), average, formats
        ),
        _grouping(
            "length",
            N_("Text length"),
            _add_up(found.cells, lambda c: c.length),
            average,
            {key: label for _limit, key, label in LENGTH_BUCKETS},
        ),
        _grouping(
            "hashtag_use",
            N_("Hashtags"),
            {"with": with_hashtags, "without": every - with_hashtags},
            average,
            {"with": N_("With hashtags"), "without": N_("Without hashtags")},
        ),
        _grouping(
            "hashtags",
            N_("Top hashtags"),
            top_hashtags,
            average,
            {tag: tag for tag in top_hashtags},
            translatable=False,
        ),
        _grouping(
            "tags",
            N_("Tag"),
            {**tags, UNTAGGED: every - found.tagged},
            average,
            {
                **{tag: tag for tag in _most_used({t: s.posts for t, s in tags.items()}, TOP_TAGS)},
                UNTAGGED: N_("No tag"),
            },
            translatable=False,
        ),
        _grouping(
            "hour",
            N_("Hour of posting"),
            _add_up(found.cells, lambda c: f"{c.hour:02d}"),
            average,
            {f"{hour:02d}": f"{hour:02d}:00" for hour in range(24)},
            translatable=False,
        ),
        _grouping(
            "weekday",
            N_("Day of the week"),
            _add_up(found.cells, lambda c: str(c.weekday)),
            average,
            {str(day): label for day, label in enumerate(WEEKDAY_LABELS)},
        ),
    ]
    rated = every.rate.count
    return ContentAnalysisRead(
        start=start,
        end=end,
        posts=rated,
        needed=2 * MIN_GROUP_POSTS,
        overall=overall,
        groupings=groupings,
        mixed_bases=0 < found.rated_by_followers < rated,
    )


# --- Best time to post -------------------------------------------------------------------


def _observations(
    db: Session, workspace: Workspace, channel: Channel, start: date, end: date
) -> list[Observation]:
    posts = post_figures(db, workspace=workspace, start=start, end=end, channel_ids=[channel.id])
    rated = [p for p in posts if p.engagement_rate is not None]
    platform_zone = ZoneInfo("Asia/Shanghai")  # account days are the platforms' days
    days = [p.published_at.astimezone(platform_zone).date() for p in rated]
    followers = followers_by_day(db, {channel.id: days} if days else {}).get(channel.id)
    zone = ZoneInfo(workspace.timezone)
    observations = []
    for post, day in zip(rated, days, strict=True):
        at = post.published_at.astimezone(zone)
        observations.append(
            Observation(
                slot=at.weekday() * 24 + at.hour,
                rate=post.engagement_rate or 0.0,
                format=post.format.value if post.format else None,
                followers=followers_on(followers, day),
            )
        )
    return observations


def _slot(effect: SlotEffect) -> SlotRead:
    return SlotRead(
        weekday=effect.weekday,
        hour=effect.hour,
        posts=effect.posts,
        effect=effect.effect,
        low=effect.low,
        high=effect.high,
        better=effect.better,
    )


def best_time(
    db: Session, *, workspace: Workspace, channel_id: int, start: date, end: date
) -> BestTimeRead:
    """The account's hour-of-week effects on engagement rate over ``start``..``end``,
    adjusted for format and follower count, and the slots that are better."""
    channel = _channel(db, workspace, channel_id)
    found = fit_best_time(_observations(db, workspace, channel, start, end))
    return BestTimeRead(
        channel_id=channel.id,
        account=channel.name,
        platform=channel.platform,
        start=start,
        end=end,
        posts=found.posts,
        needed=found.needed,
        enough=found.enough,
        adjusted_for=list(found.adjusted_for),
        slots=[_slot(s) for s in found.slots],
        suggestions=[_slot(s) for s in found.suggestions],
    )


def _next_at(slot: SlotEffect, zone: ZoneInfo, after: datetime) -> datetime:
    """The first start of the slot's hour (in ``zone``) after ``after``."""
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(slot.weekday - local.weekday()) % 7)
    at = datetime(day.year, day.month, day.day, slot.hour, tzinfo=zone)
    return at if at > after else at + timedelta(days=7)


def suggested_times(db: Session, channel: Channel, now: datetime) -> list[SuggestedTime]:
    """The composer's suggested slots for ``channel``: its better hours of the week over the
    last year, each at its next occurrence at least an hour from ``now``; empty with too
    little history or no hour better than the account's average."""
    workspace = db.get(Workspace, channel.workspace_id)
    if workspace is None:
        return []
    zone = ZoneInfo(workspace.timezone)
    end = now.astimezone(zone).date()
    found = fit_best_time(_observations(db, workspace, channel, end - BEST_TIME_HISTORY, end))
    after = now + timedelta(hours=1)
    return [
        SuggestedTime(at=_next_at(s, zone, after), lift=s.effect or 0.0, posts=s.posts)
        for s in found.suggestions
    ]


# --- Top and bottom posts ----------------------------------------------------------------


def top_posts(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    channel_ids: Sequence[int] | None = None,
    min_views: int = MIN_VIEWS,
    limit: int = TOP_POSTS,
) -> TopPostsRead:
    """The period's posts with the highest and lowest engagement rate (among those with at
    least ``min_views`` views, or a per-follower rate where no views are reported) and the
    most and fewest views."""
    ranked = ranked_posts(
        db,
        workspace=workspace,
        start=start,
        end=end,
        min_views=min_views,
        limit=limit,
        channel_ids=channel_ids,
    )
    return TopPostsRead(
        start=start,
        end=end,
        min_views=min_views,
        highest_rate=ranked.highest_rate,
        lowest_rate=ranked.lowest_rate,
        most_views=ranked.most_views,
        fewest_views=ranked.fewest_views,
    )
