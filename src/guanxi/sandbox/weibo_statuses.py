"""The sandbox Weibo's statuses: ``users/show`` and what a third-party app may write.

``statuses/share`` (the text must link to the app's registered safe domain, at most 140
characters as Weibo counts them, no ``#topic#``, one JPG, GIF or PNG under 5 MB; the same
text twice within 24 hours is refused), ``user_timeline`` (with ``since_id``/``max_id``),
``show`` and ``destroy`` (one's own posts only).
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.state import SandboxMedia, SandboxPost
from guanxi.sandbox.weibo_calls import (
    PLATFORM,
    _authorize,
    _error,
    _find_post,
    _params,
    _RefusedError,
    _status_json,
    _Upload,
    _user_json,
)

if TYPE_CHECKING:
    from guanxi.sandbox.weibo import WeiboSandbox

SHARE_TEXT_LIMIT = 140  # statuses/share: at most 140 Chinese characters
PIC_MAX_BYTES = 5 * 1024 * 1024  # statuses/share: images under 5 MB
_URL = re.compile(r"https?://[^\s<>\"']+")
_TOPIC = re.compile(r"#[^#\s]+#")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def share_text_length(text: str) -> int:
    """Length as Weibo counts it: a Chinese character is 1, two ASCII characters are 1."""
    halves = sum(1 if ord(char) < 0x80 else 2 for char in text)
    return (halves + 1) // 2


def _check_status(weibo: WeiboSandbox, path: str, client_id: str, status: str) -> str:
    """The decoded text of ``statuses/share``'s ``status``; raises ``_RefusedError``."""
    text = unquote(status)
    if not text.strip():
        raise _RefusedError(_error(path, 10016, "Miss required parameter (status), see doc"))
    if share_text_length(text) > SHARE_TEXT_LIMIT:
        raise _RefusedError(
            _error(path, 20012, "Text too long, please input text less than 140 characters!")
        )
    if _TOPIC.search(text):
        raise _RefusedError(
            _error(
                path,
                10017,
                "Parameter (status)'s value invalid, expect (text "
                "without #topic#), see doc for more info",
            )
        )
    domain = weibo.safe_domains.get(client_id, "")
    hosts = [(urlsplit(url).hostname or "").lower() for url in _URL.findall(text)]
    if not domain or not any(h == domain or h.endswith("." + domain) for h in hosts):
        expected = f"a link on the app's safe domain {domain}"
        raise _RefusedError(
            _error(
                path,
                10017,
                f"Parameter (status)'s value invalid, expect ({expected}), see doc for more info",
            )
        )
    return text


def _check_pic(path: str, value: Any) -> _Upload | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        raise _RefusedError(
            _error(path, 10017, "Parameter (pic)'s value invalid, expect (one image)")
        )
    if not isinstance(value, _Upload):
        raise _RefusedError(_error(path, 10017, "Parameter (pic)'s value invalid, expect (binary)"))
    if not value.data.startswith(_IMAGE_MAGIC):
        raise _RefusedError(
            _error(path, 20005, "Unsupported image type, only suport JPG, GIF, PNG!")
        )
    if len(value.data) >= PIC_MAX_BYTES:
        raise _RefusedError(_error(path, 20006, "Image size too large."))
    return value


