"""Topic queries, their matches, the dashboards' daily rollup, and alert rules and alerts.

``TopicMatch`` copies ``workspace_id`` and ``posted_at`` from its mention so the volume of
one topic over a period is an index range scan. ``DailyRollup`` holds, per workspace, day,
topic (0 for "every mention"), platform, source kind and journey stage, the number of
positive, neutral and negative mentions: the dashboards' counting panels read it instead of
a million mentions. It is rebuilt for the days a batch touches whenever mentions are
matched (``topics.match_mentions``), so it is always consistent with the mentions.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_

ALL_MENTIONS = 0  # DailyRollup.topic_id of the rows that count every mention


class TopicCategory(StrEnum):
    """What a topic query tracks."""

    BRAND = "brand"
    PRODUCT = "product"
    COMPETITOR = "competitor"
    THEME = "theme"  # 食品安全, 污染, ...


TOPIC_CATEGORY_LABELS: dict[TopicCategory, str] = {
    TopicCategory.BRAND: N_("Our brand"),
    TopicCategory.PRODUCT: N_("Product"),
    TopicCategory.COMPETITOR: N_("Competitor"),
    TopicCategory.THEME: N_("Theme"),
}


class AlertMetric(StrEnum):
    """What an alert rule watches."""

    VOLUME = "volume"  # mentions in the window against the baseline rate
    NEGATIVE_SHARE = "negative_share"  # share of negative mentions against the baseline share


ALERT_METRIC_LABELS: dict[AlertMetric, str] = {
    AlertMetric.VOLUME: N_("Volume of mentions"),
    AlertMetric.NEGATIVE_SHARE: N_("Share of negative mentions"),
}


class TopicQuery(TimestampMixin, Base):
    """A named Boolean query over the workspace's mentions (see listening.queries)."""

    __tablename__ = "listening_topic_queries"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(20), default=TopicCategory.THEME)
    query: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MentionFacet(Base):
    """An enriched mention's filterable facts, copied where one index holds them all.

    Dashboards filter on date, platform, sentiment, source kind and stage together; with
    every one of them in the index, a filtered "newest first" scan reads only the mentions
    it returns. Written by ``topics.match_mentions`` with the topic matches.
    """

    __tablename__ = "listening_mention_facets"
    __table_args__ = (
        Index(
            "ix_listening_facets_ws_posted",
            "workspace_id",
            "posted_at",
            "sentiment",
            "source_kind",
            "stage",
            "platform",
        ),
        # A selective sentiment or stage filter over a long period scans its own range.
        Index(
            "ix_listening_facets_ws_sentiment",
            "workspace_id",
            "sentiment",
            "posted_at",
            "source_kind",
            "stage",
            "platform",
        ),
        Index(
            "ix_listening_facets_ws_stage",
            "workspace_id",
            "stage",
            "posted_at",
            "sentiment",
            "source_kind",
            "platform",
        ),
        Index(
            "ix_listening_facets_ws_author",
            "workspace_id",
            "author_id",
            "posted_at",
            "sentiment",
            "source_kind",
            "stage",
            "platform",
        ),
    )

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("listening_mentions.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    platform: Mapped[str] = mapped_column(String(40))
    sentiment: Mapped[str] = mapped_column(String(10))
    source_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(30))
    author_id: Mapped[int | None] = mapped_column(Integer, default=None)


class TopicMatch(Base):
    """A mention a topic query holds for, with the matched terms and where they are.

    The mention's facets are copied here too, so a topic's filtered list is one index scan.
    """

    __tablename__ = "listening_topic_matches"
    __table_args__ = (
        Index(
            "ix_listening_topic_matches_ws_topic_posted",
            "workspace_id",
            "topic_id",
            "posted_at",
            "sentiment",
            "source_kind",
            "stage",
            "platform",
        ),
    )

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("listening_mentions.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("listening_topic_queries.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    platform: Mapped[str] = mapped_column(String(40))
    sentiment: Mapped[str] = mapped_column(String(10))
    source_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(30))
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [[start, end], ...] character offsets in Mention.text, for highlighting.
    spans: Mapped[list[list[int]]] = mapped_column(JSON, default=list)


