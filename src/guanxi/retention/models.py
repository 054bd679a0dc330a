"""Each workspace's retention of each kind of raw row, and how far its deletions went.

A row exists once an owner chose a period for a kind, or once a deletion ran: no row means
"keep forever". ``pruned_before`` is the moment before which the kind's rows may be gone:
it is set before the first batch is deleted, so a recount of daily figures never reaches
the days whose detail is partly deleted (``detail_kept_from``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.retention import MAX_KEEP_DAYS

KIND_KEY_MAX = 60


class RetentionSetting(Base):
    """How long one workspace keeps one kind of raw row, and its deletions so far."""

    __tablename__ = "retention_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_KEY_MAX), primary_key=True)
    keep_days: Mapped[int | None] = mapped_column(Integer, default=None)  # None: forever
    pruned_before: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Every row deleted, counted in the transaction that deleted it.
    rows_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    last_pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- The API's schemas --------------------------------------------------------------------------


class RetentionRead(BaseModel):
    """How long the workspace keeps one kind of raw row."""

    kind: str
    label: str
    keep_days: int | None = Field(description="Days of raw rows kept; null: kept forever.")
    minimum_days: int
    maximum_days: int
    detail_kept_from: datetime | None = Field(
        description="Rows before this moment may have been deleted; null: none was."
    )
    rows_deleted: int


class RetentionUpdate(BaseModel):
    """A new period for one kind (the API's body)."""

    keep_days: int | None = Field(
        default=None, ge=1, le=MAX_KEEP_DAYS, description="Days to keep; null: keep forever."
    )
