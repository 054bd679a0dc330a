"""Topic queries: create, validate, edit, delete; match mentions and keep the rollup current.

The enrichment flow calls ``match_mentions`` after each enriched batch. It replaces the
batch's ``TopicMatch`` rows and rebuilds ``DailyRollup`` for the days the batch touches
(from the tables, not by adding deltas, so a re-enrichment that changes a sentiment can
never leave a count behind).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session, selectinload

from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import create_unique
from guanxi.listening.mentions.models import Author, Mention
from guanxi.listening.mentions.retention import KIND as RETAINED_MENTIONS
from guanxi.listening.topics.models import (
    ALL_MENTIONS,
    DailyRollup,
    MentionFacet,
    TopicCategory,
    TopicMatch,
    TopicQuery,
)
from guanxi.listening.topics.queries import (
    MentionFacts,
    QueryMatcher,
    QuerySyntaxError,
    parse_query,
)
from guanxi.retention.service import detail_kept_from

NAME_MAX_LENGTH = 80
MATCH_BATCH = 2000


@dataclass(frozen=True)
class TopicForm:
    """What a person types to create or edit a topic query."""

    name: str
    query: str
    category: str = TopicCategory.THEME
    active: bool = True


def validate_query(text: str) -> None:
    """Raise QuerySyntaxError (with column and caret) if ``text`` is not a valid query."""
    parse_query(text.strip())


def list_topics(db: Session, *, workspace_id: int, active_only: bool = False) -> list[TopicQuery]:
    """The workspace's topic queries by category and name."""
    query = select(TopicQuery).where(TopicQuery.workspace_id == workspace_id)
    if active_only:
        query = query.where(TopicQuery.active.is_(True))
    return list(db.scalars(query.order_by(TopicQuery.category, TopicQuery.name)))


def get_topic(db: Session, *, workspace_id: int, topic_id: int) -> TopicQuery:
    """One topic of the workspace; NotFoundError for anyone else's."""
    topic = db.get(TopicQuery, topic_id)
    if topic is None or topic.workspace_id != workspace_id:
        raise NotFoundError(N_("This topic does not exist (any more)."))
    return topic


def _checked(db: Session, *, workspace_id: int, form: TopicForm, topic_id: int = 0) -> TopicForm:
    name = form.name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise UserError(
            N_("Give the topic a name of 1 to {maximum} characters."), maximum=NAME_MAX_LENGTH
        )
    if form.category not in set(TopicCategory):
        raise UserError(N_("Choose the kind of topic: brand, product, competitor or theme."))
    validate_query(form.query)
    taken = db.scalar(
        select(TopicQuery.id).where(
            TopicQuery.workspace_id == workspace_id,
            TopicQuery.name == name,
            TopicQuery.id != topic_id,
        )
    )
    if taken is not None:
        raise ConflictError(
            N_("A topic named “{name}” exists already. Pick another name."), name=name
        )
    return TopicForm(
        name=name, query=form.query.strip(), category=form.category, active=form.active
    )


def create_topic(db: Session, *, workspace_id: int, form: TopicForm) -> TopicQuery:
    """Add a topic query and match it against the mentions already there."""
    checked = _checked(db, workspace_id=workspace_id, form=form)
    values = {
        "workspace_id": workspace_id,
        "name": checked.name,
        "query": checked.query,
        "category": checked.category,
        "active": checked.active,
    }
    topic = create_unique(db, TopicQuery, values, unique=["workspace_id", "name"])
    if topic is None:  # created by another request since the check
        raise ConflictError(
            N_("A topic named “{name}” exists already. Pick another name."), name=checked.name
        )
    rematch_topic(db, topic=topic)
    return topic


def update_topic(db: Session, *, workspace_id: int, topic_id: int, form: TopicForm) -> TopicQuery:
    """Change a topic query; its matches are redone when the query or its state changed."""
    topic = get_topic(db, workspace_id=workspace_id, topic_id=topic_id)
    checked = _checked(db, workspace_id=workspace_id, form=form, topic_id=topic_id)
    redo = checked.query != topic.query or checked.active != topic.active
    topic.name, topic.query = checked.name, checked.query
    topic.category, topic.active = checked.category, checked.active
    db.flush()
    if redo:
        rematch_topic(db, topic=topic)
    return topic


def delete_topic(db: Session, *, workspace_id: int, topic_id: int) -> None:
    """Remove a topic query, its matches and its rollup rows (its alert rules go with it)."""
    topic = get_topic(db, workspace_id=workspace_id, topic_id=topic_id)
    db.execute(delete(TopicMatch).where(TopicMatch.topic_id == topic.id))
    db.execute(
        delete(DailyRollup).where(
            DailyRollup.topic_id == topic.id, DailyRollup.workspace_id == workspace_id
        )
    )
    db.delete(topic)
    db.flush()


