"""The posts (mentions), their authors, what the NLP pipeline found in them, and the
official accounts the workspace knows.

A ``Mention`` is one public post or comment about anything the workspace listens to,
imported from a crawler's file or pulled from a connected account; its raw record is kept
as it came. ``MentionEnrichment`` holds the pipeline's results with the model version that
made them, so a model upgrade can find and redo stale rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_

# The key of listening posts among the kinds of rows a workspace keeps for a limited period
# (``core.retention``; ``mentions.retention`` declares the kind).
RETENTION_KIND = "listening.mentions"


class MentionKind(StrEnum):
    """What a mention is on its platform."""

    POST = "post"
    COMMENT = "comment"


class OfficialRelation(StrEnum):
    """Whose official account a tracked account is (feeds the source kind)."""

    OWN = "own"
    COMPETITOR = "competitor"


OFFICIAL_RELATION_LABELS: dict[OfficialRelation, str] = {
    OfficialRelation.OWN: N_("Our own account"),
    OfficialRelation.COMPETITOR: N_("Competitor's account"),
}


class TrackedAccount(Base):
    """An official account the workspace knows: its own, or a competitor's."""

    __tablename__ = "listening_tracked_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    # The platform's user id; a name works too for sources that only carry names.
    external_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120), default="")
    relation: Mapped[str] = mapped_column(String(20))  # OfficialRelation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Author(Base):
    """Who wrote mentions, upserted on every import or pull."""

    __tablename__ = "listening_authors"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "external_id"),
        Index("ix_listening_authors_ws_followers", "workspace_id", "followers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))  # uid, or creator_hash when anonymised
    name: Mapped[str] = mapped_column(String(120), default="")
    verified_type: Mapped[int | None] = mapped_column(Integer, default=None)
    verified_reason: Mapped[str] = mapped_column(String(400), default="")
    followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Source kind from the last enrichment: personal | public | marketer ("" before).
    kind: Mapped[str] = mapped_column(String(20), default="", index=True)
    url: Mapped[str] = mapped_column(String(400), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Mention(Base):
    """One post or comment, as it came from its source (the raw record is kept)."""

    __tablename__ = "listening_mentions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "external_id"),
        Index("ix_listening_mentions_ws_posted", "workspace_id", "posted_at"),
        Index("ix_listening_mentions_ws_platform_posted", "workspace_id", "platform", "posted_at"),
        Index("ix_listening_mentions_ws_author", "workspace_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default=MentionKind.POST)
    url: Mapped[str] = mapped_column(String(400), default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("listening_authors.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    reply_to_external_id: Mapped[str] = mapped_column(String(120), default="")  # comment's post
    repost_of_external_id: Mapped[str] = mapped_column(String(120), default="")
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("listening_sources.id", ondelete="SET NULL"), default=None, index=True
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Author | None] = relationship()
    enrichment: Mapped[MentionEnrichment | None] = relationship(
        back_populates="mention", cascade="all, delete-orphan", uselist=False
    )


class MentionEnrichment(Base):
    """What the NLP pipeline found in one mention, and which model version found it.

    ``workspace_id`` and ``posted_at`` are copied from the mention so dashboards filter and
    group on this table's indexes without a join.
    """

    __tablename__ = "listening_mention_enrichments"
    __table_args__ = (
        Index("ix_listening_enrichments_ws_posted", "workspace_id", "posted_at"),
        Index("ix_listening_enrichments_ws_sentiment", "workspace_id", "sentiment", "posted_at"),
        Index("ix_listening_enrichments_ws_kind", "workspace_id", "source_kind", "posted_at"),
        Index("ix_listening_enrichments_ws_stage", "workspace_id", "stage", "posted_at"),
        Index("ix_listening_enrichments_ws_version", "workspace_id", "model_version"),
    )

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("listening_mentions.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(10))
    script: Mapped[str] = mapped_column(String(20))
    normalized_text: Mapped[str] = mapped_column(Text, default="")
    sentiment: Mapped[str] = mapped_column(String(10))  # positive | neutral | negative
    positive_probability: Mapped[float] = mapped_column(Float)
    source_kind: Mapped[str] = mapped_column(String(20))  # personal | public | marketer
    source_reason: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(30))  # journey stage, or "none"
    stage_cue: Mapped[str] = mapped_column(String(120), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Platform markup parsed into features: {"emoticons": [...], "hashtags": [...], ...}.
    features: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str] = mapped_column(String(80))
    enriched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mention: Mapped[Mention] = relationship(back_populates="enrichment")
