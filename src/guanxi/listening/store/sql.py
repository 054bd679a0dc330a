"""The mention store on the SQL database (SQLite or PostgreSQL): the default.

Facts are ``MentionFacet`` rows (the topic matches are ``TopicMatch`` rows, written by
``topics.service`` with their highlights); counting panels group ``DailyRollup``, which is
rebuilt for the days a batch touches (from the tables, not by adding deltas, so a
re-enrichment that changes a sentiment can never leave a count behind). ``RollupTotal``
holds the rollup's sums over its whole history per topic and source kind, moved by exactly
what each rebuild deleted and inserted: the counts without a date, platform or stage filter
(the dashboard as it opens) read its few rows instead of the workspace's rollup. Panels that need
the mentions themselves read the facets through their ``(workspace_id, posted_at)``
indexes or, with one topic, the topic matches' ``(workspace_id, topic_id, posted_at)``
index, newest first with a limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from guanxi.core.in_lists import each_among
from guanxi.core.upsert import insert_statement
from guanxi.listening.mentions.models import RETENTION_KIND, Author, MentionEnrichment
from guanxi.listening.store import base
from guanxi.listening.store.base import (
    SENTIMENTS,
    DashboardFilters,
    Dimension,
    MentionFact,
)
from guanxi.listening.topics.models import (
    ALL_MENTIONS,
    DailyRollup,
    MentionFacet,
    RollupTotal,
    TopicMatch,
)
from guanxi.retention.service import detail_kept_from

# The first key of the rollup's PostgreSQL advisory lock (the second is the workspace).
ROLLUP_LOCK = 0x6775_0001


class SqlMentionStore:
    """``MentionStore`` on the session's database."""

    wants_text = False

    def __init__(self, db: Session) -> None:
        self.db = db

    # --- Writing ---------------------------------------------------------------------

    def write(self, facts: Sequence[MentionFact], *, pending_days: set[date] | None = None) -> None:
        """Replace the facets of these mentions and recount their days."""
        if not facts:
            return
        ids = [fact.mention_id for fact in facts]
        for among in each_among(self.db, MentionFacet.mention_id, ids):
            self.db.execute(delete(MentionFacet).where(among))
        self.db.execute(
            insert(MentionFacet),
            [
                {
                    "mention_id": fact.mention_id,
                    "workspace_id": fact.workspace_id,
                    "posted_at": fact.posted_at,
                    "platform": fact.platform,
                    "sentiment": fact.sentiment,
                    "source_kind": fact.source_kind,
                    "stage": fact.stage,
                    "author_id": fact.author_id,
                }
                for fact in facts
            ],
        )
        by_workspace: dict[int, set[date]] = {}
        for fact in facts:
            by_workspace.setdefault(fact.workspace_id, set()).add(
                fact.posted_at.astimezone(UTC).date()
            )
        for workspace_id, days in by_workspace.items():
            if pending_days is None:
                refresh_rollup(self.db, workspace_id=workspace_id, days=days)
            else:
                pending_days.update(days)

    def settle(self, *, workspace_id: int, days: set[date]) -> None:
        """Recount the rollup of ``days``."""
        refresh_rollup(self.db, workspace_id=workspace_id, days=days)

    def topic_rematched(
        self,
        *,
        workspace_id: int,
        topic_id: int,
        mention_ids: Sequence[int],  # noqa: ARG002 - TopicMatch holds them already
    ) -> None:
        """Recount the topic's rollup rows from its TopicMatch rows."""
        refresh_rollup(self.db, workspace_id=workspace_id, topic_id=topic_id)

    def forget_topic(self, *, workspace_id: int, topic_id: int) -> None:
        """Drop the topic's rollup rows (its TopicMatch rows go with the topic)."""
        stale = delete(DailyRollup).where(
            DailyRollup.topic_id == topic_id, DailyRollup.workspace_id == workspace_id
        )
        change = _TotalsChange(workspace_id)
        change.deleted(self.db, stale)
        change.save(self.db)

    def delete(self, *, workspace_id: int, mention_ids: Sequence[int]) -> None:
        """Drop these mentions' facets and matches and recount their days."""
        days: set[date] = set()
        for among in each_among(self.db, MentionFacet.mention_id, mention_ids):
            posted = self.db.scalars(
                select(MentionFacet.posted_at).where(
                    among, MentionFacet.workspace_id == workspace_id
                )
            )
            days.update(value.astimezone(UTC).date() for value in posted)
            self.db.execute(
                delete(MentionFacet).where(among, MentionFacet.workspace_id == workspace_id)
            )
        for among in each_among(self.db, TopicMatch.mention_id, mention_ids):
            self.db.execute(
                delete(TopicMatch).where(among, TopicMatch.workspace_id == workspace_id)
            )
        if days:
            refresh_rollup(self.db, workspace_id=workspace_id, days=days)

    def delete_before(self, *, workspace_id: int, cutoff: datetime) -> None:
        """Drop the facets and matches posted before ``cutoff``; the rollup keeps them."""
        for table in (MentionFacet, TopicMatch):
            self.db.execute(
                delete(table).where(table.workspace_id == workspace_id, table.posted_at < cutoff)
            )

    # --- Counting panels, on the rollup ----------------------------------------------

    def count(self, *, workspace_id: int, filters: DashboardFilters) -> int:
        """How many mentions pass the filters (with topics: topic matches)."""
        table = _counted_table(filters)
        query = select(_count(filters, table)).where(
            *_rollup_where(workspace_id, filters, table), _topic_scope(filters, table)
        )
        return int(self.db.scalar(query) or 0)

    def count_by(
        self, *, workspace_id: int, filters: DashboardFilters, dimension: Dimension
    ) -> dict[str, int]:
        """The count per platform, source kind or stage."""
        table = _counted_table(filters) if dimension == "source_kind" else DailyRollup
        column = getattr(table, dimension)
        query = (
            select(column, _count(filters, table))
            .where(*_rollup_where(workspace_id, filters, table), _topic_scope(filters, table))
            .group_by(column)
        )
        return {str(key): int(value) for key, value in self.db.execute(query)}

    def per_day_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, dict[date, int]]:
        """Per topic (0: every mention), the count per day."""
        query = (
            select(DailyRollup.day, DailyRollup.topic_id, _count(filters))
            .where(*_rollup_where(workspace_id, filters), DailyRollup.topic_id.in_(topic_ids))
            .group_by(DailyRollup.day, DailyRollup.topic_id)
        )
        found: dict[int, dict[date, int]] = {topic_id: {} for topic_id in topic_ids}
        for day, topic_id, count in self.db.execute(query):
            found[topic_id][_as_date(day)] = int(count)
        return found

    def per_day_by_sentiment(
        self, *, workspace_id: int, filters: DashboardFilters
    ) -> dict[date, dict[str, int]]:
        """Per day, the count per sentiment."""
        query = (
            select(
                DailyRollup.day,
                *(func.coalesce(func.sum(getattr(DailyRollup, name)), 0) for name in SENTIMENTS),
            )
            .where(*_rollup_where(workspace_id, filters), _topic_scope(filters))
            .group_by(DailyRollup.day)
        )
        return {
            _as_date(day): {
                name: int(count) for name, count in zip(SENTIMENTS, counts, strict=True)
            }
            for day, *counts in self.db.execute(query)
        }

    def count_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, int]:
        """The count per topic."""
        table = _counted_table(filters)
        query = (
            select(table.topic_id, _count(filters, table))
            .where(*_rollup_where(workspace_id, filters, table), table.topic_id.in_(topic_ids))
            .group_by(table.topic_id)
        )
        return {int(topic_id): int(count) for topic_id, count in self.db.execute(query)}

    # --- Panels over the mentions ----------------------------------------------------

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
        source, scan = filtered_scan(workspace_id, filters)
        if before is not None:
            scan = scan.where(
                (source.posted_at < before[0])
                | and_(source.posted_at == before[0], source.mention_id < before[1])
            )
        return list(self.db.scalars(scan.offset(offset).limit(limit)))

    def keyword_lists(
        self, *, workspace_id: int, filters: DashboardFilters, sample: int
    ) -> list[tuple[str, ...]]:
        """The keywords of each of the newest ``sample`` mentions in the filter."""
        _source, scan = filtered_scan(workspace_id, filters)
        newest = scan.limit(sample).subquery()
        query = select(MentionEnrichment.keywords).join(
            newest, newest.c.mention_id == MentionEnrichment.mention_id
        )
        return [tuple(keywords or ()) for (keywords,) in self.db.execute(query)]

    def top_authors(
        self, *, workspace_id: int, filters: DashboardFilters, limit: int
    ) -> list[tuple[Author, int]]:
        """The authors with the most followers among those with mentions in the filter."""
        in_filter = self.count(workspace_id=workspace_id, filters=filters)
        if in_filter == 0:
            return []
        facets = facets_where(MentionFacet, workspace_id, filters)
        if filters.topic_ids:
            facets.append(_in_topics(MentionFacet.mention_id, filters.topic_ids))
        db = self.db
        if in_filter < base.AUTHORS_FROM_MENTIONS_BELOW:
            # Few mentions: count them per author, then rank those authors.
            count_query = (
                select(MentionFacet.author_id, func.count())
                .where(*facets, MentionFacet.author_id.is_not(None))
                .group_by(MentionFacet.author_id)
            )
            counts = {int(author): int(n) for author, n in db.execute(count_query) if author}
            authors = ranked_authors(db, counts, limit=limit)
        else:
            # Many: walk the authors by followers and keep those with a mention in the filter
            # (a probe of the facets' author index each); the first ``limit`` found win.
            wrote = exists().where(*facets, MentionFacet.author_id == Author.id)
            authors = list(
                db.scalars(
                    select(Author)
                    .where(
                        Author.workspace_id == workspace_id, Author.followers.is_not(None), wrote
                    )
                    .order_by(Author.followers.desc(), Author.id)
                    .limit(limit)
                )
            )
            count_query = (
                select(MentionFacet.author_id, func.count())
                .where(*facets, MentionFacet.author_id.in_([author.id for author in authors]))
                .group_by(MentionFacet.author_id)
            )
            counts = {int(author): int(n) for author, n in db.execute(count_query) if author}
        return [(author, int(counts.get(author.id, 0))) for author in authors]

    def window_counts(
        self, *, workspace_id: int, start: datetime, end: datetime, topic_id: int | None = None
    ) -> tuple[int, int]:
        """Mentions (of one topic, else all) posted in [start, end): (all, negative)."""
        if topic_id is None:
            negative = func.sum(case((MentionFacet.sentiment == "negative", 1), else_=0))
            query = select(func.count(), func.coalesce(negative, 0)).where(
                MentionFacet.workspace_id == workspace_id,
                MentionFacet.posted_at >= start,
                MentionFacet.posted_at < end,
            )
        else:
            negative = func.sum(case((MentionEnrichment.sentiment == "negative", 1), else_=0))
            query = (
                select(func.count(), func.coalesce(negative, 0))
                .select_from(TopicMatch)
                .join(MentionEnrichment, MentionEnrichment.mention_id == TopicMatch.mention_id)
                .where(
                    TopicMatch.workspace_id == workspace_id,
                    TopicMatch.topic_id == topic_id,
                    TopicMatch.posted_at >= start,
                    TopicMatch.posted_at < end,
                )
            )
        total, negatives = self.db.execute(query).one()
        return int(total), int(negatives)


