"""WeChat's pushes to an Official Account's server URL (a mixin of the connector).

WeChat calls ``GET /hooks/wechat/{channel_id}`` once when the URL is configured (answer the
``echostr``) and then POSTs events to it: ``PUBLISHJOBFINISH`` when a publish job ends, and
the followers' messages and events. Requests are signed with the account's server token
(SHA-1 of the sorted token, timestamp and nonce); the XML is parsed with ``defusedxml``,
DTDs, entities and external references forbidden.

Replays: a signed request seen before (same nonce and timestamp on the channel) is refused
by the inbox; WeChat's own retries of a message carry the same ``MsgId`` (events: the same
sender and ``CreateTime``), which the inbox's unique key turns into nothing new.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind, TransientError
from guanxi.connectors.push import (
    CodeScanned,
    MessageArrived,
    PublishFinished,
    PushEvent,
    PushRefusedError,
    PushUnreadableError,
    SignedRequest,
)
from guanxi.connectors.wechat_jobs import job_of_push, result_from_job
from guanxi.core import values
from guanxi.core.security import constant_time_equal

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW_S = 300  # a signature older (or newer) than this is a replay
# WeChat's deepest event (PUBLISHJOBFINISH: xml/PublishEventInfo/article_detail/item/...) is
# 5 levels; deeper XML is not from WeChat, and would exhaust the recursion of the reader.
MAX_XML_DEPTH = 12
# Events that are WeChat telling the account about its own jobs or menus, not people talking;
# and unsubscribing, after which nobody can be answered.
IGNORED_EVENTS = frozenset(
    {
        "PUBLISHJOBFINISH",
        "MASSSENDJOBFINISH",
        "TEMPLATESENDJOBFINISH",
        "LOCATION",
        "VIEW",
        "unsubscribe",
    }
)
QR_FOLLOW_PREFIX = "qrscene_"  # a subscribe event's EventKey when a scene QR code made it
MEDIA_TYPES = frozenset({"image", "voice", "video", "shortvideo", "location", "link"})


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's signature: SHA-1 of the token, timestamp and nonce, sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 - WeChat's scheme


def parse_event(body: bytes) -> dict[str, Any]:
    """The event's fields; refuses DTDs, entities, external references and nesting deeper
    than WeChat's own (``PushUnreadableError``)."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError) as exc:
        msg = f"refused XML: {type(exc).__name__}"
        raise PushUnreadableError(msg) from exc
    if _depth(root) > MAX_XML_DEPTH:
        msg = f"refused XML: nested deeper than {MAX_XML_DEPTH} levels"
        raise PushUnreadableError(msg)
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


def code_scanned(event: Mapping[str, Any]) -> CodeScanned | None:
    """What a ``subscribe`` (``EventKey=qrscene_<scene>``, or none when they followed another
    way) or ``SCAN`` (``EventKey=<scene>``) event says; None for other events."""
    kind = str(event.get("Event", ""))
    sender = str(event.get("FromUserName", ""))
    key = str(event.get("EventKey", "") or "")
    if event.get("MsgType") != "event" or not sender or kind not in {"subscribe", "SCAN"}:
        return None
    if kind == "subscribe":
        scene = key.removeprefix(QR_FOLLOW_PREFIX) if key.startswith(QR_FOLLOW_PREFIX) else ""
    else:
        scene = key
    return CodeScanned(
        openid=sender[:64],
        scene=scene[:64],
        followed=kind == "subscribe",
        at=_created(event),
        event_id=f"{sender}:{event.get('CreateTime', '')}:{kind}"[:120],
    )


def publish_finished(event: Mapping[str, Any]) -> PublishFinished | None:
    """What a ``PUBLISHJOBFINISH`` event says; None (logged) when it says nothing guanxi can
    apply: polling ``freepublish/get`` still follows the job."""
    info = event.get("PublishEventInfo")
    if not isinstance(info, Mapping) or not info.get("publish_id"):
        log.warning("PUBLISHJOBFINISH without PublishEventInfo")
        return None
    job = job_of_push(info)
    try:
        result = result_from_job(job)
    except TransientError:
        log.warning("PUBLISHJOBFINISH with unknown status %r", job["publish_status"])
        return None
    return PublishFinished(external_id=str(job["publish_id"]), result=result)


class WechatPush:
    """``ReceivesPushes`` for an Official Account: its server URL is ``/hooks/wechat/<id>``."""

    push_path = "wechat"
    push_acknowledgement = "success"

    def verify_push(
        self, credentials: Mapping[str, str], query: Mapping[str, str], *, now: float
    ) -> SignedRequest:
        """The request's nonce and timestamp once its signature and time hold."""
        signature, timestamp, nonce = (
            query.get(k, "") for k in ("signature", "timestamp", "nonce")
        )
        if not (signature and timestamp and nonce):
            msg = "signature, timestamp or nonce missing"
            raise PushRefusedError(msg)
        try:
            age = abs(now - int(timestamp))
        except ValueError:
            msg = "timestamp is not a number"
            raise PushRefusedError(msg) from None
        if age > MAX_CLOCK_SKEW_S:
            msg = "timestamp outside the 5-minute window (replayed?)"
            raise PushRefusedError(msg)
        token = credentials.get("server_token", "")
        if not token:
            msg = "no server token"
            raise PushRefusedError(msg)
        if not constant_time_equal(wechat_signature(token, timestamp, nonce), signature):
            msg = "bad signature"
            raise PushRefusedError(msg)
        return SignedRequest(nonce=nonce, timestamp=timestamp)

    def push_check_answer(self, query: Mapping[str, str]) -> str:
        """WeChat's check of the server configuration is answered with its ``echostr``."""
        return query.get("echostr", "")

    def parse_push(self, body: bytes, request: SignedRequest) -> list[PushEvent]:
        """A publish job's end, or a person's message or event (system events: nothing);
        a follow or a scan of a scene code is also said as such."""
        event = parse_event(body)
        if event.get("MsgType") == "event" and event.get("Event") == "PUBLISHJOBFINISH":
            finished = publish_finished(event)
            return [finished] if finished is not None else []
        item = as_item(event)
        events: list[PushEvent] = []
        if item is not None:
            events.append(MessageArrived(item=item, request=request))
        scanned = code_scanned(event)
        if scanned is not None:
            events.append(scanned)
        return events
