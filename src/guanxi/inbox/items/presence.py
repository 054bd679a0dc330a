"""Who else has an item open: the thread page's collision warning ("Li Na is replying…").

The thread page tells the server every few seconds that the member still has the item open
(and whether their reply box holds text); the answer names the other members who did the
same within ``PRESENCE_SECONDS``. The rows live in the database, so members served by
different web processes see one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User
from guanxi.core.db import utcnow
from guanxi.core.upsert import upsert
from guanxi.inbox.items.models import ItemPresence

# The page refreshes every POLL seconds; a member whose page stopped is gone after TTL.
PRESENCE_POLL_SECONDS = 5
PRESENCE_SECONDS = 20


@dataclass(frozen=True)
class Present:
    """Another member with the item open now."""

    name: str
    replying: bool


def mark_present(
    db: Session, *, item_id: int, user_id: int, replying: bool, now: datetime | None = None
) -> None:
    """Record that the member has the item open now (and is or is not writing a reply)."""
    upsert(
        db,
        ItemPresence,
        {"item_id": item_id, "user_id": user_id, "replying": replying, "seen_at": now or utcnow()},
        unique=["item_id", "user_id"],
        update=["replying", "seen_at"],
    )


def others_present(
    db: Session, *, item_id: int, user_id: int, now: datetime | None = None
) -> list[Present]:
    """The other members with the item open within the last ``PRESENCE_SECONDS``, those
    replying first."""
    since = (now or utcnow()) - timedelta(seconds=PRESENCE_SECONDS)
    rows = db.execute(
        select(User.name, ItemPresence.replying)
        .join(User, User.id == ItemPresence.user_id)
        .where(
            ItemPresence.item_id == item_id,
            ItemPresence.user_id != user_id,
            ItemPresence.seen_at >= since,
        )
        .order_by(ItemPresence.replying.desc(), User.name)
    )
    return [Present(name=name, replying=bool(replying)) for name, replying in rows]