def ranked_authors(db: Session, counts: dict[int, int], *, limit: int) -> list[Author]:
    """The authors of ``counts`` by followers (none known: 0), most first, then by id."""
    if not counts:
        return []
    return list(
        db.scalars(
            select(Author)
            .where(Author.id.in_(list(counts)))
            .order_by(func.coalesce(Author.followers, 0).desc(), Author.id)
            .limit(limit)
        )
    )


# --- Conditions ------------------------------------------------------------------------


def _counted_table(filters: DashboardFilters) -> type[DailyRollup] | type[RollupTotal]:
    """The rollup's totals when the filters keep every day, platform and stage (what
    they count is then summed already), else the rollup."""
    whole = not (filters.start or filters.end or filters.platforms or filters.stages)
    return RollupTotal if whole else DailyRollup


def _rollup_where(
    workspace_id: int,
    filters: DashboardFilters,
    table: type[DailyRollup] | type[RollupTotal] = DailyRollup,
) -> list[ColumnElement[bool]]:
    if table is RollupTotal:  # kept for filters without days, platforms and stages only
        where = [RollupTotal.workspace_id == workspace_id]
        if filters.kinds:
            where.append(RollupTotal.source_kind.in_(filters.kinds))
        return where
    where = [DailyRollup.workspace_id == workspace_id]
    if filters.start:
        where.append(DailyRollup.day >= filters.start)
    if filters.end:
        where.append(DailyRollup.day <= filters.end)
    if filters.platforms:
        where.append(DailyRollup.platform.in_(filters.platforms))
    if filters.kinds:
        where.append(DailyRollup.source_kind.in_(filters.kinds))
    if filters.stages:
        where.append(DailyRollup.stage.in_(filters.stages))
    return where


