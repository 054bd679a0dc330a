"""The WeChat scene codes of a workspace and what people did with them.

A scene code is an Official Account QR code (temporary or from the account's permanent
pool), a mini-program code or a URL Link, made for a campaign, post or KOL and known by its
scene; a scan or a follow through it is a ``CodeEvent``, a touch for attribution.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.convert.models import LABEL_MAX
from guanxi.core.db import Base, UTCDateTime, utcnow


class CodeKind(StrEnum):
    """What a scene code is: how a person meets it and what it tells."""

    QR_TEMPORARY = "qr_temporary"  # an Official Account QR code, at most 30 days
    QR_PERMANENT = "qr_permanent"  # an Official Account QR code from the account's pool
    MINIPROGRAM_CODE = "miniprogram_code"  # opens the mini program with the scene
    URL_LINK = "url_link"  # a link into the mini program, renewed before it expires


SCENE_KEY_LENGTH = 10  # base62 in every kind's scene (mini-program codes hold 32)


class SceneCode(Base):
    """A code of one WeChat account made for a campaign, post or KOL, known by its scene.

    A person who scans a QR code is a ``CodeEvent`` (scan, or follow); a mini-program code
    or URL Link hands its scene to the mini program, which sends it back with the order.
    Archived codes keep their events; an archived permanent code's scene may be given to a
    new code (the account's permanent codes are a pool of 100,000).
    """

    __tablename__ = "convert_scene_codes"
    __table_args__ = (
        Index("ix_convert_scene_codes_workspace", "workspace_id", "created_at"),
        Index("ix_convert_scene_codes_scene", "workspace_id", "scene"),
        # One live code per scene of an account; archived ones keep their history.
        Index(
            "uq_convert_scene_codes_live",
            "channel_id",
            "scene",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[CodeKind] = mapped_column(String(20))
    scene: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(LABEL_MAX), default="")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), default=None
    )
    kol_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_kols.id", ondelete="SET NULL"), default=None
    )
    ticket: Mapped[str] = mapped_column(String(200), default="")  # QR codes
    url: Mapped[str] = mapped_column(String(400), default="")  # what the QR encodes; the link
    page: Mapped[str] = mapped_column(String(200), default="")  # the mini program's page
    width: Mapped[int] = mapped_column(Integer, default=0)  # mini-program code, pixels
    image: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # its PNG
    lifetime_days: Mapped[int] = mapped_column(Integer, default=0)  # temporary codes, links
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    renewed_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_scene_codes.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CodeEventKind(StrEnum):
    """What a person did with a scene code."""

    SCAN = "scan"  # scanned it, already a follower
    FOLLOW = "follow"  # followed the account (through the code when ``scene`` is set)


class CodeEvent(Base):
    """A scan or a follow of one WeChat user (OpenID), stored once per pushed event."""

    __tablename__ = "convert_code_events"
    __table_args__ = (
        # WeChat retries a push up to 3 times: sender, time and event name make it one.
        UniqueConstraint("channel_id", "event_id"),
        Index("ix_convert_code_events_openid", "workspace_id", "openid", "occurred_at"),
        Index("ix_convert_code_events_code", "code_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_scene_codes.id", ondelete="SET NULL"), default=None
    )
    event_id: Mapped[str] = mapped_column(String(120))
    openid: Mapped[str] = mapped_column(String(64))
    scene: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[CodeEventKind] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A follow without a scene is asked about once (user/info); True once asked.
    origin_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)  # made up by the demo


class CodeCreate(BaseModel):
    """A scene code to make (the API's body)."""

    kind: CodeKind
    channel_id: int = Field(ge=1, le=2**31 - 1, description="The WeChat account's channel.")
    label: str = Field("", max_length=LABEL_MAX)
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)
    post_id: int | None = Field(None, ge=1, le=2**31 - 1)
    kol_id: int | None = Field(None, ge=1, le=2**31 - 1)
    days: int = Field(30, ge=1, le=30, description="Temporary codes and links: 1 to 30 days.")
    page: str = Field("", max_length=200, description="The mini program's page, e.g. pages/shop")
    width: int = Field(430, ge=280, le=1280, description="Mini-program code width, pixels.")


class CodeRead(BaseModel):
    """A scene code with what it brought."""

    id: int
    kind: CodeKind
    channel_id: int
    scene: str
    label: str
    url: str
    campaign_id: int | None
    post_id: int | None
    kol_id: int | None
    expires_at: datetime | None
    created_at: datetime
    scans: int
    follows: int
    orders: int
