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
from typing import Any, ClassVar, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.analytics.copy import Checksum, month_range, sql_months, yyyymm
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


class _MeasureMigration:
    """``AnalyticsCopy`` (``guanxi analytics migrate``) of one of measure's fact tables: the
    walk of ``MeasureCopy`` by ``YYYY-MM`` months, with a checksum of each month on both
    sides (the count of rows, the sum of their post or account ids and of two figures)."""

    kind: ClassVar[Kind]

    def __init__(self) -> None:
        self.copy = MeasureCopy(self.kind)
        self.name = self.copy.table

    def _moment(self) -> tuple[Any, bool]:
        """The SQL column the month is of, and whether it is an instant (else a day)."""
        if self.kind == "snapshots":
            return PostSnapshot.observed_at, True
        model: Any = AccountDay if self.kind == "account_days" else AccountDayBreakdown
        return model.day, False

    def _within(self, month: str) -> tuple[Any, Any]:
        column, instant = self._moment()
        begin, end = month_range(month)
        if instant:
            return column >= begin, column < end
        return column >= begin.date(), column < end.date()

    def months(self, db: Session) -> list[str]:
        """The months holding rows, oldest first."""
        column, instant = self._moment()
        return sql_months(db, column, instant=instant)

    def count(self, db: Session, month: str) -> int:
        """The month's rows in SQL."""
        return int(db.scalar(select(func.count()).where(*self._within(month))) or 0)

    def sql_rows(
        self, db: Session, month: str, after_id: int, limit: int
    ) -> list[tuple[int, CopyRow]]:
        """The month's next rows after the cursor (a snapshot id, or an account's id)."""
        first = date.fromisoformat(f"{month}-01")
        return [(row.id, row) for row in self.copy.sql_rows(db, first, after_id, limit)]

    def write_rows(self, client: AnalyticsClient, rows: Sequence[CopyRow], token: str) -> None:
        """Store a batch under ``token`` (``MeasureCopy.write_rows``)."""
        self.copy.write_rows(client, rows, token)

    def _sums(self) -> tuple[tuple[Any, ...], str]:
        """The checksum's columns: SQL expressions, and the same in ClickHouse."""
        if self.kind == "snapshots":
            sql: tuple[Any, ...] = (
                PostSnapshot.post_id,
                func.coalesce(PostSnapshot.views, 0),
                func.coalesce(PostSnapshot.likes, 0),
            )
            return sql, "sum(post_id), sum(ifNull(views, 0)), sum(ifNull(likes, 0))"
        if self.kind == "account_days":
            sql = (
                AccountDay.channel_id,
                func.coalesce(AccountDay.followers, 0),
                func.coalesce(AccountDay.views, 0),
            )
            return sql, "sum(channel_id), sum(ifNull(followers, 0)), sum(ifNull(views, 0))"
        sql = (AccountDayBreakdown.channel_id, AccountDayBreakdown.value)
        return sql, "sum(channel_id), sum(value)"

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum in SQL."""
        columns, _sums = self._sums()
        found = db.execute(
            select(func.count(), *(func.sum(column) for column in columns)).where(
                *self._within(month)
            )
        ).one()
        return tuple(int(value or 0) for value in found)

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same checksum over the month's live rows in ClickHouse."""
        _columns, sums = self._sums()
        at = "observed_at" if self.kind == "snapshots" else "day"
        found = client.rows(
            f"SELECT count(), {sums} FROM {self.name} FINAL "  # noqa: S608 - constant names
            f"WHERE is_deleted = 0 AND toYYYYMM({at}) = {{month:UInt32}}",
            {"month": yyyymm(month)},
        )[0]
        return tuple(int(value or 0) for value in found)


class SnapshotsMigration(_MeasureMigration):
    """Posts' snapshots (``post_snapshots``)."""

    kind = "snapshots"


class AccountDaysMigration(_MeasureMigration):
    """Accounts' days (``account_days``)."""

    kind = "account_days"


class BreakdownsMigration(_MeasureMigration):
    """Accounts' days split by a platform's categories (``account_day_breakdowns``)."""

    kind = "breakdowns"