def _topic_scope(
    filters: DashboardFilters, table: type[DailyRollup] | type[RollupTotal] = DailyRollup
) -> ColumnElement[bool]:
    if filters.topic_ids:
        return table.topic_id.in_(filters.topic_ids)
    return table.topic_id == ALL_MENTIONS


def _count(
    filters: DashboardFilters, table: type[DailyRollup] | type[RollupTotal] = DailyRollup
) -> ColumnElement[Any]:
    """The number of mentions of a rollup (or totals) row that pass the sentiment filter."""
    chosen = filters.sentiments or SENTIMENTS
    columns = [getattr(table, name) for name in chosen]
    total: ColumnElement[Any] = columns[0]
    for column in columns[1:]:
        total = total + column
    return func.coalesce(func.sum(total), 0)


def facets_where(
    source: Any, workspace_id: int, filters: DashboardFilters, *, platform: Any = None
) -> list[ColumnElement[bool]]:
    """The filters as conditions on a table with the facets' column names (MentionFacet,
    TopicMatch, MentionEnrichment); ``platform``: that column where ``source`` has none."""
    where: list[ColumnElement[bool]] = [source.workspace_id == workspace_id]
    if filters.begin_at:
        where.append(source.posted_at >= filters.begin_at)
    if filters.end_before:
        where.append(source.posted_at < filters.end_before)
    for column, values in (
        (source.sentiment, filters.sentiments),
        (source.source_kind, filters.kinds),
        (source.stage, filters.stages),
        (source.platform if platform is None else platform, filters.platforms),
    ):
        if values:
            where.append(column.in_(values))
    return where


