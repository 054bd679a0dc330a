"""Team-chat group robots: the webhook JSON each one takes, its signature, and one send.

Three robots, each as its platform documents its custom robot:

- WeCom (企业微信) group robot: ``POST .../cgi-bin/webhook/send?key=…`` with
  ``{"msgtype": "text", "text": {"content": …}}``; answers ``{"errcode": 0}``; no signature.
- DingTalk (钉钉) custom robot: ``POST .../robot/send?access_token=…`` with the same body
  shape; with a sign secret, ``timestamp`` (milliseconds) and ``sign`` go in the query:
  base64 of HMAC-SHA256 keyed by the secret over ``"{timestamp}\\n{secret}"``. Answers
  ``{"errcode": 0}``.
- Feishu/Lark custom bot: ``POST .../bot/v2/hook/…`` with
  ``{"msg_type": "text", "content": {"text": …}}``; with a sign secret, ``timestamp``
  (seconds) and ``sign`` go in the body: base64 of HMAC-SHA256 keyed by
  ``"{timestamp}\\n{secret}"`` over nothing. Answers ``{"code": 0}`` (older: ``StatusCode``).

A robot answers HTTP 200 even when it refuses (a bad signature, a blocked keyword), so the
answer's code decides. Every request goes through the guarded ``outbound`` client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from guanxi.core.errors import N_, UserError
from guanxi.outbound.client import Delivered, DeliveryFailed, OutboundClient

MAX_TEXT = 2000  # DingTalk and WeCom take more, but a notification is short; Feishu caps 20 KB


class RobotKind(StrEnum):
    """The team chats whose group robots guanxi posts to."""

    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


ROBOT_LABELS = {
    RobotKind.WECOM: N_("WeCom (企业微信) group robot"),
    RobotKind.DINGTALK: N_("DingTalk (钉钉) custom robot"),
    RobotKind.FEISHU: N_("Feishu / Lark (飞书) custom bot"),
}
# Robots that may sign their requests with a secret (WeCom's group robot has none).
SIGNED = frozenset({RobotKind.DINGTALK, RobotKind.FEISHU})


@dataclass(frozen=True)
class RobotRequest:
    """What to POST, and where."""

    url: str
    payload: dict[str, Any]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64(HMAC-SHA256 keyed by "{timestamp}\\n{secret}" over b"")."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def robot_request(
    kind: RobotKind, *, url: str, secret: str, text: str, now: float | None = None
) -> RobotRequest:
    """The request that posts ``text`` through a robot of ``kind`` (signed when a secret is
    given and the robot signs)."""
    text = text[:MAX_TEXT]
    moment = time.time() if now is None else now
    if kind is RobotKind.FEISHU:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = int(moment)
            payload = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(secret, timestamp),
            } | payload
        return RobotRequest(url, payload)
    payload = {"msgtype": "text", "text": {"content": text}}
    if kind is RobotKind.DINGTALK and secret:
        timestamp = int(moment * 1000)
        query = urlencode({"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    return RobotRequest(url, payload)


class RobotRefused(UserError):  # noqa: N818 - reads as what the user is told
    """The robot answered but did not post: its code and message say why."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            N_(
                "The team chat refused the message ({detail}). Check the robot's address, its "
                "sign secret and its security settings (keywords, IP list)."
            ),
            detail=detail[:200],
        )


def refusal_of(kind: RobotKind, answer: Delivered) -> str | None:
    """Why the robot did not post, from its answer, or None when it did."""
    if not answer.ok:
        return f"HTTP {answer.status_code}"
    try:
        body = json.loads(answer.content or b"{}")
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict):
        return "not a JSON object"
    if kind is RobotKind.FEISHU:
        code = body.get("code", body.get("StatusCode", 0))
        message = body.get("msg", body.get("StatusMessage", ""))
    else:
        code, message = body.get("errcode", 0), body.get("errmsg", "")
    if code in (0, "0", None):
        return None
    return f"{code} {message}".strip()


def send(client: OutboundClient, kind: RobotKind, *, url: str, secret: str, text: str) -> None:
    """Post ``text`` through the robot; DeliveryFailed or RobotRefused when it did not go."""
    request = robot_request(kind, url=url, secret=secret, text=text)
    answer = client.post_json(request.url, request.payload)
    reason = refusal_of(kind, answer)
    if reason is not None:
        raise RobotRefused(reason)


__all__ = [
    "ROBOT_LABELS",
    "SIGNED",
    "DeliveryFailed",
    "RobotKind",
    "RobotRefused",
    "RobotRequest",
    "dingtalk_sign",
    "feishu_sign",
    "refusal_of",
    "robot_request",
    "send",
]
