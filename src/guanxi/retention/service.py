"""Each workspace's retention of raw rows: the kinds the capabilities declare, the periods
owners choose (checked where they enter), and the deletions, in bounded batches.

The deletions are resumable and idempotent: each batch is its own transaction (its rows
folded into the kind's rollup, deleted, and counted on the workspace's setting), the
cutoff is a UTC midnight, so a run stopped half-way and run again the same day goes on
where it stopped, and a second run finds nothing to delete. One audit event per workspace
and kind says how many rows a run deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.capability import capabilities
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.retention import RetentionKind
from guanxi.retention.models import RetentionSetting

# Rows per deletion batch: short transactions, so SQLite's one write lock is held briefly
# and PostgreSQL's locks and WAL stay small.
BATCH_ROWS = 2000

# (kind's key, rows deleted so far, rows to delete when known): the CLI's progress bar.
PruneProgress = Callable[[str, int, int], None]


def retention_kinds() -> tuple[RetentionKind, ...]:
    """Every installed capability's kinds of raw rows, in the capabilities' order."""
    return tuple(kind for capability in capabilities() for kind in capability.retention)


def kind_named(key: str) -> RetentionKind:
    """The kind whose key is ``key``; a clear error naming the known ones otherwise."""
    for kind in retention_kinds():
        if kind.key == key:
            return kind
    raise NotFoundError(
        N_("There is no kind of data named {key}: choose one of {known}."),
        key=key,
        known=", ".join(kind.key for kind in retention_kinds()),
    )


@dataclass(frozen=True)
class KindRetention:
    """One kind, as one workspace keeps it."""

    kind: RetentionKind
    keep_days: int | None  # None: forever
    detail_kept_from: datetime | None  # rows before it may be gone; None: none deleted yet
    rows_deleted: int
    last_pruned_at: datetime | None


def workspace_retention(db: Session, *, workspace_id: int) -> list[KindRetention]:
    """How the workspace keeps every kind (each kind once, "forever" when never set)."""
    stored = {
        row.kind: row
        for row in db.scalars(
            select(RetentionSetting).where(RetentionSetting.workspace_id == workspace_id)
        )
    }
    shown = []
    for kind in retention_kinds():
        row = stored.get(kind.key)
        shown.append(
            KindRetention(
                kind=kind,
                keep_days=row.keep_days if row else None,
                detail_kept_from=row.pruned_before if row else None,
                rows_deleted=row.rows_deleted if row else 0,
                last_pruned_at=row.last_pruned_at if row else None,
            )
        )
    return shown


def detail_kept_from(db: Session, *, workspace_id: int, kind: str) -> datetime | None:
    """The moment before which the workspace's rows of ``kind`` may have been deleted (their
    daily figures are kept); None when none was. Recounts of daily figures start there."""
    return db.scalar(
        select(RetentionSetting.pruned_before).where(
            RetentionSetting.workspace_id == workspace_id, RetentionSetting.kind == kind
        )
    )


def check_keep_days(kind: RetentionKind, keep_days: int | None) -> None:
    """Refuse a period shorter than the kind's minimum or longer than its maximum."""
    if keep_days is None:
        return
    if keep_days < kind.minimum_days:
        raise UserError(
            N_("{label} must be kept at least {days} days: {reason}"),
            label=kind.label,
            days=kind.minimum_days,
            reason=kind.minimum_reason,
        )
    if keep_days > kind.maximum_days:
        raise UserError(
            N_("{label} can be kept at most {days} days; leave it empty to keep it forever."),
            label=kind.label,
            days=kind.maximum_days,
        )


def _setting(db: Session, *, workspace_id: int, kind: str) -> RetentionSetting:
    row = db.get(RetentionSetting, (workspace_id, kind))
    if row is None:
        row = RetentionSetting(workspace_id=workspace_id, kind=kind, rows_deleted=0)
        db.add(row)
        db.flush()
    return row


