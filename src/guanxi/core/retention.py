"""Retention of raw analytics rows: what a capability declares about each kind it keeps.

A workspace may keep a kind of raw row (listening's mentions, measure's snapshots, convert's
clicks...) for a number of days only; the daily figures made from them are kept. Each
capability names its kinds in its declaration (``Capability.retention``) with the shortest
period its pages still need and the function that deletes one batch of rows older than a
moment; the ``retention`` service stores each workspace's choice and runs the deletions
(the worker's daily job and ``guanxi db prune``). An analytics store other than the SQL
tables calls the same ``prune`` for its own rows: (workspace, cutoff) → rows deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The longest period a workspace may choose for any kind (about ten years).
MAX_KEEP_DAYS = 3650


class PruneBatch(Protocol):
    """Delete at most ``limit`` of the workspace's rows older than ``before`` (what they
    counted added to the kind's rollup in the same transaction: only the rows this call
    deleted, so two runs at once never count a row twice); return how many it deleted, 0
    when none is left. The caller commits."""

    def __call__(self, db: Session, *, workspace_id: int, before: datetime, limit: int) -> int: ...


class CountOlder(Protocol):
    """How many of the workspace's rows are older than ``before`` (what a prune would delete)."""

    def __call__(self, db: Session, *, workspace_id: int, before: datetime) -> int: ...


@dataclass(frozen=True)
class RetentionKind:
    """One kind of raw row a workspace may keep for a limited period."""

    key: str  # "listening.mentions": stored with each workspace's choice, named in the CLI
    label: str  # marked with N_
    # What goes and what stays, for the settings page (marked with N_).
    description: str
    minimum_days: int
    # Why it cannot be shorter (marked with N_), given with the refusal.
    minimum_reason: str
    prune: PruneBatch
    count: CountOlder
    maximum_days: int = MAX_KEEP_DAYS
