"""The conversion tables: tracked links and their clicks, and the shops' orders.

A ``TrackedLink`` is a short link on the brand's own domain (``/l/<key>``) that redirects to
a destination with UTM parameters, tied to what it was made for (a campaign, a post, one of
the post's variants). Each visit is a ``LinkClick``: when, from which platform's app,
which kind of device, the client's network truncated before it is stored, whether a bot
made it, and the first-party click id handed to the destination (the identifier an order
can carry back). At most one click per visitor, link and hour is *counted*; the others are
kept, uncounted, so the raw log stays whole.

Sizes the indexes are chosen for: 100,000 links and 10 million clicks a workspace, read by
link and time (a link's page, a period's report).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.accounts.models import User
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
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variants.id", ondelete="SET NULL"), default=None
    )
    # The KOL who shares it: their leaderboard counts its clicks, attribution credits them.
    kol_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_kols.id", ondelete="SET NULL"), default=None, index=True
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
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)  # made up by the demo


class LinkCreate(BaseModel):
    """A tracked link to make (the API's body)."""

    url: str = Field(max_length=DESTINATION_MAX, description="The destination, http(s).")
    label: str = Field("", max_length=LABEL_MAX)
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)
    post_id: int | None = Field(None, ge=1, le=2**31 - 1)
    kol_id: int | None = Field(None, ge=1, le=2**31 - 1, description="The KOL who shares it.")
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
    kol_id: int | None
    created_at: datetime
    clicks: int = Field(description="Counted clicks: people, at most one per hour and link.")
    all_clicks: int = Field(description="Every visit logged, bots and repeats included.")
    bot_clicks: int


class OrderStatus(StrEnum):
    """Where an order stands, as every shop's states map onto it."""

    PENDING = "pending"  # placed, not paid: no revenue
    PAID = "paid"  # paid (shipped, delivered and completed too)
    CANCELLED = "cancelled"  # closed before payment, or fully refunded: no revenue


ORDER_SOURCES = ("tmall", "douyin_shop", "wechat_pay", "jd", "csv", "api")


