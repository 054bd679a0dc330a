"""Scans and follows of the workspace's scene codes, as the WeChat account's server URL
receives them (``guanxi.channels.webhooks`` → the ``CodeScanned`` push event).

WeChat retries a push it got no answer to (three times): an event is known by its sender,
time and name, so a retry stores nothing new. A follow that came without a scene (searched,
a shared card, a QR code long-pressed in an article) is asked about once through
``user/info`` (``fill_origins``), which may name the code's scene after all.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.channels.push import register_push_handler
from guanxi.connectors.base import ConnectorError
from guanxi.connectors.push import CodeScanned
from guanxi.convert.codes import MakerFor
from guanxi.convert.scene_models import CodeEventKind, SceneCode
from guanxi.convert.store import convert_store
from guanxi.convert.store.base import CodeEventFact

log = logging.getLogger(__name__)

ORIGINS_PER_RUN = 200  # user/info calls a run of the job makes at most


def live_code_id(db: Session, channel_id: int, scene: str) -> int | None:
    """The live code of the account with ``scene`` (else its newest archived one)."""
    if not scene:
        return None
    return db.scalar(
        select(SceneCode.id)
        .where(SceneCode.channel_id == channel_id, SceneCode.scene == scene)
        .order_by(SceneCode.archived_at.is_not(None), SceneCode.id.desc())
        .limit(1)
    )


def record_event(
    db: Session, channel: Channel, event: CodeScanned, *, illustrative: bool = False
) -> bool:
    """Store a scan or follow once (a retry of the same push adds nothing). Commits;
    True when it was new. ``illustrative``: made up by the demo."""
    new = convert_store(db).record_code_event(
        CodeEventFact(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            code_id=live_code_id(db, channel.id, event.scene),
            event_id=event.event_id,
            openid=event.openid,
            scene=event.scene,
            kind=CodeEventKind.FOLLOW if event.followed else CodeEventKind.SCAN,
            occurred_at=event.at,
            origin_checked=bool(event.scene) or not event.followed,
            illustrative=illustrative,
        )
    )
    db.commit()
    log.info(
        "code event %s on channel %s: %s", event.event_id, channel.id, "stored" if new else "seen"
    )
    return new


def receive(db: Session, channel: Channel, event: CodeScanned) -> None:
    """The push handler: store the event."""
    record_event(db, channel, event)


def set_up(app: FastAPI) -> None:  # noqa: ARG001 - the capability's app hook
    """Scans and follows pushed to the accounts' server URLs are stored as code events."""
    register_push_handler(CodeScanned, receive)


def fill_origins(db: Session, *, maker_for: MakerFor, limit: int = ORIGINS_PER_RUN) -> int:
    """Ask how followers without a scene came (``follower_origin``); keep the scene of the
    code they followed through when the platform names one. Commits; how many were named."""
    store = convert_store(db)
    named = 0
    for event in store.pending_origins(limit=limit):
        channel = db.get(Channel, event.channel_id)
        if channel is None:
            continue
        try:
            maker, context = maker_for(channel)
            origin = maker.follower_origin(context, event.openid)
        except (LookupError, ConnectorError) as exc:
            log.warning("origin of follower %s not asked: %s", event.openid, exc)
            continue  # asked again at the next run
        code_id = live_code_id(db, event.channel_id, origin.scene) if origin.scene else None
        store.set_origin(event, scene=origin.scene, code_id=code_id)
        if origin.scene:
            named += 1
        db.commit()
    return named
