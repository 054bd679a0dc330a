"""Convert's event facts on ClickHouse (``GUANXI_ANALYTICS_URL``), in plain SQL.

Tables (``clickhouse_migrations/0001_clicks_and_code_events.sql``): clicks and code events
are ReplacingMergeTree tables of versioned rows, partitioned by month and ordered by
(workspace, day, id), the id made from the click id (or the channel and event id) so a fact
written twice is one row; ``convert_click_hours`` and ``convert_code_event_hours`` are
SummingMergeTree tables kept on insert by materialized views, with every fact ever stored,
retention's deletions included (a DELETE feeds no view). A write first reads what is
stored: a click or event already there is not written again (a re-sent batch counts once),
and the counting rule (one counted click per visitor, link and hour) is decided against the
stored clicks of the batch's hours. Every insert carries a deduplication token.

A period's count is the hours starting in it, corrected by the raw rows of the hours it
cuts (a zone offset of half an hour): exactly what the SQL store counts, the deleted facts
counted in their hours.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.convert.models import Order
from guanxi.convert.store.base import (
    ClickFact,
    ClickTouch,
    CodeEventFact,
    Kept,
    LinkCounts,
    as_utc,
)

CLICKS = "convert_clicks"
CLICK_HOURS = "convert_click_hours"
EVENTS = "convert_code_events"
EVENT_HOURS = "convert_code_event_hours"
CLICK_COLUMNS = (
    "workspace_id",
    "id",
    "click_id",
    "link_id",
    "clicked_at",
    "hour",
    "visitor",
    "network",
    "platform",
    "device",
    "referrer_host",
    "bot",
    "counted",
    "illustrative",
    "version",
    "sign",
    "is_deleted",
)
EVENT_COLUMNS = (
    "workspace_id",
    "id",
    "channel_id",
    "code_id",
    "event_id",
    "openid",
    "scene",
    "kind",
    "occurred_at",
    "origin_checked",
    "illustrative",
    "version",
    "sign",
    "is_deleted",
)
STATE = -3  # the columns before version, sign and is_deleted: a fact's state
ID_CHUNK = 10_000  # ids per query parameter
PAGE = 10_000  # rows read at a time by retention
INSTANT = "DateTime64(6, 'UTC')"


def fact_id(key: str) -> int:
    """A fact's row id in ClickHouse, from what makes it unique (63 bits, so it also fits
    a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def click_row_id(click_id: str) -> int:
    """The row id of a click."""
    return fact_id(f"click:{click_id}")


def event_row_id(channel_id: int, event_id: str) -> int:
    """The row id of a code event."""
    return fact_id(f"event:{channel_id}:{event_id}")


def utc_naive(moment: datetime) -> datetime:
    """``moment`` in UTC without its zone, as ClickHouse parameters take it."""
    return as_utc(moment).replace(tzinfo=None)


def ceil_hour(moment: datetime) -> datetime:
    """The first UTC hour start at or after ``moment``."""
    floor = as_utc(moment).replace(minute=0, second=0, microsecond=0)
    return floor if floor == as_utc(moment) else floor + timedelta(hours=1)


def token(table: str, rows: Sequence[Sequence[Any]]) -> str:
    """The deduplication token of one block: the same rows, the same token."""
    return table + ":" + hashlib.sha256(repr(rows).encode()).hexdigest()


def click_row(click: ClickFact, *, counted: bool, version: int) -> tuple[Any, ...]:
    """A click as a row of ``convert_clicks`` (a live one)."""
    return (
        click.workspace_id,
        click_row_id(click.click_id),
        click.click_id,
        click.link_id,
        utc_naive(click.clicked_at),
        click.hour,
        click.visitor,
        click.network,
        click.platform,
        click.device,
        click.referrer_host,
        int(click.bot),
        int(counted),
        int(click.illustrative),
        version,
        1,
        0,
    )


def event_row(event: CodeEventFact, *, version: int) -> tuple[Any, ...]:
    """A code event as a row of ``convert_code_events`` (a live one)."""
    return (
        event.workspace_id,
        event_row_id(event.channel_id, event.event_id),
        event.channel_id,
        event.code_id or 0,
        event.event_id,
        event.openid,
        event.scene,
        event.kind,
        utc_naive(event.occurred_at),
        int(event.origin_checked),
        int(event.illustrative),
        version,
        1,
        0,
    )


