"""The listening dashboards: every panel is one query, the same on SQLite and PostgreSQL.

Counting panels (volume, sentiment, share of voice, source kinds, journey stages,
platforms) group the ``DailyRollup`` rows, so their cost depends on days and dimensions,
not on the number of mentions. Panels that need the mentions themselves (top authors, top
keywords, the drill-down list, exports) read the enrichment table through its
``(workspace_id, posted_at)`` indexes or, with a topic filter, through the topic matches'
``(workspace_id, topic_id, posted_at)`` index, newest first with a limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session, defer
from starlette.datastructures import QueryParams

from guanxi.catalog.service import platform_name
from guanxi.core import fields
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.core.report import Chart, ChartKind, Series, Text
from guanxi.listening.insight.models import MentionRowRead
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.topics.models import (
    ALL_MENTIONS,
    DailyRollup,
    MentionFacet,
    TopicMatch,
    TopicQuery,
)
from guanxi.web import charts

SENTIMENTS = ("positive", "neutral", "negative")
SOURCE_KINDS = ("personal", "public", "marketer")
STAGES = (
    "need_recognition",
    "information_search",
    "evaluation",
    "purchase",
    "post_purchase",
    "none",
)
SENTIMENT_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
SOURCE_KIND_LABELS = {
    "personal": N_("Personal (word of mouth)"),
    "public": N_("Public"),
    "marketer": N_("Marketer-dominated"),
}
STAGE_LABELS = {
    "need_recognition": N_("Need recognition"),
    "information_search": N_("Information search"),
    "evaluation": N_("Evaluation of alternatives"),
    "purchase": N_("Purchase"),
    "post_purchase": N_("Post-purchase experience"),
    "none": N_("No stage"),
}
KEYWORD_SAMPLE = 2_000  # top keywords are counted over the newest mentions in the filter
# Below this many mentions in the filter, top authors start from the mentions; above it,
# from the authors with the most followers, each checked by an index-only probe.
AUTHORS_FROM_MENTIONS_BELOW = 200
PAGE_SIZE = 50
MAX_SPAN_DAYS = charts.MAX_DAYS  # the longest date axis a chart draws day by day


LIST_PARAMS = ("platform", "topic", "sentiment", "kind", "stage")


def _day(value: str | None, label: str) -> date | None:
    return fields.day(value, field=label) if value else None


@dataclass(frozen=True)
class DashboardFilters:
    """The filters every panel takes; empty tuples mean "any"."""

    start: date | None = None  # first day included (UTC)
    end: date | None = None  # last day included (UTC)
    platforms: tuple[str, ...] = ()
    topic_ids: tuple[int, ...] = ()
    sentiments: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, params: QueryParams) -> DashboardFilters:
        """The filters in a query string (lists repeat: ``platform=a&platform=b``)."""
        lists = {name: tuple(v for v in params.getlist(name) if v) for name in LIST_PARAMS}
        topic_ids = tuple(
            found for value in lists["topic"] if (found := parse_id(value)) is not None
        )
        if len(topic_ids) != len(lists["topic"]):
            raise UserError(N_("Choose topics from the list."))
        return cls(
            start=_day(params.get("start"), N_("Start date")),
            end=_day(params.get("end"), N_("End date")),
            platforms=lists["platform"],
            topic_ids=topic_ids,
            sentiments=lists["sentiment"],
            kinds=lists["kind"],
            stages=lists["stage"],
        )

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise UserError(N_("The start date is after the end date. Swap them."))
        if self.start and self.end and (self.end - self.start).days >= MAX_SPAN_DAYS:
            raise UserError(N_("Choose a range of at most {days} days."), days=str(MAX_SPAN_DAYS))
        for value, allowed in (
            (self.sentiments, SENTIMENTS),
            (self.kinds, SOURCE_KINDS),
            (self.stages, STAGES),
        ):
            unknown = set(value) - set(allowed)
            if unknown:
                raise UserError(
                    N_("Unknown filter value “{value}”. Pick one from the list."),
                    value=min(unknown),
                )

    @property
    def begin_at(self) -> datetime | None:
        """The first instant included."""
        return datetime.combine(self.start, time(), tzinfo=UTC) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        """The first instant no longer included."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)


