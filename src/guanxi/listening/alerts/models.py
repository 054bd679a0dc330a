"""Alert rules (watch one topic for a spike) and the alerts they fired."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_
from guanxi.listening.topics.models import TopicQuery


class AlertMetric(StrEnum):
    """What an alert rule watches."""

    VOLUME = "volume"  # mentions in the window against the baseline rate
    NEGATIVE_SHARE = "negative_share"  # share of negative mentions against the baseline share


ALERT_METRIC_LABELS: dict[AlertMetric, str] = {
    AlertMetric.VOLUME: N_("Volume of mentions"),
    AlertMetric.NEGATIVE_SHARE: N_("Share of negative mentions"),
}


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
