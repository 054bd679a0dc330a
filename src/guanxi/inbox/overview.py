"""What the workspace's front page shows of the inbox: what is open and whose it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.inbox.items.models import InboxItem, ItemStatus


@dataclass(frozen=True)
class InboxGlance:
    """Counts of open items."""

    open: int
    unassigned: int  # open, and nobody's yet


def glance(
    db: Session,
    *,
    workspace_id: int,
    now: datetime,  # noqa: ARG001 - the front page's clock; these counts do not depend on it
) -> InboxGlance:
    """The workspace's inbox at a glance."""
    row = db.execute(
        select(func.count(), func.count(InboxItem.assignee_id)).where(
            InboxItem.workspace_id == workspace_id, InboxItem.status == ItemStatus.OPEN
        )
    ).one()
    total, assigned = int(row[0]), int(row[1])
    return InboxGlance(open=total, unassigned=total - assigned)
