"""The sandbox's Douyin comments: ``/item/comment/list/`` and ``/item/comment/reply/``.

Served on the Douyin surface with its answer shape (``{"data": {..., "error_code": 0}}``),
its token check (the ``access-token`` header must belong to ``open_id``) and its
per-minute limits. The comments are the sandbox audience's, on the account's videos.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.audience import Fan, FanComment, engagement_of
from guanxi.sandbox.douyin import (
    INVALID_PARAMETER,
    PLATFORM,
    RATE_LIMITED,
    DouyinSandboxConfig,
    _check_token,
    _ok,
    error_response,
    json_object,
)

COMMENT_NOT_FOUND = INVALID_PARAMETER  # Douyin reports a missing video or comment so
REPLY_MAX = 300


def _comment_json(comment: FanComment, replies: int) -> dict[str, Any]:
    return {
        "comment_id": comment.comment_id,
        "comment_user_id": comment.author.fan_id,
        "content": comment.text,
        "create_time": int(comment.created_at.timestamp()),
        "digg_count": 0,
        "reply_comment_total": replies,
        "top": False,
    }


def register(router: APIRouter, config: DouyinSandboxConfig) -> None:
    """Add the comment endpoints to the Douyin surface's router."""

    def authorize(request: Request, open_id: str) -> JSONResponse | None:
        sandbox = sandbox_of(request)
        value = request.headers.get("access-token") or request.query_params.get("access_token")
        problem = _check_token(sandbox.state, value or "", open_id)
        if problem is not None:
            return problem
        if not sandbox.limiter.hit(
            f"douyin:account:comments:{open_id}", limit=config.account_limit_per_minute, window_s=60
        ):
            response = error_response(RATE_LIMITED, status_code=429)
            response.headers["Retry-After"] = str(int(sandbox.limiter.seconds_to_reset(60)) + 1)
            return response
        return None

    @router.get("/item/comment/list/")
    def comment_list(
        request: Request, open_id: str = "", item_id: str = "", cursor: int = 0, count: int = 20
    ) -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        if not 1 <= count <= 50 or cursor < 0:
            return error_response(INVALID_PARAMETER, detail="count 需在 1 到 50 之间")
        state = sandbox_of(request).state
        with state.lock:
            post = next(
                (
                    p
                    for p in state.posts_of(PLATFORM, open_id)
                    if p.post_id == item_id and not p.deleted
                ),
                None,
            )
            if post is None:
                return error_response(COMMENT_NOT_FOUND, detail="视频不存在")
            on_video = [
                c
                for c in engagement_of(state).comments_on(PLATFORM, open_id)
                if c.post_id == item_id
            ]
            fans = [c for c in on_video if not c.by_account]
            fans.sort(key=lambda c: c.created_at, reverse=True)  # newest first
            page = fans[cursor : cursor + count]
            rows = [
                _comment_json(c, sum(1 for r in on_video if r.reply_to_id == c.comment_id))
                for c in page
            ]
        return _ok(
            {"list": rows, "cursor": cursor + len(page), "has_more": cursor + count < len(fans)}
        )

    @router.post("/item/comment/reply/")
    async def comment_reply(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        body = await json_object(request)
        if body is None:
            return error_response(INVALID_PARAMETER, detail="请求体不是 JSON")
        content = str(body.get("content", "")).strip()
        if not content or len(content) > REPLY_MAX:
            return error_response(INVALID_PARAMETER, detail="content 长度需在 1 到 300 之间")
        state = sandbox_of(request).state
        engagement = engagement_of(state)
        with state.lock:
            parent = engagement.comment(PLATFORM, str(body.get("comment_id", "")))
            if (
                parent is None
                or parent.deleted
                or parent.account_id != open_id
                or parent.post_id != str(body.get("item_id", ""))
            ):
                return error_response(COMMENT_NOT_FOUND, detail="评论不存在")
            account = state.accounts[(PLATFORM, open_id)]
            reply = FanComment(
                PLATFORM,
                open_id,
                parent.post_id,
                state.next_id(),
                Fan(open_id, account.name, 0, 2),
                content,
                utcnow(),
                reply_to_id=parent.comment_id,
                by_account=True,
            )
            engagement.comments.append(reply)
        return _ok({"comment_id": reply.comment_id})