class Order(Base):
    """One order of the brand's shops, with the identifiers it carries back to a touch.

    Amounts are in fen (1/100 yuan) of ``currency``; refunds are ``OrderRefund`` rows and
    reduce the revenue. An order is known by its source and its id there, so importing a
    file again updates the same rows and adds none.
    """

    __tablename__ = "convert_orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_id"),
        Index("ix_convert_orders_workspace_time", "workspace_id", "ordered_at"),
        # Whether a WeChat user ordered: their scans and follows are kept past retention.
        Index("ix_convert_orders_workspace_openid", "workspace_id", "openid"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))  # one of ORDER_SOURCES
    external_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(String(10))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    shop: Mapped[str] = mapped_column(String(120), default="")
    items: Mapped[str] = mapped_column(String(400), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    province: Mapped[str] = mapped_column(String(20), default="")
    # The identifiers an order can carry back to what brought it.
    click_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    promo_code: Mapped[str] = mapped_column(String(40), default="")
    openid: Mapped[str] = mapped_column(String(64), default="")
    scene: Mapped[str] = mapped_column(String(64), default="")
    attach: Mapped[str] = mapped_column(String(128), default="")  # WeChat Pay's 商户数据包
    author_id: Mapped[str] = mapped_column(String(64), default="")  # Douyin creator
    author_name: Mapped[str] = mapped_column(String(120), default="")
    video_id: Mapped[str] = mapped_column(String(64), default="")
    room_id: Mapped[str] = mapped_column(String(64), default="")  # Douyin live room
    traffic_source: Mapped[str] = mapped_column(String(40), default="")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)  # made up by the demo
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderRefund(Base):
    """Money given back on an order, known by its refund id (re-imports add nothing)."""

    __tablename__ = "convert_refunds"
    __table_args__ = (UniqueConstraint("workspace_id", "source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(80))
    order_external_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Kol(Base):
    """A KOL (key opinion leader) the brand works with: whom promo codes and fees belong to."""

    __tablename__ = "convert_kols"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(40), default="")  # catalog slug
    handle: Mapped[str] = mapped_column(String(120), default="")  # their id on the platform
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


PROMO_CODE_MAX = 40


class PromoCode(Base):
    """A promo code or 口令 given to a KOL for a campaign; an order that carries it is theirs."""

    __tablename__ = "convert_promo_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(PROMO_CODE_MAX))  # upper case
    kol_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_kols.id", ondelete="SET NULL"), default=None
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


REGIONS_MAX = 400  # the treated regions, comma-separated
REGION_MAX = 20  # one region's name, as orders carry it (``Order.province``)


class CampaignRegions(Base):
    """Where and when a campaign ran, for its incremental revenue: the regions (provinces or
    cities, as the orders name them) it ran in; every other region with orders is a
    control."""

    __tablename__ = "convert_campaign_regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    regions: Mapped[str] = mapped_column(String(REGIONS_MAX))  # "上海,浙江"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def region_list(self) -> list[str]:
        """The treated regions."""
        return [region for region in self.regions.split(",") if region]


class ConversionCreate(BaseModel):
    """An order from the brand's own shop or mini program, with whichever identifier it has."""

    order_id: str = Field(min_length=1, max_length=64, description="Unique in your shop.")
    ordered_at: datetime = Field(description="ISO 8601 with its offset.")
    amount: float = Field(ge=0, le=1e11, description="Paid, in yuan (or `currency`).")
    currency: str = Field("CNY", min_length=3, max_length=3)
    status: OrderStatus = OrderStatus.PAID
    refunded: float = Field(0, ge=0, le=1e11, description="Refunded so far, same unit.")
    click_id: str = Field("", max_length=32, description="The gx_click your page received.")
    promo_code: str = Field("", max_length=PROMO_CODE_MAX)
    openid: str = Field("", max_length=64, description="The buyer's OpenID (WeChat).")
    scene: str = Field("", max_length=64, description="The mini program's scene key.")
    attach: str = Field("", max_length=128)
    province: str = Field("", max_length=20)
    items: str = Field("", max_length=400)
    quantity: int = Field(0, ge=0, le=1_000_000)


class ConversionRead(BaseModel):
    """An order as stored: ``created`` is false when the order id was known (updated)."""

    id: int
    order_id: str
    amount_fen: int
    refunded_fen: int
    created: bool


class CostTarget(StrEnum):
    """What a cost was spent on: its ROAS and cost per order are that thing's."""

    CAMPAIGN = "campaign"
    KOL = "kol"
    POST = "post"
    PLATFORM = "platform"


class CostKind(StrEnum):
    """What kind of money a cost is."""

    CAMPAIGN_BUDGET = "campaign_budget"
    KOL_FEE = "kol_fee"
    AD_SPEND = "ad_spend"
    OTHER = "other"


NOTE_MAX = 400
COST_MAX_YUAN = 10_000_000_000  # ¥10 billion: more is a typing slip
COST_MAX_DAYS = 366  # a cost spread over more than a year is two entries


class CostEntry(Base):
    """Money spent on a campaign, a KOL, a post or a platform over one day or a range of days.

    Known by its natural key (what it is for, its kind and its days): entering or importing
    the same cost again updates the amount and note and adds nothing.
    """

    __tablename__ = "convert_costs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "natural_key"),
        Index("ix_convert_costs_workspace_days", "workspace_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    target: Mapped[CostTarget] = mapped_column(String(10))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), default=None, index=True
    )
    kol_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_kols.id", ondelete="CASCADE"), default=None, index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), default=None, index=True
    )
    platform: Mapped[str] = mapped_column(String(40), default="")  # catalog slug
    kind: Mapped[CostKind] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    # "campaign:12|ad_spend|2026-11-01|2026-11-11": what makes two entries the same cost.
    natural_key: Mapped[str] = mapped_column(String(120))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)  # made up by the demo
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConvertSettings(Base):
    """A workspace's attribution defaults: the pages, the API and the report use them unless
    a request names others."""

    __tablename__ = "convert_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    window_days: Mapped[int] = mapped_column(Integer, default=30)  # 7, 15 or 30
    half_life_days: Mapped[int] = mapped_column(Integer, default=7)  # time decay, 1 to 30


