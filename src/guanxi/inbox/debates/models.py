"""Debates: the brand's topic campaigns (``#话题#``) and the posts linked to each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow


class Debate(Base):
    """A topic campaign of the brand (``#话题#``) whose participation is followed."""

    __tablename__ = "inbox_debates"
    __table_args__ = (UniqueConstraint("workspace_id", "hashtag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    hashtag: Mapped[str] = mapped_column(String(100))  # without the # marks
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DebatePost(Base):
    """A brand post linked to a debate: comments on it count as participation."""

    __tablename__ = "inbox_debate_posts"
    __table_args__ = (UniqueConstraint("debate_id", "post_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debate_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_debates.id", ondelete="CASCADE"), index=True
    )
    post_external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
