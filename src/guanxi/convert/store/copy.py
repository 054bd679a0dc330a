"""Copying convert's SQL facts to ClickHouse, a month at a time (``guanxi analytics migrate``).

One small class per table: ``sql_rows(db, month, after_id, limit)`` reads the SQL rows of a
month (``month``: any day in it) in id order after ``after_id``, at most ``limit`` of them,
each a dict of its columns (``"id"`` is the SQL id to resume after); ``write_rows(client,
rows, token)`` writes them to ClickHouse so that writing them again changes nothing: the
same rows sent under the same token are stored once, and facts (clicks, code events)
already stored there are skipped whatever the token. A token made of the table, the month
and the first id of the batch is what a resumable copy wants. The hourly counts of facts a
retention deleted (``ClickHour``, ``CodeEventHour``) are added to ClickHouse's hourly
tables; they are deduplicated by token only.

Rows are copied as they are (a click's counted flag is not decided again), so every count
is the same on either side once a month is copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.analytics.copy import Checksum, month_range, sql_months, yyyymm
from guanxi.convert.models import LinkClick
from guanxi.convert.rollup_models import ClickHour, CodeEventHour
from guanxi.convert.scene_models import CodeEvent
from guanxi.convert.store import clickhouse
from guanxi.convert.store.base import ClickFact, CodeEventFact, as_utc
from guanxi.core.db import Base

# Copied rows share one version: a row copied twice is the same row.
COPY_VERSION = 1


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (UTC) and of the next."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return start, following


class _Rows:
    """Reading one SQL table's rows of a month in id order."""

    model: ClassVar[type[Base]]
    moment: ClassVar[str]  # the column the month is of

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Store a batch of the table's rows in ClickHouse (each table its own way)."""
        raise NotImplementedError

    @classmethod
    def sql_rows(cls, db: Session, month: date, after_id: int, limit: int) -> list[dict[str, Any]]:
        """The month's rows with an id above ``after_id``, at most ``limit``, by id."""
        start, end = month_bounds(month)
        table = cls.model.__table__
        at = table.c[cls.moment]
        rows = db.execute(
            select(table)
            .where(at >= start, at < end, table.c.id > after_id)
            .order_by(table.c.id)
            .limit(limit)
        ).mappings()
        return [dict(row) for row in rows]


def _insert_new(
    client: AnalyticsClient,
    table: str,
    columns: Sequence[str],
    at: str,
    rows: Sequence[dict[str, Any]],
    row_id: Callable[[dict[str, Any]], int],
    to_row: Callable[[dict[str, Any]], tuple[Any, ...]],
    token: str,
) -> None:
    """Insert, as ``to_row`` makes them, the SQL ``rows`` whose facts ``table`` does not
    hold yet (found by ``row_id`` on their day of ``at``)."""
    if not rows:
        return
    stored = _stored_ids(
        client, table, at, [(row["workspace_id"], as_utc(row[at]), row_id(row)) for row in rows]
    )
    fresh = [to_row(row) for row in rows if row_id(row) not in stored]
    if fresh:
        client.insert(table, columns, fresh, token=token)


def _click_id(row: dict[str, Any]) -> int:
    return clickhouse.click_row_id(row["click_id"])


def _click_row(row: dict[str, Any]) -> tuple[Any, ...]:
    fact = ClickFact(
        click_id=row["click_id"],
        link_id=row["link_id"],
        workspace_id=row["workspace_id"],
        clicked_at=row["clicked_at"],
        hour=row["hour"],
        visitor=row["visitor"],
        network=row["network"],
        platform=row["platform"],
        device=row["device"],
        referrer_host=row["referrer_host"],
        bot=row["bot"],
        illustrative=row["illustrative"],
    )
    return clickhouse.click_row(fact, counted=bool(row["counted"]), version=COPY_VERSION)


def _event_id(row: dict[str, Any]) -> int:
    return clickhouse.event_row_id(row["channel_id"], row["event_id"])


def _event_row(row: dict[str, Any]) -> tuple[Any, ...]:
    fact = CodeEventFact(
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        event_id=row["event_id"],
        openid=row["openid"],
        kind=str(row["kind"]),
        occurred_at=row["occurred_at"],
        code_id=row["code_id"],
        scene=row["scene"],
        origin_checked=bool(row["origin_checked"]),
        illustrative=bool(row["illustrative"]),
    )
    return clickhouse.event_row(fact, version=COPY_VERSION)


