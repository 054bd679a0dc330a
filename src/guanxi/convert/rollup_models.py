"""What is left of clicks and code events a workspace's retention deleted: their counts per
UTC hour, so every count of a period (whole hours in the workspace's zone) stays as it was.

Rows are written only by the deletions (``convert.retention``), in the transaction that
deletes the raw rows they count: a figure is the raw rows' count plus these rows', and no
row is counted in both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime


class ClickHour(Base):
    """A link's deleted clicks of one hour from one app: visits, counted clicks and bots."""

    __tablename__ = "convert_click_hours"
    __table_args__ = (
        UniqueConstraint("link_id", "hour_start", "platform"),
        Index("ix_convert_click_hours_workspace_time", "workspace_id", "hour_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("convert_links.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime)
    platform: Mapped[str] = mapped_column(String(30), default="")
    visits: Mapped[int] = mapped_column(BigInteger, default=0)
    counted: Mapped[int] = mapped_column(BigInteger, default=0)
    bots: Mapped[int] = mapped_column(BigInteger, default=0)


class CodeEventHour(Base):
    """A scene code's deleted scans or follows of one hour."""

    __tablename__ = "convert_code_event_hours"
    __table_args__ = (
        UniqueConstraint("code_id", "hour_start", "kind"),
        Index("ix_convert_code_event_hours_workspace_time", "workspace_id", "hour_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("convert_scene_codes.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10))  # CodeEventKind
    events: Mapped[int] = mapped_column(BigInteger, default=0)
