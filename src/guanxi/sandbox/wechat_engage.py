"""The sandbox's WeChat article comments, customer-service messages and message pushes.

``comment/list``, ``comment/reply/add`` and ``comment/delete`` work on the comments the
sandbox audience leaves on published articles (by ``msg_data_id`` and ``index``); an account
whose comments are closed (``PUT /wechat/_sandbox/accounts/{app_id}/comments``) gets
errcode 88000. ``message/custom/send`` answers a person only within 48 hours of their last
message and at most 5 times (errcodes 45015 and 45047). The audience's private messages are
pushed, signed with the account's server Token, to its configured server URL as WeChat's
XML text messages.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guanxi.core.db import utcnow
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.audience import Fan, FanComment, FanMessage, engagement_of
from guanxi.sandbox.state import SandboxState
from guanxi.sandbox.wechat_state import PLATFORM, RefusedError, sign

if TYPE_CHECKING:
    from guanxi.sandbox.wechat_state import PublishJob, WechatSandbox

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5
COMMENT_PAGE_MAX = 50


def message_xml(app_id: str, message: FanMessage) -> str:
    """A fan's text message as WeChat pushes it to the account's server."""
    return (
        f"<xml><ToUserName><![CDATA[gh_{app_id[2:14]}]]></ToUserName>"
        f"<FromUserName><![CDATA[{message.fan.fan_id}]]></FromUserName>"
        f"<CreateTime>{int(message.created_at.timestamp())}</CreateTime>"
        f"<MsgType><![CDATA[{message.msg_type}]]></MsgType>"
        f"<Content>{escape(message.text)}</Content><MsgId>{message.msg_id}</MsgId></xml>"
    )


def bind(wechat: WechatSandbox, state: SandboxState) -> None:
    """Push the audience's private messages to the accounts' server URLs (when set)."""

    def deliver(message: FanMessage) -> None:
        if message.platform != PLATFORM or message.outgoing:
            return
        with wechat.lock:
            account = wechat.accounts.get(message.account_id)
            url, token = (account.server_url, account.server_token) if account else ("", "")
        if not url:
            return
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        params = {
            "signature": sign(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": message.fan.fan_id,
        }
        body = message_xml(message.account_id, message).encode("utf-8")
        try:
            httpx.post(
                url, params=params, content=body, headers={"content-type": "text/xml"}, timeout=5.0
            )
        except httpx.HTTPError as exc:
            log.warning("push of message %s to %s failed: %r", message.msg_id, url, exc)

    engagement = engagement_of(state)
    with state.lock:
        engagement.message_listeners.append(deliver)


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise RefusedError(47001, "data format error")
    return int(value)


def register(router: APIRouter, wechat: WechatSandbox) -> None:  # noqa: PLR0915 - one closure per route
    """Add the comment and customer-service endpoints to the WeChat surface's router."""
    from guanxi.sandbox.wechat import _json_body, _refusals_answered  # noqa: PLC0415 - cycle: wechat imports this module

    closed: set[str] = set()  # AppIDs without comment permission (88000)

    def article(app_id: str, body: dict[str, Any]) -> PublishJob:
        msg_data_id, index = str(body.get("msg_data_id", "")), _int(body, "index")
        with wechat.lock:
            job = next(
                (
                    j
                    for j in wechat.jobs.values()
                    if j.app_id == app_id and j.msg_data_id == msg_data_id
                ),
                None,
            )
        if job is None or job.status != 0 or job.post is None or index != 1:
            raise RefusedError(88002, "invalid msg_data_id or index")  # one article per group
        if app_id in closed:
            raise RefusedError(88000, "without comment privilege")
        return job

    def comment_of(app_id: str, body: dict[str, Any], state: SandboxState) -> FanComment:
        job = article(app_id, body)
        assert job.post is not None  # article() checked
        comment = engagement_of(state).comment(PLATFORM, str(_int(body, "user_comment_id")))
        if comment is None or comment.deleted or comment.post_id != job.post.post_id:
            raise RefusedError(88003, "invalid user_comment_id")
        return comment

    @router.post("/cgi-bin/comment/list")
    @_refusals_answered
    async def comment_list(request: Request) -> Any:
        app_id = wechat.authorize(request, "comment_list")
        body = await _json_body(request)
        state = sandbox_of(request).state
        job = article(app_id, body)
        begin, count = _int(body, "begin"), _int(body, "count")
        if not 1 <= count <= COMMENT_PAGE_MAX:
            raise RefusedError(40097, "invalid args")
        with state.lock:
            engagement = engagement_of(state)
            on_article = [
                c
                for c in engagement.comments
                if c.platform == PLATFORM
                and job.post is not None
                and c.post_id == job.post.post_id
                and not c.deleted
            ]
            replies = {c.reply_to_id: c for c in on_article if c.by_account}
            fans = [c for c in on_article if not c.by_account]
            rows = []
            for comment in fans[begin : begin + count]:
                row: dict[str, Any] = {
                    "user_comment_id": int(comment.comment_id),
                    "openid": comment.author.fan_id,
                    "create_time": int(comment.created_at.timestamp()),
                    "content": comment.text,
                    "comment_type": 0,
                }
                answer = replies.get(comment.comment_id)
                if answer is not None:
                    row["reply"] = {
                        "content": answer.text,
                        "create_time": int(answer.created_at.timestamp()),
                    }
                rows.append(row)
        return {"errcode": 0, "errmsg": "ok", "total": len(fans), "comment": rows}

    @router.post("/cgi-bin/comment/reply/add")
    @_refusals_answered
    async def comment_reply(request: Request) -> Any:
        app_id = wechat.authorize(request, "comment_reply_add")
        body = await _json_body(request)
        state = sandbox_of(request).state
        parent = comment_of(app_id, body, state)
        content = str(body.get("content", "")).strip()
        if not content:
            raise RefusedError(44003, "empty news data")
        with state.lock:
            account = state.accounts[(PLATFORM, app_id)]
            me = Fan(app_id, account.name, 0, 2)
            engagement = engagement_of(state)
            # One answer per comment: a new one replaces the old.
            engagement.comments = [
                c
                for c in engagement.comments
                if not (c.by_account and c.reply_to_id == parent.comment_id)
            ]
            engagement.comments.append(
                FanComment(
                    PLATFORM,
                    app_id,
                    parent.post_id,
                    state.next_id(),
                    me,
                    content,
                    utcnow(),
                    reply_to_id=parent.comment_id,
                    by_account=True,
                )
            )
        return {"errcode": 0, "errmsg": "ok"}

    @router.post("/cgi-bin/comment/delete")
    @_refusals_answered
    async def comment_delete(request: Request) -> Any:
        app_id = wechat.authorize(request, "comment_delete")
        body = await _json_body(request)
        state = sandbox_of(request).state
        comment = comment_of(app_id, body, state)
        with state.lock:
            comment.deleted = True
        return {"errcode": 0, "errmsg": "ok"}

    @router.post("/cgi-bin/message/custom/send")
    @_refusals_answered
    async def custom_send(request: Request) -> Any:
        app_id = wechat.authorize(request, "message_custom_send")
        body = await _json_body(request)
        touser = str(body.get("touser", ""))
        text = body.get("text") if isinstance(body.get("text"), dict) else {}
        content = str(text.get("content", "")).strip() if text else ""
        if body.get("msgtype") != "text" or not content:
            raise RefusedError(44002, "empty post data")
        state = sandbox_of(request).state
        now = utcnow()
        with state.lock:
            engagement = engagement_of(state)
            theirs = [
                m for m in engagement.messages if m.account_id == app_id and m.fan.fan_id == touser
            ]
            last_in = max((m.created_at for m in theirs if not m.outgoing), default=None)
            if last_in is None or now - last_in > WINDOW:
                raise RefusedError(45015, "response out of time limit or subscription is canceled")
            answered = sum(1 for m in theirs if m.outgoing and m.created_at >= last_in)
            if answered >= WINDOW_MESSAGES:
                raise RefusedError(45047, "out of response count limit")
            fan = next(m.fan for m in theirs)
            sent = FanMessage(PLATFORM, app_id, state.next_id(), fan, content, now, outgoing=True)
            engagement.messages.append(sent)
        return {"errcode": 0, "errmsg": "ok", "msgid": int(sent.msg_id)}

    @router.put("/_sandbox/accounts/{app_id}/comments")
    async def comment_permission(request: Request, app_id: str) -> Any:
        """``{"enabled": false}``: the account has no comment permission (88000)."""
        body = await request.json()
        if app_id not in wechat.accounts:
            return json_error(400, {"detail": "unknown AppID"})
        if body.get("enabled", True):
            closed.discard(app_id)
        else:
            closed.add(app_id)
        return JSONResponse({"app_id": app_id, "enabled": app_id not in closed})
