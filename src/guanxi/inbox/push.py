"""WeChat's message push: private messages and events become inbox items of kind message.

``guanxi.channels.webhooks`` receives every push of an Official Account on one URL, checks
WeChat's signature and the timestamp window, parses the XML safely, handles
``PUBLISHJOBFINISH`` itself and hands everything else to ``receive`` here.

Replays: a signed request seen before (same nonce and timestamp on the channel) is refused;
WeChat's own retries of a message carry the same ``MsgId`` (events: the same sender and
``CreateTime``), which the inbox's unique key turns into nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.inbox.ingest import after_insert, store_items
from guanxi.inbox.models import PushNonce

log = logging.getLogger(__name__)

NONCE_MEMORY = timedelta(minutes=15)  # longer than the 5-minute timestamp window
# Events that are WeChat telling the account about its own jobs or menus, not people talking;
# and unsubscribing, after which nobody can be answered.
IGNORED_EVENTS = frozenset(
    {"PUBLISHJOBFINISH", "MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH", "LOCATION", "VIEW",
     "unsubscribe"}
)  # fmt: skip
MEDIA_TYPES = frozenset({"image", "voice", "video", "shortvideo", "location", "link"})


def first_use(db: Session, *, channel: Channel, nonce: str, timestamp: str) -> bool:
    """Record the push's nonce; False when this channel already saw it (a replay)."""
    now = utcnow()
    db.execute(delete(PushNonce).where(PushNonce.received_at < now - NONCE_MEMORY))
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PushNonce)
        .values(channel_id=channel.id, nonce=nonce[:64], timestamp=timestamp[:20], received_at=now)
        .on_conflict_do_nothing(index_elements=["channel_id", "nonce", "timestamp"])
        .returning(PushNonce.id)
    )
    return db.execute(statement).scalar_one_or_none() is not None


def _created(message: Mapping[str, Any]) -> datetime:
    """When the message was sent: ``CreateTime`` in Unix seconds, checked like any stored
    time (``InvalidValue`` when it is unreadable, before 2000 or in the future)."""
    return values.unix_time(message.get("CreateTime"), milliseconds=False)


def _text(message: Mapping[str, Any], msg_type: str) -> str:
    if msg_type == "text":
        return str(message.get("Content", ""))
    if msg_type == "event":
        key = str(message.get("EventKey", ""))
        return f"[{message.get('Event', '')}{': ' + key if key else ''}]"
    if msg_type == "image":
        return f"[image] {message.get('PicUrl', '')}".strip()
    if msg_type == "link":
        return f"[link] {message.get('Title', '')} {message.get('Url', '')}".strip()
    if msg_type == "location":
        return f"[location] {message.get('Label', '')}".strip()
    if msg_type == "voice":
        return f"[voice] {message.get('Recognition', '')}".strip()
    return f"[{msg_type}]"


def as_item(message: Mapping[str, Any]) -> FetchedItem | None:
    """The inbox item a pushed message or event stands for; None for system events.

    Raises ``InvalidValue`` when the message carries a time that cannot be stored.
    """
    msg_type = str(message.get("MsgType", ""))
    sender = str(message.get("FromUserName", ""))
    if not sender or (msg_type not in MEDIA_TYPES | {"text", "event"}):
        return None
    if msg_type == "event" and str(message.get("Event", "")) in IGNORED_EVENTS:
        return None
    msg_id = str(message.get("MsgId", ""))
    # Events have no MsgId: WeChat's advice is to dedupe them on sender and CreateTime.
    external_id = msg_id or f"{sender}:{message.get('CreateTime', '')}:{message.get('Event', '')}"
    return FetchedItem(
        kind=FetchedKind.MESSAGE,
        external_id=external_id,
        text=_text(message, msg_type),
        author=FetchedAuthor(external_id=sender, name=sender),
        created_at=_created(message),
        raw=dict(message),
    )


def receive(
    db: Session, *, channel: Channel, message: Mapping[str, Any], nonce: str, timestamp: str
) -> bool:
    """Store a pushed message (once); False when the request is a replay. Commits.

    Raises ``InvalidValue`` (nothing stored) when the message's values cannot be stored.
    """
    item = as_item(message)
    if item is None:
        return True
    if not first_use(db, channel=channel, nonce=nonce, timestamp=timestamp):
        db.rollback()
        return False
    new = store_items(db, channel=channel, items=[item])
    db.commit()
    after_insert(db, workspace_id=channel.workspace_id, items=new)
    log.info("wechat push %s for channel %s: %s", item.external_id, channel.id,
             "stored" if new else "already in the inbox")  # fmt: skip
    return True