# --- Counting panels, on the rollup ----------------------------------------------------


def _rollup_where(workspace_id: int, filters: DashboardFilters) -> list[ColumnElement[bool]]:
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


def _topic_scope(filters: DashboardFilters) -> ColumnElement[bool]:
    if filters.topic_ids:
        return DailyRollup.topic_id.in_(filters.topic_ids)
    return DailyRollup.topic_id == ALL_MENTIONS


def _count(filters: DashboardFilters) -> ColumnElement[Any]:
    """The number of mentions of a rollup row that pass the sentiment filter."""
    chosen = filters.sentiments or SENTIMENTS
    columns = [getattr(DailyRollup, name) for name in chosen]
    total: ColumnElement[Any] = columns[0]
    for column in columns[1:]:
        total = total + column
    return func.coalesce(func.sum(total), 0)


def _by(db: Session, column: Any, workspace_id: int, filters: DashboardFilters) -> dict[str, int]:
    query = (
        select(column, _count(filters))
        .where(*_rollup_where(workspace_id, filters), _topic_scope(filters))
        .group_by(column)
    )
    return {str(key): int(value) for key, value in db.execute(query)}


def total_mentions(db: Session, *, workspace_id: int, filters: DashboardFilters) -> int:
    """How many enriched mentions pass the filters (with a topic filter: topic matches)."""
    query = select(_count(filters)).where(
        *_rollup_where(workspace_id, filters), _topic_scope(filters)
    )
    return int(db.scalar(query) or 0)


