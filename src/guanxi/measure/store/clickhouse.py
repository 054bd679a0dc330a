"""The measure store on ClickHouse (``GUANXI_ANALYTICS_URL``), in plain SQL.

Tables (``clickhouse_migrations/0001_measure.sql``): snapshots, account days and breakdowns
are ReplacingMergeTree tables of versioned rows, partitioned by month. A write first reads
the stored state of its keys, as the SQL upserts do: a snapshot already taken is not
written again (unless replaced), a day keeps the figures the new one does not report; the
new state is a row with a higher version. Deletes are rows with ``is_deleted``. Row reads
use FINAL. Every insert carries a deduplication token, so a retried block is stored once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    Index,
    MetaData,
    Select,
    Table,
    delete,
    insert,
)
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.core.db import utcnow
from guanxi.measure.store.base import (
    FIGURES,
    BreakdownFact,
    DayFact,
    DaySpan,
    FollowerFlows,
    SnapshotFact,
)
from guanxi.measure.store.sql import followers_walk

SNAPSHOTS = "measure_post_snapshots"
DAYS = "measure_account_days"
BREAKDOWNS = "measure_account_day_breakdowns"
SNAPSHOT_COLUMNS = (
    "workspace_id",
    "post_id",
    "observed_at",
    "as_of",
    *FIGURES,
    "version",
    "is_deleted",
)
DAY_COLUMNS = (
    "workspace_id",
    "channel_id",
    "day",
    "collected_at",
    "illustrative",
    *FIGURES,
    "version",
    "is_deleted",
)
BREAKDOWN_COLUMNS = (
    "workspace_id",
    "channel_id",
    "day",
    "breakdown",
    "key",
    "value",
    "version",
    "is_deleted",
)
ID_CHUNK = 10_000  # ids per query parameter
INSTANT = "DateTime64(6, 'UTC')"
COPY_ROWS = 5_000  # follower counts per insert into the SQL session's temporary table
# The follower counts a ranking query reads, copied from ClickHouse for its transaction.
FOLLOWERS_COPY = Table(
    "measure_followers_copy",
    MetaData(),
    Column("channel_id", BigInteger, nullable=False),
    Column("day", Date, nullable=False),
    Column("followers", BigInteger),
    Index("ix_measure_followers_copy", "channel_id", "day"),
    prefixes=["TEMPORARY"],
)

_version_lock = threading.Lock()
_last_version = 0


def next_version() -> int:
    """A version above every one this process gave before (nanoseconds since 1970)."""
    global _last_version  # noqa: PLW0603 - one counter per process
    with _version_lock:
        _last_version = max(time.time_ns(), _last_version + 1)
        return _last_version


def naive_utc(value: datetime) -> datetime:
    """A moment as ClickHouse takes it: naive, in UTC (a naive one is taken as UTC)."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: datetime) -> datetime:
    """A moment ClickHouse returned, aware in UTC as the SQL database gives it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_clickhouse(value: datetime | None) -> datetime | None:
    """``naive_utc``, None kept."""
    return None if value is None else naive_utc(value)


def from_clickhouse(value: datetime | None) -> datetime | None:
    """``aware_utc``, None kept."""
    return None if value is None else aware_utc(value)


def token(table: str, rows: Sequence[Sequence[Any]]) -> str:
    """A block's deduplication token: its table and content (versions included)."""
    return table + ":" + hashlib.sha256(repr(rows).encode()).hexdigest()


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), ID_CHUNK):
        yield unique[start : start + ID_CHUNK]


def _figures(values: Sequence[Any]) -> dict[str, int | None]:
    return {name: None if v is None else int(v) for name, v in zip(FIGURES, values, strict=True)}