class DailyRollup(Base):
    """Enriched mentions counted per day and dimension, for the dashboards.

    Its one index holds every column, so the dashboards' GROUP BY reads the index alone.
    ``topics.refresh_rollup`` deletes before it inserts: one row per combination.
    """

    __tablename__ = "listening_daily_rollups"
    __table_args__ = (
        Index(
            "ix_listening_rollups_covering",
            "workspace_id",
            "topic_id",
            "day",
            "platform",
            "source_kind",
            "stage",
            "positive",
            "neutral",
            "negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(Integer)  # ALL_MENTIONS or a TopicQuery id
    day: Mapped[date] = mapped_column(Date)  # UTC day of posted_at
    platform: Mapped[str] = mapped_column(String(40))
    source_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(30))
    positive: Mapped[int] = mapped_column(Integer, default=0)
    neutral: Mapped[int] = mapped_column(Integer, default=0)
    negative: Mapped[int] = mapped_column(Integer, default=0)


class AlertRule(TimestampMixin, Base):
    """Watch one topic for a spike, and say whom to tell and how."""

    __tablename__ = "listening_alert_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("listening_topic_queries.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(String(20), default=AlertMetric.VOLUME)
    window_hours: Mapped[int] = mapped_column(Integer, default=6)
    baseline_days: Mapped[int] = mapped_column(Integer, default=7)
    factor: Mapped[float] = mapped_column(Float, default=2.0)  # volume: times the baseline
    share_increase: Mapped[float] = mapped_column(Float, default=0.2)  # negative share: +points
    min_mentions: Mapped[int] = mapped_column(Integer, default=20)
    cooldown_hours: Mapped[int] = mapped_column(Integer, default=24)
    notify_in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True)
    webhook_url: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Spike state: a spike stays one alert until the metric falls back under its threshold.
    in_spike: Mapped[bool] = mapped_column(Boolean, default=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    topic: Mapped[TopicQuery] = relationship()


class Alert(Base):
    """A spike that was reported: baseline against now, the posts driving it, deliveries."""

    __tablename__ = "listening_alerts"
    __table_args__ = (Index("ix_listening_alerts_ws_fired", "workspace_id", "fired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("listening_alert_rules.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("listening_topic_queries.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(String(20))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    baseline_value: Mapped[float] = mapped_column(Float)  # expected count, or share
    current_value: Mapped[float] = mapped_column(Float)
    current_mentions: Mapped[int] = mapped_column(Integer)
    # The mentions that drive it: [{"id", "text", "author", "engagement", "sentiment"}, ...].
    driving_posts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # One entry per way it was delivered: {"channel", "ok", "detail", "at"}.
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Checks during the cooldown that found the spike again and stayed quiet.
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[str] = mapped_column(Text, default="")

    rule: Mapped[AlertRule] = relationship()
    topic: Mapped[TopicQuery] = relationship()


# --- The API's schemas --------------------------------------------------------------------------


class TopicRead(BaseModel):
    """A topic query of the workspace."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    category: str
    query: str
    active: bool


class TopicSeriesRead(BaseModel):
    """One topic's mentions per day, aligned with the panel's ``days``."""

    topic_id: int
    name: str
    data: list[int]


class PanelRead(BaseModel):
    """One dashboard panel. Trends (volume, sentiment) have ``days`` and ``series``: per
    topic for volume, per sentiment for sentiment. Breakdowns (share-of-voice, source-kinds,
    stages, platforms, authors, keywords) have ``items``; share-of-voice adds ``total`` and
    keywords the number of mentions ``sampled``. Fields a panel does not have are left out."""

    days: list[str] | None = None
    series: list[TopicSeriesRead] | dict[str, list[int]] | None = None
    total: int | None = None
    sampled: int | None = None
    items: list[dict[str, Any]] | None = None


class MentionRowRead(BaseModel):
    """A mention of the drill-down list; ``highlights`` are [start, end) spans of ``text``."""

    mention_id: int
    posted_at: str
    platform: str
    url: str
    text: str
    author: str
    author_kind: str
    followers: int
    sentiment: str
    positive_probability: float
    source_kind: str
    stage: str
    stage_cue: str
    topics: list[str]
    highlights: list[tuple[int, int]]


class MentionPageRead(BaseModel):
    """A page of the drill-down list, newest first."""

    page: int
    has_more: bool
    rows: list[MentionRowRead]
