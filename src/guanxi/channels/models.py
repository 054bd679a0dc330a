"""A channel is one connected platform account of a workspace (a Weibo account, a WeChat
Official Account, a Douyin account, or a manual account on a platform without an API)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, TimestampMixin, UTCDateTime
from guanxi.core.errors import N_


class ChannelStatus(StrEnum):
    """Whether guanxi can act as the account."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the token failed: its queued posts wait
    DISCONNECTED = "disconnected"  # removed by a user; kept for history


CHANNEL_STATUS_LABELS: dict[ChannelStatus, str] = {
    ChannelStatus.CONNECTED: N_("Connected"),
    ChannelStatus.NEEDS_RECONNECT: N_("Reconnect needed"),
    ChannelStatus.DISCONNECTED: N_("Disconnected"),
}


class ChannelAudience(StrEnum):
    """Where an account's readers are."""

    MAINLAND = "mainland"
    HONG_KONG = "hong_kong"
    TAIWAN = "taiwan"
    OVERSEAS = "overseas"


class Channel(TimestampMixin, Base):
    """A connected account. Secrets are stored encrypted (guanxi.core.security.SecretBox)."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("workspace_id", "connector", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(40))  # entry-point name
    platform: Mapped[str] = mapped_column(String(40))  # catalog slug
    external_id: Mapped[str] = mapped_column(String(120))  # uid, AppID, open_id, or a label
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Who reads it: decides the script check (Simplified for the mainland, Traditional for
    # Hong Kong and Taiwan). Values of ChannelAudience.
    audience: Mapped[str] = mapped_column(String(20), default="mainland")
    status: Mapped[ChannelStatus] = mapped_column(String(20), default=ChannelStatus.CONNECTED)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # JSON of the long-lived secrets (app secret, refresh token), encrypted.
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    # The current access token, encrypted; token_version makes refreshes single-flight.
    access_token_encrypted: Mapped[str] = mapped_column(Text, default="")
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # Whoever holds this lease is fetching a new token; the others wait for token_version.
    token_refresh_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set while the platform rate-limits or the daily quota is spent: nothing is sent before.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
