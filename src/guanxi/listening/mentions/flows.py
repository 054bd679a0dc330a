"""Enrichment: what the NLP pipeline finds in mentions, stored beside them and matched
against the topic queries; and re-enrichment of what an older model version produced.

Enrichment spans listening and NLP: the pipeline (``guanxi.nlp``) is loaded on first use,
once per workspace dictionary (the names of the workspace's tracked accounts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from guanxi.core.db import utcnow
from guanxi.core.in_lists import each_among, rows_among
from guanxi.listening.mentions import service
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.topics import service as topics
from guanxi.nlp.pipeline import Document, Enrichment, default_pipeline

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # mentions re-enriched, and committed, at a time


class EnrichingPipeline(Protocol):
    """What listening needs of guanxi.nlp's pipeline (tests pass a small fake)."""

    @property
    def model_version(self) -> str:
        """The version every Enrichment from this pipeline carries."""
        ...

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        """One Enrichment per document, in order."""
        ...


@lru_cache(maxsize=32)
def _pipeline(user_dictionary: tuple[str, ...]) -> EnrichingPipeline:
    return default_pipeline(user_dictionary=user_dictionary)


def pipeline_for(db: Session, *, workspace_id: int) -> EnrichingPipeline:
    """The NLP pipeline for a workspace: its tracked accounts' names join the dictionary."""
    names = sorted(
        {account.name for account in service.list_tracked(db, workspace_id=workspace_id)} - {""}
    )
    return _pipeline(tuple(names))


# --- Enrichment -------------------------------------------------------------------------


def enrich_mentions(
    db: Session,
    *,
    workspace_id: int,
    mention_ids: Sequence[int],
    pipeline: EnrichingPipeline,
    pending_days: set[date] | None = None,
) -> int:
    """Enrich these mentions (replacing earlier results), then match them against the
    workspace's topic queries; returns how many were enriched.

    The dashboards' rollup of their days is refreshed at once, or, given ``pending_days``,
    those days are collected for one ``topics.refresh_rollup`` at the end of a bulk import.
    """
    if not mention_ids:
        return 0
    relations = service.official_relations(db, workspace_id=workspace_id)
    query = (
        select(Mention.id, Mention.text, Mention.platform, Mention.posted_at, Author)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.workspace_id == workspace_id)
    )
    rows = rows_among(db, query, Mention.id, mention_ids)
    documents = []
    for _id, text, platform, _posted, author in rows:
        hint = ""
        if author is not None:
            hint = relations.get((platform, author.external_id)) or relations.get(
                (platform, author.name), ""
            )
        documents.append(
            Document(
                text=text,
                platform=platform,
                author_id=author.external_id if author else "",
                author_name=author.name if author else "",
                verified_type=author.verified_type if author else None,
                verified_reason=author.verified_reason if author else "",
                followers=author.followers if author else None,
                author_kind_hint=hint,
            )
        )
    results = pipeline.enrich(documents)
    write_enrichments(
        db,
        workspace_id=workspace_id,
        targets=[
            (row[0], row[3], row[4].id if row[4] else None, row[4].kind if row[4] else None)
            for row in rows
        ],
        results=results,
        pending_days=pending_days,
    )
    return len(rows)


EnrichTarget = tuple[int, datetime, int | None, str | None]  # mention, posted, author, kind


