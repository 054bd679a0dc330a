"""The conversion tables: tracked links and their clicks.

A ``TrackedLink`` is a short link on the brand's own domain (``/l/<key>``) that redirects to
a destination with UTM parameters, tied to what it was made for (a campaign, a post, one of
the post's publish targets). Each visit is a ``LinkClick``: when, from which platform's app,
which kind of device, the client's network truncated before it is stored, whether a bot
made it, and the first-party click id handed to the destination (the identifier an order
can carry back). At most one click per visitor, link and hour is *counted*; the others are
kept, uncounted, so the raw log stays whole.

Sizes the indexes are chosen for: 100,000 links and 10 million clicks a workspace, read by
link and time (a link's page, a period's report).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow

KEY_LENGTH = 8  # base62: 2 × 10^14 keys, not guessable by walking them
DESTINATION_MAX = 2000  # what every browser and the platforms' link checks accept
LABEL_MAX = 120


class TrackedLink(Base):
    """A short link of the workspace that redirects to ``destination`` and logs its clicks."""

    __tablename__ = "convert_links"
    __table_args__ = (Index("ix_convert_links_workspace", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(16), unique=True)
    # As the author gave it, and with the UTM parameters the redirect sends visitors to.
    original_url: Mapped[str] = mapped_column(String(DESTINATION_MAX))
    destination: Mapped[str] = mapped_column(String(DESTINATION_MAX + 400))
    label: Mapped[str] = mapped_column(String(LABEL_MAX), default="")
    utm_source: Mapped[str] = mapped_column(String(100), default="")
    utm_medium: Mapped[str] = mapped_column(String(100), default="")
    utm_campaign: Mapped[str] = mapped_column(String(100), default="")
    utm_content: Mapped[str] = mapped_column(String(100), default="")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None, index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), default=None, index=True
    )
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("publish_targets.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class LinkClick(Base):
    """One visit of a tracked link, as the redirect saw it."""

    __tablename__ = "convert_clicks"
    __table_args__ = (
        Index("ix_convert_clicks_link_time", "link_id", "clicked_at"),
        Index("ix_convert_clicks_workspace_time", "workspace_id", "clicked_at"),
        # One counted click per visitor, link and hour, decided by the database.
        Index(
            "uq_convert_clicks_counted",
            "link_id",
            "visitor",
            "hour",
            unique=True,
            sqlite_where=text("counted"),
            postgresql_where=text("counted"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    click_id: Mapped[str] = mapped_column(String(32), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("convert_links.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hour: Mapped[int] = mapped_column(Integer)  # hours since the epoch, for the counting rule
    # A keyed hash of the full address and user agent (the address itself is not kept).
    visitor: Mapped[str] = mapped_column(String(32))
    network: Mapped[str] = mapped_column(String(50), default="")  # "1.2.3.0/24", IPv6 /48
    platform: Mapped[str] = mapped_column(String(30), default="")  # catalog slug, "" = web
    device: Mapped[str] = mapped_column(String(10), default="")  # phone, tablet, desktop
    referrer_host: Mapped[str] = mapped_column(String(200), default="")
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)


class LinkCreate(BaseModel):
    """A tracked link to make (the API's body)."""

    url: str = Field(max_length=DESTINATION_MAX, description="The destination, http(s).")
    label: str = Field("", max_length=LABEL_MAX)
    campaign_id: int | None = None
    post_id: int | None = None
    utm_source: str = Field("", max_length=100)
    utm_medium: str = Field("", max_length=100)
    utm_campaign: str = Field("", max_length=100)
    utm_content: str = Field("", max_length=100)


class LinkRead(BaseModel):
    """A tracked link with its click counts."""

    id: int
    key: str
    short_url: str
    url: str
    destination: str
    label: str
    campaign_id: int | None
    post_id: int | None
    created_at: datetime
    clicks: int = Field(description="Counted clicks: people, at most one per hour and link.")
    all_clicks: int = Field(description="Every visit logged, bots and repeats included.")
    bot_clicks: int