def register(router: APIRouter, weibo: WeiboSandbox) -> None:
    """Add ``users/show`` and the statuses endpoints to ``router``."""

    @router.get("/2/users/show.json")
    async def users_show(request: Request) -> Response:
        params = await _params(request)
        try:
            _authorize(weibo, request, params)
        except _RefusedError as refused:
            return refused.response
        state = sandbox_of(request).state
        uid = str(params.get("uid", ""))
        if (PLATFORM, uid) not in state.accounts:
            return _error("/2/users/show.json", 20003, "User does not exists!")
        from guanxi.sandbox.weibo_metrics import user_counts  # noqa: PLC0415 - cycle: weibo_metrics imports this module

        return JSONResponse({**_user_json(state, uid), **user_counts(state, uid)})

    @router.post("/2/statuses/share.json")
    async def share(request: Request) -> Response:
        return await _share(weibo, request)

    @router.get("/2/statuses/user_timeline.json")
    async def user_timeline(request: Request) -> Response:
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            token = _authorize(weibo, request, params)
            count = min(max(int(params.get("count", 20)), 1), 100)
            page = max(int(params.get("page", 1)), 1)
        except _RefusedError as refused:
            return refused.response
        except ValueError:
            return _error(
                "/2/statuses/user_timeline.json",
                10017,
                "Parameter (count/page)'s value invalid, expect (int)",
            )
        posts = [p for p in state.posts_of(PLATFORM, token.account_id) if not p.deleted]
        posts = [p for p in posts if _in_id_window(p.post_id, params)]
        chunk = posts[(page - 1) * count : page * count]
        return JSONResponse(
            {
                "statuses": [_status_json(state, p) for p in chunk],
                "total_number": len(posts),
                "previous_cursor": 0,
                "next_cursor": 0,
            }
        )

    @router.get("/2/statuses/show.json")
    async def show(request: Request) -> Response:
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            _authorize(weibo, request, params)
        except _RefusedError as refused:
            return refused.response
        post = _find_post(state, str(params.get("id", "")))
        if post is None or post.deleted:
            return _error("/2/statuses/show.json", 20101, "Target weibo does not exist!")
        return JSONResponse(_status_json(state, post))

    @router.post("/2/statuses/destroy.json")
    async def destroy(request: Request) -> Response:
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            token = _authorize(weibo, request, params)
        except _RefusedError as refused:
            return refused.response
        post = _find_post(state, str(params.get("id", "")))
        # Someone else's post is reported as missing: its existence is not the caller's business.
        if post is None or post.deleted or post.account_id != token.account_id:
            return _error("/2/statuses/destroy.json", 20101, "Target weibo does not exist!")
        with state.lock:
            post.deleted = True
        return JSONResponse(_status_json(state, post))


async def _share(weibo: WeiboSandbox, request: Request) -> Response:
    """``statuses/share``: check the token, limits, text and picture; then post."""
    path = "/2/statuses/share.json"
    params = await _params(request)
    state = sandbox_of(request).state
    try:
        token = _authorize(weibo, request, params, share=True)
        text = _check_status(weibo, path, token.client_id, str(params.get("status", "")))
        pic = _check_pic(path, params.get("pic"))
    except _RefusedError as refused:
        return refused.response
    since = utcnow() - weibo.limits.repeat_window
    with state.lock:
        repeated = any(
            p.text == text and not p.deleted and p.created_at >= since
            for p in state.posts_of(PLATFORM, token.account_id)
        )
        if repeated:
            return _error(path, 20019, "Repeated weibo text!")
        post = SandboxPost(
            platform=PLATFORM,
            account_id=token.account_id,
            post_id=state.next_id(),
            text=text,
            created_at=utcnow(),
            extra={
                "source": "guanxi",
                "client_id": token.client_id,
                "rip": str(params.get("rip", "")),
            },
        )
        if pic is not None:
            media_id = secrets.token_hex(10)
            state.media[media_id] = SandboxMedia(
                platform=PLATFORM,
                account_id=token.account_id,
                media_id=media_id,
                filename=pic.filename,
                content_type=pic.content_type,
                size=len(pic.data),
                url=f"https://wx1.sinaimg.cn/large/{media_id}.jpg",
                data=pic.data,
            )
            post.media.append(pic.filename)
            post.extra["pic_url"] = state.media[media_id].url
            post.extra["media_ids"] = [media_id]
        state.add_post(post)
    return JSONResponse(_status_json(state, post))


def _in_id_window(post_id: str, params: dict[str, Any]) -> bool:
    """Whether a status is newer than ``since_id`` and not newer than ``max_id`` (0: no bound)."""
    try:
        since, most = int(params.get("since_id") or 0), int(params.get("max_id") or 0)
    except ValueError:
        return True  # Weibo ignores a bound it cannot read
    number = int(post_id)
    return number > since and (not most or number <= most)
