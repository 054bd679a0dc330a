"""The Douyin open platform (open.douyin.com) as the sandbox serves it, under ``/douyin``.

OAuth (``douyin_oauth``: consent page, ``/oauth/access_token/``, ``/oauth/refresh_token/``,
``/oauth/userinfo/``) and the video publishing surface (``/video/upload/``, the part upload
``/video/part/init/``, ``/video/part/upload/`` and ``/video/part/complete/``,
``/video/create/``, ``/video/data/``, ``/video/list/``, ``/video/delete/``), with Douyin's
response envelope ``{"data": {..., "error_code": 0, "description": ""}, "message": "success"}``
and its error shape. A created video is "under review" (``video_status`` 4) and turns public
(5) after ``review_delay_s``, or "not suitable for the public" (2) when its text has a rejected
word. Parts are hashed as they arrive and never kept: a post's ``extra`` tells the size and
SHA-256 of the video it was created with, so a test can check the video arrived whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guanxi.core.db import utcnow
from guanxi.sandbox.app import PlatformSurface, sandbox_of
from guanxi.sandbox.state import (
    IssuedToken,
    SandboxAccount,
    SandboxApp,
    SandboxMedia,
    SandboxPost,
    SandboxState,
)

if TYPE_CHECKING:
    from guanxi.sandbox.douyin_parts import PartUpload

PLATFORM = "douyin"
PREFIX = "/douyin"

DEMO_DOUYIN_CLIENT_KEY = "awguanxisandbox01"
DEMO_DOUYIN_CLIENT_SECRET = "sandbox-douyin-client-secret-0123456789"  # noqa: S105 - demo only
DEMO_DOUYIN_OPEN_ID = "_000sandboxDouyinDemoBrand01"
DEMO_DOUYIN_TOKEN = "act.sandbox-douyin-demo-token"  # noqa: S105 - the sandbox's demo token
DEMO_DOUYIN_REFRESH_TOKEN = "rft.sandbox-douyin-demo-refresh"  # noqa: S105 - demo only
DEMO_DOUYIN_NAME = "普罗旺斯葡萄酒 Vins de Provence"

# Documented lifetimes: access token 15 days, refresh token 30 days, code 10 minutes.
ACCESS_TOKEN_LIFETIME = timedelta(days=15)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=10)
MAX_UPLOAD_BYTES = 128 * 1024 * 1024  # /video/upload/ takes files up to 128 MB
MAX_PART_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024  # the part upload takes videos up to 4 GB
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last
MAX_PART_BYTES = 100 * 1024 * 1024
PART_UPLOAD_LIFETIME_S = 2 * 3600.0  # an upload_id is valid for 2 hours
READ_CHUNK_BYTES = 1024 * 1024
MAX_TEXT_LENGTH = 1000

# Douyin's error codes, as its documentation numbers them.
PARAM_ERROR = 10002  # OAuth: a parameter is missing or wrong
CLIENT_KEY_UNKNOWN = 10003
CODE_INVALID = 10007  # the authorization code is unknown, used or expired
REFRESH_TOKEN_EXPIRED = 10010  # the user must authorize again
CLIENT_SECRET_WRONG = 10013
SYSTEM_BUSY = 2100004
INVALID_PARAMETER = 2100005
RATE_LIMITED = 2100006  # the sandbox's code for "too many requests"
TOKEN_INVALID = 2190002
TOKEN_EXPIRED = 2190008
TOKEN_OPEN_ID_MISMATCH = 2190015
# The sandbox's codes for the part upload's errors (guanxi's connector knows them too).
UPLOAD_ID_INVALID = 2100011  # unknown, of another account, or past its 2 hours
PART_OUT_OF_ORDER = 2100012
PART_MISSING = 2100013  # at complete: no part yet, or the assembled video is cut short
PART_SIZE_INVALID = 2100014

DESCRIPTIONS = {
    PARAM_ERROR: "参数错误",
    CLIENT_KEY_UNKNOWN: "client_key 不存在",
    CODE_INVALID: "授权码无效或已过期",
    REFRESH_TOKEN_EXPIRED: "refresh_token 过期，请重新授权",
    CLIENT_SECRET_WRONG: "client_key 或者 client_secret 报错",
    SYSTEM_BUSY: "系统繁忙，此时请开发者稍候再试",
    INVALID_PARAMETER: "参数不合法",
    RATE_LIMITED: "请求过于频繁，请稍后再试",
    TOKEN_INVALID: "access_token 无效",
    TOKEN_EXPIRED: "access_token 过期，请刷新或重新授权",
    TOKEN_OPEN_ID_MISMATCH: "access_token 与 open_id 不匹配",
    UPLOAD_ID_INVALID: "upload_id 无效或已过期",
    PART_OUT_OF_ORDER: "分片序号错误，请按顺序上传",
    PART_MISSING: "分片不完整，请上传所有分片",
    PART_SIZE_INVALID: "分片大小不合法",
}

# video_status values of /video/data/ and /video/list/.
STATUS_NOT_PUBLIC = 2  # refused by review
STATUS_REVIEWING = 4
STATUS_PUBLIC = 5


@dataclass
class DouyinSandboxConfig:
    """What a test or the demo may tune on the Douyin surface."""

    review_delay_s: float = 20.0
    rejected_words: tuple[str, ...] = ("审核不通过",)
    account_limit_per_minute: int = 120  # per open_id and app
    app_limit_per_minute: int = 6000  # per app
    min_part_bytes: int = MIN_PART_BYTES
    max_part_bytes: int = MAX_PART_BYTES
    part_upload_lifetime_s: float = PART_UPLOAD_LIFETIME_S


@dataclass
class _Grant:
    client_key: str
    open_id: str
    scope: str
    redirect_uri: str
    expires_at: datetime


@dataclass
class _DouyinMemory:
    """Douyin-only bookkeeping: grants by code, refresh-token expiry, part uploads."""

    grants: dict[str, _Grant] = field(default_factory=dict)
    refresh_expiry: dict[str, datetime] = field(default_factory=dict)
    part_uploads: dict[str, PartUpload] = field(default_factory=dict)
    video_digests: dict[str, str] = field(default_factory=dict)  # SHA-256 by video_id
    lock: threading.Lock = field(default_factory=threading.Lock)


def error_response(code: int, status_code: int = 200, detail: str = "") -> JSONResponse:
    """A Douyin-shaped error: ``data.error_code``/``description`` and ``extra``."""
    description = detail or DESCRIPTIONS.get(code, "error")
    return JSONResponse(
        {
            "data": {"error_code": code, "description": description},
            "extra": {
                "error_code": code,
                "description": description,
                "sub_error_code": 0,
                "sub_description": "",
                "logid": secrets.token_hex(12),
                "now": int(utcnow().timestamp() * 1000),
            },
            "message": "error",
        },
        status_code=status_code,
    )


async def json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object; None when it is not JSON or not one."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"data": {**data, "error_code": 0, "description": ""}, "message": "success"}
    )


def douyin_surface(config: DouyinSandboxConfig | None = None) -> PlatformSurface:
    """The Douyin surface; each call has its own config and memory."""
    config = config or DouyinSandboxConfig()
    memory = _DouyinMemory()
    router = APIRouter()
    _video_routes(router, config, memory)
    from guanxi.sandbox import douyin_engage, douyin_metrics, douyin_oauth, douyin_parts  # noqa: PLC0415 - cycle: they import this module

    douyin_oauth.register(router, memory)
    douyin_parts.register(router, config, memory)
    douyin_engage.register(router, config)
    douyin_metrics.register(router, config)

    def seed(state: SandboxState) -> None:
        seed_demo(state, memory)

    return PlatformSurface(
        platform=PLATFORM,
        prefix=PREFIX,
        router=router,
        server_error=lambda: error_response(SYSTEM_BUSY, status_code=500),
        rate_limited=lambda: error_response(RATE_LIMITED, status_code=429),
        seed_demo=seed,
        account_links=lambda state: [
            (a.name, f"/accounts/{PLATFORM}/{a.account_id}")
            for a in state.accounts.values()
            if a.platform == PLATFORM
        ],
    )


def seed_demo(state: SandboxState, memory: _DouyinMemory | None = None) -> None:
    """The demo app and account, with a long-lived token guanxi's demo data can use."""
    state.add_app(
        SandboxApp(
            platform=PLATFORM,
            client_id=DEMO_DOUYIN_CLIENT_KEY,
            client_secret=DEMO_DOUYIN_CLIENT_SECRET,
        )
    )
    state.add_account(
        SandboxAccount(platform=PLATFORM, account_id=DEMO_DOUYIN_OPEN_ID, name=DEMO_DOUYIN_NAME)
    )
    with state.lock:
        state.tokens[DEMO_DOUYIN_TOKEN] = IssuedToken(
            platform=PLATFORM,
            token=DEMO_DOUYIN_TOKEN,
            account_id=DEMO_DOUYIN_OPEN_ID,
            client_id=DEMO_DOUYIN_CLIENT_KEY,
            expires_at=utcnow() + timedelta(days=3650),
            refresh_token=DEMO_DOUYIN_REFRESH_TOKEN,
        )
    if memory is not None:
        with memory.lock:
            memory.refresh_expiry[DEMO_DOUYIN_REFRESH_TOKEN] = utcnow() + timedelta(days=3650)