def write_enrichments(
    db: Session,
    *,
    workspace_id: int,
    targets: Sequence[EnrichTarget],
    results: Sequence[Enrichment],
    pending_days: set[date] | None = None,
) -> None:
    """Store what the pipeline found for these mentions (replacing earlier results), set
    their authors' kind, and match them against the workspace's topic queries."""
    if not targets:
        return
    now = utcnow()
    ids = [target[0] for target in targets]
    for among_ids in each_among(db, MentionEnrichment.mention_id, ids):
        db.execute(delete(MentionEnrichment).where(among_ids))
    db.execute(
        insert(MentionEnrichment),
        [
            {
                "mention_id": mention_id,
                "workspace_id": workspace_id,
                "posted_at": posted_at,
                "language": found.language,
                "script": found.script,
                "normalized_text": found.normalized_text,
                "sentiment": found.sentiment,
                "positive_probability": float(found.positive_probability),
                "source_kind": found.source_kind,
                "source_reason": found.source_reason,
                "stage": found.stage,
                "stage_cue": found.stage_cue[:120],
                "keywords": list(found.keywords),
                "features": {
                    "emoticons": list(found.emoticons),
                    "hashtags": list(found.hashtags),
                    "mentions": list(found.mentions),
                    "urls": list(found.urls),
                },
                "model_version": found.model_version,
                "enriched_at": now,
            }
            for (mention_id, posted_at, _author, _kind), found in zip(targets, results, strict=True)
        ],
    )
    kinds = {
        author_id: found.source_kind
        for (_id, _posted, author_id, kind), found in zip(targets, results, strict=True)
        if author_id is not None and kind != found.source_kind
    }
    if kinds:
        db.execute(update(Author), [{"id": key, "kind": kind} for key, kind in kinds.items()])
    topics.match_mention_ids(
        db, workspace_id=workspace_id, mention_ids=ids, pending_days=pending_days
    )


def stale_mention_ids(
    db: Session,
    *,
    model_version: str,
    workspace_id: int | None = None,
    limit: int = BATCH_SIZE,
    after_id: int = 0,
) -> list[int]:
    """Mentions never enriched, or enriched by another model version (oldest first)."""
    query = (
        select(Mention.id)
        .outerjoin(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .where(
            Mention.id > after_id,
            or_(
                MentionEnrichment.mention_id.is_(None),
                MentionEnrichment.model_version != model_version,
            ),
        )
    )
    if workspace_id is not None:
        query = query.where(Mention.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(Mention.id).limit(limit)))


def reenrich(
    db: Session,
    *,
    workspace_id: int | None = None,
    pipeline: EnrichingPipeline | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    commit: bool = True,
) -> int:
    """Enrich every stale mention (after a model upgrade) in batches, each committed unless
    ``commit`` is off; returns how many were enriched. The CLI command and the worker's job
    both call this."""
    done = 0
    last_id = 0
    version = _version(db, pipeline, workspace_id)
    while True:
        ids = stale_mention_ids(
            db, model_version=version, workspace_id=workspace_id, limit=batch_size, after_id=last_id
        )
        if not ids:
            return done
        by_workspace: dict[int, list[int]] = {}
        for mention_id, owner in db.execute(
            select(Mention.id, Mention.workspace_id).where(Mention.id.in_(ids))
        ):
            by_workspace.setdefault(owner, []).append(mention_id)
        for owner, owned in by_workspace.items():
            chosen = pipeline or pipeline_for(db, workspace_id=owner)
            done += enrich_mentions(db, workspace_id=owner, mention_ids=owned, pipeline=chosen)
        if commit:
            db.commit()
        last_id = ids[-1]
        if progress is not None:
            progress(done)


def _version(db: Session, pipeline: EnrichingPipeline | None, workspace_id: int | None) -> str:
    if pipeline is not None:
        return pipeline.model_version
    # Every workspace's pipeline shares the models, so any one gives the version.
    return pipeline_for(db, workspace_id=workspace_id or 0).model_version


def count_stale(db: Session, *, model_version: str, workspace_id: int | None = None) -> int:
    """How many mentions ``reenrich`` would process."""
    query = (
        select(func.count(Mention.id))
        .outerjoin(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .where(
            or_(
                MentionEnrichment.mention_id.is_(None),
                MentionEnrichment.model_version != model_version,
            )
        )
    )
    if workspace_id is not None:
        query = query.where(Mention.workspace_id == workspace_id)
    return db.scalar(query) or 0
