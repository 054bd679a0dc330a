"""Topic queries, their matches, every enriched mention's facets, and the daily rollup.

``TopicMatch`` copies ``workspace_id`` and ``posted_at`` from its mention so the volume of
one topic over a period is an index range scan. ``DailyRollup`` holds, per workspace, day,
topic (0 for "every mention"), platform, source kind and journey stage, the number of
positive, neutral and negative mentions: the dashboards' counting panels read it instead of
a million mentions. It is rebuilt for the days a batch touches whenever mentions are
matched (``topics.service.match_mentions``), so it is always consistent with the mentions.
``RollupTotal`` is the rollup summed over every day, platform and stage (per workspace,
topic and source kind): the dashboard's totals without a date, platform or stage filter.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
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

from guanxi.core.db import Base, TimestampMixin, UTCDateTime
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


class TopicQuery(TimestampMixin, Base):
    """A named Boolean query over the workspace's mentions (see ``topics.queries``)."""

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
    it returns. Written by ``topics.service.match_mentions`` with the topic matches.
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
    ``topics.service.refresh_rollup`` deletes before it inserts: one row per combination.
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


class RollupTotal(Base):
    """``DailyRollup``'s counts summed over every day, platform and stage, per workspace,
    topic and source kind: the dashboard's unfiltered totals read these few rows instead
    of every rollup row of the workspace's history.

    Kept equal to the rollup's sums by the only code that writes the rollup
    (``store.sql``): each statement that deletes or inserts rollup rows adds what it
    deleted and inserted here, in the same transaction, as increments that concurrent
    writers cannot lose.
    """

    __tablename__ = "listening_rollup_totals"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # as DailyRollup's
    source_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    positive: Mapped[int] = mapped_column(BigInteger, default=0)
    neutral: Mapped[int] = mapped_column(BigInteger, default=0)
    negative: Mapped[int] = mapped_column(BigInteger, default=0)


# --- The API's schemas --------------------------------------------------------------------------


class TopicRead(BaseModel):
    """A topic query of the workspace."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    category: str
    query: str
    active: bool
