"""Copying measure's facts from the SQL tables to ClickHouse, a month at a time.

``guanxi analytics migrate --to clickhouse`` walks each ``MeasureCopy`` of ``COPIES`` month
by month: ``sql_rows`` reads a batch of the month's rows after a cursor, ``write_rows``
stores it in ClickHouse under a token, so a batch sent again (a resumed copy) is stored
once. Copied rows carry version 1, below every version a live write gives, so a fact
written while the copy runs keeps its newer state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.measure.models import AccountDay, AccountDayBreakdown, MeasuredPost, PostSnapshot
from guanxi.measure.store.base import FIGURES
from guanxi.measure.store.clickhouse import (
    BREAKDOWN_COLUMNS,
    BREAKDOWNS,
    DAY_COLUMNS,
    DAYS,
    SNAPSHOT_COLUMNS,
    SNAPSHOTS,
    to_clickhouse,
)

COPY_VERSION = 1
DAYS_PER_CHANNEL = 31  # a channel has at most this many days in a month

Kind = Literal["snapshots", "account_days", "breakdowns"]


@dataclass(frozen=True)
class CopyRow:
    """One SQL row as ClickHouse takes it (``values``, without version and is_deleted), and
    the cursor to resume after it (``id``: the snapshot's id, or the account's channel id:
    an account's days of a month are copied in one batch)."""

    id: int
    values: tuple[Any, ...]


def month_bounds(month: date) -> tuple[date, date]:
    """The first day of ``month``'s month and of the one after."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


@dataclass(frozen=True)
class MeasureCopy:
    """One of measure's fact tables, copied from SQL to ClickHouse."""

    kind: Kind

    @property
    def table(self) -> str:
        """The ClickHouse table."""
        return {"snapshots": SNAPSHOTS, "account_days": DAYS, "breakdowns": BREAKDOWNS}[self.kind]

    @property
    def columns(self) -> tuple[str, ...]:
        """The ClickHouse columns, in ``CopyRow.values`` order then version, is_deleted."""
        return {
            "snapshots": SNAPSHOT_COLUMNS,
            "account_days": DAY_COLUMNS,
            "breakdowns": BREAKDOWN_COLUMNS,
        }[self.kind]

    def sql_rows(self, db: Session, month: date, after_id: int, limit: int) -> list[CopyRow]:
        """The SQL rows of ``month`` (snapshots by the UTC month they were taken, days by
        their month) after the cursor ``after_id``, in cursor order: ``limit`` snapshots,
        or the days (or breakdowns) of the next ``limit // 31`` accounts (at least one)."""
        first, following = month_bounds(month)
        if self.kind == "snapshots":
            return self._snapshots(db, first, following, after_id, limit)
        table: Any = AccountDay if self.kind == "account_days" else AccountDayBreakdown
        channels = list(
            db.scalars(
                select(table.channel_id)
                .where(table.day >= first, table.day < following, table.channel_id > after_id)
                .group_by(table.channel_id)
                .order_by(table.channel_id)
                .limit(max(1, limit // DAYS_PER_CHANNEL))
            )
        )
        if not channels:
            return []
        query = (
            select(table, Channel.workspace_id)
            .join(Channel, Channel.id == table.channel_id)
            .where(table.day >= first, table.day < following, table.channel_id.in_(channels))
            .order_by(table.channel_id, table.day)
        )
        rows = []
        for row, workspace_id in db.execute(query):
            if self.kind == "account_days":
                values: tuple[Any, ...] = (
                    workspace_id,
                    row.channel_id,
                    row.day,
                    to_clickhouse(row.collected_at),
                    int(row.illustrative),
                    *(getattr(row, name) for name in FIGURES),
                )
            else:
                values = (workspace_id, row.channel_id, row.day, row.breakdown, row.key, row.value)
            rows.append(CopyRow(row.channel_id, values))
        return rows

    def _snapshots(
        self, db: Session, first: date, following: date, after_id: int, limit: int
    ) -> list[CopyRow]:
        begins = datetime.combine(first, datetime.min.time(), UTC)
        ends = datetime.combine(following, datetime.min.time(), UTC)
        query = (
            select(PostSnapshot, MeasuredPost.workspace_id)
            .join(MeasuredPost, MeasuredPost.id == PostSnapshot.post_id)
            .where(
                PostSnapshot.observed_at >= begins,
                PostSnapshot.observed_at < ends,
                PostSnapshot.id > after_id,
            )
            .order_by(PostSnapshot.id)
            .limit(limit)
        )
        return [
            CopyRow(
                snapshot.id,
                (
                    workspace_id,
                    snapshot.post_id,
                    to_clickhouse(snapshot.observed_at),
                    to_clickhouse(snapshot.as_of),
                    *(getattr(snapshot, name) for name in FIGURES),
                ),
            )
            for snapshot, workspace_id in db.execute(query)
        ]

    def write_rows(self, client: AnalyticsClient, rows: Sequence[CopyRow], token: str) -> None:
        """Store a batch in ClickHouse under ``token`` (the same batch and token again: stored
        once); the rows of a key already there are merged by their versions."""
        client.insert(
            self.table,
            self.columns,
            [(*row.values, COPY_VERSION, 0) for row in rows],
            token=f"{self.table}:copy:{token}",
        )


COPIES = (MeasureCopy("snapshots"), MeasureCopy("account_days"), MeasureCopy("breakdowns"))
