"""Measure's raw rows under a workspace's retention: post snapshots older than the period
go. A post keeps its latest figures (``MeasuredPost`` carries a copy), and the account's
days are kept whole, so every total and per-day figure stays; only the oldest points of a
post's curve go, and its page says from which day they are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.in_lists import among
from guanxi.core.retention import RetentionKind
from guanxi.measure.models import MeasuredPost, PostSnapshot

KIND = "measure.snapshots"


def _older(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
    return (MeasuredPost.workspace_id == workspace_id, PostSnapshot.observed_at < before)


def count_snapshots(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's post snapshots taken before ``before``."""
    query = (
        select(func.count())
        .select_from(PostSnapshot)
        .join(MeasuredPost, MeasuredPost.id == PostSnapshot.post_id)
        .where(*_older(workspace_id, before))
    )
    return int(db.scalar(query) or 0)


def prune_snapshots(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` snapshots taken before ``before``; returns how many went."""
    ids = list(
        db.scalars(
            select(PostSnapshot.id)
            .join(MeasuredPost, MeasuredPost.id == PostSnapshot.post_id)
            .where(*_older(workspace_id, before))
            .limit(limit)
        )
    )
    if not ids:
        return 0
    gone = db.execute(
        delete(PostSnapshot).where(among(db, PostSnapshot.id, ids)).returning(PostSnapshot.id)
    )
    return len(gone.all())


SNAPSHOTS = RetentionKind(
    key=KIND,
    label=N_("Post snapshots"),
    description=N_(
        "Each post's figures at each moment they were collected: the points of its curve. "
        "Every post keeps its latest figures and every account its days."
    ),
    minimum_days=90,
    minimum_reason=N_(
        "a post is snapshotted during its first 30 days and compared with the posts of the "
        "last 90 days."
    ),
    prune=prune_snapshots,
    count=count_snapshots,
)
