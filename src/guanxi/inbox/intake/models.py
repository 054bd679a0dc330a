"""What reading the channels keeps: how far each channel was read, and the nonces of pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.inbox.items.models import ItemKind


class SyncCursor(Base):
    """How far the inbox has read one channel's comments, mentions or messages."""

    __tablename__ = "inbox_sync_cursors"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[ItemKind] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(400), default="")  # opaque, the connector's
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The last failure, shown on the channel ("no comment permission", "reconnect").
    last_error: Mapped[str] = mapped_column(Text, default="")  # a translatable message id
    last_error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    items_total: Mapped[int] = mapped_column(Integer, default=0)


class PushNonce(Base):
    """A nonce WeChat signed a push with: the same one twice is a replay and is refused."""

    __tablename__ = "inbox_push_nonces"
    __table_args__ = (UniqueConstraint("channel_id", "nonce", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