class CostCreate(BaseModel):
    """A cost to record (the API's body); the same cost posted again updates it."""

    target: CostTarget = Field(description="What it was spent on.")
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)
    kol_id: int | None = Field(None, ge=1, le=2**31 - 1)
    post_id: int | None = Field(None, ge=1, le=2**31 - 1)
    platform: str = Field("", max_length=40, description="A catalog slug, for a platform.")
    kind: CostKind
    amount: float = Field(ge=0, le=COST_MAX_YUAN, description="In yuan (CNY).")
    currency: str = Field("CNY", min_length=3, max_length=3)
    starts_on: date
    ends_on: date | None = Field(None, description="The last day; empty for one day.")
    note: str = Field("", max_length=NOTE_MAX)


class CostRead(BaseModel):
    """A recorded cost; ``created`` is false when the same cost was known (updated)."""

    id: int
    target: CostTarget
    campaign_id: int | None
    kol_id: int | None
    post_id: int | None
    platform: str
    kind: CostKind
    amount: float
    currency: str
    starts_on: date
    ends_on: date
    note: str
    natural_key: str
    created: bool = True


class KolCreate(BaseModel):
    """A KOL to add, with an optional fee (recorded as a KOL-fee cost for ``fee_on``)."""

    name: str = Field(min_length=1, max_length=120)
    platform: str = Field("", max_length=40, description="A catalog slug.")
    handle: str = Field("", max_length=120, description="Their id on the platform.")
    fee: float | None = Field(None, ge=0, le=COST_MAX_YUAN, description="In yuan (CNY).")
    fee_on: date | None = Field(None, description="The fee's day; today when empty.")


class KolRead(BaseModel):
    """A KOL of the workspace."""

    id: int
    name: str
    platform: str
    handle: str
    created_at: datetime


class PromoCodeCreate(BaseModel):
    """A promo code or 口令 for a KOL and a campaign."""

    code: str = Field(min_length=1, max_length=PROMO_CODE_MAX)
    kol_id: int | None = Field(None, ge=1, le=2**31 - 1)
    campaign_id: int | None = Field(None, ge=1, le=2**31 - 1)


class PromoCodeRead(BaseModel):
    """A promo code with the paid orders that carried it (all time, before refunds)."""

    id: int
    code: str
    kol_id: int | None
    campaign_id: int | None
    uses: int
    revenue: float
    created_at: datetime


class ImportStatus(StrEnum):
    """Where an upload of orders or of a platform's report stands."""

    MAPPING = "mapping"  # uploaded; waiting for the column mapping to be confirmed
    DONE = "done"
    FAILED = "failed"  # the file could not be read at all (the error says why)


class OrderImport(Base):
    """One uploaded file of orders or of a platform's report, and what importing it did."""

    __tablename__ = "convert_order_imports"
    __table_args__ = (Index("ix_convert_order_imports_workspace", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))  # csv or xlsx
    order_format: Mapped[str] = mapped_column(String(20))  # a key of the readers' formats
    storage_path: Mapped[str] = mapped_column(String(400))  # under the data dir
    status: Mapped[ImportStatus] = mapped_column(String(10), default=ImportStatus.MAPPING)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    stored: Mapped[int] = mapped_column(Integer, default=0)  # rows new to guanxi
    updated: Mapped[int] = mapped_column(Integer, default=0)  # known rows that changed
    unchanged: Mapped[int] = mapped_column(Integer, default=0)  # known rows, as they were
    refunds: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"line", "column", "problem", "fix", "value"}]; problem and fix are English msgids.
    row_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(String(1000), default="")  # an English msgid
    error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[User | None] = relationship(lazy="joined")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ReportSource(StrEnum):
    """The platforms whose conversion reports are uploaded as files."""

    XIAOHONGSHU = "xiaohongshu"  # 小红星: Tmall/JD sales from Xiaohongshu notes
    JD_ADS = "jd_ads"  # 京准通: JD's advertising reports


class PlatformConversion(Base):
    """A day of one note's or ad plan's results as the platform reports them: aggregates,
    never tied to an order, so kept apart from the attributed figures."""

    __tablename__ = "convert_platform_reports"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "day", "subject_key"),
        Index("ix_convert_platform_reports_day", "workspace_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[ReportSource] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    # The note (its id, else its title) or the ad plan (its id, else its name).
    subject_key: Mapped[str] = mapped_column(String(200))
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    visits: Mapped[int] = mapped_column(BigInteger, default=0)  # 进店: visits to the shop
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # an ad report's cost
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("convert_order_imports.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
