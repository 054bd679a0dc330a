"""Helpers for the analytics tests: a connector that reads metrics from planted figures (and
raises planted errors), and a measured channel of a test workspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import (
    NOT_SUPPORTED,
    Capability,
    ChannelContext,
    ContentFormat,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
    HashtagStyle,
    NotSupportedError,
    PublishRequest,
    PublishResult,
    ReadNotSupported,
    RuleViolation,
    VariantDraft,
    VariantField,
)
from guanxi.connectors.metrics import AccountDay, Metric, MetricsLimits, PostFigures
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.measure.collect import CollectReport, collect_channel
from guanxi.measure.runs import PLATFORM_ZONE

BOX = SecretBox("measure-test-secret-key-that-is-long-enough")

# Monday 2026-03-02 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TODAY = NOW.astimezone(PLATFORM_ZONE).date()

LIMITS = MetricsLimits(
    post_batch=2,
    account_range_days=7,
    account_history_days=30,
    post_max_age_days=None,
    account_delay_days=1,
)


@dataclass
class PlantedPost:
    """A post of the fake account: when it was published and its figures as they grow."""

    external_id: str
    published_at: datetime
    text: str = "新品上市"
    views_per_hour: int = 100
    likes_per_hour: int = 5
    reported: bool = True  # False: the platform leaves it out of its answers
    format: ContentFormat | None = None  # what the platform's timeline says it is

    def figures(self, at: datetime) -> dict[Metric, int]:
        hours = max(0, int((at - self.published_at).total_seconds() // 3600))
        return {
            Metric.VIEWS: hours * self.views_per_hour,
            Metric.LIKES: hours * self.likes_per_hour,
            Metric.COMMENTS: hours,
        }


@dataclass
class Call:
    """A call the collector made."""

    method: str
    args: tuple[Any, ...]


class FakeMetrics(ReadNotSupported):
    """A connector with METRICS over planted posts and days; ``errors[method]`` is a list
    of what each next call of ``method`` does: an exception to raise, or None to answer."""

    name = "fake_metrics"
    platforms: ClassVar[tuple[str, ...]] = ("weibo",)
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.METRICS})
    hashtag_style = HashtagStyle.DOUBLE_HASH
    variant_fields: ClassVar[frozenset[VariantField]] = frozenset()

    def __init__(
        self,
        *,
        limits: MetricsLimits = LIMITS,
        posts: Sequence[PlantedPost] = (),
        days: Mapping[date, Mapping[Metric, int]] | None = None,
        clock: list[datetime] | None = None,
        page_size: int = 2,
    ) -> None:
        self.metrics_limits = limits
        self.posts = list(posts)
        self.days = dict(days or {})
        self.breakdowns: dict[date, dict[str, dict[str, int]]] = {}
        self.clock = clock if clock is not None else [NOW]
        self.page_size = page_size
        self.errors: dict[str, list[BaseException | None]] = {}
        self.calls: list[Call] = []

    @classmethod
    def from_settings(cls, settings: Settings, http: Any) -> FakeMetrics:
        """As the registry builds connectors (the CLI tests plant one this way)."""
        return INSTALLED[0] if INSTALLED else cls()

    def _called(self, method: str, *args: Any) -> None:
        self.calls.append(Call(method, args))
        planned = self.errors.get(method)
        if planned:
            error = planned.pop(0)
            if error is not None:
                raise error

    def calls_of(self, method: str) -> list[Call]:
        """The calls of ``method`` so far."""
        return [call for call in self.calls if call.method == method]

    # --- ReadsMetrics

    def post_metrics(
        self, channel: ChannelContext, external_ids: Sequence[str]
    ) -> list[PostFigures]:
        assert len(external_ids) <= self.metrics_limits.post_batch
        self._called("post_metrics", tuple(external_ids))
        now = self.clock[0]
        return [
            PostFigures(external_id=post.external_id, observed_at=now, values=post.figures(now))
            for post in self.posts
            if post.external_id in external_ids and post.reported
        ]

    def account_metrics(
        self, channel: ChannelContext, *, start: date, end: date
    ) -> list[AccountDay]:
        assert (end - start).days + 1 <= self.metrics_limits.account_range_days, (start, end)
        assert start <= end
        self._called("account_metrics", start, end)
        return [
            AccountDay(day=day, values=dict(figures), breakdowns=self.breakdowns.get(day, {}))
            for day, figures in sorted(self.days.items())
            if start <= day <= end
        ]

    def account_posts(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        self._called("account_posts", since)
        ordered = sorted(self.posts, key=lambda p: p.published_at)
        offset = int(since or 0)
        page = ordered[offset : offset + self.page_size]
        items = tuple(
            FetchedItem(
                kind=FetchedKind.POST,
                external_id=p.external_id,
                text=p.text,
                author=FetchedAuthor(external_id="brand", name="Brand"),
                created_at=p.published_at,
                url=f"https://weibo.com/1/{p.external_id}",
                format=p.format,
            )
            for p in page
        )
        next_offset = offset + len(page)
        return FetchPage(items=items, cursor=str(next_offset), has_more=next_offset < len(ordered))

    # --- The rest of the Connector protocol, which analytics never calls

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        return []

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        raise NotSupportedError(NOT_SUPPORTED)

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        raise NotSupportedError(NOT_SUPPORTED)

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        raise NotSupportedError(NOT_SUPPORTED)

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        raise NotSupportedError(NOT_SUPPORTED)


# The connector the registry builds for the name "fake_metrics" (see ``plant_connector``).
INSTALLED: list[FakeMetrics] = []


def daily_figures(
    first: date, last: date, *, followers: int = 1000
) -> dict[date, dict[Metric, int]]:
    """An account growing by 10 followers a day (12 new, 2 lost), with 500 views a day."""
    days: dict[date, dict[Metric, int]] = {}
    day, total = first, followers
    while day <= last:
        total += 10
        days[day] = {
            Metric.FOLLOWERS: total,
            Metric.NEW_FOLLOWERS: 12,
            Metric.LOST_FOLLOWERS: 2,
            Metric.VIEWS: 500,
        }
        day += timedelta(days=1)
    return days


def make_channel(
    db: Session, workspace: Workspace, *, external_id: str = "brand", name: str = "Brand Weibo"
) -> Channel:
    """A connected channel of the fake connector."""
    channel = Channel(
        workspace_id=workspace.id,
        connector=FakeMetrics.name,
        platform="weibo",
        external_id=external_id,
        name=name,
    )
    db.add(channel)
    db.commit()
    return channel


class NoTokens:
    """The fake connector needs no token."""

    def current(self) -> None:
        return None

    def refresh(self, stale: object, fetch: Any) -> Any:
        return fetch()


@dataclass
class Collector:
    """Runs the collector on one channel with the fake connector, at a settable time."""

    db: Session
    channel: Channel
    connector: FakeMetrics
    reports: list[CollectReport] = field(default_factory=list)

    def run(self, at: datetime = NOW) -> CollectReport:
        """One run at ``at`` (the connector's clock says the same)."""
        self.connector.clock[0] = at
        context = ChannelContext(self.channel.id, self.channel.external_id, {}, NoTokens())
        report = collect_channel(
            self.db, channel=self.channel, connector=self.connector, context=context, now=at
        )
        self.reports.append(report)
        return report
