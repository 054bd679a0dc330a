"""The sandbox's Weibo comments and mentions: the v2 read and engage endpoints.

``comments/to_me`` (comments on the account's posts), ``comments/show`` (one post's
comments), ``statuses/mentions`` and ``comments/mentions`` (@-mentions of the account),
``comments/reply`` and ``comments/destroy``. Lists are newest first, filtered by
``since_id``/``max_id`` and paged with ``count``/``page``, as open.weibo.com documents them;
errors use the Weibo shape and the surface's token checks and hourly limits
(``guanxi.sandbox.weibo_calls._authorize``). What they serve comes from the sandbox audience.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.audience import Fan, FanComment, FanMention, engagement_of
from guanxi.sandbox.state import SandboxState
from guanxi.sandbox.weibo_calls import (
    PLATFORM,
    _authorize,
    _error,
    _find_post,
    _params,
    _RefusedError,
    _status_json,
    _user_json,
)

if TYPE_CHECKING:
    from guanxi.sandbox.weibo import WeiboSandbox

COMMENT_MAX = 140


def _weibo_time(moment: datetime) -> str:
    return (moment.astimezone(UTC) + timedelta(hours=8)).strftime("%a %b %d %H:%M:%S +0800 %Y")


def _fan_json(fan: Fan) -> dict[str, Any]:
    return {
        "id": int(fan.fan_id),
        "idstr": fan.fan_id,
        "screen_name": fan.name,
        "name": fan.name,
        "followers_count": fan.followers,
        "verified": fan.verified_type >= 0,
        "verified_type": fan.verified_type,
        "profile_image_url": "",
        "profile_url": f"u/{fan.fan_id}",
    }


def _account_comment(
    state: SandboxState,
    account_id: str,
    owner: str,
    post_id: str,
    text: str,
    *,
    reply_to_id: str = "",
) -> FanComment:
    """A comment the account writes (on a post of ``owner``), stored; call with the lock."""
    account = state.accounts[(PLATFORM, account_id)]
    me = Fan(account.account_id, account.name, 0, 2)
    comment = FanComment(
        PLATFORM,
        owner,
        post_id,
        state.next_id(),
        me,
        text,
        utcnow(),
        reply_to_id=reply_to_id,
        by_account=True,
    )
    engagement_of(state).comments.append(comment)
    return comment


def _comment_json(state: SandboxState, comment: FanComment) -> dict[str, Any]:
    post = _find_post(state, comment.post_id)
    user = (
        _user_json(state, comment.account_id) if comment.by_account else _fan_json(comment.author)
    )
    body: dict[str, Any] = {
        "created_at": _weibo_time(comment.created_at),
        "id": int(comment.comment_id),
        "idstr": comment.comment_id,
        "mid": comment.comment_id,
        "text": comment.text,
        "source": "",
        "user": user,
        "status": _status_json(state, post) if post is not None else {"idstr": comment.post_id},
    }
    if comment.reply_to_id:
        engagement = engagement_of(state)
        parent = engagement.comment(PLATFORM, comment.reply_to_id)
        if parent is not None:
            body["reply_comment"] = {
                "idstr": parent.comment_id,
                "id": int(parent.comment_id),
                "text": parent.text,
            }
    return body


def _mention_json(mention: FanMention) -> dict[str, Any]:
    return {
        "created_at": _weibo_time(mention.created_at),
        "id": int(mention.mention_id),
        "idstr": mention.mention_id,
        "mid": mention.mention_id,
        "text": mention.text,
        "source": "",
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "user": _fan_json(mention.author),
    }


def _window(params: dict[str, Any]) -> tuple[int, int, int, int]:
    """since_id, max_id, count (≤ 200), page; ValueError when one is not a number."""
    since = int(params.get("since_id") or 0)
    most = int(params.get("max_id") or 0)
    count = min(max(int(params.get("count") or 50), 1), 200)
    page = max(int(params.get("page") or 1), 1)
    return since, most, count, page


def _paged(rows: list[Any], ids: list[int], params: dict[str, Any]) -> tuple[list[Any], int]:
    since, most, count, page = _window(params)
    picked = [
        row
        for row, row_id in zip(rows, ids, strict=True)
        if row_id > since and (not most or row_id <= most)
    ]
    picked.reverse()  # newest first
    return picked[(page - 1) * count : page * count], len(picked)


def _timeline(body: dict[str, Any], total: int) -> JSONResponse:
    """A Weibo list answer: the items, their total, and the (unused) cursors."""
    return JSONResponse({**body, "total_number": total, "previous_cursor": 0, "next_cursor": 0})


def _comments_page(state: SandboxState, rows: list[Any], params: dict[str, Any]) -> JSONResponse:
    """The page of ``rows`` (comments, oldest first) that ``params`` asks for."""
    page, total = _paged(rows, [int(c.comment_id) for c in rows], params)
    return _timeline({"comments": [_comment_json(state, c) for c in page]}, total)


def register(router: APIRouter, weibo: WeiboSandbox) -> None:  # noqa: PLR0915 - one closure per route
    """Add the comment and mention endpoints to the Weibo surface's router."""

    async def authorized(request: Request) -> tuple[dict[str, Any], str]:
        params = await _params(request)
        token = _authorize(weibo, request, params)
        try:
            _window(params)
        except ValueError:
            path = request.url.path.split("/weibo", 1)[-1]
            raise _RefusedError(
                _error(
                    path,
                    10017,
                    "Parameter (since_id/max_id/count/page)'s value invalid, expect (int)",
                )
            ) from None
        return params, token.account_id

    @router.get("/2/comments/to_me.json")
    async def comments_to_me(request: Request) -> Response:
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        with state.lock:
            rows = [
                c
                for c in engagement_of(state).comments_on(PLATFORM, account_id)
                if not c.by_account
            ]
            return _comments_page(state, rows, params)

    @router.get("/2/comments/show.json")
    async def comments_show(request: Request) -> Response:
        try:
            params, _account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        post = _find_post(state, str(params.get("id", "")))
        if post is None or post.deleted:
            return _error("/2/comments/show.json", 20101, "Target weibo does not exist!")
        with state.lock:
            rows = [
                c
                for c in engagement_of(state).comments_on(PLATFORM, post.account_id)
                if c.post_id == post.post_id
            ]
            return _comments_page(state, rows, params)

    @router.get("/2/statuses/mentions.json")
    async def statuses_mentions(request: Request) -> Response:
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        with state.lock:
            rows = [
                m
                for m in engagement_of(state).mentions
                if m.platform == PLATFORM and m.account_id == account_id
            ]
            page, total = _paged(rows, [int(m.mention_id) for m in rows], params)
            return _timeline({"statuses": [_mention_json(m) for m in page]}, total)

    @router.get("/2/comments/mentions.json")
    async def comments_mentions(request: Request) -> Response:
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        with state.lock:
            name = state.accounts[(PLATFORM, account_id)].name
            rows = [
                c
                for c in engagement_of(state).comments
                if c.platform == PLATFORM and not c.deleted and f"@{name}" in c.text
            ]
            return _comments_page(state, rows, params)

    @router.post("/2/comments/reply.json")
    async def comments_reply(request: Request) -> Response:
        path = "/2/comments/reply.json"
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        text = str(params.get("comment", "")).strip()
        if not text:
            return _error(path, 10016, "Miss required parameter (comment), see doc")
        if len(text) > COMMENT_MAX:
            return _error(path, 20012, "Text too long, please input text less than 140 characters!")
        state = sandbox_of(request).state
        engagement = engagement_of(state)
        with state.lock:
            parent = engagement.comment(PLATFORM, str(params.get("cid", "")))
            if parent is None or parent.deleted:
                return _error(path, 20201, "Target weibo comment does not exist!")
            reply = _account_comment(
                state,
                account_id,
                parent.account_id,
                parent.post_id,
                text,
                reply_to_id=parent.comment_id,
            )
            return JSONResponse(_comment_json(state, reply))

    @router.post("/2/comments/create.json")
    async def comments_create(request: Request) -> Response:
        path = "/2/comments/create.json"
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        text = str(params.get("comment", "")).strip()
        if not text or len(text) > COMMENT_MAX:
            return _error(
                path, 10017, "Parameter (comment)'s value invalid, expect (1 to 140 characters)"
            )
        state = sandbox_of(request).state
        engagement = engagement_of(state)
        status_id = str(params.get("id", ""))
        with state.lock:
            post = _find_post(state, status_id)
            mention = next((m for m in engagement.mentions if m.mention_id == status_id), None)
            if (post is None or post.deleted) and mention is None:
                return _error(path, 20101, "Target weibo does not exist!")
            owner = post.account_id if post is not None else account_id
            comment = _account_comment(state, account_id, owner, status_id, text)
            return JSONResponse(_comment_json(state, comment))

    @router.post("/2/comments/destroy.json")
    async def comments_destroy(request: Request) -> Response:
        path = "/2/comments/destroy.json"
        try:
            params, account_id = await authorized(request)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        with state.lock:
            comment = engagement_of(state).comment(PLATFORM, str(params.get("cid", "")))
            # Only comments on the account's own posts (or its own comments) may go.
            if comment is None or comment.deleted or comment.account_id != account_id:
                return _error(path, 20201, "Target weibo comment does not exist!")
            comment.deleted = True
            return JSONResponse(_comment_json(state, comment))