class ClickRows(_Rows):
    """``convert_clicks`` → ClickHouse's ``convert_clicks`` (its hourly counts follow)."""

    model = LinkClick
    moment = "clicked_at"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Store the clicks not stored yet, with their counted flag as the SQL rows have it."""
        _insert_new(
            client,
            clickhouse.CLICKS,
            clickhouse.CLICK_COLUMNS,
            "clicked_at",
            rows,
            _click_id,
            _click_row,
            token,
        )


class CodeEventRows(_Rows):
    """``convert_code_events`` → ClickHouse's ``convert_code_events``."""

    model = CodeEvent
    moment = "occurred_at"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Store the events not stored yet."""
        _insert_new(
            client,
            clickhouse.EVENTS,
            clickhouse.EVENT_COLUMNS,
            "occurred_at",
            rows,
            _event_id,
            _event_row,
            token,
        )


class ClickHourRows(_Rows):
    """``convert_click_hours`` (deleted clicks' counts) → ClickHouse's hourly counts."""

    model = ClickHour
    moment = "hour_start"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Add the counts (once per token)."""
        client.insert(
            clickhouse.CLICK_HOURS,
            ("workspace_id", "link_id", "hour_start", "platform", "visits", "counted", "bots"),
            [
                (
                    row["workspace_id"],
                    row["link_id"],
                    clickhouse.utc_naive(row["hour_start"]),
                    row["platform"],
                    row["visits"],
                    row["counted"],
                    row["bots"],
                )
                for row in rows
            ],
            token=token,
        )


class CodeEventHourRows(_Rows):
    """``convert_code_event_hours`` (deleted events' counts) → ClickHouse's hourly counts."""

    model = CodeEventHour
    moment = "hour_start"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Add the counts (once per token)."""
        client.insert(
            clickhouse.EVENT_HOURS,
            ("workspace_id", "code_id", "hour_start", "kind", "events"),
            [
                (
                    row["workspace_id"],
                    row["code_id"],
                    clickhouse.utc_naive(row["hour_start"]),
                    str(row["kind"]),
                    row["events"],
                )
                for row in rows
            ],
            token=token,
        )


TABLES = {
    "convert_clicks": ClickRows,
    "convert_code_events": CodeEventRows,
    "convert_click_hours": ClickHourRows,
    "convert_code_event_hours": CodeEventHourRows,
}


def _stored_ids(
    client: AnalyticsClient, table: str, at: str, keys: Sequence[tuple[int, datetime, int]]
) -> set[int]:
    """Which of the (workspace, time, row id) facts ``table`` holds already."""
    found: set[int] = set()
    by_workspace: dict[int, list[tuple[datetime, int]]] = {}
    for workspace_id, moment, row_id in keys:
        by_workspace.setdefault(workspace_id, []).append((moment, row_id))
    for workspace_id, facts in by_workspace.items():
        found.update(
            int(row[0])
            for row in client.rows(
                f"SELECT id FROM {table} FINAL WHERE workspace_id = {{ws:UInt64}} "  # noqa: S608 - constant names
                f"AND toDate({at}) IN {{days:Array(Date)}} AND id IN {{ids:Array(UInt64)}}",
                {
                    "ws": workspace_id,
                    "days": sorted({moment.date() for moment, _ in facts}),
                    "ids": [row_id for _, row_id in facts],
                },
            )
        )
    return found


def _whole(column: Any) -> Any:
    """A flag or a number as an integer to sum (PostgreSQL does not sum booleans)."""
    return func.coalesce(cast(column, Integer), 0)


def _sql_sums(db: Session, model: Any, moment: str, month: str, *values: Any) -> list[int]:
    """The sums of ``values`` over ``model``'s rows of ``month`` (by its ``moment`` column)."""
    column = model.__table__.c[moment]
    begin, end = month_range(month)
    found = db.execute(
        select(*(func.sum(value) for value in values)).where(column >= begin, column < end)
    ).one()
    return [int(value or 0) for value in found]


def _store_sums(client: AnalyticsClient, sql: str, month: str) -> list[int]:
    """The first row of ``sql`` (which filters on ``{month:UInt32}``) as integers."""
    return [int(value or 0) for value in client.rows(sql, {"month": yyyymm(month)})[0]]


class _ConvertMigration:
    """``AnalyticsCopy`` (``guanxi analytics migrate``) of one of convert's tables: its rows
    walked by ``YYYY-MM`` months (``_Rows``), with a checksum of each month on both sides."""

    rows: ClassVar[type[_Rows]]
    name: ClassVar[str]

    def _within(self, month: str) -> tuple[Any, Any]:
        column = self.rows.model.__table__.c[self.rows.moment]
        begin, end = month_range(month)
        return column >= begin, column < end

    def months(self, db: Session) -> list[str]:
        """The months holding rows, oldest first."""
        return sql_months(db, self.rows.model.__table__.c[self.rows.moment])

    def count(self, db: Session, month: str) -> int:
        """The month's rows in SQL."""
        return int(db.scalar(select(func.count()).where(*self._within(month))) or 0)

    def sql_rows(
        self, db: Session, month: str, after_id: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        """The month's next rows by id."""
        first = date.fromisoformat(f"{month}-01")
        return [(row["id"], row) for row in self.rows.sql_rows(db, first, after_id, limit)]

    def write_rows(
        self, client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str
    ) -> None:
        """Store a batch under ``token``."""
        self.rows.write_rows(client, rows, token)


class ClicksMigration(_ConvertMigration):
    """Clicks. Checksum: count, sums of link ids, counted and bot flags."""

    rows = ClickRows
    name = clickhouse.CLICKS

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum in SQL."""
        return tuple(
            _sql_sums(
                db,
                LinkClick,
                "clicked_at",
                month,
                literal(1),
                LinkClick.link_id,
                _whole(LinkClick.counted),
                _whole(LinkClick.bot),
            )
        )

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same over the month's live clicks in ClickHouse."""
        return tuple(
            _store_sums(
                client,
                f"SELECT count(), sum(link_id), sum(counted), sum(bot) FROM {clickhouse.CLICKS} "  # noqa: S608 - constant names
                "FINAL WHERE is_deleted = 0 AND toYYYYMM(clicked_at) = {month:UInt32}",
                month,
            )
        )


class CodeEventsMigration(_ConvertMigration):
    """Scene-code events. Checksum: count, sums of channel ids and code ids."""

    rows = CodeEventRows
    name = clickhouse.EVENTS

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum in SQL."""
        return tuple(
            _sql_sums(
                db,
                CodeEvent,
                "occurred_at",
                month,
                literal(1),
                CodeEvent.channel_id,
                _whole(CodeEvent.code_id),
            )
        )

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same over the month's live events in ClickHouse."""
        return tuple(
            _store_sums(
                client,
                f"SELECT count(), sum(channel_id), sum(code_id) FROM {clickhouse.EVENTS} "  # noqa: S608 - constant names
                "FINAL WHERE is_deleted = 0 AND toYYYYMM(occurred_at) = {month:UInt32}",
                month,
            )
        )


class ClickHoursMigration(_ConvertMigration):
    """The hourly counts of clicks a retention deleted. ClickHouse's hourly table counts the
    copied clicks too, so the checksum is the month's visits, counted clicks and bots: the
    SQL counts plus the SQL clicks, against ClickHouse's hourly sums (run after clicks)."""

    rows = ClickHourRows
    name = clickhouse.CLICK_HOURS

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's visits, counted clicks and bots in SQL (counts and clicks)."""
        hours = _sql_sums(
            db, ClickHour, "hour_start", month, ClickHour.visits, ClickHour.counted, ClickHour.bots
        )
        clicks = _sql_sums(
            db,
            LinkClick,
            "clicked_at",
            month,
            literal(1),
            _whole(LinkClick.counted),
            _whole(LinkClick.bot),
        )
        return tuple(held + more for held, more in zip(hours, clicks, strict=True))

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same from ClickHouse's hourly table."""
        return tuple(
            _store_sums(
                client,
                f"SELECT sum(visits), sum(counted), sum(bots) FROM {clickhouse.CLICK_HOURS} "  # noqa: S608 - constant names
                "WHERE toYYYYMM(hour_start) = {month:UInt32}",
                month,
            )
        )


class CodeEventHoursMigration(_ConvertMigration):
    """The hourly counts of scene-code events a retention deleted; checksum as for clicks:
    the month's events with a code (counts plus SQL events) against ClickHouse's sums."""

    rows = CodeEventHourRows
    name = clickhouse.EVENT_HOURS

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's events with a code in SQL (counts and events)."""
        (held,) = _sql_sums(db, CodeEventHour, "hour_start", month, CodeEventHour.events)
        (events,) = _sql_sums(
            db,
            CodeEvent,
            "occurred_at",
            month,
            case((CodeEvent.code_id.is_not(None), 1), else_=0),
        )
        return (held + events,)

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same from ClickHouse's hourly table."""
        return tuple(
            _store_sums(
                client,
                f"SELECT sum(events) FROM {clickhouse.EVENT_HOURS} "  # noqa: S608 - constant names
                "WHERE toYYYYMM(hour_start) = {month:UInt32}",
                month,
            )
        )