def volume(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions per day for each topic (the selected ones, else every active topic)."""
    topics = _topics(db, workspace_id=workspace_id, topic_ids=filters.topic_ids)
    ids = [topic.id for topic in topics] or [ALL_MENTIONS]
    query = (
        select(DailyRollup.day, DailyRollup.topic_id, _count(filters))
        .where(*_rollup_where(workspace_id, filters), DailyRollup.topic_id.in_(ids))
        .group_by(DailyRollup.day, DailyRollup.topic_id)
        .order_by(DailyRollup.day)
    )
    per_topic: dict[int, dict[date, int]] = {topic_id: {} for topic_id in ids}
    for day, topic_id, count in db.execute(query):
        per_topic[topic_id][day] = int(count)
    days = _axis(filters, [day for counts in per_topic.values() for day in counts])
    names = {topic.id: topic.name for topic in topics}
    series = [
        {
            "topic_id": topic_id,
            "name": names.get(topic_id, ""),
            "data": charts.fill_days(per_topic[topic_id], days),
        }
        for topic_id in ids
    ]
    return {"days": [day.isoformat() for day in days], "series": series}


def _axis(filters: DashboardFilters, known: Sequence[date]) -> list[date]:
    """Every day of the filtered range (else of the data): a day without mentions is 0."""
    try:
        return charts.continuous_days(known, start=filters.start, end=filters.end)
    except charts.ChartRangeError:
        raise UserError(
            N_("Choose a range of at most {days} days."), days=str(MAX_SPAN_DAYS)
        ) from None


def sentiment_trend(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Positive, neutral and negative mentions per day."""
    query = (
        select(
            DailyRollup.day,
            *(func.coalesce(func.sum(getattr(DailyRollup, name)), 0) for name in SENTIMENTS),
        )
        .where(*_rollup_where(workspace_id, filters), _topic_scope(filters))
        .group_by(DailyRollup.day)
        .order_by(DailyRollup.day)
    )
    chosen = filters.sentiments or SENTIMENTS
    per_day: dict[str, dict[date, int]] = {name: {} for name in SENTIMENTS}
    for day, *counts in db.execute(query):
        for name, count in zip(SENTIMENTS, counts, strict=True):
            per_day[name][day] = int(count) if name in chosen else 0
    days = _axis(filters, list(per_day[SENTIMENTS[0]]))
    series = {name: charts.fill_days(per_day[name], days) for name in SENTIMENTS}
    return {"days": [day.isoformat() for day in days], "series": series}


def share_of_voice(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions of the brand and each competitor, and their shares of the total."""
    topics = [
        topic
        for topic in _topics(db, workspace_id=workspace_id, topic_ids=filters.topic_ids)
        if topic.category in ("brand", "competitor")
    ]
    if not topics:
        return {"total": 0, "items": [], "needs_competitor": False}
    query = (
        select(DailyRollup.topic_id, _count(filters))
        .where(
            *_rollup_where(workspace_id, filters),
            DailyRollup.topic_id.in_([topic.id for topic in topics]),
        )
        .group_by(DailyRollup.topic_id)
    )
    counts = {topic_id: int(count) for topic_id, count in db.execute(query)}
    total = sum(counts.values())
    items = [
        {
            "topic_id": topic.id,
            "name": topic.name,
            "category": topic.category,
            "mentions": counts.get(topic.id, 0),
            "share": round(counts.get(topic.id, 0) / total, 4) if total else 0.0,
        }
        for topic in topics
    ]
    items.sort(key=lambda item: -int(str(item["mentions"])))
    # One topic's share is always 100%: the chart asks for a competitor to compare with.
    return {"total": total, "items": items, "needs_competitor": len(topics) < 2}


def source_kind_mix(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions by kind of source: personal, public, marketer-dominated."""
    return source_kinds_and_total(db, workspace_id=workspace_id, filters=filters)[0]


def source_kinds_and_total(
    db: Session, *, workspace_id: int, filters: DashboardFilters
) -> tuple[dict[str, Any], int]:
    """``source_kind_mix`` and ``total_mentions`` from one query: every rollup row has one
    kind of source, so the kinds' counts add up to the total (the dashboard shows both;
    each was a sum over the workspace's rollups)."""
    counts = _by(db, DailyRollup.source_kind, workspace_id, filters)
    mix = {"items": [{"key": kind, "mentions": counts.get(kind, 0)} for kind in SOURCE_KINDS]}
    return mix, sum(counts.values())


def source_kinds_chart(mix: dict[str, Any]) -> Chart:
    """``source_kind_mix``'s counts as the pie the dashboard and the report's listening
    section both draw, the kinds in ``SOURCE_KINDS`` order."""
    items = mix["items"]
    return Chart(
        "source_kinds",
        Text(N_("Kinds of source")),
        ChartKind.PIE,
        tuple(Text(SOURCE_KIND_LABELS[item["key"]]) for item in items),
        (Series(Text(N_("Mentions")), tuple(float(item["mentions"]) for item in items)),),
    )


def stage_funnel(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions at each step of the consumer journey, in journey order."""
    counts = _by(db, DailyRollup.stage, workspace_id, filters)
    return {"items": [{"key": stage, "mentions": counts.get(stage, 0)} for stage in STAGES]}


def platform_mix(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions by platform, largest first, each named as the catalog names it."""
    counts = _by(db, DailyRollup.platform, workspace_id, filters)
    items = [
        {"key": key, "name": platform_name(key), "mentions": value}
        for key, value in counts.items()
        if value
    ]
    return {"items": sorted(items, key=lambda item: -int(item["mentions"]))}


def _topics(db: Session, *, workspace_id: int, topic_ids: Sequence[int]) -> list[TopicQuery]:
    query = select(TopicQuery).where(TopicQuery.workspace_id == workspace_id)
    query = (
        query.where(TopicQuery.id.in_(topic_ids))
        if topic_ids
        else query.where(TopicQuery.active.is_(True))
    )
    return list(db.scalars(query.order_by(TopicQuery.id)))


# --- Panels over the mentions ----------------------------------------------------------


def _facets_where(
    source: Any, workspace_id: int, filters: DashboardFilters
) -> list[ColumnElement[bool]]:
    """The filters as conditions on MentionFacet or TopicMatch (same column names)."""
    where: list[ColumnElement[bool]] = [source.workspace_id == workspace_id]
    if filters.begin_at:
        where.append(source.posted_at >= filters.begin_at)
    if filters.end_before:
        where.append(source.posted_at < filters.end_before)
    for column, values in (
        (source.sentiment, filters.sentiments),
        (source.source_kind, filters.kinds),
        (source.stage, filters.stages),
        (source.platform, filters.platforms),
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
    query = select(source.mention_id).where(*_facets_where(source, workspace_id, filters))
    if source is TopicMatch:
        query = query.where(TopicMatch.topic_id == filters.topic_ids[0])
    elif filters.topic_ids:
        query = query.where(_in_topics(MentionFacet.mention_id, filters.topic_ids))
    return source, query.order_by(source.posted_at.desc(), source.mention_id.desc())


def top_keywords(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 30
) -> dict[str, Any]:
    """The most frequent keywords of the newest ``KEYWORD_SAMPLE`` mentions in the filter."""
    _source, scan = filtered_scan(workspace_id, filters)
    newest = scan.limit(KEYWORD_SAMPLE).subquery()
    query = select(MentionEnrichment.keywords).join(
        newest, newest.c.mention_id == MentionEnrichment.mention_id
    )
    counter: Counter[str] = Counter()
    sampled = 0
    for (keywords,) in db.execute(query):
        sampled += 1
        counter.update(set(keywords or ()))
    items = [{"keyword": word, "mentions": count} for word, count in counter.most_common(limit)]
    return {"sampled": sampled, "items": items}


def top_authors(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 10
) -> dict[str, Any]:
    """The authors with the most followers among those who wrote mentions in the filter."""
    in_filter = total_mentions(db, workspace_id=workspace_id, filters=filters)
    if in_filter == 0:
        return {"items": []}
    facets = _facets_where(MentionFacet, workspace_id, filters)
    if filters.topic_ids:
        facets.append(_in_topics(MentionFacet.mention_id, filters.topic_ids))
    if in_filter < AUTHORS_FROM_MENTIONS_BELOW:
        # Few mentions: count them per author, then rank those authors.
        count_query = (
            select(MentionFacet.author_id, func.count())
            .where(*facets, MentionFacet.author_id.is_not(None))
            .group_by(MentionFacet.author_id)
        )
        counts = dict(db.execute(count_query).all())
        authors = (
            list(
                db.scalars(
                    select(Author)
                    .where(Author.id.in_(list(counts)))
                    .order_by(func.coalesce(Author.followers, 0).desc(), Author.id)
                    .limit(limit)
                )
            )
            if counts
            else []
        )
    else:
        # Many: walk the authors by followers and keep those with a mention in the filter
        # (a probe of the facets' author index each); the first ``limit`` found win.
        wrote = exists().where(*facets, MentionFacet.author_id == Author.id)
        authors = list(
            db.scalars(
                select(Author)
                .where(Author.workspace_id == workspace_id, Author.followers.is_not(None), wrote)
                .order_by(Author.followers.desc(), Author.id)
                .limit(limit)
            )
        )
        count_query = (
            select(MentionFacet.author_id, func.count())
            .where(*facets, MentionFacet.author_id.in_([author.id for author in authors]))
            .group_by(MentionFacet.author_id)
        )
        counts = dict(db.execute(count_query).all())
    items = [
        {
            "author_id": author.id,
            "name": author.name or author.external_id,
            "platform": author.platform,
            "followers": author.followers or 0,
            "kind": author.kind,
            "verified_type": author.verified_type,
            "mentions": int(counts.get(author.id, 0)),
        }
        for author in authors
    ]
    return {"items": items}


def top_mentions(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 10
) -> list[tuple[Mention, Author | None]]:
    """The mentions in the filter with the most engagements (likes, comments and reposts as
    the platform counted them), most first, each with its author."""
    facets = _facets_where(MentionFacet, workspace_id, filters)
    if filters.topic_ids:
        facets.append(_in_topics(MentionFacet.mention_id, filters.topic_ids))
    engaged = Mention.likes + Mention.comments + Mention.reposts
    query = (
        select(Mention, Author)
        .join(MentionFacet, MentionFacet.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(*facets)
        .order_by(engaged.desc(), Mention.id)
        .limit(limit)
        .options(defer(Mention.raw))
    )
    return [(mention, author) for mention, author in db.execute(query)]


# What a drill-down row shows, read as columns: whole mentions, enrichments and authors
# (JSON, texts as imported and analysed, instance state) cost more than the page's rendering.
_ROW_COLUMNS = (
    Mention.id,
    Mention.posted_at,
    Mention.platform,
    Mention.url,
    Mention.text,
    Author.id,
    Author.name,
    Author.external_id,
    Author.kind,
    Author.followers,
    MentionEnrichment.sentiment,
    MentionEnrichment.positive_probability,
    MentionEnrichment.source_kind,
    MentionEnrichment.stage,
    MentionEnrichment.stage_cue,
)


def _rows(db: Session, ids: list[int], filters: DashboardFilters) -> list[MentionRowRead]:
    """The drill-down rows of the mentions ``ids`` (enriched ones only), in no set order."""
    found = list(
        db.execute(
            select(*_ROW_COLUMNS)
            .join(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.id.in_(ids))
        )
    )
    matches: dict[int, list[tuple[str, list[list[int]]]]] = {}
    if found:
        match_query = (
            select(TopicMatch.mention_id, TopicQuery.name, TopicMatch.spans)
            .join(TopicQuery, TopicQuery.id == TopicMatch.topic_id)
            .where(TopicMatch.mention_id.in_([row[0] for row in found]))
        )
        if filters.topic_ids:
            match_query = match_query.where(TopicMatch.topic_id.in_(filters.topic_ids))
        for mention_id, name, spans in db.execute(match_query):
            matches.setdefault(mention_id, []).append((name, spans))
    rows = []
    for (
        mention_id,
        posted_at,
        platform,
        url,
        text,
        author_id,
        author_name,
        author_external_id,
        author_kind,
        followers,
        sentiment,
        positive_probability,
        source_kind,
        stage,
        stage_cue,
    ) in found:
        topic_matches = matches.get(mention_id, [])
        known = author_id is not None
        rows.append(
            MentionRowRead(
                mention_id=mention_id,
                posted_at=posted_at,
                platform=platform,
                url=url,
                text=text,
                author=(author_name or author_external_id) if known else "",
                author_kind=author_kind if known else "",
                followers=(followers or 0) if known else 0,
                sentiment=sentiment,
                positive_probability=positive_probability,
                source_kind=source_kind,
                stage=stage,
                stage_cue=stage_cue,
                topics=sorted({name for name, _spans in topic_matches}),
                highlights=sorted(
                    {(int(s[0]), int(s[1])) for _n, spans in topic_matches for s in spans}
                ),
            )
        )
    return rows


def _page(db: Session, scan: Select[Any], filters: DashboardFilters) -> list[MentionRowRead]:
    """The drill-down rows of the mention ids ``scan`` selects, in its order."""
    ids = list(db.scalars(scan))
    if not ids:
        return []
    position = {mention_id: index for index, mention_id in enumerate(ids)}
    rows = _rows(db, ids, filters)
    return sorted(rows, key=lambda row: position[row.mention_id])


def drill_down(
    db: Session, *, workspace_id: int, filters: DashboardFilters, page: int = 1
) -> dict[str, Any]:
    """One page of the mentions passing the filters, newest first, matches highlighted."""
    page = max(1, page)
    _source, scan = filtered_scan(workspace_id, filters)
    rows = _page(db, scan.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1), filters)
    return {"page": page, "has_more": len(rows) > PAGE_SIZE, "rows": rows[:PAGE_SIZE]}


def export_rows(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 100_000
) -> Iterator[MentionRowRead]:
    """The mentions passing the filters for an export, newest first, in pages."""
    source, scan = filtered_scan(workspace_id, filters)
    last: tuple[datetime, int] | None = None
    sent = 0
    while sent < limit:
        query = scan
        if last is not None:
            query = query.where(
                (source.posted_at < last[0])
                | and_(source.posted_at == last[0], source.mention_id < last[1])
            )
        rows = _page(db, query.limit(min(1000, limit - sent)), filters)
        if not rows:
            return
        yield from rows
        sent += len(rows)
        last = (rows[-1].posted_at, rows[-1].mention_id)


PANELS = {
    "volume": volume,
    "sentiment": sentiment_trend,
    "share-of-voice": share_of_voice,
    "source-kinds": source_kind_mix,
    "stages": stage_funnel,
    "platforms": platform_mix,
    "authors": top_authors,
    "keywords": top_keywords,
}
