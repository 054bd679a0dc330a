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

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
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


class ClickRows(_Rows):
    """``convert_clicks`` → ClickHouse's ``convert_clicks`` (its hourly counts follow)."""

    model = LinkClick
    moment = "clicked_at"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Store the clicks not stored yet, with their counted flag as the SQL rows have it."""
        if not rows:
            return
        stored = _stored_ids(
            client,
            clickhouse.CLICKS,
            "clicked_at",
            [
                (
                    row["workspace_id"],
                    as_utc(row["clicked_at"]),
                    clickhouse.click_row_id(row["click_id"]),
                )
                for row in rows
            ],
        )
        fresh = [
            clickhouse.click_row(
                ClickFact(
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
                ),
                counted=bool(row["counted"]),
                version=COPY_VERSION,
            )
            for row in rows
            if clickhouse.click_row_id(row["click_id"]) not in stored
        ]
        if fresh:
            client.insert(clickhouse.CLICKS, clickhouse.CLICK_COLUMNS, fresh, token=token)


class CodeEventRows(_Rows):
    """``convert_code_events`` → ClickHouse's ``convert_code_events``."""

    model = CodeEvent
    moment = "occurred_at"

    @staticmethod
    def write_rows(client: AnalyticsClient, rows: Sequence[dict[str, Any]], token: str) -> None:
        """Store the events not stored yet."""
        if not rows:
            return
        stored = _stored_ids(
            client,
            clickhouse.EVENTS,
            "occurred_at",
            [
                (
                    row["workspace_id"],
                    as_utc(row["occurred_at"]),
                    clickhouse.event_row_id(row["channel_id"], row["event_id"]),
                )
                for row in rows
            ],
        )
        fresh = [
            clickhouse.event_row(
                CodeEventFact(
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
                ),
                version=COPY_VERSION,
            )
            for row in rows
            if clickhouse.event_row_id(row["channel_id"], row["event_id"]) not in stored
        ]
        if fresh:
            client.insert(clickhouse.EVENTS, clickhouse.EVENT_COLUMNS, fresh, token=token)


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
