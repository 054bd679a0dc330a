"""Measure's raw rows under a workspace's retention: post snapshots older than the period
go. A post keeps its latest figures (``MeasuredPost`` carries a copy), and the account's
days are kept whole, so every total and per-day figure stays; only the oldest points of a
post's curve go, and its page says from which day they are kept. The snapshots are in the
measure store (the SQL database, or ClickHouse), which deletes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.retention import RetentionKind
from guanxi.measure.store import measure_store

KIND = "measure.snapshots"


def count_snapshots(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's post snapshots taken before ``before``."""
    return measure_store(db).count_snapshots_before(workspace_id=workspace_id, before=before)


def prune_snapshots(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` snapshots taken before ``before``; returns how many went."""
    return measure_store(db).delete_before(workspace_id=workspace_id, before=before, limit=limit)


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
