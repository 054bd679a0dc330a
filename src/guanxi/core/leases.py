"""Claiming rows that are due, each leased so that two workers never take the same one.

A queue of outgoing work kept in a table (a delivery with a status and the time of its next
attempt) is claimed by moving that time on by the lease in a conditional update: only the
worker whose update still finds the row pending and due has it; the others skip it. The
row stays the truth: a claim whose worker vanished is due again when the lease runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session


def claim_due(
    db: Session,
    *,
    row_id: InstrumentedAttribute[int],
    status: InstrumentedAttribute[Any],
    due_at: InstrumentedAttribute[datetime | None],
    pending: object,
    now: datetime,
    lease_s: float,
    limit: int,
) -> list[int]:
    """Lease up to ``limit`` rows whose ``status`` is ``pending`` and whose ``due_at`` has
    come, oldest first, by moving ``due_at`` to ``now + lease_s``; committed. Returns the ids
    this call won (a row another worker claimed in between is not among them)."""
    table = row_id.class_
    due = list(
        db.scalars(
            select(row_id).where(status == pending, due_at <= now).order_by(due_at).limit(limit)
        )
    )
    claimed = []
    for found in due:
        result = db.execute(
            update(table)
            .where(row_id == found, status == pending, due_at <= now)
            .values({due_at.key: now + timedelta(seconds=lease_s)})
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(found)
    db.commit()
    return claimed