def _check_token(state: SandboxState, value: str, open_id: str) -> JSONResponse | None:
    token = state.token(PLATFORM, value)
    if token is None or token.revoked:
        return error_response(TOKEN_INVALID)
    if not token.valid(utcnow()):
        return error_response(TOKEN_EXPIRED)
    if token.account_id != open_id or (PLATFORM, open_id) not in state.accounts:
        return error_response(TOKEN_OPEN_ID_MISMATCH)
    return None


def _settle(post: SandboxPost, config: DouyinSandboxConfig, now: datetime) -> None:
    """Finish the review of a video whose review time has come (by the sandbox's clock)."""
    if post.status != "reviewing":
        return
    if now < post.created_at + timedelta(seconds=config.review_delay_s):
        return
    rejected = any(word in post.text for word in config.rejected_words)
    post.status = "rejected" if rejected else "published"


def _video_status(post: SandboxPost) -> int:
    return {"reviewing": STATUS_REVIEWING, "rejected": STATUS_NOT_PUBLIC}.get(
        post.status, STATUS_PUBLIC
    )


def _item(post: SandboxPost, base_url: str, state: SandboxState) -> dict[str, Any]:
    from guanxi.sandbox.douyin_metrics import post_statistics  # noqa: PLC0415 - cycle: douyin_metrics imports this module

    return {
        "item_id": post.post_id,
        "title": post.text,
        "create_time": int(post.created_at.timestamp()),
        "media_type": 2 if post.extra.get("album") else 4,  # an image album, or a video
        "is_reviewed": post.status != "reviewing",
        "video_status": _video_status(post),
        "is_top": False,
        "cover": "",
        "share_url": f"{base_url}accounts/{PLATFORM}/{post.account_id}#{post.post_id}",
        "statistics": post_statistics(state, post),
    }