def _event_fact(row: Sequence[Any]) -> CodeEventFact:
    named = dict(zip(EVENT_COLUMNS, row, strict=False))
    return CodeEventFact(
        workspace_id=int(named["workspace_id"]),
        channel_id=int(named["channel_id"]),
        event_id=str(named["event_id"]),
        openid=str(named["openid"]),
        kind=str(named["kind"]),
        occurred_at=as_utc(named["occurred_at"]),
        code_id=int(named["code_id"]) or None,
        scene=str(named["scene"]),
        origin_checked=bool(named["origin_checked"]),
        illustrative=bool(named["illustrative"]),
        id=int(named["id"]),
    )


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), ID_CHUNK):
        yield unique[start : start + ID_CHUNK]


class ClickHouseConvertStore:
    """``ConvertStore`` on one ClickHouse database."""

    def __init__(self, client: AnalyticsClient, db: Session | None = None) -> None:
        self.client = client
        self.db = db  # the SQL session, for ``order_clicks`` only

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.client.insert(table, columns, rows, token=token(table, rows))

    # --- Clicks ------------------------------------------------------------------------

    def write_clicks(self, clicks: Sequence[ClickFact]) -> None:
        """The clicks not stored yet, each counted unless a bot made it or the visitor's
        click on the link in that hour is counted already (stored, or earlier in the batch)."""
        by_workspace: dict[int, dict[str, ClickFact]] = defaultdict(dict)
        for click in clicks:
            by_workspace[click.workspace_id].setdefault(click.click_id, click)
        version = time.time_ns()
        for workspace_id, group in by_workspace.items():
            batch = list(group.values())
            for start in range(0, len(batch), ID_CHUNK):
                self._write_clicks(workspace_id, batch[start : start + ID_CHUNK], version)

    def _write_clicks(self, workspace_id: int, clicks: Sequence[ClickFact], version: int) -> None:
        days = sorted(
            {as_utc(c.clicked_at).date() for c in clicks}
            | {datetime.fromtimestamp(c.hour * 3600, UTC).date() for c in clicks}
        )
        stored = {
            str(row[0])
            for row in self.client.rows(
                f"SELECT click_id FROM {CLICKS} FINAL WHERE workspace_id = {{ws:UInt64}} "
                "AND toDate(clicked_at) IN {days:Array(Date)} AND id IN {ids:Array(UInt64)}",
                {
                    "ws": workspace_id,
                    "days": days,
                    "ids": [click_row_id(c.click_id) for c in clicks],
                },
            )
        }
        taken = {
            (int(link_id), str(visitor), int(hour))
            for link_id, visitor, hour in self.client.rows(
                f"SELECT link_id, visitor, hour FROM {CLICKS} FINAL "
                "WHERE workspace_id = {ws:UInt64} AND toDate(clicked_at) IN {days:Array(Date)} "
                "AND counted = 1 AND link_id IN {links:Array(UInt64)} "
                "AND hour IN {hours:Array(Int64)}",
                {
                    "ws": workspace_id,
                    "days": days,
                    "links": sorted({c.link_id for c in clicks}),
                    "hours": sorted({c.hour for c in clicks}),
                },
            )
        }
        rows: list[tuple[Any, ...]] = []
        for click in clicks:
            if click.click_id in stored:
                continue
            key = (click.link_id, click.visitor, click.hour)
            counted = not click.bot and key not in taken
            if counted:
                taken.add(key)
            rows.append(click_row(click, counted=counted, version=version))
        self._insert(CLICKS, CLICK_COLUMNS, rows)

    def link_counts(self, *, link_ids: Sequence[int]) -> dict[int, LinkCounts]:
        """The hourly counts, all time."""
        found: dict[int, LinkCounts] = {}
        for chunk in _chunks(link_ids):
            for link_id, counted, visits, bots in self.client.rows(
                f"SELECT link_id, sum(counted), sum(visits), sum(bots) FROM {CLICK_HOURS} "
                "WHERE link_id IN {ids:Array(UInt64)} GROUP BY link_id HAVING sum(visits) != 0",
                {"ids": chunk},
            ):
                found[int(link_id)] = LinkCounts(int(counted), int(visits), int(bots))
        return found

    def counted_by_platform(self, *, link_id: int) -> dict[str, int]:
        """The hourly counts, all time."""
        return {
            str(platform): int(count)
            for platform, count in self.client.rows(
                f"SELECT platform, sum(counted) AS n FROM {CLICK_HOURS} "
                "WHERE link_id = {link:UInt64} GROUP BY platform HAVING n != 0",
                {"link": link_id},
            )
        }

    def has_illustrative_clicks(self, *, workspace_id: int) -> bool:
        """One live row is enough."""
        return bool(
            self.client.rows(
                f"SELECT 1 FROM {CLICKS} FINAL WHERE workspace_id = {{ws:UInt64}} "
                "AND illustrative = 1 LIMIT 1",
                {"ws": workspace_id},
            )
        )

    def counted_by_link(
        self, *, workspace_id: int, link_ids: Sequence[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        """The hours starting in range, corrected by the raw rows of the hours it cuts."""
        found: Counter[int] = Counter()
        for chunk in _chunks(link_ids):
            found.update(self._counted_hours(workspace_id, chunk, start, end))
            first, after = ceil_hour(start), ceil_hour(end)
            if first != as_utc(start):
                found.update(self._counted_raw(workspace_id, chunk, start, first))
            if after != as_utc(end):
                found.subtract(self._counted_raw(workspace_id, chunk, end, after))
        return {link_id: count for link_id, count in found.items() if count}

    def _counted_hours(
        self, workspace_id: int, link_ids: list[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        return {
            int(link_id): int(count)
            for link_id, count in self.client.rows(
                f"SELECT link_id, sum(counted) FROM {CLICK_HOURS} "
                "WHERE workspace_id = {ws:UInt64} AND link_id IN {ids:Array(UInt64)} "
                f"AND hour_start >= {{start:{INSTANT}}} AND hour_start < {{end:{INSTANT}}} "
                "GROUP BY link_id",
                {
                    "ws": workspace_id,
                    "ids": link_ids,
                    "start": utc_naive(start),
                    "end": utc_naive(end),
                },
            )
        }

    def _counted_raw(
        self, workspace_id: int, link_ids: list[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        return {
            int(link_id): int(count)
            for link_id, count in self.client.rows(
                f"SELECT link_id, count() FROM {CLICKS} FINAL "
                "WHERE workspace_id = {ws:UInt64} AND link_id IN {ids:Array(UInt64)} "
                "AND counted = 1 AND bot = 0 "
                f"AND clicked_at >= {{start:{INSTANT}}} AND clicked_at < {{end:{INSTANT}}} "
                "GROUP BY link_id",
                {
                    "ws": workspace_id,
                    "ids": link_ids,
                    "start": utc_naive(start),
                    "end": utc_naive(end),
                },
            )
        }

    def click_touches(
        self, *, workspace_id: int, click_ids: Sequence[str], with_bots: bool = False
    ) -> dict[str, ClickTouch]:
        """Live rows among ``click_ids`` (the click-id index narrows the read)."""
        found: dict[str, ClickTouch] = {}
        people = "" if with_bots else " AND bot = 0"
        for chunk in _chunks(click_ids):
            for click_id, link_id, clicked_at, platform in self.client.rows(
                f"SELECT click_id, link_id, clicked_at, platform FROM {CLICKS} FINAL "
                "WHERE workspace_id = {ws:UInt64} AND click_id IN {ids:Array(String)}" + people,
                {"ws": workspace_id, "ids": chunk},
            ):
                found[str(click_id)] = ClickTouch(int(link_id), as_utc(clicked_at), str(platform))
        return found

    def order_clicks(
        self,
        orders: Select[*tuple[Any, ...]],
        *,
        workspace_id: int,
        chunk: int,
        with_bots: bool = False,
    ) -> Iterator[list[tuple[tuple[Any, ...], ClickTouch | None]]]:
        """The orders streamed from the SQL session with the click ids they carry; each
        chunk's clicks read here by id (``click_touches``)."""
        if self.db is None:
            msg = "order_clicks needs the store made with the SQL session"
            raise RuntimeError(msg)
        width = len(orders.selected_columns)
        rows = self.db.execute(
            orders.add_columns(Order.click_id).execution_options(yield_per=chunk)
        )
        for part in rows.partitions():
            clicks = self.click_touches(
                workspace_id=workspace_id,
                click_ids=[row[width] for row in part if row[width]],
                with_bots=with_bots,
            )
            yield [(row[:width], clicks.get(row[width]) if row[width] else None) for row in part]

    def count_clicks_before(self, *, workspace_id: int, before: datetime, kept: Kept) -> int:
        """The old rows, less those among the kept ids."""
        return self._count_before(CLICKS, "clicked_at", "click_id", workspace_id, before, kept())

    def prune_clicks(self, *, workspace_id: int, before: datetime, limit: int, kept: Kept) -> int:
        """Delete old rows not kept (the hourly counts keep the clicks)."""
        return self._prune(CLICKS, "clicked_at", "click_id", workspace_id, before, limit, kept)

    # --- Scene-code events -------------------------------------------------------------

    def record_code_event(self, event: CodeEventFact) -> bool:
        """Insert unless a live row has its id (a retry carries the same time, so the read
        looks at one day)."""
        row_id = event_row_id(event.channel_id, event.event_id)
        seen = self.client.rows(
            f"SELECT 1 FROM {EVENTS} FINAL WHERE workspace_id = {{ws:UInt64}} "
            "AND toDate(occurred_at) = {day:Date} AND id = {id:UInt64} LIMIT 1",
            {"ws": event.workspace_id, "day": as_utc(event.occurred_at).date(), "id": row_id},
        )
        if seen:
            return False
        self._insert(EVENTS, EVENT_COLUMNS, [event_row(event, version=time.time_ns())])
        return True

    def pending_origins(self, *, limit: int) -> list[CodeEventFact]:
        """Oldest first (by time, then id)."""
        rows = self.client.rows(
            f"SELECT {', '.join(EVENT_COLUMNS[:STATE])} FROM {EVENTS} FINAL "
            "WHERE kind = 'follow' AND scene = '' AND origin_checked = 0 "
            "ORDER BY occurred_at, id LIMIT {limit:UInt64}",
            {"limit": limit},
        )
        return [_event_fact(row) for row in rows]

    def set_origin(self, event: CodeEventFact, *, scene: str, code_id: int | None) -> None:
        """A cancelling row of the stored state, then the new state (a higher version)."""
        stored = self.client.rows(
            f"SELECT {', '.join(EVENT_COLUMNS[:STATE])} FROM {EVENTS} FINAL "
            "WHERE workspace_id = {ws:UInt64} AND toDate(occurred_at) = {day:Date} "
            "AND id = {id:UInt64}",
            {"ws": event.workspace_id, "day": as_utc(event.occurred_at).date(), "id": event.id},
        )
        if not stored:
            return
        old = _event_fact(stored[0])
        new = CodeEventFact(
            **{
                **old.__dict__,
                "origin_checked": True,
                **({"scene": scene, "code_id": code_id} if scene else {}),
            }
        )
        version = time.time_ns()
        self._insert(
            EVENTS,
            EVENT_COLUMNS,
            [
                (*stored[0], version, -1, 1),
                event_row(new, version=version + 1),
            ],
        )

    def code_event_counts(
        self,
        *,
        workspace_id: int,
        code_ids: Sequence[int] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[tuple[int, str], int]:
        """The hours starting in range, corrected by the raw rows of the hours it cuts."""
        if code_ids is not None and not code_ids:
            return {}
        tallies: Counter[tuple[int, str]] = Counter()
        for chunk in _chunks(code_ids) if code_ids is not None else iter([None]):
            tallies.update(self._event_hours(workspace_id, chunk, start, end))
            if start is not None and ceil_hour(start) != as_utc(start):
                tallies.update(self._event_raw(workspace_id, chunk, start, ceil_hour(start)))
            if end is not None and ceil_hour(end) != as_utc(end):
                tallies.subtract(self._event_raw(workspace_id, chunk, end, ceil_hour(end)))
        return {key: count for key, count in tallies.items() if count}

    def _event_counts(
        self,
        table: str,
        column: str,
        total: str,
        workspace_id: int,
        code_ids: list[int] | None,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[tuple[int, str], int]:
        where = ["workspace_id = {ws:UInt64}", "code_id != 0"]
        params: dict[str, Any] = {"ws": workspace_id}
        if code_ids is not None:
            where.append("code_id IN {ids:Array(UInt64)}")
            params["ids"] = code_ids
        if start is not None:
            where.append(f"{column} >= {{start:{INSTANT}}}")
            params["start"] = utc_naive(start)
        if end is not None:
            where.append(f"{column} < {{end:{INSTANT}}}")
            params["end"] = utc_naive(end)
        final = " FINAL" if table == EVENTS else ""
        return {
            (int(code_id), str(kind)): int(count)
            for code_id, kind, count in self.client.rows(
                f"SELECT code_id, kind, {total} FROM {table}{final} WHERE {' AND '.join(where)} "
                "GROUP BY code_id, kind",
                params,
            )
        }

    def _event_hours(
        self,
        workspace_id: int,
        code_ids: list[int] | None,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[tuple[int, str], int]:
        return self._event_counts(
            EVENT_HOURS, "hour_start", "sum(events)", workspace_id, code_ids, start, end
        )

    def _event_raw(
        self, workspace_id: int, code_ids: list[int] | None, start: datetime, end: datetime
    ) -> dict[tuple[int, str], int]:
        return self._event_counts(
            EVENTS, "occurred_at", "count()", workspace_id, code_ids, start, end
        )

    def scans_of(
        self, *, workspace_id: int, openids: Collection[str], since: datetime, until: datetime
    ) -> dict[str, list[tuple[datetime, int]]]:
        """Live rows of the OpenIDs in the days of the window."""
        found: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for chunk in _chunks(sorted(openids)):
            for openid, at, code_id in self.client.rows(
                f"SELECT openid, occurred_at, code_id FROM {EVENTS} FINAL "
                "WHERE workspace_id = {ws:UInt64} AND openid IN {ids:Array(String)} "
                f"AND code_id != 0 AND occurred_at >= {{since:{INSTANT}}} "
                f"AND occurred_at <= {{until:{INSTANT}}} ORDER BY openid, occurred_at, id",
                {
                    "ws": workspace_id,
                    "ids": chunk,
                    "since": utc_naive(since),
                    "until": utc_naive(until),
                },
            ):
                found[str(openid)].append((as_utc(at), int(code_id)))
        return found

    def code_paths(
        self, *, workspace_id: int, since: datetime, until: datetime
    ) -> Iterator[tuple[str, datetime, int]]:
        """One ordered query over the window's days."""
        for openid, at, code_id in self.client.rows(
            f"SELECT openid, occurred_at, code_id FROM {EVENTS} FINAL "
            "WHERE workspace_id = {ws:UInt64} AND code_id != 0 "
            f"AND occurred_at >= {{since:{INSTANT}}} AND occurred_at < {{until:{INSTANT}}} "
            "ORDER BY openid, occurred_at, id",
            {"ws": workspace_id, "since": utc_naive(since), "until": utc_naive(until)},
        ):
            yield str(openid), as_utc(at), int(code_id)

    def count_code_events_before(self, *, workspace_id: int, before: datetime, kept: Kept) -> int:
        """The old rows, less those of the kept OpenIDs."""
        return self._count_before(EVENTS, "occurred_at", "openid", workspace_id, before, kept())

    def prune_code_events(
        self, *, workspace_id: int, before: datetime, limit: int, kept: Kept
    ) -> int:
        """Delete old rows not kept (the hourly counts keep the events)."""
        return self._prune(EVENTS, "occurred_at", "openid", workspace_id, before, limit, kept)

    # --- Retention ---------------------------------------------------------------------

    def _count_before(
        self,
        table: str,
        at: str,
        key: str,
        workspace_id: int,
        before: datetime,
        kept: Collection[str],
    ) -> int:
        old = f"workspace_id = {{ws:UInt64}} AND {at} < {{before:{INSTANT}}}"
        params: dict[str, Any] = {"ws": workspace_id, "before": utc_naive(before)}
        total = int(
            self.client.rows(f"SELECT count() FROM {table} FINAL WHERE {old}", params)[0][0]
        )
        for chunk in _chunks(sorted(kept)):
            total -= int(
                self.client.rows(
                    f"SELECT count() FROM {table} FINAL WHERE {old} "
                    f"AND {key} IN {{kept:Array(String)}}",
                    {**params, "kept": chunk},
                )[0][0]
            )
        return total

    def _prune(
        self,
        table: str,
        at: str,
        key: str,
        workspace_id: int,
        before: datetime,
        limit: int,
        kept: Kept,
    ) -> int:
        """Delete at most ``limit`` live rows before ``before`` whose ``key`` is not kept,
        oldest first, reading them a page at a time (kept ones are passed over)."""
        keep = set(kept())
        going: list[int] = []
        after: tuple[datetime, int] = (datetime(1970, 1, 1), 0)  # noqa: DTZ001 - a UTC parameter
        while len(going) < limit:
            page = self.client.rows(
                f"SELECT {at}, id, {key} FROM {table} FINAL WHERE workspace_id = {{ws:UInt64}} "
                f"AND {at} < {{before:{INSTANT}}} "
                f"AND ({at}, id) > ({{after_at:{INSTANT}}}, {{after_id:UInt64}}) "
                f"ORDER BY {at}, id LIMIT {{page:UInt64}}",
                {
                    "ws": workspace_id,
                    "before": utc_naive(before),
                    "after_at": after[0],
                    "after_id": after[1],
                    "page": PAGE,
                },
            )
            going.extend(int(row_id) for _at, row_id, value in page if value not in keep)
            if len(page) < PAGE:
                break
            after = (utc_naive(as_utc(page[-1][0])), int(page[-1][1]))
        going = going[:limit]
        # A DELETE feeds no materialized view: the hourly counts keep the facts. It removes
        # every version of a row (a code event's cancelled states too); the space is freed
        # at the next merge.
        for chunk in _chunks(going):
            self.client.command(
                f"DELETE FROM {table} WHERE workspace_id = {{ws:UInt64}} "
                "AND id IN {ids:Array(UInt64)}",
                {"ws": workspace_id, "ids": chunk},
            )
        return len(going)