class ClickHouseMeasureStore:
    """``MeasureStore`` on one ClickHouse database."""

    def __init__(self, client: AnalyticsClient, db: Session | None = None) -> None:
        self.client = client
        self.db = db  # the SQL session, for ``followers_on_day`` only

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.client.insert(table, columns, rows, token=token(table, rows))

    # --- Writing ---------------------------------------------------------------------

    def write_snapshots(self, snapshots: Sequence[SnapshotFact], *, replace: bool) -> set[int]:
        """See ``MeasureStore.write_snapshots``."""
        latest: dict[tuple[int, datetime], SnapshotFact] = {}
        for snapshot in snapshots:
            key = (snapshot.post_id, naive_utc(snapshot.observed_at))
            # Within a batch, as in one SQL statement: the first wins, or the last replaces.
            if replace or key not in latest:
                latest[key] = snapshot
        taken = self._taken(list(latest.values()))
        version = next_version()
        rows = [
            (
                s.workspace_id,
                s.post_id,
                key[1],
                # A moment taken again keeps what it stood for, as the SQL update does.
                taken[key] if key in taken else to_clickhouse(s.as_of),
                *(s.figures.get(name) for name in FIGURES),
                version,
                0,
            )
            for key, s in latest.items()
            if replace or key not in taken
        ]
        self._insert(SNAPSHOTS, SNAPSHOT_COLUMNS, rows)
        return {key[0] for key in latest if key not in taken}

    def _taken(
        self, snapshots: Sequence[SnapshotFact]
    ) -> dict[tuple[int, datetime], datetime | None]:
        """The (post, moment) keys of these snapshots already stored, with their ``as_of``."""
        taken: dict[tuple[int, datetime], datetime | None] = {}
        by_workspace: dict[int, list[SnapshotFact]] = {}
        for snapshot in snapshots:
            by_workspace.setdefault(snapshot.workspace_id, []).append(snapshot)
        for workspace_id, group in by_workspace.items():
            moments = sorted({naive_utc(s.observed_at) for s in group})
            days = sorted({moment.date() for moment in moments})
            for ids in _chunks([s.post_id for s in group]):
                rows = self.client.rows(
                    f"SELECT post_id, observed_at, as_of FROM {SNAPSHOTS} FINAL "
                    "WHERE workspace_id = {ws:UInt64} "
                    "AND toDate(observed_at) IN {days:Array(Date)} "
                    "AND post_id IN {ids:Array(UInt64)} "
                    f"AND observed_at IN {{moments:Array({INSTANT})}}",
                    {"ws": workspace_id, "days": days, "ids": ids, "moments": moments},
                )
                for post_id, moment, as_of in rows:
                    key = (int(post_id), naive_utc(aware_utc(moment)))
                    taken[key] = None if as_of is None else naive_utc(aware_utc(as_of))
        return taken

    def write_days(self, days: Sequence[DayFact]) -> None:
        """See ``MeasureStore.write_days``."""
        latest: dict[tuple[int, int, date], DayFact] = {}
        for fact in days:
            key = (fact.workspace_id, fact.channel_id, fact.day)
            before = latest.get(key)
            latest[key] = fact if before is None else _merged(before, fact)
        if not latest:
            return
        stored = self._stored_days(latest)
        version = next_version()
        rows = []
        for key, fact in latest.items():
            old = stored.get(key)
            merged = fact if old is None else _merged(old, fact)
            rows.append(
                (
                    fact.workspace_id,
                    fact.channel_id,
                    fact.day,
                    to_clickhouse(fact.collected_at or utcnow()),
                    int(old.illustrative if old is not None else fact.illustrative),
                    *(merged.figures.get(name) for name in FIGURES),
                    version,
                    0,
                )
            )
        self._insert(DAYS, DAY_COLUMNS, rows)

    def _stored_days(
        self, keys: Iterable[tuple[int, int, date]]
    ) -> dict[tuple[int, int, date], DayFact]:
        wanted: dict[int, set[tuple[int, date]]] = {}
        for workspace_id, channel_id, day in keys:
            wanted.setdefault(workspace_id, set()).add((channel_id, day))
        found: dict[tuple[int, int, date], DayFact] = {}
        for workspace_id, pairs in wanted.items():
            channels = sorted({channel for channel, _ in pairs})
            days = [day for _, day in pairs]
            for fact in self._days(
                "workspace_id = {ws:UInt64} AND channel_id IN {ids:Array(UInt64)} "
                "AND day BETWEEN {first:Date32} AND {last:Date32}",
                {"ws": workspace_id, "ids": channels, "first": min(days), "last": max(days)},
            ):
                if (fact.channel_id, fact.day) in pairs:
                    found[(workspace_id, fact.channel_id, fact.day)] = fact
        return found

    def write_breakdowns(self, rows: Sequence[BreakdownFact]) -> None:
        """See ``MeasureStore.write_breakdowns``."""
        version = next_version()
        latest = {(r.workspace_id, r.channel_id, r.day, r.breakdown, r.key): r for r in rows}
        self._insert(
            BREAKDOWNS,
            BREAKDOWN_COLUMNS,
            [
                (r.workspace_id, r.channel_id, r.day, r.breakdown, r.key, r.value, version, 0)
                for r in latest.values()
            ],
        )

    # --- Snapshots -------------------------------------------------------------------

    def snapshots(
        self, workspace_id: int, post_ids: Sequence[int]
    ) -> dict[int, list[SnapshotFact]]:
        """See ``MeasureStore.snapshots``."""
        found: dict[int, list[SnapshotFact]] = {}
        for ids in _chunks(post_ids):
            rows = self.client.rows(
                f"SELECT workspace_id, post_id, observed_at, as_of, {', '.join(FIGURES)} "
                f"FROM {SNAPSHOTS} FINAL WHERE workspace_id = {{ws:UInt64}} "
                "AND post_id IN {ids:Array(UInt64)} ORDER BY post_id, observed_at",
                {"ws": workspace_id, "ids": ids},
            )
            for row in rows:
                found.setdefault(int(row[1]), []).append(
                    SnapshotFact(
                        workspace_id=int(row[0]),
                        post_id=int(row[1]),
                        observed_at=aware_utc(row[2]),
                        as_of=from_clickhouse(row[3]),
                        figures=_figures(row[4:]),
                    )
                )
        return found

    def count_snapshots_before(self, *, workspace_id: int, before: datetime) -> int:
        """See ``MeasureStore.count_snapshots_before``."""
        rows = self.client.rows(
            f"SELECT count() FROM {SNAPSHOTS} FINAL WHERE workspace_id = {{ws:UInt64}} "
            f"AND observed_at < {{before:{INSTANT}}}",
            {"ws": workspace_id, "before": to_clickhouse(before)},
        )
        return int(rows[0][0])

    def delete_before(self, *, workspace_id: int, before: datetime, limit: int) -> int:
        """See ``MeasureStore.delete_before``: a deleting row for each snapshot that goes."""
        rows = self.client.rows(
            f"SELECT {', '.join(SNAPSHOT_COLUMNS[:-2])} FROM {SNAPSHOTS} FINAL "
            f"WHERE workspace_id = {{ws:UInt64}} AND observed_at < {{before:{INSTANT}}} "
            "ORDER BY toDate(observed_at), post_id, observed_at LIMIT {limit:UInt64}",
            {"ws": workspace_id, "before": to_clickhouse(before), "limit": limit},
        )
        version = next_version()
        self._insert(SNAPSHOTS, SNAPSHOT_COLUMNS, [(*row, version, 1) for row in rows])
        return len(rows)

    # --- Account days ----------------------------------------------------------------

    def _days(self, where: str, parameters: dict[str, Any]) -> list[DayFact]:
        rows = self.client.rows(
            "SELECT workspace_id, channel_id, day, collected_at, illustrative, "
            f"{', '.join(FIGURES)} FROM {DAYS} FINAL WHERE {where} ORDER BY channel_id, day",
            parameters,
        )
        return [
            DayFact(
                workspace_id=int(row[0]),
                channel_id=int(row[1]),
                day=row[2],
                collected_at=from_clickhouse(row[3]),
                illustrative=bool(row[4]),
                figures=_figures(row[5:]),
            )
            for row in rows
        ]

    def days(self, channel_ids: Sequence[int], first: date, last: date) -> list[DayFact]:
        """See ``MeasureStore.days``."""
        found: list[DayFact] = []
        for ids in _chunks(channel_ids):
            found.extend(
                self._days(
                    "channel_id IN {ids:Array(UInt64)} AND day BETWEEN {first:Date32} AND "
                    "{last:Date32}",
                    {"ids": ids, "first": first, "last": last},
                )
            )
        found.sort(key=lambda fact: (fact.channel_id, fact.day))
        return found

    def followers(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, list[tuple[date, int]]]:
        """See ``MeasureStore.followers``."""
        found: dict[int, list[tuple[date, int]]] = {}
        for ids in _chunks(channel_ids):
            rows = self.client.rows(
                f"SELECT channel_id, day, followers FROM {DAYS} FINAL "
                "WHERE channel_id IN {ids:Array(UInt64)} AND day BETWEEN {first:Date32} AND "
                "{last:Date32} AND followers IS NOT NULL ORDER BY channel_id, day",
                {"ids": ids, "first": first, "last": last},
            )
            for channel_id, day, count in rows:
                found.setdefault(int(channel_id), []).append((day, int(count)))
        return found

    def last_followers(
        self, channel_ids: Sequence[int], *, upto: date | None = None, before: date | None = None
    ) -> dict[int, int]:
        """See ``MeasureStore.last_followers``."""
        where = "channel_id IN {ids:Array(UInt64)} AND followers IS NOT NULL"
        bounds: dict[str, Any] = {}
        if upto is not None:
            where += " AND day <= {upto:Date32}"
            bounds["upto"] = upto
        if before is not None:
            where += " AND day < {before:Date32}"
            bounds["before"] = before
        found: dict[int, int] = {}
        for ids in _chunks(channel_ids):
            rows = self.client.rows(
                f"SELECT channel_id, argMax(followers, day) FROM {DAYS} FINAL WHERE {where} "
                "GROUP BY channel_id",
                {"ids": ids, **bounds},
            )
            found.update((int(channel_id), int(count)) for channel_id, count in rows)
        return found

    def flows(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, FollowerFlows]:
        """See ``MeasureStore.flows``."""
        found: dict[int, FollowerFlows] = {}
        for ids in _chunks(channel_ids):
            rows = self.client.rows(
                "SELECT channel_id, count(), sum(new_followers), sum(lost_followers), "
                "count(new_followers), count(lost_followers) "
                f"FROM {DAYS} FINAL WHERE channel_id IN {{ids:Array(UInt64)}} "
                "AND day BETWEEN {first:Date32} AND {last:Date32} GROUP BY channel_id",
                {"ids": ids, "first": first, "last": last},
            )
            for channel_id, days, new, lost, new_days, lost_days in rows:
                found[int(channel_id)] = FollowerFlows(
                    int(days),
                    None if new is None or not new_days else int(new),
                    None if lost is None or not lost_days else int(lost),
                    int(new_days),
                    int(lost_days),
                )
        return found

    def spans(self, channel_ids: Sequence[int]) -> dict[int, DaySpan]:
        """See ``MeasureStore.spans``."""
        found: dict[int, DaySpan] = {}
        for ids in _chunks(channel_ids):
            rows = self.client.rows(
                f"SELECT channel_id, min(day), max(day) FROM {DAYS} FINAL "
                "WHERE channel_id IN {ids:Array(UInt64)} GROUP BY channel_id",
                {"ids": ids},
            )
            found.update(
                (int(channel_id), DaySpan(first, last)) for channel_id, first, last in rows
            )
        return found

    def has_days(
        self,
        channel_ids: Sequence[int],
        *,
        first: date | None = None,
        last: date | None = None,
        illustrative: bool | None = None,
    ) -> bool:
        """See ``MeasureStore.has_days``."""
        where = "channel_id IN {ids:Array(UInt64)}"
        bounds: dict[str, Any] = {}
        if first is not None:
            where += " AND day >= {first:Date32}"
            bounds["first"] = first
        if last is not None:
            where += " AND day <= {last:Date32}"
            bounds["last"] = last
        if illustrative is not None:
            where += " AND illustrative = {illustrative:UInt8}"
            bounds["illustrative"] = int(illustrative)
        for ids in _chunks(channel_ids):
            rows = self.client.rows(
                f"SELECT 1 FROM {DAYS} FINAL WHERE {where} LIMIT 1",
                {"ids": ids, **bounds},
            )
            if rows:
                return True
        return False

    def breakdown_sums(
        self, channel_id: int, first: date, last: date
    ) -> list[tuple[str, str, int]]:
        """See ``MeasureStore.breakdown_sums``."""
        rows = self.client.rows(
            f"SELECT breakdown, key, sum(value) FROM {BREAKDOWNS} FINAL "
            "WHERE channel_id = {channel:UInt64} AND day BETWEEN {first:Date32} AND "
            "{last:Date32} GROUP BY breakdown, key",
            {"channel": channel_id, "first": first, "last": last},
        )
        return [(str(name), str(key), int(value)) for name, key, value in rows]

    def followers_on_day(
        self,
        channel: Any,
        day: ColumnElement[Any],
        *,
        first: date,
        last: date,
        channels: Select[Any],
    ) -> ColumnElement[Any]:
        """See ``MeasureStore.followers_on_day``: the counts the query can ask for are
        copied into a temporary table of the SQL session, walked as the SQL store walks
        its own."""
        if self.db is None:
            msg = "followers_on_day needs the store made with the SQL session"
            raise RuntimeError(msg)
        connection = self.db.connection()
        FOLLOWERS_COPY.create(connection, checkfirst=True)
        connection.execute(delete(FOLLOWERS_COPY))
        ids = [int(channel_id) for channel_id in self.db.scalars(channels) if channel_id]
        rows = [
            {"channel_id": channel_id, "day": on, "followers": count}
            for channel_id, counts in self.followers(ids, first, last).items()
            for on, count in counts
        ]
        for start in range(0, len(rows), COPY_ROWS):
            connection.execute(insert(FOLLOWERS_COPY), rows[start : start + COPY_ROWS])
        return followers_walk(FOLLOWERS_COPY, channel, day, first)


def _merged(old: DayFact, new: DayFact) -> DayFact:
    """``new`` over ``old``: a figure ``new`` does not report keeps ``old``'s."""
    figures = {
        name: new.figures.get(name) if new.figures.get(name) is not None else old.figures.get(name)
        for name in FIGURES
    }
    return DayFact(
        workspace_id=new.workspace_id,
        channel_id=new.channel_id,
        day=new.day,
        figures=figures,
        collected_at=new.collected_at,
        illustrative=old.illustrative,
    )
