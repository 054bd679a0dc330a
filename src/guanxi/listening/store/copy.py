"""Listening's mention facts, copied from the SQL store to ClickHouse
(``guanxi analytics migrate --to clickhouse``; the walk is ``guanxi.analytics.copy``).

A month's rows are its ``MentionFacet`` rows (the SQL store's facts) with the mention's
text, its enrichment's keywords and words, and its ``TopicMatch`` topics; in ClickHouse
they become the rows the live write path would store (``ClickHouseMentionStore``), so the
materialized views count them into the daily rollup as they land. The checksum of a month
is the count of facts, the sums of their ids and author ids, a sum weighting each id by its
sentiment, source kind and stage, and the count and sums of their topic matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.analytics.copy import Checksum, month_range, sql_months, yyyymm
from guanxi.listening.mentions.models import Mention, MentionEnrichment
from guanxi.listening.store.base import SENTIMENTS, SOURCE_KINDS, STAGES, MentionFact
from guanxi.listening.store.clickhouse import (
    MATCH_COLUMNS,
    MATCHES,
    MENTION_COLUMNS,
    MENTIONS,
    ROLLUP,
    match_row,
    mention_row,
)
from guanxi.listening.topics.models import DailyRollup, MentionFacet, TopicMatch
from guanxi.listening.topics.service import workspace_words

COPIED_VERSION = 1  # below any version the live write path gives (nanoseconds)


def _code(column: Any, values: Sequence[str]) -> ColumnElement[int]:
    """A value's 1-based place in ``values`` (0: not one of them), as ClickHouse's indexOf."""
    return case(*((column == value, place) for place, value in enumerate(values, 1)), else_=0)


# The weight of a fact's sentiment, source kind and stage (each place below its factor).
KIND_FACTOR, STAGE_FACTOR = 4, 16


class MentionCopy:
    """``AnalyticsCopy`` of listening's mention facts and topic matches."""

    name = MENTIONS

    def __init__(self) -> None:
        self._segmenters: dict[int, Callable[[str], tuple[str, ...]]] = {}

    def months(self, db: Session) -> list[str]:
        """The UTC months holding facts, oldest first."""
        return sql_months(db, MentionFacet.posted_at)

    def count(self, db: Session, month: str) -> int:
        """The month's facts in SQL."""
        begin, end = month_range(month)
        found = db.scalar(
            select(func.count()).where(
                MentionFacet.posted_at >= begin, MentionFacet.posted_at < end
            )
        )
        return int(found or 0)

    def sql_rows(
        self, db: Session, month: str, after_id: int, limit: int
    ) -> list[tuple[int, MentionFact]]:
        """The month's next facts by id, with their text, keywords, words and topics."""
        begin, end = month_range(month)
        rows = db.execute(
            select(
                MentionFacet,
                Mention.text,
                MentionEnrichment.keywords,
                MentionEnrichment.normalized_text,
            )
            .join(Mention, Mention.id == MentionFacet.mention_id)
            .join(MentionEnrichment, MentionEnrichment.mention_id == MentionFacet.mention_id)
            .where(
                MentionFacet.posted_at >= begin,
                MentionFacet.posted_at < end,
                MentionFacet.mention_id > after_id,
            )
            .order_by(MentionFacet.mention_id)
            .limit(limit)
        ).all()
        if not rows:
            return []
        ids = [facet.mention_id for facet, *_rest in rows]
        topics: dict[int, list[int]] = {}
        for mention_id, topic_id in db.execute(
            select(TopicMatch.mention_id, TopicMatch.topic_id).where(
                TopicMatch.mention_id.between(ids[0], ids[-1]),
                TopicMatch.posted_at >= begin,
                TopicMatch.posted_at < end,
            )
        ):
            topics.setdefault(mention_id, []).append(topic_id)
        return [
            (
                facet.mention_id,
                MentionFact(
                    mention_id=facet.mention_id,
                    workspace_id=facet.workspace_id,
                    posted_at=facet.posted_at,
                    platform=facet.platform,
                    sentiment=facet.sentiment,
                    source_kind=facet.source_kind,
                    stage=facet.stage,
                    author_id=facet.author_id,
                    topic_ids=tuple(sorted(topics.get(facet.mention_id, ()))),
                    keywords=tuple(keywords or ()),
                    tokens=self._words(db, facet.workspace_id)(normalized or ""),
                    text=text,
                ),
            )
            for facet, text, keywords, normalized in rows
        ]

    def _words(self, db: Session, workspace_id: int) -> Callable[[str], tuple[str, ...]]:
        if workspace_id not in self._segmenters:
            self._segmenters[workspace_id] = workspace_words(db, workspace_id=workspace_id)
        return self._segmenters[workspace_id]

    def write_rows(self, client: AnalyticsClient, rows: Sequence[MentionFact], token: str) -> None:
        """Insert the facts and their matches ClickHouse does not hold yet."""
        if not rows:
            return
        ids = [fact.mention_id for fact in rows]
        instants = [mention_row(fact, 0)[2] for fact in rows]
        bounds = {"ids": ids, "first": min(instants), "last": max(instants)}
        window = "posted_at BETWEEN {first:DateTime64(6, 'UTC')} AND {last:DateTime64(6, 'UTC')}"
        held = {
            int(row[0])
            for row in client.rows(
                f"SELECT DISTINCT id FROM {MENTIONS} WHERE id IN {{ids:Array(UInt64)}} "
                f"AND {window}",
                bounds,
            )
        }
        matched = {
            int(row[0])
            for row in client.rows(
                f"SELECT DISTINCT mention_id FROM {MATCHES} "
                f"WHERE mention_id IN {{ids:Array(UInt64)}} AND {window}",
                bounds,
            )
        }
        client.insert(
            MENTIONS,
            MENTION_COLUMNS,
            [mention_row(f, COPIED_VERSION) for f in rows if f.mention_id not in held],
            token=f"{token}:mentions",
        )
        client.insert(
            MATCHES,
            MATCH_COLUMNS,
            [
                match_row(fact, topic_id, COPIED_VERSION)
                for fact in rows
                if fact.mention_id not in matched
                for topic_id in fact.topic_ids
            ],
            token=f"{token}:matches",
        )

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum over the SQL store's facts and matches."""
        begin, end = month_range(month)
        weight = (
            _code(MentionFacet.sentiment, SENTIMENTS)
            + KIND_FACTOR * _code(MentionFacet.source_kind, SOURCE_KINDS)
            + STAGE_FACTOR * _code(MentionFacet.stage, STAGES)
        )
        facts = db.execute(
            select(
                func.count(),
                func.sum(MentionFacet.mention_id),
                func.sum(func.coalesce(MentionFacet.author_id, 0)),
                func.sum(MentionFacet.mention_id * weight),
            ).where(MentionFacet.posted_at >= begin, MentionFacet.posted_at < end)
        ).one()
        matches = db.execute(
            select(
                func.count(), func.sum(TopicMatch.mention_id), func.sum(TopicMatch.topic_id)
            ).where(TopicMatch.posted_at >= begin, TopicMatch.posted_at < end)
        ).one()
        return tuple(int(value or 0) for value in (*facts, *matches))

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same checksum over the live rows of the month in ClickHouse."""
        params = {
            "month": yyyymm(month),
            "sentiments": list(SENTIMENTS),
            "kinds": list(SOURCE_KINDS),
            "stages": list(STAGES),
        }
        facts = client.rows(
            "SELECT count(), sum(id), sum(author_id), sum(id * ("
            "indexOf({sentiments:Array(String)}, sentiment) + "
            f"{KIND_FACTOR} * indexOf({{kinds:Array(String)}}, source_kind) + "
            f"{STAGE_FACTOR} * indexOf({{stages:Array(String)}}, stage))) "
            f"FROM {MENTIONS} FINAL WHERE toYYYYMM(posted_at) = {{month:UInt32}}",
            params,
        )[0]
        matches = client.rows(
            f"SELECT count(), sum(mention_id), sum(topic_id) FROM {MATCHES} FINAL "
            "WHERE toYYYYMM(posted_at) = {month:UInt32}",
            params,
        )[0]
        return tuple(int(value or 0) for value in (*facts, *matches))


ROLLUP_COLUMNS = (
    "workspace_id",
    "topic_id",
    "day",
    "platform",
    "source_kind",
    "stage",
    "positive",
    "neutral",
    "negative",
)


class DailyCountsCopy:
    """``AnalyticsCopy`` of the daily counts beyond the copied facts.

    Retention removes old mentions from the SQL store's lists but keeps them in its daily
    counts (``DailyRollup``); the copied facts count only what the lists hold. Run after
    ``MentionCopy``, this adds, per workspace, topic, day, platform, source kind and stage,
    the difference between the SQL count and what ClickHouse counts already: nothing when
    they agree, so a batch walked again adds nothing. The checksum of a month is the sums
    of its positive, neutral and negative counts, and of the counts weighted by topic and
    by workspace.
    """

    name = ROLLUP

    def months(self, db: Session) -> list[str]:
        """The months with daily counts, oldest first."""
        days = db.scalars(select(DailyRollup.day).distinct())
        return sorted({f"{day:%Y-%m}" for day in days})

    def count(self, db: Session, month: str) -> int:
        """The month's rollup rows in SQL."""
        first, after = (instant.date() for instant in month_range(month))
        found = db.scalar(
            select(func.count()).where(DailyRollup.day >= first, DailyRollup.day < after)
        )
        return int(found or 0)

    def sql_rows(
        self, db: Session, month: str, after_id: int, limit: int
    ) -> list[tuple[int, tuple[Any, ...]]]:
        """The month's next rollup rows by id, as ``ROLLUP_COLUMNS``."""
        first, after = (instant.date() for instant in month_range(month))
        rows = db.scalars(
            select(DailyRollup)
            .where(DailyRollup.day >= first, DailyRollup.day < after, DailyRollup.id > after_id)
            .order_by(DailyRollup.id)
            .limit(limit)
        )
        return [
            (
                row.id,
                (
                    row.workspace_id,
                    row.topic_id,
                    row.day,
                    row.platform,
                    row.source_kind,
                    row.stage,
                    row.positive,
                    row.neutral,
                    row.negative,
                ),
            )
            for row in rows
        ]

    def write_rows(
        self, client: AnalyticsClient, rows: Sequence[tuple[Any, ...]], token: str
    ) -> None:
        """Insert, per group, what the SQL count has beyond ClickHouse's."""
        if not rows:
            return
        stored = {
            tuple(found[:6]): found[6:]
            for found in client.rows(
                f"SELECT workspace_id, topic_id, day, platform, source_kind, stage, "
                f"sum(positive), sum(neutral), sum(negative) FROM {ROLLUP} "
                "WHERE workspace_id IN {ws:Array(UInt64)} AND topic_id IN {topics:Array(UInt64)} "
                "AND day BETWEEN {first:Date} AND {last:Date} "
                "GROUP BY workspace_id, topic_id, day, platform, source_kind, stage",
                {
                    "ws": sorted({row[0] for row in rows}),
                    "topics": sorted({row[1] for row in rows}),
                    "first": min(row[2] for row in rows),
                    "last": max(row[2] for row in rows),
                },
            )
        }
        missing = []
        for row in rows:
            counted = stored.get(tuple(row[:6]), (0, 0, 0))
            beyond = tuple(int(sql) - int(held) for sql, held in zip(row[6:], counted, strict=True))
            if any(beyond):
                missing.append((*row[:6], *beyond))
        client.insert(ROLLUP, ROLLUP_COLUMNS, missing, token=token)

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum over the SQL store's daily counts."""
        first, after = (instant.date() for instant in month_range(month))
        weight = DailyRollup.positive + 2 * DailyRollup.neutral + 3 * DailyRollup.negative
        found = db.execute(
            select(
                func.sum(DailyRollup.positive + DailyRollup.neutral + DailyRollup.negative),
                func.sum(DailyRollup.positive),
                func.sum(DailyRollup.negative),
                func.sum(weight * DailyRollup.topic_id),
                func.sum(weight * DailyRollup.workspace_id),
            ).where(DailyRollup.day >= first, DailyRollup.day < after)
        ).one()
        return tuple(int(value or 0) for value in found)

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same checksum over ClickHouse's daily counts."""
        weight = "(positive + 2 * neutral + 3 * negative)"
        found = client.rows(
            "SELECT sum(positive + neutral + negative), sum(positive), sum(negative), "
            f"sum({weight} * topic_id), sum({weight} * workspace_id) FROM {ROLLUP} "
            "WHERE toYYYYMM(day) = {month:UInt32}",
            {"month": yyyymm(month)},
        )[0]
        return tuple(int(value or 0) for value in found)
