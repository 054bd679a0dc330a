"""Messages platforms push: each becomes an inbox item of kind message, stored once.

``guanxi.channels.webhooks`` receives a platform's pushes, has the channel's connector check
the signature and parse the body, and hands each ``MessageArrived`` to ``receive`` here.

Replays: a signed request seen before (same nonce and timestamp on the channel) is refused;
the platform's own retries of a message carry the same external id, which the inbox's
unique key turns into nothing new.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.channels.push import register_push_handler
from guanxi.connectors.push import MessageArrived, PushRefusedError, SignedRequest
from guanxi.core.db import utcnow
from guanxi.inbox.intake.models import PushNonce
from guanxi.inbox.intake.service import after_insert, store_items

log = logging.getLogger(__name__)

NONCE_MEMORY = timedelta(minutes=15)  # longer than the platforms' signature windows


def first_use(db: Session, *, channel: Channel, request: SignedRequest) -> bool:
    """Record the push's nonce; False when this channel already saw it (a replay)."""
    now = utcnow()
    db.execute(delete(PushNonce).where(PushNonce.received_at < now - NONCE_MEMORY))
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PushNonce)
        .values(
            channel_id=channel.id,
            nonce=request.nonce[:64],
            timestamp=request.timestamp[:20],
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "nonce", "timestamp"])
        .returning(PushNonce.id)
    )
    return db.execute(statement).scalar_one_or_none() is not None


def receive(db: Session, channel: Channel, event: MessageArrived) -> None:
    """Store a pushed message (once). Commits.

    Raises ``PushRefusedError`` (nothing stored) when the request is a replay.
    """
    if not first_use(db, channel=channel, request=event.request):
        db.rollback()
        msg = "nonce already used (replayed)"
        raise PushRefusedError(msg)
    item = event.item
    new = store_items(db, channel=channel, items=[item])
    db.commit()
    after_insert(db, workspace_id=channel.workspace_id, items=new)
    log.info(
        "push %s for channel %s: %s",
        item.external_id,
        channel.id,
        "stored" if new else "already in the inbox",
    )


def register_push_handlers() -> None:
    """Pushed messages go to the inbox."""
    register_push_handler(MessageArrived, receive)
