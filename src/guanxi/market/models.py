"""The market tables: app-store chart snapshots, the apps a brand tracks, its campaigns.

A ``ChartDataset`` is where a set of snapshots came from (Apple's RSS feeds, a Google Play
fetcher, a CSV export, the demo). Public data fetched on the schedule belongs to no
workspace (``workspace_id`` is NULL) and every workspace reads it; data a workspace imports
itself (a licensed export, an illustrative series) stays private to that workspace.

A ``ChartSnapshot`` is one chart (store × country × chart × category) on one day; its
``ChartEntry`` rows are the ranks. A failed fetch leaves a snapshot row with the error and
no entries, so the schedule knows to retry it and nothing else is touched.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_


class Store(StrEnum):
    """The app stores whose charts guanxi reads."""

    APPLE = "apple"
    GOOGLE_PLAY = "google-play"


STORE_LABELS: dict[Store, str] = {
    Store.APPLE: N_("App Store"),
    Store.GOOGLE_PLAY: N_("Google Play"),
}


class Chart(StrEnum):
    """The three charts every store publishes."""

    TOP_FREE = "top-free"
    TOP_PAID = "top-paid"
    TOP_GROSSING = "top-grossing"


CHART_LABELS: dict[Chart, str] = {
    Chart.TOP_FREE: N_("Top free"),
    Chart.TOP_PAID: N_("Top paid"),
    Chart.TOP_GROSSING: N_("Top grossing"),
}


class SnapshotStatus(StrEnum):
    """Whether a snapshot holds ranks, or only the error of its last attempt."""

    OK = "ok"
    FAILED = "failed"


class ChartDataset(Base):
    """Where a set of chart snapshots came from, and whether its numbers are real."""

    __tablename__ = "market_datasets"
    __table_args__ = (
        # A name names one dataset of a workspace, and one public dataset (in SQL two NULL
        # workspaces differ, hence a partial index for each).
        Index(
            "uq_market_datasets_name_public",
            "name",
            unique=True,
            sqlite_where=text("workspace_id IS NULL"),
            postgresql_where=text("workspace_id IS NULL"),
        ),
        Index(
            "uq_market_datasets_workspace_id_name",
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=text("workspace_id IS NOT NULL"),
            postgresql_where=text("workspace_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: public chart data fetched by the schedule, read by every workspace.
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))  # importers.SOURCES / fetchers' names
    # True when (some of) the ranks are made up to illustrate, not observed.
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    focus_day: Mapped[date | None] = mapped_column(Date, default=None)  # the day shown first
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChartSnapshot(Base):
    """One chart of one store in one country on one day."""

    __tablename__ = "market_snapshots"
    __table_args__ = (
        UniqueConstraint("dataset_id", "store", "country", "chart", "category", "day"),
        Index("ix_market_snapshots_chart_day", "dataset_id", "store", "chart", "category", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("market_datasets.id", ondelete="CASCADE"))
    store: Mapped[Store] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    chart: Mapped[Chart] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40), default="")  # "" = all categories
    day: Mapped[date] = mapped_column(Date)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[SnapshotStatus] = mapped_column(String(10), default=SnapshotStatus.OK)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    source_url: Mapped[str] = mapped_column(String(500), default="")

    entries: Mapped[list[ChartEntry]] = relationship(
        back_populates="snapshot", cascade="all, delete-orphan", order_by="ChartEntry.rank"
    )


class ChartEntry(Base):
    """An app at a rank in a snapshot."""

    __tablename__ = "market_entries"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "rank"),
        UniqueConstraint("snapshot_id", "app_key"),
        Index("ix_market_entries_app_rank", "app_key", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("market_snapshots.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)  # 1 = first
    app_key: Mapped[str] = mapped_column(String(200))  # store id: package name or numeric id
    app_name: Mapped[str] = mapped_column(String(200))
    publisher: Mapped[str] = mapped_column(String(200), default="")

    snapshot: Mapped[ChartSnapshot] = relationship(back_populates="entries")


class TrackedApp(Base):
    """An app a workspace watches (its own, or a competitor), with its alert threshold."""

    __tablename__ = "market_tracked_apps"
    __table_args__ = (UniqueConstraint("workspace_id", "app_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    app_key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(120))
    color: Mapped[str] = mapped_column(String(7), default="#1f77b4")
    # Alert when the app enters or leaves the top N of a country; 0 = no alerts.
    alert_top_n: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MarketCampaign(TimestampMixin, Base):
    """An event to annotate on the charts and to measure: a launch, an ambassador, a TV ad."""

    __tablename__ = "market_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    app_key: Mapped[str] = mapped_column(String(200))  # the app whose rank it should move
    brand: Mapped[str] = mapped_column(String(120), default="")  # who ran it
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Countries to compare with; empty = every country the campaign did not touch.
    control_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    color: Mapped[str] = mapped_column(String(7), default="#c0392b")
    description: Mapped[str] = mapped_column(Text, default="")
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_datasets.id", ondelete="SET NULL"), default=None
    )
    store: Mapped[Store] = mapped_column(String(20), default=Store.GOOGLE_PLAY)
    chart: Mapped[Chart] = mapped_column(String(20), default=Chart.TOP_FREE)


# --- The API's schemas --------------------------------------------------------------------------


class DatasetRead(BaseModel):
    """The dataset a chart answer comes from; ``illustrative`` data is not real."""

    id: int
    name: str
    illustrative: bool


class MatrixAppRead(BaseModel):
    """One app's row of the matrix: where it is in the top N, and how its ranks moved."""

    app_id: str
    name: str
    publisher: str
    countries_in_top: int
    number_ones: int
    ranks: dict[str, int]
    changes: dict[str, str]


class MatrixRead(BaseModel):
    """For each app, the countries and ranks where it is in the top N on a day."""

    dataset: DatasetRead
    store: str
    chart: str
    category: str
    day: str | None
    top: int
    countries_charted: list[str]
    apps: list[MatrixAppRead]


class CountrySeriesRead(BaseModel):
    """An app's rank per day in one country: ``[day, rank]``, rank null when not charted."""

    country: str
    data: list[tuple[str, int | None]]


class CampaignMarkerRead(BaseModel):
    """A campaign of the workspace for the app, as a span on the chart."""

    id: int
    name: str
    color: str
    start: str
    end: str
    countries: list[str]
    app: str


class HistoryRead(BaseModel):
    """An app's daily rank per country, with the workspace's campaigns for it."""

    dataset: int
    illustrative: bool
    app: str
    series: list[CountrySeriesRead]
    markers: list[CampaignMarkerRead]
    depth: int
