"""The listening dashboards: every panel is one question to the mention store.

The store (``listening.store``) is the SQL database by default, ClickHouse when
``GUANXI_ANALYTICS_URL`` is set; either answers the counting panels (volume, sentiment,
share of voice, source kinds, journey stages, platforms) from its daily rollup, and the
panels over the mentions themselves (top authors, top keywords, the drill-down list,
exports) newest first with a limit. The mentions' records (text, author, highlights) are
read from the SQL database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session, defer

from guanxi.catalog.service import platform_name
from guanxi.core.errors import N_, UserError
from guanxi.core.report import Chart, ChartKind, Series, Text
from guanxi.listening.insight.models import MentionRowRead
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.store import mention_store
from guanxi.listening.store.base import (
    MAX_SPAN_DAYS,
    SENTIMENTS,
    SOURCE_KINDS,
    STAGES,
    DashboardFilters,
    Dimension,
)
from guanxi.listening.store.sql import facets_where
from guanxi.listening.topics.models import ALL_MENTIONS, TopicMatch, TopicQuery
from guanxi.web import charts

__all__ = ["SENTIMENTS", "SOURCE_KINDS", "STAGES", "DashboardFilters"]

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
PAGE_SIZE = 50


# --- Counting panels ------------------------------------------------------------------


def total_mentions(db: Session, *, workspace_id: int, filters: DashboardFilters) -> int:
    """How many enriched mentions pass the filters (with a topic filter: topic matches)."""
    return mention_store(db).count(workspace_id=workspace_id, filters=filters)


def volume(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions per day for each topic (the selected ones, else every active topic)."""
    topics = _topics(db, workspace_id=workspace_id, topic_ids=filters.topic_ids)
    ids = [topic.id for topic in topics] or [ALL_MENTIONS]
    per_topic = mention_store(db).per_day_by_topic(
        workspace_id=workspace_id, filters=filters, topic_ids=ids
    )
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
    found = mention_store(db).per_day_by_sentiment(workspace_id=workspace_id, filters=filters)
    chosen = filters.sentiments or SENTIMENTS
    per_day: dict[str, dict[date, int]] = {
        name: {day: counts[name] if name in chosen else 0 for day, counts in found.items()}
        for name in SENTIMENTS
    }
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
    counts = mention_store(db).count_by_topic(
        workspace_id=workspace_id, filters=filters, topic_ids=[topic.id for topic in topics]
    )
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


def _by(
    db: Session, dimension: Dimension, workspace_id: int, filters: DashboardFilters
) -> dict[str, int]:
    return mention_store(db).count_by(
        workspace_id=workspace_id, filters=filters, dimension=dimension
    )


def source_kind_mix(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions by kind of source: personal, public, marketer-dominated."""
    return source_kinds_and_total(db, workspace_id=workspace_id, filters=filters)[0]


def source_kinds_and_total(
    db: Session, *, workspace_id: int, filters: DashboardFilters
) -> tuple[dict[str, Any], int]:
    """``source_kind_mix`` and ``total_mentions`` from one query: every rollup row has one
    kind of source, so the kinds' counts add up to the total (the dashboard shows both;
    each was a sum over the workspace's rollups)."""
    counts = _by(db, "source_kind", workspace_id, filters)
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
    counts = _by(db, "stage", workspace_id, filters)
    return {"items": [{"key": stage, "mentions": counts.get(stage, 0)} for stage in STAGES]}


def platform_mix(db: Session, *, workspace_id: int, filters: DashboardFilters) -> dict[str, Any]:
    """Mentions by platform, largest first, each named as the catalog names it."""
    counts = _by(db, "platform", workspace_id, filters)
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


def top_keywords(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 30
) -> dict[str, Any]:
    """The most frequent keywords of the newest ``KEYWORD_SAMPLE`` mentions in the filter."""
    lists = mention_store(db).keyword_lists(
        workspace_id=workspace_id, filters=filters, sample=KEYWORD_SAMPLE
    )
    counter: Counter[str] = Counter()
    for keywords in lists:
        counter.update(set(keywords))
    # Ties by the word: the same order whatever order the store returned the mentions in.
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
    items = [{"keyword": word, "mentions": count} for word, count in ranked]
    return {"sampled": len(lists), "items": items}


def top_authors(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 10
) -> dict[str, Any]:
    """The authors with the most followers among those who wrote mentions in the filter."""
    found = mention_store(db).top_authors(workspace_id=workspace_id, filters=filters, limit=limit)
    items = [
        {
            "author_id": author.id,
            "name": author.name or author.external_id,
            "platform": author.platform,
            "followers": author.followers or 0,
            "kind": author.kind,
            "verified_type": author.verified_type,
            "mentions": count,
        }
        for author, count in found
    ]
    return {"items": items}


def _in_topics(mention_id: Any, topic_ids: Sequence[int]) -> ColumnElement[bool]:
    """The mention matches one of the topics (a probe of TopicMatch's primary key)."""
    return exists().where(TopicMatch.mention_id == mention_id, TopicMatch.topic_id.in_(topic_ids))


def top_mentions(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 10
) -> list[tuple[Mention, Author | None]]:
    """The mentions in the filter with the most engagements (likes, comments and reposts as
    the platform counted them), most first, each with its author.

    Engagements are the mentions' own records, so this reads the SQL database whatever
    the store: the enrichments, which hold the same facets."""
    where = facets_where(MentionEnrichment, workspace_id, filters, platform=Mention.platform)
    if filters.topic_ids:
        where.append(_in_topics(Mention.id, filters.topic_ids))
    engaged = Mention.likes + Mention.comments + Mention.reposts
    query = (
        select(Mention, Author)
        .join(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(*where)
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


def _rows(db: Session, ids: Sequence[int], filters: DashboardFilters) -> list[MentionRowRead]:
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


def _page(db: Session, ids: Sequence[int], filters: DashboardFilters) -> list[MentionRowRead]:
    """The drill-down rows of the mentions ``ids``, in that order."""
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
    ids = mention_store(db).newest_ids(
        workspace_id=workspace_id,
        filters=filters,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    rows = _page(db, ids, filters)
    return {"page": page, "has_more": len(rows) > PAGE_SIZE, "rows": rows[:PAGE_SIZE]}


def export_rows(
    db: Session, *, workspace_id: int, filters: DashboardFilters, limit: int = 100_000
) -> Iterator[MentionRowRead]:
    """The mentions passing the filters for an export, newest first, in pages."""
    store = mention_store(db)
    last: tuple[datetime, int] | None = None
    sent = 0
    while sent < limit:
        ids = store.newest_ids(
            workspace_id=workspace_id,
            filters=filters,
            limit=min(1000, limit - sent),
            before=last,
        )
        rows = _page(db, ids, filters)
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
