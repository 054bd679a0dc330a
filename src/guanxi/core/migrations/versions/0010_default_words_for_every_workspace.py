"""checks: every workspace has had the default sensitive-word list

A workspace now gets the default list when it is created. Workspaces created before were
given it on their first check or visit to the list; those that never were get it here,
exactly as they would have: the terms not listed yet, and the audit event that records the
seed (so a list emptied on purpose is never filled again).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.checks.words import default_entries, normalize
from guanxi.core.db import UTCDateTime, utcnow

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEED_ACTION = "sensitive_words.seed"

workspaces = sa.table("workspaces", sa.column("id", sa.Integer))
words = sa.table(
    "sensitive_words",
    sa.column("workspace_id", sa.Integer),
    sa.column("term", sa.String),
    sa.column("category", sa.String),
    sa.column("severity", sa.String),
    sa.column("created_at", UTCDateTime),
)
audit_events = sa.table(
    "audit_events",
    sa.column("workspace_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("after", sa.JSON),
    sa.column("created_at", UTCDateTime),
)


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    seeded = sa.select(audit_events.c.workspace_id).where(audit_events.c.action == SEED_ACTION)
    unseeded = bind.scalars(
        sa.select(workspaces.c.id).where(workspaces.c.id.not_in(seeded)).order_by(workspaces.c.id)
    ).all()
    entries = default_entries()
    now = utcnow()
    for workspace_id in unseeded:
        listed = {
            normalize(term)
            for term in bind.scalars(
                sa.select(words.c.term).where(words.c.workspace_id == workspace_id)
            )
        }
        rows = [
            {
                "workspace_id": workspace_id,
                "term": entry.term,
                "category": entry.category,
                "severity": entry.severity.value,
                "created_at": now,
            }
            for entry in entries
            if normalize(entry.term) not in listed
        ]
        if rows:
            bind.execute(words.insert(), rows)
        bind.execute(
            audit_events.insert().values(
                workspace_id=workspace_id,
                actor_label="system",
                action=SEED_ACTION,
                entity_type="sensitive_words",
                entity_id=str(workspace_id),
                after={"terms": len(entries)},
                created_at=now,
            )
        )


def downgrade() -> None:
    """Nothing to undo: the terms are the workspaces' lists now, as after a first check."""