# --- Matching --------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _matcher(sources: tuple[tuple[int, str], ...]) -> QueryMatcher:
    """The compiled matcher of a set of queries; unchanged queries reuse the automaton."""
    parsed = {}
    for topic_id, text in sources:
        try:
            parsed[topic_id] = parse_query(text)
        except QuerySyntaxError:
            continue  # saved before a rule changed: it matches nothing until fixed
    return QueryMatcher(parsed)


def workspace_matcher(db: Session, *, workspace_id: int) -> QueryMatcher:
    """One matcher for every active topic query of the workspace."""
    rows = db.execute(
        select(TopicQuery.id, TopicQuery.query)
        .where(TopicQuery.workspace_id == workspace_id, TopicQuery.active.is_(True))
        .order_by(TopicQuery.id)
    )
    return _matcher(tuple((row.id, row.query) for row in rows))


def mention_facts(mention: Mention) -> MentionFacts:
    """What a query sees of a mention: its text, platform, language and author."""
    author = mention.author
    names = (author.name, author.external_id) if author is not None else ()
    language = mention.enrichment.language if mention.enrichment is not None else ""
    return MentionFacts(
        text=mention.text,
        platform=mention.platform,
        language=language,
        author_names=tuple(name for name in names if name),
    )


def facet_values(mention: Mention) -> dict[str, Any]:
    """The facets of an enriched mention, as MentionFacet and TopicMatch store them."""
    enrichment = mention.enrichment
    assert enrichment is not None
    return {
        "workspace_id": mention.workspace_id,
        "posted_at": mention.posted_at,
        "platform": mention.platform,
        "sentiment": enrichment.sentiment,
        "source_kind": enrichment.source_kind,
        "stage": enrichment.stage,
    }


