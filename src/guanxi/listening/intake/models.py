"""Where posts come from and how each import went: sources, import runs, row errors.

A ``ListeningSource`` is a crawler's exports or a keyword search through a connected
account; each file imported into it (or each pull) is an ``ImportRun`` with its counts, and
a row that could not be imported is an ``ImportRowError`` saying where, what and what to do.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_


class SourceFormat(StrEnum):
    """How a source's posts arrive."""

    WEIBO_CRAWLER = "weibo-crawler"  # github.com/dataabc/weibo-crawler CSV (+ users.csv)
    MEDIACRAWLER = "mediacrawler"  # github.com/NanmiCoder/MediaCrawler JSONL / CSV
    CSV = "csv"  # any CSV, with a column mapping
    JSONL = "jsonl"  # any JSON Lines, with a column mapping
    XLSX = "xlsx"  # any Excel sheet, with a column mapping
    PULL = "pull"  # a keyword search through a connected account


SOURCE_FORMAT_LABELS: dict[SourceFormat, str] = {
    SourceFormat.WEIBO_CRAWLER: N_("weibo-crawler CSV"),
    SourceFormat.MEDIACRAWLER: N_("MediaCrawler JSONL or CSV"),
    SourceFormat.CSV: N_("CSV with a column mapping"),
    SourceFormat.JSONL: N_("JSON Lines with a column mapping"),
    SourceFormat.XLSX: N_("Excel (XLSX) with a column mapping"),
    SourceFormat.PULL: N_("Search through a connected account"),
}


class ImportStatus(StrEnum):
    """Where an import run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the file could not be read at all; nothing partial is hidden


IMPORT_STATUS_LABELS: dict[ImportStatus, str] = {
    ImportStatus.QUEUED: N_("Queued"),
    ImportStatus.RUNNING: N_("Running"),
    ImportStatus.DONE: N_("Done"),
    ImportStatus.FAILED: N_("Failed"),
}


class ListeningSource(TimestampMixin, Base):
    """A named place posts come from: a crawler's exports, or a search through a channel.

    The column mapping of a generic file is remembered here, so the next file from the
    same source imports without asking again.
    """

    __tablename__ = "listening_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(20))  # SourceFormat
    platform: Mapped[str] = mapped_column(String(40), default="weibo")  # catalog slug
    # Generic formats: {field name of Mention: column name in the file}.
    column_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Pulls: the connected account to search through, the keywords and the feed's cursor.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), default=None
    )
    query: Mapped[str] = mapped_column(String(400), default="")
    cursor: Mapped[str] = mapped_column(String(200), default="")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")


class ImportRun(Base):
    """One file imported into a source (or one pull), with its counts and row errors."""

    __tablename__ = "listening_import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("listening_sources.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    storage_path: Mapped[str] = mapped_column(String(400), default="")  # relative to data dir
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.QUEUED)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)  # already there (dedupe)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # why the whole file failed
    # The last line whose batch is committed: an interrupted import resumes after it.
    line_committed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Written with every committed batch; a running import silent for longer than the
    # lease was interrupted (the sweeper resumes it).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    row_errors: Mapped[list[ImportRowError]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ImportRowError.line"
    )


class ImportRowError(Base):
    """A row that could not be imported: where, what is wrong, what to do (the rest is kept)."""

    __tablename__ = "listening_import_row_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("listening_import_runs.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(Integer)  # 1-based line (row) number in the file
    column: Mapped[str] = mapped_column(String(120), default="")
    problem: Mapped[str] = mapped_column(Text)  # English msgid, translated when shown
    fix: Mapped[str] = mapped_column(Text, default="")  # English msgid
    value: Mapped[str] = mapped_column(String(200), default="")  # the offending value, cut

    run: Mapped[ImportRun] = relationship(back_populates="row_errors")
