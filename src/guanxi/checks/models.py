"""The workspace's sensitive-word list (also used by inbox moderation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow


class SensitiveWord(Base):
    """A term to screen for; ``severity`` is "block" (an error) or "warn" (overridable)."""

    __tablename__ = "sensitive_words"
    __table_args__ = (UniqueConstraint("workspace_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    term: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40), default="")
    severity: Mapped[str] = mapped_column(String(10), default="warn")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
