"""Imports of the creator centres' exports: the column mappings remembered, and each run.

A platform without an analytics API (Xiaohongshu, Bilibili, WeChat Channels...) gives its
figures as a file from its creator centre: one row per post (a post export) or one row per
day (an account export). Which column holds which figure is asked once and remembered (a
``guanxi.mappings`` column mapping per workspace, platform, kind of export and set of
headers), so the next file of the same shape imports with no questions. A
``MetricsImport`` is one uploaded file for one account: its counts and the rows that could
not be read (kept on the run, the first ``MAX_ROW_ERRORS``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_

MAX_ROW_ERRORS = 500  # rows reported per run; the count of bad rows is always exact


class ExportKind(StrEnum):
    """What one row of an export describes."""

    POSTS = "posts"  # one row per post: its lifetime figures when the file was exported
    ACCOUNT = "account"  # one row per day: the account's followers, views...


EXPORT_KIND_LABELS: dict[ExportKind, str] = {
    ExportKind.POSTS: N_("Post export (one row per post)"),
    ExportKind.ACCOUNT: N_("Account export (one row per day)"),
}


class ImportStatus(StrEnum):
    """Where an import run stands."""

    MAPPING = "mapping"  # uploaded; waiting for the column mapping to be confirmed
    DONE = "done"
    FAILED = "failed"  # the file could not be read at all (the error says why)


IMPORT_STATUS_LABELS: dict[ImportStatus, str] = {
    ImportStatus.MAPPING: N_("Waiting for the column mapping"),
    ImportStatus.DONE: N_("Imported"),
    ImportStatus.FAILED: N_("Failed"),
}


class MetricsImport(Base):
    """One uploaded export for one account, and what importing it did."""

    __tablename__ = "metrics_imports"
    __table_args__ = (
        Index("ix_metrics_imports_workspace_created", "workspace_id", "created_at"),
        # The same file imported again for the same account reuses the first run's moment.
        Index("ix_metrics_imports_channel_digest", "channel_id", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[ExportKind] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))  # csv or xlsx
    storage_path: Mapped[str] = mapped_column(String(400))  # under the data dir
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the file's bytes
    # When a post export's figures were true: the snapshot's moment (idempotent per file).
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ImportStatus] = mapped_column(String(10), default=ImportStatus.MAPPING)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"line", "column", "problem", "fix", "value"}]; problem and fix are English msgids.
    row_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(String(1000), default="")  # translated when shown
    error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
