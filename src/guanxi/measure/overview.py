"""The analytics overview: a period's headline figures across platforms, each against the
period before and with its daily trend, and the same per platform and per account.

The period is calendar days in the workspace's zone: a preset (the last 7, 28 or 90 days,
ending yesterday, the last complete day) or a custom range of at most ``MAX_PERIOD_DAYS``.
The figures are ``service.period_totals``'s; the trends add them up day by day: followers
from the account days (each account's last count carried over a day it has none), views and
engagements from the posts published that day (their latest lifetime figures).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.catalog.service import platform_names
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import N_, UserError
from guanxi.core.report import Chart, ChartKind, Series, Text, day_buckets, fit_series
from guanxi.measure.definitions import (
    BASE_DEFINITIONS,
    ENGAGEMENT_RATE_DEFINITION,
    ENGAGEMENTS_DEFINITION,
    NET_FOLLOWER_GROWTH_DEFINITION,
    EngagementRate,
    MetricDefinition,
    RateBasis,
)
from guanxi.measure.models import MeasuredPost
from guanxi.measure.service import (
    PeriodTotals,
    Totals,
    change,
    engagement_sum,
    includes_illustrative,
    period_bounds,
    period_totals,
    previous_period,
)
from guanxi.measure.store import measure_store

MAX_PERIOD_DAYS = 366  # a longer period is a request to narrow (or to export the posts)
PRESET_DAYS = (7, 28, 90)
DEFAULT_PRESET = 28


class Headline(StrEnum):
    """The four figures the overview and the front page lead with."""

    FOLLOWERS = "followers"
    VIEWS = "views"
    ENGAGEMENTS = "engagements"
    ENGAGEMENT_RATE = "engagement_rate"


HEADLINE_DEFINITIONS: dict[Headline, MetricDefinition] = {
    Headline.FOLLOWERS: BASE_DEFINITIONS[Metric.FOLLOWERS],
    Headline.VIEWS: BASE_DEFINITIONS[Metric.VIEWS],
    Headline.ENGAGEMENTS: ENGAGEMENTS_DEFINITION,
    Headline.ENGAGEMENT_RATE: ENGAGEMENT_RATE_DEFINITION,
}
GROWTH_DEFINITION = NET_FOLLOWER_GROWTH_DEFINITION


@dataclass(frozen=True)
class Period:
    """The days an analytics page covers (both included) and how they were chosen."""

    start: date
    end: date
    preset: int | None  # 7, 28 or 90; None: a custom range

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        """The period of the same length just before."""
        return previous_period(self.start, self.end)

    def query(self) -> str:
        """The period as an address's query string, to keep it across the pages."""
        if self.preset is not None:
            return f"days={self.preset}"
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def resolve_period(
    workspace: Workspace,
    *,
    now: datetime,
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Period:
    """The period a page asks for: ``start``..``end`` when both are given, else the last
    ``days`` (a preset) complete days; a UserError for a period that cannot be shown."""
    today = now.astimezone(ZoneInfo(workspace.timezone)).date()
    if start is not None and end is not None:
        if end < start:
            raise UserError(
                N_("The period ends ({end}) before it begins ({start}): swap the two dates."),
                start=start.isoformat(),
                end=end.isoformat(),
            )
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise UserError(
                N_("A period covers at most {limit} days: choose a shorter one."),
                limit=MAX_PERIOD_DAYS,
            )
        if start > today:
            raise UserError(N_("The period begins after today: choose days that have passed."))
        return Period(start, min(end, today), None)
    preset = days if days in PRESET_DAYS else DEFAULT_PRESET
    last = today - timedelta(days=1)
    return Period(last - timedelta(days=preset - 1), last, preset)


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(
            N_("“{value}” is not a date for “{name}”: write it as 2026-03-01."),
            value=value[:40],
            name=name,
        ) from None


def period_from_query(workspace: Workspace, params: Mapping[str, str], *, now: datetime) -> Period:
    """The period an address asks for: ``days`` (7, 28 or 90), or ``start`` and ``end``."""
    days = params.get("days", "")
    return resolve_period(
        workspace,
        now=now,
        days=int(days) if days.isdigit() else None,
        start=_date(params.get("start"), "start"),
        end=_date(params.get("end"), "end"),
    )


@dataclass(frozen=True)
class Figure:
    """One headline figure of a period: its value, the previous period's, the change, and
    its day-by-day trend (None where nothing was reported that day)."""

    key: Headline
    definition: MetricDefinition
    value: float | None
    previous: float | None
    change: float | None
    trend: list[float | None]
    basis: RateBasis | None = None  # engagement rate only: what it is per


@dataclass(frozen=True)
class Trend:
    """The workspace's (or some accounts') figures day by day over a period."""

    days: list[date]
    followers: list[int | None]
    views: list[int | None]
    engagements: list[int | None]
    engagement_rate: list[float | None]


@dataclass(frozen=True)
class Row:
    """One platform's or account's line of the overview's tables."""

    label: str
    platform: str
    channel_id: int | None  # None: a platform's row
    current: Totals
    previous: Totals

    def change_of(self, name: str) -> float | None:
        """The relative change of one of the totals (``views``...) from the period before."""
        now: float | None = getattr(self.current, name)
        before: float | None = getattr(self.previous, name)
        return change(now, before)


@dataclass
class Overview:
    """Everything the overview page shows."""

    period: Period
    figures: list[Figure]
    trend: Trend
    growth: int | None  # net follower growth over the period
    platforms: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    channels: int = 0  # the workspace's connected accounts
    measured: bool = False  # any figure collected or imported at all
    illustrative: bool = False  # the period's figures include the demo's made-up history
    # Each account's followers day by day: the chart the report's section has too.
    followers: Chart | None = None


def daily_trend(
    db: Session, *, workspace: Workspace, start: date, end: date, channel_ids: Sequence[int]
) -> Trend:
    """The figures of ``channel_ids`` for every day from ``start`` to ``end``."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    index = {day: n for n, day in enumerate(days)}
    views: list[int | None] = [None] * len(days)
    engaged: list[int | None] = [None] * len(days)
    engaged_with_views: list[int] = [0] * len(days)
    begins, ends = period_bounds(workspace, start, end)
    zone = ZoneInfo(workspace.timezone)
    rows = db.execute(
        select(MeasuredPost.published_at, MeasuredPost.views, engagement_sum()).where(
            MeasuredPost.workspace_id == workspace.id,
            MeasuredPost.channel_id.in_(channel_ids),
            MeasuredPost.published_at >= begins,
            MeasuredPost.published_at < ends,
        )
    ).all()
    for published_at, post_views, post_engaged in rows:
        n = index.get(published_at.astimezone(zone).date())
        if n is None:
            continue
        if post_views is not None:
            views[n] = (views[n] or 0) + int(post_views)
        if post_engaged is not None:
            engaged[n] = (engaged[n] or 0) + int(post_engaged)
            if post_views is not None:
                engaged_with_views[n] += int(post_engaged)
    rate = [
        engaged_with_views[n] / views[n] if views[n] else None  # type: ignore[operator]
        for n in range(len(days))
    ]
    return Trend(days, followers_trend(db, channel_ids, days), views, engaged, rate)


def followers_trend(db: Session, channel_ids: Sequence[int], days: list[date]) -> list[int | None]:
    """The accounts' followers summed day by day; an account's last count stands for the
    days it reports none (from the month before the period on), so a gap is not a fall."""
    totals: list[int | None] = [None] * len(days)
    for counts in followers_by_channel(db, channel_ids, days).values():
        for n, count in enumerate(counts):
            if count is not None:
                totals[n] = (totals[n] or 0) + count
    return totals


def followers_by_channel(
    db: Session, channel_ids: Sequence[int], days: list[date]
) -> dict[int, list[int | None]]:
    """Each account's followers on each of ``days`` (in order), its last count standing for
    the days it reports none (from the month before the first day on); one query."""
    found: dict[int, list[int | None]] = {c: [None] * len(days) for c in channel_ids}
    if not days or not channel_ids:
        return found
    stored = measure_store(db).followers(channel_ids, days[0] - timedelta(days=31), days[-1])
    by_channel = {channel_id: dict(counts) for channel_id, counts in stored.items()}
    for channel_id, counts in by_channel.items():
        known = sorted(counts)
        last: int | None = None
        position = 0
        for n, day in enumerate(days):
            while position < len(known) and known[position] <= day:
                last = counts[known[position]]
                position += 1
            found[channel_id][n] = last
    return found


def followers_chart(db: Session, channels: list[Channel], start: date, end: date) -> Chart:
    """Each account's followers at the end of each day (or week, for a period longer than a
    chart has points), the largest first: the overview page and the report draw this chart."""
    spans = day_buckets(start, end)
    ends = [last for _, last in spans]
    by_channel = followers_by_channel(db, [c.id for c in channels], ends)
    series = []
    for channel in channels:
        values = by_channel[channel.id]
        name = Text(
            N_("{account} ({platform})"),
            {"account": channel.name, "platform": platform_names(channel.platform)},
        )
        series.append((values[-1] or 0, Series(name, tuple(values))))
    series.sort(key=lambda entry: -entry[0])
    return Chart(
        "followers",
        Text(N_("Followers per account")),
        ChartKind.LINE,
        tuple(first for first, _ in spans),
        fit_series([s for _, s in series], Text(N_("Other accounts"))),
    )


def _rate(totals: Totals) -> float | None:
    return totals.engagement_rate.value if totals.engagement_rate else None


def _figures(current: Totals, previous: Totals, trend: Trend) -> list[Figure]:
    def figure(
        key: Headline,
        now: float | None,
        before: float | None,
        series: Sequence[float | None],
        basis: RateBasis | None = None,
    ) -> Figure:
        definition = HEADLINE_DEFINITIONS[key]
        return Figure(key, definition, now, before, change(now, before), list(series), basis)

    rate: EngagementRate | None = current.engagement_rate
    return [
        figure(Headline.FOLLOWERS, current.followers, previous.followers, trend.followers),
        figure(Headline.VIEWS, current.views, previous.views, trend.views),
        figure(Headline.ENGAGEMENTS, current.engagements, previous.engagements, trend.engagements),
        figure(
            Headline.ENGAGEMENT_RATE,
            _rate(current),
            _rate(previous),
            trend.engagement_rate,
            rate.basis if rate else None,
        ),
    ]


def platform_totals(channels: list[Channel], totals: PeriodTotals) -> dict[str, Totals]:
    """Per platform, the sum of its accounts' totals (rate per view where views exist)."""
    grouped: dict[str, list[Totals]] = defaultdict(list)
    for channel in channels:
        grouped[channel.platform].append(totals.channels[channel.id])
    result = {}
    for platform, parts in grouped.items():
        summed = Totals(posts=sum(t.posts for t in parts))
        for name in ("followers", "net_follower_growth", "views", "engagements"):
            known = [getattr(t, name) for t in parts if getattr(t, name) is not None]
            setattr(summed, name, sum(known) if known else None)
        rated = [(t.views or 0, t.engagement_rate) for t in parts if t.engagement_rate]
        if rated and all(rate.basis == RateBasis.VIEWS for _, rate in rated):
            # An account's rate per view times its views is its engagements with views.
            engaged = sum(rate.value * views for views, rate in rated)
            if summed.views:
                summed.engagement_rate = EngagementRate(engaged / summed.views, RateBasis.VIEWS)
        elif len(rated) == 1:
            summed.engagement_rate = rated[0][1]
        result[platform] = summed
    return result


