"""Listening's raw rows under a workspace's retention: mentions older than the period go,
with their enrichment, facets and topic matches; the daily rollup the dashboards count
from stays (``store.sql.refresh_rollup`` never recounts the days before the cutoff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.in_lists import among
from guanxi.core.retention import RetentionKind
from guanxi.listening.mentions.models import RETENTION_KIND, Mention, MentionEnrichment
from guanxi.listening.store import mention_store
from guanxi.listening.topics.models import MentionFacet, TopicMatch

KIND = RETENTION_KIND
# An alert compares its window (at most 168 hours) with a baseline of at most 90 days before
# it (``alerts.service``): both must still be there.
ALERTS_REACH_DAYS = 7 + 90


def _older(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Mention.workspace_id == workspace_id, Mention.posted_at < before)


def count_mentions(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's mentions posted before ``before``."""
    return int(
        db.scalar(select(func.count()).select_from(Mention).where(*_older(workspace_id, before)))
        or 0
    )


def prune_mentions(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` mentions posted before ``before``, with what was found in
    them; their days stay counted in the rollup. Returns how many went.

    The last call of a run (none left) tells the analytics store, which forgets its own
    facts before ``before`` the same way (ClickHouse's rows; the SQL store's are gone)."""
    ids = list(db.scalars(select(Mention.id).where(*_older(workspace_id, before)).limit(limit)))
    if not ids:
        mention_store(db).delete_before(workspace_id=workspace_id, cutoff=before)
        return 0
    for table in (TopicMatch, MentionFacet, MentionEnrichment):
        db.execute(delete(table).where(among(db, table.mention_id, ids)))
    gone = db.execute(delete(Mention).where(among(db, Mention.id, ids)).returning(Mention.id))
    return len(gone.all())


MENTIONS = RetentionKind(
    key=KIND,
    label=N_("Listening posts"),
    description=N_(
        "Posts and comments, with their sentiment, topics and keywords. The dashboards' daily "
        "counts stay; lists, exports and drill-downs show only the days kept."
    ),
    minimum_days=ALERTS_REACH_DAYS,
    minimum_reason=N_(
        "alerts compare their last hours (up to 7 days) with a baseline of up to 90 days "
        "before them."
    ),
    prune=prune_mentions,
    count=count_mentions,
)