def _authorizer(config: DouyinSandboxConfig) -> Callable[[Request, str], JSONResponse | None]:
    """The video endpoints' check: the token belongs to ``open_id``, within the limits."""

    def authorize(request: Request, open_id: str) -> JSONResponse | None:
        sandbox = sandbox_of(request)
        value = request.headers.get("access-token") or request.query_params.get("access_token")
        problem = _check_token(sandbox.state, value or "", open_id)
        if problem is not None:
            return problem
        token = sandbox.state.token(PLATFORM, value or "")
        assert token is not None  # checked above
        limiter = sandbox.limiter
        if not limiter.hit(
            f"douyin:app:{token.client_id}", limit=config.app_limit_per_minute, window_s=60
        ) or not limiter.hit(
            f"douyin:account:{token.client_id}:{open_id}",
            limit=config.account_limit_per_minute,
            window_s=60,
        ):
            response = error_response(RATE_LIMITED, status_code=429)
            response.headers["Retry-After"] = str(int(limiter.seconds_to_reset(60)) + 1)
            return response
        return None

    return authorize


def _is_video(head: bytes) -> bool:
    """MP4 (and MOV) files start with an "ftyp" box; WebM with the EBML magic."""
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def _video_routes(  # noqa: PLR0915 - one closure per route
    router: APIRouter, config: DouyinSandboxConfig, memory: _DouyinMemory
) -> None:
    authorize = _authorizer(config)

    def posts(request: Request, open_id: str) -> list[SandboxPost]:
        state = sandbox_of(request).state
        with state.lock:
            found = [p for p in state.posts_of(PLATFORM, open_id) if not p.deleted]
            for post in found:
                _settle(post, config, state.clock.now())
        return found

    @router.post("/video/upload/")
    async def upload(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        async with request.form() as form:  # closes the spooled upload file
            video = form.get("video")
            if video is None or isinstance(video, str):
                return error_response(INVALID_PARAMETER, detail="缺少 video 文件")
            content = await video.read()
            filename = video.filename or "video.mp4"
            content_type = video.content_type or "video/mp4"
        if not _is_video(content):
            return error_response(INVALID_PARAMETER, detail="视频格式不支持，请上传 mp4 或 webm")
        if len(content) > MAX_UPLOAD_BYTES:
            return error_response(INVALID_PARAMETER, detail="视频文件超过 128MB，请使用分片上传")
        state = sandbox_of(request).state
        video_id = "v0" + secrets.token_hex(14)
        with state.lock:
            state.media[video_id] = SandboxMedia(
                platform=PLATFORM,
                account_id=open_id,
                media_id=video_id,
                filename=filename,
                content_type=content_type,
                size=len(content),
            )
        with memory.lock:
            memory.video_digests[video_id] = hashlib.sha256(content).hexdigest()
        return _ok({"video": {"video_id": video_id, "width": 1080, "height": 1920}})

    @router.post("/video/create/")
    async def create(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        try:
            body = await request.json()
        except ValueError:
            return error_response(INVALID_PARAMETER, detail="请求体不是 JSON")
        state = sandbox_of(request).state
        video_id = str(body.get("video_id", "")) if isinstance(body, dict) else ""
        text = str(body.get("text", "")) if isinstance(body, dict) else ""
        media = state.media.get(video_id)
        if media is None or media.platform != PLATFORM or media.account_id != open_id:
            return error_response(INVALID_PARAMETER, detail="video_id 无效")
        if len(text) > MAX_TEXT_LENGTH:
            return error_response(INVALID_PARAMETER, detail="标题过长")
        post = state.add_post(
            SandboxPost(
                platform=PLATFORM,
                account_id=open_id,
                post_id=f"@{state.next_id()}",
                text=text,
                created_at=state.clock.now(),
                media=[video_id],
                status="reviewing",
                extra={
                    "video_id": video_id,
                    "size": media.size,
                    "sha256": memory.video_digests.get(video_id, ""),
                },
            )
        )
        # The account page should show the review ending even if nobody asks the API.
        asyncio.get_running_loop().call_later(
            config.review_delay_s + 0.01, lambda: _settle_locked(state, post, config)
        )
        return _ok({"item_id": post.post_id})

    @router.post("/video/data/")
    async def data(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        body = await json_object(request)
        item_ids = body.get("item_ids") if body is not None else None
        if not isinstance(item_ids, list) or not item_ids or len(item_ids) > 20:
            return error_response(INVALID_PARAMETER, detail="item_ids 需为 1 到 20 个视频 id")
        wanted = {str(i) for i in item_ids}
        base = str(request.base_url)
        state = sandbox_of(request).state
        found = [_item(p, base, state) for p in posts(request, open_id) if p.post_id in wanted]
        return _ok({"list": found})

    @router.get("/video/list/")
    def video_list(
        request: Request, open_id: str = "", cursor: int = 0, count: int = 10
    ) -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        if not 1 <= count <= 20 or cursor < 0:
            return error_response(INVALID_PARAMETER, detail="count 需在 1 到 20 之间")
        everything = posts(request, open_id)  # newest first
        page = everything[cursor : cursor + count]
        base = str(request.base_url)
        has_more = cursor + count < len(everything)
        state = sandbox_of(request).state
        return _ok(
            {
                "list": [_item(p, base, state) for p in page],
                "has_more": has_more,
                "cursor": cursor + len(page),
            }
        )

    @router.post("/video/delete/")
    async def delete(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        body = await json_object(request)
        item_id = str(body.get("item_id", "")) if body is not None else ""
        target = next((p for p in posts(request, open_id) if p.post_id == item_id), None)
        if target is None:
            return error_response(INVALID_PARAMETER, detail="item_id 无效")
        target.deleted = True
        return _ok({})


def _settle_locked(state: SandboxState, post: SandboxPost, config: DouyinSandboxConfig) -> None:
    with state.lock:
        _settle(post, config, state.clock.now())