def overview(db: Session, *, workspace: Workspace, period: Period) -> Overview:
    """The period's headline figures, trends and per-platform and per-account rows."""
    channels = list(
        db.scalars(
            select(Channel)
            .where(Channel.workspace_id == workspace.id)
            .order_by(Channel.platform, Channel.name)
        )
    )
    ids = [c.id for c in channels]
    current = period_totals(db, workspace=workspace, start=period.start, end=period.end)
    before_start, before_end = period.previous
    previous = period_totals(db, workspace=workspace, start=before_start, end=before_end)
    trend = daily_trend(
        db, workspace=workspace, start=period.start, end=period.end, channel_ids=ids
    )
    result = Overview(
        period=period,
        figures=_figures(current.overall, previous.overall, trend),
        trend=trend,
        growth=current.overall.net_follower_growth,
        channels=len(channels),
        measured=bool(ids) and is_measured(db, channel_ids=ids),
        illustrative=bool(ids)
        and includes_illustrative(db, workspace=workspace, start=period.start, end=period.end),
    )
    if channels:
        result.followers = followers_chart(db, channels, period.start, period.end)
    now_by_platform = platform_totals(channels, current)
    before_by_platform = platform_totals(channels, previous)
    for platform, totals in now_by_platform.items():
        result.platforms.append(Row(platform, platform, None, totals, before_by_platform[platform]))
    for channel in channels:
        result.accounts.append(
            Row(
                channel.name,
                channel.platform,
                channel.id,
                current.channels[channel.id],
                previous.channels[channel.id],
            )
        )
    return result


def is_measured(db: Session, *, channel_ids: Sequence[int]) -> bool:
    """Whether any of these accounts has a figure yet (a day or a post)."""
    if not channel_ids:
        return False
    if measure_store(db).has_days(channel_ids):
        return True
    post = db.scalar(
        select(MeasuredPost.id).where(MeasuredPost.channel_id.in_(channel_ids)).limit(1)
    )
    return post is not None
