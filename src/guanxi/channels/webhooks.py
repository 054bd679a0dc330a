"""Platform pushes: WeChat's server configuration URL, one per connected Official Account.

WeChat calls ``GET /hooks/wechat/{channel_id}`` once when the URL is configured (answer the
``echostr``) and then POSTs events to it, among them ``PUBLISHJOBFINISH`` when a publish
job ends, and the followers' messages, which go to the inbox (``guanxi.inbox.push``).
Requests are authenticated by WeChat's signature (SHA-1 of the sorted server token,
timestamp and nonce), not by a session: these routes carry no CSRF check.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from guanxi.channels.models import Channel
from guanxi.channels.service import credentials_of
from guanxi.connectors.base import TransientError
from guanxi.connectors.wechat_oa import WechatOaConnector, result_from_job
from guanxi.core.security import SecretBox, SecretDecryptionError, constant_time_equal
from guanxi.core.values import InvalidValue
from guanxi.web.deps import Db

log = logging.getLogger(__name__)

router = APIRouter(prefix="/hooks", include_in_schema=False)

MAX_BODY_BYTES = 64 * 1024  # WeChat's event XML is a few hundred bytes
MAX_CLOCK_SKEW_S = 300  # a signature older (or newer) than this is a replay
# WeChat's deepest event (PUBLISHJOBFINISH: xml/PublishEventInfo/article_detail/item/...) is
# 5 levels; deeper XML is not from WeChat, and would exhaust the recursion of the reader.
MAX_XML_DEPTH = 12


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's signature: SHA-1 of the token, timestamp and nonce, sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 - WeChat's scheme


def _forbidden(reason: str) -> HTTPException:
    log.warning("wechat push refused: %s", reason)
    return HTTPException(status_code=403, detail="forbidden")


def _verified_channel(db: Session, request: Request, channel_id: int) -> Channel:
    """The WeChat channel whose server token signed this request; 403 otherwise."""
    params = request.query_params
    signature, timestamp, nonce = (params.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (signature and timestamp and nonce):
        raise _forbidden("signature, timestamp or nonce missing")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise _forbidden("timestamp is not a number") from None
    if age > MAX_CLOCK_SKEW_S:
        raise _forbidden("timestamp outside the 5-minute window (replayed?)")
    channel = db.get(Channel, channel_id)
    if channel is None or channel.connector != WechatOaConnector.name:
        raise _forbidden(f"no WeChat channel {channel_id}")
    try:
        token = credentials_of(channel, SecretBox.from_settings(request.app.state.settings)).get(
            "server_token", ""
        )
    except SecretDecryptionError:
        raise _forbidden(f"channel {channel_id}'s credentials do not decrypt") from None
    if not token:
        raise _forbidden(f"channel {channel_id} has no server token")
    if not constant_time_equal(wechat_signature(token, timestamp, nonce), signature):
        raise _forbidden("bad signature")
    return channel


@router.get("/wechat/{channel_id}")
def wechat_server_check(channel_id: int, request: Request, db: Db) -> PlainTextResponse:
    """WeChat's check of the server configuration: echo ``echostr`` if the signature holds."""
    _verified_channel(db, request, channel_id)
    return PlainTextResponse(request.query_params.get("echostr", ""))


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


def parse_event(body: bytes) -> dict[str, Any]:
    """The event's fields; refuses DTDs, entities, external references and nesting deeper
    than WeChat's own (ValueError)."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError) as exc:
        msg = f"refused XML: {type(exc).__name__}"
        raise ValueError(msg) from exc
    if _depth(root) > MAX_XML_DEPTH:
        msg = f"refused XML: nested deeper than {MAX_XML_DEPTH} levels"
        raise ValueError(msg)
    return _element_dict(root)


def _depth(root: Element) -> int:
    """How deep ``root``'s elements nest, counted without recursion (any depth is safe)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_XML_DEPTH:  # deeper is refused anyway: no need to walk it all
            stack.extend((child, depth + 1) for child in element)
    return deepest


def _element_dict(element: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in element:
        value: Any = _element_dict(child) if len(child) else (child.text or "").strip()
        if child.tag in fields:  # repeated elements (item, fail_idx) become a list
            existing = fields[child.tag]
            fields[child.tag] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            fields[child.tag] = value
    return fields


def _publish_job(info: dict[str, Any]) -> dict[str, Any]:
    """PublishEventInfo in the shape of ``freepublish/get``'s answer."""
    detail = info.get("article_detail") or {}
    items = detail.get("item", []) if isinstance(detail, dict) else []
    fail_idx = info.get("fail_idx", [])
    return {
        "publish_id": info.get("publish_id", ""),
        "publish_status": info.get("publish_status", ""),
        "article_id": info.get("article_id", ""),
        "article_detail": {"item": items if isinstance(items, list) else [items]},
        "fail_idx": fail_idx if isinstance(fail_idx, list) else [fail_idx],
    }


def _apply_event(db: Session, channel: Channel, event: dict[str, Any]) -> None:
    from guanxi.publishing.engine import apply_platform_status

    info = event.get("PublishEventInfo")
    if not isinstance(info, dict) or not info.get("publish_id"):
        log.warning("PUBLISHJOBFINISH without PublishEventInfo for channel %s", channel.id)
        return
    job = _publish_job(info)
    try:
        result = result_from_job(job)
    except TransientError:  # an unknown publish_status: polling freepublish/get will tell
        log.warning("PUBLISHJOBFINISH with unknown status %r", job["publish_status"])
        return
    target = apply_platform_status(
        db, channel=channel, external_id=str(job["publish_id"]), result=result
    )
    db.commit()
    log.info("PUBLISHJOBFINISH %s for channel %s: target %s", job["publish_id"], channel.id,
             target.id if target else "none")  # fmt: skip


def _handle(db: Session, request: Request, channel_id: int, body: bytes) -> None:
    channel = _verified_channel(db, request, channel_id)
    try:
        event = parse_event(body)
    except ValueError as exc:
        log.warning("wechat push for channel %s refused: %s", channel_id, exc)
        raise HTTPException(status_code=400, detail="bad XML") from exc
    if event.get("MsgType") == "event" and event.get("Event") == "PUBLISHJOBFINISH":
        _apply_event(db, channel, event)
        return
    # Messages and the other events go to the inbox (guanxi.inbox.push).
    from guanxi.inbox.push import receive

    params = request.query_params
    nonce, timestamp = params.get("nonce", ""), params.get("timestamp", "")
    try:
        stored = receive(db, channel=channel, message=event, nonce=nonce, timestamp=timestamp)
    except InvalidValue as exc:
        db.rollback()
        log.warning("wechat push for channel %s refused: %s (%s)", channel_id, exc.problem,
                    exc.value)  # fmt: skip
        raise HTTPException(status_code=400, detail=exc.problem) from exc
    if not stored:
        raise _forbidden("nonce already used (replayed)")


@router.post("/wechat/{channel_id}")
async def wechat_event(channel_id: int, request: Request, db: Db) -> PlainTextResponse:
    """An event or message from WeChat; answers "success" as WeChat expects."""
    body = await _bounded_body(request)
    await run_in_threadpool(_handle, db, request, channel_id, body)
    return PlainTextResponse("success")