def _match_rows(matcher: QueryMatcher, mentions: Iterable[Mention]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for mention in mentions:
        facets = facet_values(mention)
        rows.extend(
            {
                "mention_id": mention.id,
                "topic_id": found.query_id,
                **facets,
                "terms": list(found.terms),
                "spans": [list(span) for span in found.spans],
            }
            for found in matcher.match(mention_facts(mention))
        )
    return rows


def match_mentions(
    db: Session,
    *,
    workspace_id: int,
    mentions: Sequence[Mention],
    pending_days: set[date] | None = None,
) -> int:
    """Match ``mentions`` (just enriched) against every active topic query of the workspace.

    Replaces their facets and TopicMatch rows, rebuilds the dashboards' rollup for the days
    they are on, and returns how many matches were stored. Mentions of another workspace,
    and mentions not enriched yet, are left alone. A bulk import may pass ``pending_days``
    to collect the days instead, and call ``refresh_rollup(days=pending_days)`` once at the
    end (a file in random time order would otherwise recount many days per batch).
    """
    ids = [mention.id for mention in mentions]
    return match_mention_ids(
        db, workspace_id=workspace_id, mention_ids=ids, pending_days=pending_days
    )


def match_mention_ids(
    db: Session,
    *,
    workspace_id: int,
    mention_ids: Sequence[int],
    pending_days: set[date] | None = None,
) -> int:
    """``match_mentions`` by id: the mentions and enrichments are read fresh from the
    database (the enrichment flow writes them with bulk statements)."""
    matcher = workspace_matcher(db, workspace_id=workspace_id)
    stored = 0
    for start in range(0, len(mention_ids), MATCH_BATCH):
        chunk = list(mention_ids[start : start + MATCH_BATCH])
        mentions = list(
            db.scalars(
                select(Mention)
                .options(selectinload(Mention.author), selectinload(Mention.enrichment))
                .join(Mention.enrichment)
                .where(Mention.workspace_id == workspace_id, Mention.id.in_(chunk))
                .execution_options(populate_existing=True)
            )
        )
        db.execute(delete(TopicMatch).where(TopicMatch.mention_id.in_(chunk)))
        db.execute(delete(MentionFacet).where(MentionFacet.mention_id.in_(chunk)))
        if not mentions:
            continue
        db.execute(
            insert(MentionFacet),
            [
                {"mention_id": mention.id, "author_id": mention.author_id, **facet_values(mention)}
                for mention in mentions
            ],
        )
        rows = _match_rows(matcher, mentions)
        if rows:
            db.execute(insert(TopicMatch), rows)
        stored += len(rows)
        days = {mention.posted_at.astimezone(UTC).date() for mention in mentions}
        if pending_days is None:
            refresh_rollup(db, workspace_id=workspace_id, days=days)
        else:
            pending_days.update(days)
    return stored


def rematch_topic(db: Session, *, topic: TopicQuery) -> int:
    """Redo one topic's matches over all the workspace's mentions, and its rollup rows."""
    db.execute(delete(TopicMatch).where(TopicMatch.topic_id == topic.id))
    stored = 0
    if topic.active:
        matcher = QueryMatcher({topic.id: parse_query(topic.query)})
        last_id = 0
        while True:
            batch = list(
                db.scalars(
                    select(Mention)
                    .options(selectinload(Mention.author), selectinload(Mention.enrichment))
                    .join(Mention.enrichment)
                    .where(Mention.workspace_id == topic.workspace_id, Mention.id > last_id)
                    .order_by(Mention.id)
                    .limit(MATCH_BATCH)
                )
            )
            if not batch:
                break
            last_id = batch[-1].id
            rows = _match_rows(matcher, batch)
            if rows:
                db.execute(insert(TopicMatch), rows)
            stored += len(rows)
    refresh_rollup(db, workspace_id=topic.workspace_id, topic_id=topic.id)
    return stored


# --- The daily rollup ------------------------------------------------------------------


def day_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a UTCDateTime column, in SQL for ``dialect``."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC "YYYY-MM-DD HH:MM:SS"


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Contiguous runs of days as (first, last) pairs."""
    ordered = sorted(set(days))
    ranges: list[tuple[date, date]] = []
    for day in ordered:
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _rollup_query(
    table: Any,
    dialect: str,
    *,
    workspace_id: int,
    span: tuple[date, date | None] | None,
    topic_id: int | None,
) -> Select[Any]:
    """Count ``table``'s rows (MentionFacet: every mention; TopicMatch: per topic)."""
    day = day_of(table.posted_at, dialect).label("day")
    topic = table.topic_id if table is TopicMatch else literal(ALL_MENTIONS, Integer)
    dims = (day, table.platform, table.source_kind, table.stage)
    counts = [
        func.sum(case((table.sentiment == name, 1), else_=0)).label(name)
        for name in ("positive", "neutral", "negative")
    ]
    query = select(topic.label("topic_id"), *dims, *counts).where(
        table.workspace_id == workspace_id
    )
    if span is not None:
        query = query.where(table.posted_at >= datetime.combine(span[0], time(), tzinfo=UTC))
        if span[1] is not None:
            end = datetime.combine(span[1] + timedelta(days=1), time(), tzinfo=UTC)
            query = query.where(table.posted_at < end)
    if topic_id is not None:
        query = query.where(TopicMatch.topic_id == topic_id)
    group = (table.topic_id, *dims) if table is TopicMatch else dims
    return query.group_by(*group)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _grouped(db: Session, query: Select[Any], *, workspace_id: int) -> list[dict[str, Any]]:
    return [
        {
            "workspace_id": workspace_id,
            "topic_id": row.topic_id,
            "day": _as_date(row.day),
            "platform": row.platform,
            "source_kind": row.source_kind,
            "stage": row.stage,
            "positive": int(row.positive or 0),
            "neutral": int(row.neutral or 0),
            "negative": int(row.negative or 0),
        }
        for row in db.execute(query)
    ]


# The first key of the rollup's PostgreSQL advisory lock (the second is the workspace).
ROLLUP_LOCK = 0x6775_0001


def refresh_rollup(
    db: Session,
    *,
    workspace_id: int,
    days: Iterable[date] | None = None,
    topic_id: int | None = None,
) -> int:
    """Recount the rollup of ``days`` (every day when None) for one topic or all rows.

    Days before the workspace's retention cutoff are never recounted: their mentions may be
    deleted, and their counts in the rollup are all that is left of them.
    Returns the number of rollup rows written.
    """
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        # Two refreshes at once would each delete what the other has not committed yet and
        # both insert: every count twice. One at a time per workspace, until the commit.
        # (SQLite: the DELETE takes the database's write lock, which does the same.)
        db.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK, workspace_id)))
    written = 0
    kept_from = detail_kept_from(db, workspace_id=workspace_id, kind=RETAINED_MENTIONS)
    floor = kept_from.astimezone(UTC).date() if kept_from is not None else None
    ranges: list[tuple[date, date | None] | None]
    if days is not None:
        ranges = [*_day_ranges(day for day in days if floor is None or day >= floor)]
    else:
        ranges = [None if floor is None else (floor, None)]
    sources: list[tuple[Any, int | None]] = [] if topic_id is not None else [(MentionFacet, None)]
    sources.append((TopicMatch, topic_id))
    for span in ranges:
        stale = delete(DailyRollup).where(DailyRollup.workspace_id == workspace_id)
        if span is not None:
            stale = stale.where(DailyRollup.day >= span[0])
            if span[1] is not None:
                stale = stale.where(DailyRollup.day <= span[1])
        if topic_id is not None:
            stale = stale.where(DailyRollup.topic_id == topic_id)
        db.execute(stale)
        for table, only_topic in sources:
            query = _rollup_query(
                table, dialect, workspace_id=workspace_id, span=span, topic_id=only_topic
            )
            rows = _grouped(db, query, workspace_id=workspace_id)
            for start in range(0, len(rows), 5000):
                db.execute(insert(DailyRollup), rows[start : start + 5000])
            written += len(rows)
    return written


def author_label(author: Author | None) -> str:
    """An author's display name, or their platform id when the source had no name."""
    if author is None:
        return ""
    return author.name or author.external_id
