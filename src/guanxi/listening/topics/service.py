"""Topic queries: create, validate, edit, delete; match mentions and tell the store.

The enrichment flow calls ``match_mentions`` after each enriched batch. It replaces the
batch's ``TopicMatch`` rows (the matched terms and where they are, for highlighting) and
writes the batch's facts to the mention store (``listening.store``), which keeps the
dashboards' counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, selectinload

from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import create_unique
from guanxi.listening.mentions import service as mention_service
from guanxi.listening.mentions.models import Author, Mention
from guanxi.listening.store import mention_store
from guanxi.listening.store.base import MentionFact, MentionStore
from guanxi.listening.store.sql import refresh_rollup
from guanxi.listening.topics.models import TopicCategory, TopicMatch, TopicQuery
from guanxi.listening.topics.queries import (
    MentionFacts,
    QueryMatcher,
    QuerySyntaxError,
    parse_query,
)

NAME_MAX_LENGTH = 80
MATCH_BATCH = 2000

__all__ = ["refresh_rollup"]  # the SQL store's recount, used by imports and benchmarks


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
    mention_store(db).forget_topic(workspace_id=workspace_id, topic_id=topic.id)
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
    store = mention_store(db)
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
        if not mentions:
            continue
        rows = _match_rows(matcher, mentions)
        if rows:
            db.execute(insert(TopicMatch), rows)
        stored += len(rows)
        topics: dict[int, list[int]] = {}
        for row in rows:
            topics.setdefault(row["mention_id"], []).append(row["topic_id"])
        store.write(_facts(db, store, mentions, topics), pending_days=pending_days)
    return stored


def workspace_words(db: Session, *, workspace_id: int) -> Callable[[str], tuple[str, ...]]:
    """The words of a normalized text, segmented with the workspace's dictionary (its
    tracked accounts' names), as the enrichment segments them."""
    # Loaded only for a store that keeps the words: the segmenter and its dictionary.
    from guanxi.nlp.segment import segmenter, user_words, words  # noqa: PLC0415

    names = {a.name for a in mention_service.list_tracked(db, workspace_id=workspace_id)} - {""}
    jieba = segmenter(user_words(names))
    return lambda text: tuple(words(text, jieba))


def _facts(
    db: Session, store: MentionStore, mentions: Sequence[Mention], topics: dict[int, list[int]]
) -> list[MentionFact]:
    """What the store keeps of these enriched mentions (their words when it wants them,
    segmented with the workspace's dictionary, as the enrichment did)."""
    segment = None
    if store.wants_text and mentions:
        segment = workspace_words(db, workspace_id=mentions[0].workspace_id)
    facts = []
    for mention in mentions:
        enrichment = mention.enrichment
        assert enrichment is not None
        facts.append(
            MentionFact(
                mention_id=mention.id,
                author_id=mention.author_id,
                topic_ids=tuple(sorted(topics.get(mention.id, ()))),
                keywords=tuple(enrichment.keywords or ()),
                tokens=segment(enrichment.normalized_text) if segment else (),
                text=mention.text if store.wants_text else "",
                **facet_values(mention),
            )
        )
    return facts


def rematch_topic(db: Session, *, topic: TopicQuery) -> int:
    """Redo one topic's matches over all the workspace's mentions, and tell the store."""
    db.execute(delete(TopicMatch).where(TopicMatch.topic_id == topic.id))
    stored = 0
    matched: list[int] = []
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
            matched.extend(row["mention_id"] for row in rows)
    mention_store(db).topic_rematched(
        workspace_id=topic.workspace_id, topic_id=topic.id, mention_ids=matched
    )
    return stored


def settle_days(db: Session, *, workspace_id: int, days: set[date]) -> None:
    """Bring the store's counts of ``days`` up to date after a bulk import."""
    mention_store(db).settle(workspace_id=workspace_id, days=days)


def author_label(author: Author | None) -> str:
    """An author's display name, or their platform id when the source had no name."""
    if author is None:
        return ""
    return author.name or author.external_id
