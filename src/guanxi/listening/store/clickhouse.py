"""The mention store on ClickHouse (``GUANXI_ANALYTICS_URL``), in plain SQL.

Tables (``clickhouse_migrations/0001_mentions.sql``): the mentions and the topic matches
are ReplacingMergeTree tables of versioned rows, partitioned by month and ordered by
(workspace, day, id); ``listening_daily_rollup`` is a SummingMergeTree kept on insert by
two materialized views. A write first reads the stored state of its mentions: an
unchanged fact is not written again (a re-sent batch counts once), a changed one gets a
cancelling row (sign -1) before its new state, so the sums of sign stay exact whatever the
merges have done yet. Row reads use FINAL. Every insert carries a deduplication token, so
a retried block is stored once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.listening.mentions.models import Author
from guanxi.listening.store import base
from guanxi.listening.store.base import (
    SENTIMENTS,
    DashboardFilters,
    Dimension,
    MentionFact,
)
from guanxi.listening.store.sql import ranked_authors

MENTIONS = "listening_mentions"
MATCHES = "listening_topic_matches"
ROLLUP = "listening_daily_rollup"
MENTION_COLUMNS = (
    "workspace_id",
    "id",
    "posted_at",
    "platform",
    "sentiment",
    "source_kind",
    "stage",
    "author_id",
    "keywords",
    "tokens",
    "text",
    "version",
    "sign",
    "is_deleted",
)
MATCH_COLUMNS = (
    "workspace_id",
    "topic_id",
    "mention_id",
    "posted_at",
    "platform",
    "sentiment",
    "source_kind",
    "stage",
    "version",
    "sign",
    "is_deleted",
)
ID_CHUNK = 10_000  # ids per query parameter
AUTHOR_PAGE = 500  # authors probed at a time for the top authors
DIMENSIONS = frozenset({"platform", "source_kind", "stage"})
INSTANT = "DateTime64(6, 'UTC')"


def _utc(value: datetime) -> datetime:
    """``value`` in UTC, as ClickHouse returns it (naive, UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _token(table: str, rows: Sequence[Sequence[Any]]) -> str:
    return table + ":" + hashlib.sha256(repr(rows).encode()).hexdigest()


class ClickHouseMentionStore:
    """``MentionStore`` on one ClickHouse database; authors are read from ``db``."""

    wants_text = True

    def __init__(self, db: Session, client: AnalyticsClient) -> None:
        self.db = db
        self.client = client

    # --- Writing ---------------------------------------------------------------------

    def write(
        self,
        facts: Sequence[MentionFact],
        *,
        pending_days: set[date] | None = None,  # noqa: ARG002 - counted on insert
    ) -> None:
        """Store the facts that changed, each after a cancelling row of its old state."""
        by_workspace: dict[int, list[MentionFact]] = {}
        for fact in facts:
            by_workspace.setdefault(fact.workspace_id, []).append(fact)
        for workspace_id, group in by_workspace.items():
            for start in range(0, len(group), ID_CHUNK):
                self._write(workspace_id, group[start : start + ID_CHUNK])

    def _write(self, workspace_id: int, facts: Sequence[MentionFact]) -> None:
        ids = [fact.mention_id for fact in facts]
        # A mention's posted_at never changes (imports only add mentions), so its stored
        # state is on the same UTC day: the sort key's second column narrows the read.
        days = sorted({_utc(fact.posted_at).date() for fact in facts})
        old = {row[1]: row for row in self._live_mentions(workspace_id, ids, days=days)}
        old_matches: dict[int, dict[int, tuple[Any, ...]]] = {}
        for row in self._live_matches(workspace_id, mention_ids=ids, days=days):
            old_matches.setdefault(row[2], {})[row[1]] = row
        version = time.time_ns()
        mention_rows: list[tuple[Any, ...]] = []
        match_rows: list[tuple[Any, ...]] = []
        for fact in facts:
            new = mention_row(fact, version + 1)
            previous = old.get(fact.mention_id)
            changed = previous is None or previous[:11] != new[:11]
            if changed:
                if previous is not None:
                    mention_rows.append((*previous[:11], version, -1, 1))
                mention_rows.append(new)
            wanted = {
                topic_id: match_row(fact, topic_id, version + 1) for topic_id in fact.topic_ids
            }
            stored = old_matches.get(fact.mention_id, {})
            for topic_id, row in stored.items():
                if changed or topic_id not in wanted:
                    match_rows.append((*row[:8], version, -1, 1))
            match_rows.extend(
                row for topic_id, row in wanted.items() if changed or topic_id not in stored
            )
        self._insert(MENTIONS, MENTION_COLUMNS, mention_rows)
        self._insert(MATCHES, MATCH_COLUMNS, match_rows)

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.client.insert(table, columns, rows, token=_token(table, rows))

    def _live_mentions(
        self, workspace_id: int, ids: Sequence[int], *, days: Sequence[date] = ()
    ) -> list[tuple[Any, ...]]:
        if not ids:
            return []
        where = "workspace_id = {ws:UInt64} AND id IN {ids:Array(UInt64)}"
        if days:
            where += " AND toDate(posted_at) IN {days:Array(Date)}"
        return self.client.rows(
            f"SELECT {', '.join(MENTION_COLUMNS[:11])} FROM {MENTIONS} FINAL WHERE {where}",
            {"ws": workspace_id, "ids": list(ids), "days": list(days)},
        )

    def _live_matches(
        self,
        workspace_id: int,
        *,
        mention_ids: Sequence[int] = (),
        topic_id: int | None = None,
        days: Sequence[date] = (),
    ) -> list[tuple[Any, ...]]:
        where = "workspace_id = {ws:UInt64}"
        if topic_id is not None:
            where += " AND topic_id = {topic:UInt64}"
        if mention_ids:
            where += " AND mention_id IN {ids:Array(UInt64)}"
        if days:
            where += " AND toDate(posted_at) IN {days:Array(Date)}"
        return self.client.rows(
            f"SELECT {', '.join(MATCH_COLUMNS[:8])} FROM {MATCHES} FINAL WHERE {where}",
            {
                "ws": workspace_id,
                "topic": topic_id or 0,
                "ids": list(mention_ids),
                "days": list(days),
            },
        )

    def settle(self, *, workspace_id: int, days: set[date]) -> None:
        """Nothing to do: the materialized views count on insert."""

    def topic_rematched(
        self, *, workspace_id: int, topic_id: int, mention_ids: Sequence[int]
    ) -> None:
        """Cancel the topic's matches that went, add those that came."""
        stored = {row[2]: row for row in self._live_matches(workspace_id, topic_id=topic_id)}
        wanted = set(mention_ids)
        version = time.time_ns()
        gone = [(*row[:8], version, -1, 1) for key, row in stored.items() if key not in wanted]
        self._insert(MATCHES, MATCH_COLUMNS, gone)
        came = sorted(wanted - set(stored))
        for start in range(0, len(came), ID_CHUNK):
            rows = self._live_mentions(workspace_id, came[start : start + ID_CHUNK])
            self._insert(
                MATCHES,
                MATCH_COLUMNS,
                [(row[0], topic_id, row[1], *row[2:7], version + 1, 1, 0) for row in rows],
            )

    def forget_topic(self, *, workspace_id: int, topic_id: int) -> None:
        """Cancel every match of the topic."""
        self.topic_rematched(workspace_id=workspace_id, topic_id=topic_id, mention_ids=())

    def delete(self, *, workspace_id: int, mention_ids: Sequence[int]) -> None:
        """Cancel these mentions and their matches."""
        ids = list(mention_ids)
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            version = time.time_ns()
            mentions = self._live_mentions(workspace_id, chunk)
            matches = self._live_matches(workspace_id, mention_ids=chunk) if chunk else []
            self._insert(
                MENTIONS, MENTION_COLUMNS, [(*row[:11], version, -1, 1) for row in mentions]
            )
            self._insert(MATCHES, MATCH_COLUMNS, [(*row[:8], version, -1, 1) for row in matches])

    def delete_before(self, *, workspace_id: int, cutoff: datetime) -> None:
        """Delete the rows posted before ``cutoff`` (a DELETE feeds no materialized view:
        the daily counts keep them)."""
        for table in (MENTIONS, MATCHES):
            self.client.command(
                f"DELETE FROM {table} WHERE workspace_id = {{ws:UInt64}} "
                f"AND posted_at < {{cutoff:{INSTANT}}}",
                {"ws": workspace_id, "cutoff": _utc(cutoff)},
            )

    # --- Counting panels, on the rollup ----------------------------------------------

    def _rollup(
        self,
        select_sql: str,
        workspace_id: int,
        filters: DashboardFilters,
        *,
        topic_ids: Sequence[int] | None = None,
        group: str = "",
    ) -> list[tuple[Any, ...]]:
        where = ["workspace_id = {ws:UInt64}"]
        params: dict[str, Any] = {"ws": workspace_id}
        if filters.start:
            where.append("day >= {start:Date}")
            params["start"] = filters.start
        if filters.end:
            where.append("day <= {end:Date}")
            params["end"] = filters.end
        for column, values in (
            ("platform", filters.platforms),
            ("source_kind", filters.kinds),
            ("stage", filters.stages),
        ):
            if values:
                where.append(f"{column} IN {{{column}:Array(String)}}")
                params[column] = list(values)
        scope = topic_ids if topic_ids is not None else (filters.topic_ids or (0,))
        where.append("topic_id IN {topics:Array(UInt64)}")
        params["topics"] = list(scope)
        sql = f"SELECT {select_sql} FROM {ROLLUP} WHERE {' AND '.join(where)}"
        if group:  # a group counts when it has mentions, as a SQL rollup row exists then
            sql += f" GROUP BY {group} HAVING sum(positive + neutral + negative) != 0"
        return self.client.rows(sql, params)

    def count(self, *, workspace_id: int, filters: DashboardFilters) -> int:
        """How many mentions pass the filters (with topics: topic matches)."""
        rows = self._rollup(_counted(filters), workspace_id, filters)
        return int(rows[0][0]) if rows else 0

    def count_by(
        self, *, workspace_id: int, filters: DashboardFilters, dimension: Dimension
    ) -> dict[str, int]:
        """The count per platform, source kind or stage."""
        if dimension not in DIMENSIONS:
            msg = f"not a dimension: {dimension}"
            raise ValueError(msg)
        rows = self._rollup(
            f"{dimension}, {_counted(filters)}", workspace_id, filters, group=dimension
        )
        return {str(key): int(count) for key, count in rows}

    def per_day_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, dict[date, int]]:
        """Per topic (0: every mention), the count per day."""
        found: dict[int, dict[date, int]] = {topic_id: {} for topic_id in topic_ids}
        rows = self._rollup(
            f"day, topic_id, {_counted(filters)}",
            workspace_id,
            filters,
            topic_ids=topic_ids,
            group="day, topic_id",
        )
        for day, topic_id, count in rows:
            found[int(topic_id)][day] = int(count)
        return found

    def per_day_by_sentiment(
        self, *, workspace_id: int, filters: DashboardFilters
    ) -> dict[date, dict[str, int]]:
        """Per day, the count per sentiment."""
        sums = ", ".join(f"sum({name})" for name in SENTIMENTS)
        rows = self._rollup(f"day, {sums}", workspace_id, filters, group="day")
        return {
            day: dict(zip(SENTIMENTS, (int(c) for c in counts), strict=True))
            for day, *counts in rows
        }

    def count_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, int]:
        """The count per topic."""
        rows = self._rollup(
            f"topic_id, {_counted(filters)}",
            workspace_id,
            filters,
            topic_ids=topic_ids,
            group="topic_id",
        )
        return {int(topic_id): int(count) for topic_id, count in rows}

    # --- Panels over the mentions ----------------------------------------------------

    def _scan(
        self, workspace_id: int, filters: DashboardFilters
    ) -> tuple[str, str, str, dict[str, Any]]:
        """(FROM, id column, WHERE, parameters) of the live rows passing the filters: with
        one topic that topic's matches, else the mentions."""
        params: dict[str, Any] = {"ws": workspace_id}
        if len(filters.topic_ids) == 1:
            source, mention = f"{MATCHES} FINAL", "mention_id"
            where = ["workspace_id = {ws:UInt64}", "topic_id = {topic:UInt64}"]
            params["topic"] = filters.topic_ids[0]
        else:
            source, mention = f"{MENTIONS} FINAL", "id"
            where = ["workspace_id = {ws:UInt64}"]
            if filters.topic_ids:
                where.append(
                    f"id IN (SELECT mention_id FROM {MATCHES} FINAL WHERE "
                    "workspace_id = {ws:UInt64} AND topic_id IN {topics:Array(UInt64)})"
                )
                params["topics"] = list(filters.topic_ids)
        if filters.begin_at:
            where.append(f"posted_at >= {{begin:{INSTANT}}}")
            params["begin"] = _utc(filters.begin_at)
        if filters.end_before:
            where.append(f"posted_at < {{before:{INSTANT}}}")
            params["before"] = _utc(filters.end_before)
        for column, values in (
            ("sentiment", filters.sentiments),
            ("source_kind", filters.kinds),
            ("stage", filters.stages),
            ("platform", filters.platforms),
        ):
            if values:
                where.append(f"{column} IN {{{column}:Array(String)}}")
                params[column] = list(values)
        return source, mention, " AND ".join(where), params

    def newest_ids(
        self,
        *,
        workspace_id: int,
        filters: DashboardFilters,
        limit: int,
        offset: int = 0,
        before: tuple[datetime, int] | None = None,
    ) -> list[int]:
        """Mentions passing the filters, newest first."""
        source, mention, where, params = self._scan(workspace_id, filters)
        if before is not None:
            where += (
                f" AND (posted_at < {{last:{INSTANT}}} OR "
                f"(posted_at = {{last:{INSTANT}}} AND {mention} < {{last_id:UInt64}}))"
            )
            params.update(last=_utc(before[0]), last_id=before[1])
        params.update(limit=limit, offset=offset)
        rows = self.client.rows(
            f"SELECT {mention} FROM {source} WHERE {where} "
            f"ORDER BY posted_at DESC, {mention} DESC "
            "LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            params,
        )
        return [int(row[0]) for row in rows]

    def keyword_lists(
        self, *, workspace_id: int, filters: DashboardFilters, sample: int
    ) -> list[tuple[str, ...]]:
        """The keywords of each of the newest ``sample`` mentions in the filter."""
        ids = self.newest_ids(workspace_id=workspace_id, filters=filters, limit=sample)
        if not ids:
            return []
        rows = self.client.rows(
            f"SELECT keywords FROM {MENTIONS} FINAL "
            "WHERE workspace_id = {ws:UInt64} AND id IN {ids:Array(UInt64)}",
            {"ws": workspace_id, "ids": ids},
        )
        return [tuple(row[0]) for row in rows]

    def _author_counts(
        self, workspace_id: int, filters: DashboardFilters, author_ids: Sequence[int] | None
    ) -> dict[int, int]:
        plain = DashboardFilters(
            start=filters.start,
            end=filters.end,
            platforms=filters.platforms,
            sentiments=filters.sentiments,
            kinds=filters.kinds,
            stages=filters.stages,
        )
        # Each mention once, whatever its topics: the mentions table with a topic condition.
        source, _mention, where, params = self._scan(workspace_id, plain)
        if filters.topic_ids:
            where += (
                f" AND id IN (SELECT mention_id FROM {MATCHES} FINAL WHERE "
                "workspace_id = {ws:UInt64} AND topic_id IN {topics:Array(UInt64)})"
            )
            params["topics"] = list(filters.topic_ids)
        where += " AND author_id != 0"
        if author_ids is not None:
            where += " AND author_id IN {authors:Array(UInt64)}"
            params["authors"] = list(author_ids)
        rows = self.client.rows(
            f"SELECT author_id, count() FROM {source} WHERE {where} GROUP BY author_id",
            params,
        )
        return {int(author): int(count) for author, count in rows}

    def top_authors(
        self, *, workspace_id: int, filters: DashboardFilters, limit: int
    ) -> list[tuple[Author, int]]:
        """The authors with the most followers among those with mentions in the filter."""
        in_filter = self.count(workspace_id=workspace_id, filters=filters)
        if in_filter == 0:
            return []
        if in_filter < base.AUTHORS_FROM_MENTIONS_BELOW:
            counts = self._author_counts(workspace_id, filters, None)
            return [(a, counts[a.id]) for a in ranked_authors(self.db, counts, limit=limit)]
        found: list[tuple[Author, int]] = []
        offset = 0
        while len(found) < limit:
            page = list(
                self.db.scalars(
                    select(Author)
                    .where(Author.workspace_id == workspace_id, Author.followers.is_not(None))
                    .order_by(Author.followers.desc(), Author.id)
                    .offset(offset)
                    .limit(AUTHOR_PAGE)
                )
            )
            if not page:
                break
            offset += len(page)
            counts = self._author_counts(workspace_id, filters, [a.id for a in page])
            found.extend((author, counts[author.id]) for author in page if author.id in counts)
        return found[:limit]

    def window_counts(
        self, *, workspace_id: int, start: datetime, end: datetime, topic_id: int | None = None
    ) -> tuple[int, int]:
        """Mentions (of one topic, else all) posted in [start, end): (all, negative)."""
        table, topic = (
            (MENTIONS, "") if topic_id is None else (MATCHES, " AND topic_id = {t:UInt64}")
        )
        rows = self.client.rows(
            f"SELECT count(), countIf(sentiment = 'negative') FROM {table} FINAL "
            f"WHERE workspace_id = {{ws:UInt64}}{topic} AND posted_at >= {{start:{INSTANT}}} "
            f"AND posted_at < {{end:{INSTANT}}}",
            {"ws": workspace_id, "t": topic_id or 0, "start": _utc(start), "end": _utc(end)},
        )
        return int(rows[0][0]), int(rows[0][1])


def _counted(filters: DashboardFilters) -> str:
    """The sum of the rollup's columns of the chosen sentiments (constants only)."""
    chosen = [name for name in SENTIMENTS if name in (filters.sentiments or SENTIMENTS)]
    return f"sum({' + '.join(chosen)})"


def mention_row(fact: MentionFact, version: int) -> tuple[Any, ...]:
    """The row of ``MENTION_COLUMNS`` holding ``fact`` at ``version``."""
    return (
        fact.workspace_id,
        fact.mention_id,
        _utc(fact.posted_at),
        fact.platform,
        fact.sentiment,
        fact.source_kind,
        fact.stage,
        fact.author_id or 0,
        list(fact.keywords),
        list(fact.tokens),
        fact.text,
        version,
        1,
        0,
    )


def match_row(fact: MentionFact, topic_id: int, version: int) -> tuple[Any, ...]:
    """The row of ``MATCH_COLUMNS`` holding ``fact``'s match of ``topic_id``."""
    return (
        fact.workspace_id,
        topic_id,
        fact.mention_id,
        _utc(fact.posted_at),
        fact.platform,
        fact.sentiment,
        fact.source_kind,
        fact.stage,
        version,
        1,
        0,
    )
