"""Platform pushes: one server URL per connected account, ``/hooks/<path>/<channel id>``.

The platform checks the URL once (``GET``, answered as its connector says) and then POSTs
events to it. Requests are authenticated by the platform's signature, checked by the
channel's connector (``guanxi.connectors.push.ReceivesPushes``), not by a session: these
routes carry no CSRF check. The connector turns the body into typed events, which go to the
handlers capabilities registered (``guanxi.channels.push``).
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from guanxi.channels.models import Channel
from guanxi.channels.push import dispatch_push
from guanxi.channels.service import credentials_of
from guanxi.connectors.push import (
    PushRefusedError,
    PushUnreadableError,
    ReceivesPushes,
    SignedRequest,
)
from guanxi.connectors.registry import OFFLINE_HTTP, UnknownConnectorError, build_connector
from guanxi.core.security import SecretBox, SecretDecryptionError
from guanxi.core.values import InvalidValue
from guanxi.web.deps import Db

log = logging.getLogger(__name__)

router = APIRouter(prefix="/hooks", include_in_schema=False)

MAX_BODY_BYTES = 64 * 1024  # a platform's event is a few hundred bytes (WeChat's XML)


def _forbidden(path: str, reason: str) -> HTTPException:
    log.warning("%s push refused: %s", path, reason)
    return HTTPException(status_code=403, detail="forbidden")


def _receiver(request: Request, channel: Channel, path: str) -> ReceivesPushes | None:
    """The channel's connector when it receives pushes on ``path``."""
    # Parsing a push never calls the platform: the client is only part of the constructor.
    try:
        connector = build_connector(channel.connector, request.app.state.settings, OFFLINE_HTTP)
    except UnknownConnectorError:
        return None
    if isinstance(connector, ReceivesPushes) and connector.push_path == path:
        return connector
    return None


def _verified(
    db: Session, request: Request, path: str, channel_id: int
) -> tuple[Channel, ReceivesPushes, SignedRequest]:
    """The channel whose platform signed this request, its connector and the request's
    identity; 403 otherwise."""
    channel = db.get(Channel, channel_id)
    receiver = _receiver(request, channel, path) if channel is not None else None
    if channel is None or receiver is None:
        raise _forbidden(path, f"no channel {channel_id} receiving pushes here")
    try:
        credentials = credentials_of(channel, SecretBox.from_settings(request.app.state.settings))
    except SecretDecryptionError:
        raise _forbidden(path, f"channel {channel_id}'s credentials do not decrypt") from None
    try:
        signed = receiver.verify_push(credentials, request.query_params, now=time.time())
    except PushRefusedError as exc:
        raise _forbidden(path, f"channel {channel_id}: {exc}") from None
    return channel, receiver, signed


@router.get("/{path}/{channel_id}")
def push_url_check(path: str, channel_id: int, request: Request, db: Db) -> PlainTextResponse:
    """The platform's check of the server URL, answered once the signature holds."""
    _, receiver, _ = _verified(db, request, path, channel_id)
    return PlainTextResponse(receiver.push_check_answer(request.query_params))


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and (len(declared) > 18 or int(declared) > MAX_BODY_BYTES):
        raise HTTPException(status_code=413, detail="too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail="too large")
    return body


def _handle(db: Session, request: Request, path: str, channel_id: int, body: bytes) -> str:
    channel, receiver, signed = _verified(db, request, path, channel_id)
    try:
        events = receiver.parse_push(body, signed)
        for event in events:
            dispatch_push(db, channel, event)
    except PushUnreadableError as exc:
        db.rollback()
        log.warning("%s push for channel %s refused: %s", path, channel_id, exc)
        raise HTTPException(status_code=400, detail="unreadable") from exc
    except InvalidValue as exc:
        db.rollback()
        log.warning(
            "%s push for channel %s refused: %s (%s)", path, channel_id, exc.problem, exc.value
        )
        raise HTTPException(status_code=400, detail=exc.problem) from exc
    except PushRefusedError as exc:
        db.rollback()
        raise _forbidden(path, f"channel {channel_id}: {exc}") from None
    return receiver.push_acknowledgement


@router.post("/{path}/{channel_id}")
async def push_event(path: str, channel_id: int, request: Request, db: Db) -> PlainTextResponse:
    """An event or message from the platform, answered as the platform expects."""
    body = await _bounded_body(request)
    return PlainTextResponse(await run_in_threadpool(_handle, db, request, path, channel_id, body))