def set_retention(
    db: Session, *, workspace: Workspace, actor: User | None, kind: str, keep_days: int | None
) -> KindRetention:
    """Keep the workspace's rows of ``kind`` for ``keep_days`` days (None: forever); audited.
    The rows go at the next deletion run (the worker's, daily, or ``guanxi db prune``)."""
    declared = kind_named(kind)
    check_keep_days(declared, keep_days)
    row = _setting(db, workspace_id=workspace.id, kind=kind)
    before = row.keep_days
    if before != keep_days:
        row.keep_days = keep_days
        record_audit(
            db,
            actor=actor,
            action="retention.change",
            entity_type="retention",
            entity_id=kind,
            workspace=workspace,
            before={"kind": kind, "keep_days": before},
            after={"kind": kind, "keep_days": keep_days},
        )
    db.flush()
    return next(k for k in workspace_retention(db, workspace_id=workspace.id) if k.kind is declared)


def cutoff(keep_days: int, *, now: datetime) -> datetime:
    """The UTC midnight before which rows kept ``keep_days`` days go (whole days kept, and
    the same moment all day long, so a run resumed the same day deletes the same rows)."""
    day = now.astimezone(UTC).date() - timedelta(days=keep_days)
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class PruneResult:
    """What one run did (or, dry, would do) to one workspace's rows of one kind."""

    workspace_slug: str
    kind: str
    before: datetime
    rows: int
    dry_run: bool


def prune_kind(
    db: Session,
    *,
    workspace: Workspace,
    kind: RetentionKind,
    before: datetime,
    batch_rows: int = BATCH_ROWS,
    progress: PruneProgress | None = None,
) -> int:
    """Delete the workspace's rows of ``kind`` older than ``before``, batch after batch, each
    committed with its count; audited once at the end. Returns the rows deleted."""
    total_expected = kind.count(db, workspace_id=workspace.id, before=before)
    row = _setting(db, workspace_id=workspace.id, kind=kind.key)
    # Marked before any row goes: recounts of daily figures stop at this moment from now on.
    if row.pruned_before is None or row.pruned_before < before:
        row.pruned_before = before
    db.commit()
    deleted = 0
    while True:
        batch = kind.prune(db, workspace_id=workspace.id, before=before, limit=batch_rows)
        if batch:
            # In SQL, so a run beside this one (another worker) adds its own rows too.
            row.rows_deleted = RetentionSetting.rows_deleted + batch
            row.last_pruned_at = utcnow()
        db.commit()
        deleted += batch
        if progress is not None:
            progress(kind.key, deleted, max(total_expected, deleted))
        if batch == 0:
            break
    if deleted:
        record_audit(
            db,
            actor=None,
            actor_label="guanxi",
            action="retention.prune",
            entity_type="retention",
            entity_id=kind.key,
            workspace=workspace,
            after={"kind": kind.key, "rows": deleted, "before": before.date().isoformat()},
        )
        db.commit()
    return deleted


def prune(
    db: Session,
    *,
    workspaces: Iterable[Workspace] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: PruneProgress | None = None,
) -> list[PruneResult]:
    """Apply every workspace's retention (or those given): the worker's daily job and
    ``guanxi db prune``. A dry run counts the rows it would delete and deletes none."""
    now = now or utcnow()
    chosen = list(workspaces) if workspaces is not None else list(db.scalars(select(Workspace)))
    settings = {
        (row.workspace_id, row.kind): row.keep_days
        for row in db.scalars(
            select(RetentionSetting).where(RetentionSetting.keep_days.is_not(None))
        )
    }
    results = []
    for workspace in chosen:
        for kind in retention_kinds():
            keep_days = settings.get((workspace.id, kind.key))
            if keep_days is None:
                continue
            before = cutoff(keep_days, now=now)
            if dry_run:
                rows = kind.count(db, workspace_id=workspace.id, before=before)
            else:
                rows = prune_kind(
                    db,
                    workspace=workspace,
                    kind=kind,
                    before=before,
                    batch_rows=batch_rows,
                    progress=progress,
                )
            results.append(PruneResult(workspace.slug, kind.key, before, rows, dry_run))
    return results
