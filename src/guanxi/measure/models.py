"""The analytics tables: the brand's own posts and accounts, as time series.

A ``MeasuredPost`` is one post of a channel, known by its id on the platform, whether
guanxi published it (linked to its variant), found it in the account's timeline or
read it from an import. Its figures are ``PostSnapshot`` rows: lifetime totals as the
platform reported them at one moment, taken on a decaying schedule after publishing.

An account's figures are one ``AccountDay`` per channel and day (the platform's day, in
Asia/Shanghai), and the splits a platform gives of some of them (``AccountDayBreakdown``:
WeChat's follower sources). Every figure column is nullable: NULL means "the platform did
not report it", never zero.

``CollectionState`` is what the collector did for a channel and where it stands (the
timeline cursor, the days collected, how far back the history reaches), and
``MissingFigures`` the ranges it could not collect with the reason, for the account's page.
``CustomMetric`` is a workspace's own figure, a formula over the base metrics.

Sizes the indexes are chosen for: 1,000 accounts × 3 years of days (about 1.1 million
account days, keyed by (channel, day) with no other index) and 100,000 posts × 10
snapshots. A measured post carries a copy of its latest snapshot's figures, so the lists
and sums of a period's posts read one range of one index (workspace or channel, published)
and never the snapshots; the snapshots are the posts' curves.

The snapshots, account days and breakdowns are read and written through ``measure.store``
only: with ``GUANXI_ANALYTICS_URL`` set they are kept in ClickHouse instead of these tables.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.connectors.metrics import Metric
from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_


class PostFormat(StrEnum):
    """What kind of content a post is, for comparing like with like."""

    IMAGE = "image"
    VIDEO = "video"
    ARTICLE = "article"
    TEXT = "text"
    LIVE = "live"


POST_FORMAT_LABELS: dict[PostFormat, str] = {
    PostFormat.IMAGE: N_("Image"),
    PostFormat.VIDEO: N_("Video"),
    PostFormat.ARTICLE: N_("Article"),
    PostFormat.TEXT: N_("Text"),
    PostFormat.LIVE: N_("Live"),
}


class FoundBy(StrEnum):
    """How guanxi came to measure a post."""

    PUBLISHED = "published"  # guanxi published it
    TIMELINE = "timeline"  # found in the account's own posts, published elsewhere
    IMPORT = "import"  # read from a creator centre's export


FOUND_BY_LABELS: dict[FoundBy, str] = {
    FoundBy.PUBLISHED: N_("Published with guanxi"),
    FoundBy.TIMELINE: N_("Found in the account's posts"),
    FoundBy.IMPORT: N_("Imported"),
}


class SnapshotPlan(StrEnum):
    """Whether a post is still snapshotted."""

    ACTIVE = "active"
    FINISHED = "finished"  # older than the platform's API reports figures for
    GONE = "gone"  # the platform stopped reporting it (deleted, or hidden)


class MetricColumns:
    """One nullable column per base metric (``connectors.metrics.Metric``), named as it is."""

    views: Mapped[int | None] = mapped_column(BigInteger, default=None)
    likes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    comments: Mapped[int | None] = mapped_column(BigInteger, default=None)
    shares: Mapped[int | None] = mapped_column(BigInteger, default=None)
    saves: Mapped[int | None] = mapped_column(BigInteger, default=None)
    wows: Mapped[int | None] = mapped_column(BigInteger, default=None)
    followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    new_followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    lost_followers: Mapped[int | None] = mapped_column(BigInteger, default=None)

    def figures(self) -> dict[Metric, int]:
        """The reported figures (the NULL ones left out)."""
        found = {metric: getattr(self, metric.value) for metric in Metric}
        return {metric: value for metric, value in found.items() if value is not None}


# The figures a post's totals add up (followers and their flows are the account's, not its).
POST_METRICS = (
    Metric.VIEWS,
    Metric.LIKES,
    Metric.COMMENTS,
    Metric.SHARES,
    Metric.SAVES,
    Metric.WOWS,
)


class MeasuredPost(MetricColumns, Base):
    """One of a channel's own posts, measured over time; its figure columns are those of its
    latest snapshot (taken at ``last_observed_at``), NULL until the first."""

    __tablename__ = "measured_posts"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        # A channel's posts of a period, and the workspace's (the posts list, the export).
        Index("ix_measured_posts_channel_published", "channel_id", "published_at"),
        # The workspace's: its period totals sum the figures from the index alone (a year of
        # 1,000 accounts' posts, 33,000 rows: 215 → 65 ms on SQLite), the lists read on.
        Index(
            "ix_measured_posts_workspace_period",
            "workspace_id",
            "published_at",
            "channel_id",
            *(metric.value for metric in POST_METRICS),
        ),
        # The collector's question: which of a channel's posts are due for a snapshot.
        Index("ix_measured_posts_channel_due", "channel_id", "next_snapshot_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    # The variant, when guanxi published it; the post stays measured if it goes.
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variants.id", ondelete="SET NULL"), default=None, index=True
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    format: Mapped[PostFormat | None] = mapped_column(String(10), default=None)  # None: unknown
    text_excerpt: Mapped[str] = mapped_column(String(280), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    found_by: Mapped[FoundBy] = mapped_column(String(12))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The snapshot schedule: when the next one is due (None: no more), how it stands.
    plan: Mapped[SnapshotPlan] = mapped_column(String(10), default=SnapshotPlan.ACTIVE)
    next_snapshot_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    snapshot_count: Mapped[int] = mapped_column(Integer, default=0)
    # Batches in a row whose answer left the post out; a few mean it is gone.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    # Made up for the demo (the pages say "illustrative figures"), not read from a platform.
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class PostSnapshot(MetricColumns, Base):
    """A post's lifetime totals at one moment."""

    __tablename__ = "post_snapshots"
    __table_args__ = (UniqueConstraint("post_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("measured_posts.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The moment the figures describe, when the platform reports late (WeChat: yesterday).
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AccountDay(MetricColumns, Base):
    """An account's figures for one of the platform's days."""

    __tablename__ = "account_days"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Made up for the demo (the pages say "illustrative figures"), not read from a platform.
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountDayBreakdown(Base):
    """One category of a figure split by the platform (``follower_source`` / ``search``)."""

    __tablename__ = "account_day_breakdowns"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    breakdown: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CollectionState(Base):
    """What the collector did for one channel, and where it stands."""

    __tablename__ = "collection_states"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    # The account's posts: the timeline cursor and when it was last read.
    posts_cursor: Mapped[str] = mapped_column(String(400), default="")
    posts_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    snapshots_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Account figures: every day from ``history_from`` to ``days_through`` is collected (or
    # recorded as missing); the backfill moves ``history_from`` back, one range at a time.
    days_through: Mapped[date | None] = mapped_column(Date, default=None)
    days_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    history_from: Mapped[date | None] = mapped_column(Date, default=None)
    backfill_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The last run, and the last error with its explanation (a translatable message id).
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FiguresKind(StrEnum):
    """Which figures a missing range is of."""

    ACCOUNT = "account"
    POSTS = "posts"


class MissingFigures(Base):
    """Days of a channel's figures the platform could not give, and why."""

    __tablename__ = "missing_figures"
    __table_args__ = (Index("ix_missing_figures_channel", "channel_id", "kind", "first_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[FiguresKind] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)  # a translatable message id, with its params
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    code: Mapped[str] = mapped_column(String(40), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MetricDisplay(StrEnum):
    """How a custom metric's value is written."""

    NUMBER = "number"  # 1,234 or 12.5
    PERCENT = "percent"  # 0.125 shown as 12.5%


METRIC_DISPLAY_LABELS: dict[MetricDisplay, str] = {
    MetricDisplay.NUMBER: N_("Number"),
    MetricDisplay.PERCENT: N_("Percentage"),
}


class CustomMetric(Base):
    """A workspace's own figure: a formula over the base metrics."""

    __tablename__ = "custom_metrics"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))  # English, and the API's and exports' key
    name_zh: Mapped[str] = mapped_column(String(60), default="", server_default="")
    formula: Mapped[str] = mapped_column(String(200))
    display: Mapped[MetricDisplay] = mapped_column(String(10), default=MetricDisplay.NUMBER)
    unit: Mapped[str] = mapped_column(String(20), default="")  # written after the value
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Schemas ---------------------------------------------------------------------------


class CustomMetricCreate(BaseModel):
    """A custom metric as a member defines it."""

    name: str = Field(min_length=1, max_length=60)
    name_zh: str = Field(default="", max_length=60)  # shown to readers of Chinese when given
    formula: str = Field(min_length=1, max_length=200)
    display: MetricDisplay = MetricDisplay.NUMBER
    unit: str = Field(default="", max_length=20)
    description: str = Field(default="", max_length=1000)


class CustomMetricRead(BaseModel):
    """A custom metric as the API shows it."""

    id: int
    name: str
    name_zh: str
    formula: str
    display: MetricDisplay
    unit: str
    description: str
    created_at: datetime


class PostFiguresRead(BaseModel):
    """One post with its latest figures (the posts export and the API)."""

    post_id: int
    platform: str
    account: str
    external_id: str
    published_at: datetime
    format: PostFormat | None
    url: str
    text: str
    views: int | None
    engagements: int | None
    engagement_rate: float | None
    engagement_rate_basis: str | None  # "views" or "followers"
    observed_at: datetime | None
    illustrative: bool = False  # made up for the demo, not read from a platform
    tags: list[str] = Field(default_factory=list)  # its post's tags, when guanxi published it
    # The workspace's custom metrics for this post, by name (None: a figure it reads is not
    # reported, or it divides by zero).
    custom: dict[str, float | None] = Field(default_factory=dict)


class FigureRead(BaseModel):
    """One headline figure of a period, against the period before, with its daily trend."""

    key: str  # followers, views, engagements or engagement_rate
    value: float | None
    previous: float | None
    change: float | None  # relative: 0.1 is +10%
    basis: str | None  # engagement_rate: "views" or "followers"
    trend: list[float | None]


class AccountTotalsRead(BaseModel):
    """An account's totals over a period (followers at its end, the rest of its posts)."""

    channel_id: int
    platform: str
    account: str
    posts: int
    followers: int | None
    net_follower_growth: int | None
    views: int | None
    engagements: int | None
    engagement_rate: float | None
    engagement_rate_basis: str | None


class OverviewRead(BaseModel):
    """The analytics overview of a period across platforms."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    days: list[date]  # the trends' days
    figures: list[FigureRead]
    accounts: list[AccountTotalsRead]


class DayRead(BaseModel):
    """One day of an account: the figures reported (by metric) and the derived ones."""

    day: date
    collected: bool
    figures: dict[str, int]
    engagements: int | None
    engagement_rate: float | None
    engagement_rate_basis: str | None
    net_follower_growth: int | None


class PostsPageRead(BaseModel):
    """A page of a period's posts with their latest figures."""

    page: int
    pages: int
    total: int
    sort: str
    rows: list[PostFiguresRead]


class CurvePointRead(BaseModel):
    """A post's lifetime figures at an age, and its account's median post at that age."""

    hours: float
    observed_at: datetime
    views: int | None
    engagements: int | None
    median_views: float | None
    median_engagements: float | None
    median_of_posts: int = Field(description="how many other posts the medians are of")


class PostCurveRead(BaseModel):
    """A post's curve since publishing against its account's median curve."""

    post_id: int
    channel_id: int
    published_at: datetime
    compared_posts: int
    detail_kept_from: datetime | None = Field(
        default=None, description="Snapshots before this moment were deleted by retention."
    )
    points: list[CurvePointRead]