def _in_topics(mention_id: Any, topic_ids: Sequence[int]) -> ColumnElement[bool]:
    """The mention matches one of the topics (a probe of TopicMatch's primary key)."""
    return exists().where(TopicMatch.mention_id == mention_id, TopicMatch.topic_id.in_(topic_ids))


def filtered_scan(workspace_id: int, filters: DashboardFilters) -> tuple[Any, Select[Any]]:
    """The mentions passing the filters, newest first, as (source table, SELECT mention_id).

    With one topic the scan runs on that topic's matches, else on every mention's facets;
    either way every filter is in the scanned index, so only returned rows are read.
    """
    source: Any = TopicMatch if len(filters.topic_ids) == 1 else MentionFacet
    query = select(source.mention_id).where(*facets_where(source, workspace_id, filters))
    if source is TopicMatch:
        query = query.where(TopicMatch.topic_id == filters.topic_ids[0])
    elif filters.topic_ids:
        query = query.where(_in_topics(MentionFacet.mention_id, filters.topic_ids))
    return source, query.order_by(source.posted_at.desc(), source.mention_id.desc())


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
        func.sum(case((table.sentiment == name, 1), else_=0)).label(name) for name in SENTIMENTS
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


class _TotalsChange:
    """What a transaction's changes to the rollup add to ``RollupTotal``: the counts of the
    rows it deleted (as the DELETE returns them) subtracted, of those it inserted added.
    Increments, not recounts: another transaction's changes to the same totals, committed
    before or after, add up with these."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.counts: defaultdict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def deleted(self, db: Session, statement: Any) -> None:
        """Run the DELETE ``statement`` on the rollup; subtract what it deleted."""
        columns = [getattr(DailyRollup, name) for name in SENTIMENTS]
        returned = statement.returning(DailyRollup.topic_id, DailyRollup.source_kind, *columns)
        for topic_id, source_kind, *counts in db.execute(returned):
            total = self.counts[int(topic_id), str(source_kind)]
            for index, count in enumerate(counts):
                total[index] -= int(count or 0)

    def inserted(self, rows: Iterable[dict[str, Any]]) -> None:
        """Add the rollup rows about to be inserted."""
        for row in rows:
            total = self.counts[int(row["topic_id"]), str(row["source_kind"])]
            for index, name in enumerate(SENTIMENTS):
                total[index] += int(row[name])

    def save(self, db: Session) -> None:
        """Add the changes to the stored totals (a row per topic and kind, when new)."""
        rows = [
            {
                "workspace_id": self.workspace_id,
                "topic_id": topic_id,
                "source_kind": source_kind,
                **dict(zip(SENTIMENTS, counts, strict=True)),
            }
            # In key order: two transactions adding to the same rows lock them in one order.
            for (topic_id, source_kind), counts in sorted(self.counts.items())
            if any(counts)
        ]
        self.counts.clear()
        if not rows:
            return
        statement = insert_statement(db, RollupTotal)
        statement = statement.on_conflict_do_update(
            index_elements=["workspace_id", "topic_id", "source_kind"],
            set_={
                name: getattr(RollupTotal, name) + statement.excluded[name] for name in SENTIMENTS
            },
        )
        db.execute(statement, rows)


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
    kept_from = detail_kept_from(db, workspace_id=workspace_id, kind=RETENTION_KIND)
    floor = kept_from.astimezone(UTC).date() if kept_from is not None else None
    ranges: list[tuple[date, date | None] | None]
    if days is not None:
        ranges = [*_day_ranges(day for day in days if floor is None or day >= floor)]
    else:
        ranges = [None if floor is None else (floor, None)]
    sources: list[tuple[Any, int | None]] = [] if topic_id is not None else [(MentionFacet, None)]
    sources.append((TopicMatch, topic_id))
    change = _TotalsChange(workspace_id)
    for span in ranges:
        stale = delete(DailyRollup).where(DailyRollup.workspace_id == workspace_id)
        if span is not None:
            stale = stale.where(DailyRollup.day >= span[0])
            if span[1] is not None:
                stale = stale.where(DailyRollup.day <= span[1])
        if topic_id is not None:
            stale = stale.where(DailyRollup.topic_id == topic_id)
        change.deleted(db, stale)
        for table, only_topic in sources:
            query = _rollup_query(
                table, dialect, workspace_id=workspace_id, span=span, topic_id=only_topic
            )
            rows = _grouped(db, query, workspace_id=workspace_id)
            for start in range(0, len(rows), 5000):
                db.execute(insert(DailyRollup), rows[start : start + 5000])
            change.inserted(rows)
            written += len(rows)
    change.save(db)
    return written
