"""The sandbox's WeChat Official Account platform, as developers.weixin.qq.com documents it.

Served under ``/wechat`` (so ``GUANXI_WECHAT_API_BASE=http://127.0.0.1:8100/wechat`` stands
in for ``https://api.weixin.qq.com``): access tokens (``cgi-bin/token``, where a new token
invalidates the previous one, and ``cgi-bin/stable_token``), permanent material and article
image uploads, ``draft/add``, and the ``freepublish`` job API (``submit``, ``get``,
``batchget``, ``delete``). A publish job is "publishing" (1) for ``publish_delay_s``, then
ends (0 by default) and its ``PUBLISHJOBFINISH`` event is pushed, signed, to the server URL
configured for the account. Errors use WeChat's ``{"errcode", "errmsg"}`` with HTTP 200.
The state behind it lives in ``guanxi.sandbox.wechat_state``.
"""

from __future__ import annotations

import functools
import html
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from guanxi.core.db import utcnow
from guanxi.sandbox import wechat_codes, wechat_engage, wechat_metrics
from guanxi.sandbox.app import PlatformSurface, json_error, sandbox_of
from guanxi.sandbox.state import SandboxMedia, SandboxPost
from guanxi.sandbox.state import SandboxState as State
from guanxi.sandbox.wechat_state import (
    MINUTE_QUOTA_MESSAGE,
    PLATFORM,
    PREFIX,
    OfficialAccount,
    PublishJob,
    Push,
    RefusedError,
    WechatLimits,
    WechatSandbox,
    sign,
)

__all__ = [
    "DEMO_WECHAT_APPID",
    "DEMO_WECHAT_SECRET",
    "DEMO_WECHAT_SERVER_TOKEN",
    "OfficialAccount",
    "PublishJob",
    "Push",
    "WechatLimits",
    "WechatSandbox",
    "sign",
    "wechat_surface",
]

# The demo Official Account: AppID, AppSecret, and the Token of its server configuration.
DEMO_WECHAT_APPID = "wx5e1d7c3a9b204f68"
DEMO_WECHAT_SECRET = "3f9c2b7e8a1d4c6f0e5b9a7d2c4e6f81"  # noqa: S105 - sandbox-only
DEMO_WECHAT_SERVER_TOKEN = "guanxiSandboxServerToken2024"  # noqa: S105 - sandbox-only
DEMO_WECHAT_NAME = "普罗旺斯葡萄酒"

THUMB_MAX_BYTES = 64 * 1024  # add_material type=thumb: JPG, 64 KB
IMAGE_MAX_BYTES = 10 * 1024 * 1024  # add_material type=image: 10 MB
UPLOADIMG_MAX_BYTES = 1024 * 1024  # media/uploadimg: JPG or PNG under 1 MB
TITLE_MAX = 64
DIGEST_MAX = 120
AUTHOR_MAX = 16
CONTENT_MAX_CHARS = 20_000
_MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"GIF8": "gif", b"BM": "bmp"}
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def wechat_surface(limits: WechatLimits | None = None) -> PlatformSurface:
    """The WeChat Official Account surface with ``limits`` (the defaults when not given)."""
    return surface_of(WechatSandbox(limits=limits or WechatLimits()))


def surface_of(wechat: WechatSandbox) -> PlatformSurface:
    """The surface serving ``wechat`` (tests keep ``wechat`` to steer and inspect it)."""
    return PlatformSurface(
        platform=PLATFORM,
        prefix=PREFIX,
        router=_router(wechat),
        # WeChat reports its own trouble as errcode -1 ("system busy") with HTTP 200.
        server_error=lambda: _error(-1, "system error"),
        rate_limited=lambda: _error(45011, MINUTE_QUOTA_MESSAGE),
        seed_demo=functools.partial(seed_demo, wechat),
        account_links=lambda state: [
            (a.name, f"/accounts/{PLATFORM}/{a.account_id}")
            for a in state.accounts.values()
            if a.platform == PLATFORM
        ],
    )


def seed_demo(wechat: WechatSandbox, state: State) -> None:
    """The demo Official Account."""
    wechat.add_account(
        state,
        app_id=DEMO_WECHAT_APPID,
        secret=DEMO_WECHAT_SECRET,
        name=DEMO_WECHAT_NAME,
        server_token=DEMO_WECHAT_SERVER_TOKEN,
    )

    wechat_engage.bind(wechat, state)  # the audience's messages are pushed to the account


def _error(errcode: int, errmsg: str) -> JSONResponse:
    # WeChat answers errors with HTTP 200 and a request id in the message.
    return json_error(200, {"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(6)}"})


Endpoint = Callable[..., Awaitable[Any]]


def _refusals_answered(endpoint: Endpoint) -> Endpoint:
    """Answer a ``RefusedError`` raised by ``endpoint`` in WeChat's error shape."""

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await endpoint(*args, **kwargs)
        except RefusedError as refused:
            return _error(refused.errcode, refused.errmsg)

    return wrapper


def _image_kind(data: bytes) -> str:
    return next((kind for magic, kind in _MAGIC.items() if data.startswith(magic)), "")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RefusedError(47001, "data format error") from exc
    if not isinstance(body, dict):
        raise RefusedError(47001, "data format error")
    return body


async def _upload(request: Request) -> tuple[bytes, str]:
    async with request.form() as form:  # closes the spooled upload files afterwards
        media = form.get("media")
        if not isinstance(media, UploadFile):
            raise RefusedError(41005, "media data missing")
        return await media.read(), media.filename or "upload"


def _router(wechat: WechatSandbox) -> APIRouter:
    router = APIRouter()
    _token_routes(router, wechat)
    _media_routes(router, wechat)
    _draft_routes(router, wechat)
    _publish_routes(router, wechat)
    _admin_routes(router, wechat)
    wechat_engage.register(router, wechat)
    wechat_metrics.register(router, wechat)
    wechat_codes.register(router, wechat)
    return router


def _check_app(state: State, app_id: str, secret: str) -> None:
    account = state.accounts.get((PLATFORM, app_id))
    if not app_id:
        raise RefusedError(41002, "appid missing")
    if account is None:
        raise RefusedError(40013, "invalid appid")
    if not secret:
        raise RefusedError(41004, "appsecret missing")
    if not secrets.compare_digest(secret.encode(), account.secret.encode()):
        raise RefusedError(40125, "invalid appsecret")


def _token_routes(router: APIRouter, wechat: WechatSandbox) -> None:
    @router.get("/cgi-bin/token")
    @_refusals_answered
    async def token(
        request: Request, grant_type: str = "", appid: str = "", secret: str = ""
    ) -> Any:
        sandbox = sandbox_of(request)
        if grant_type != "client_credential":
            raise RefusedError(40002, "invalid grant_type")
        _check_app(sandbox.state, appid, secret)
        wechat.count_call(appid, "token", sandbox.limiter)
        issued = wechat.issue(sandbox.state, appid, stable=False)
        return {"access_token": issued.token, "expires_in": wechat.limits.token_lifetime_s}

    @router.post("/cgi-bin/stable_token")
    @_refusals_answered
    async def stable_token(request: Request) -> Any:
        sandbox = sandbox_of(request)
        body = await _json_body(request)
        if body.get("grant_type") != "client_credential":
            raise RefusedError(40002, "invalid grant_type")
        app_id, secret = str(body.get("appid", "")), str(body.get("secret", ""))
        _check_app(sandbox.state, app_id, secret)
        wechat.count_call(app_id, "stable_token", sandbox.limiter)
        with wechat.lock:
            current = sandbox.state.token(PLATFORM, wechat.accounts[app_id].stable_token)
        now = utcnow()
        if body.get("force_refresh") is not True and current and current.valid(now):
            remaining = int((current.expires_at - now).total_seconds())
            return {"access_token": current.token, "expires_in": remaining}
        issued = wechat.issue(sandbox.state, app_id, stable=True)
        return {"access_token": issued.token, "expires_in": wechat.limits.token_lifetime_s}

    @router.post("/cgi-bin/clear_quota")
    @_refusals_answered
    async def clear_quota(request: Request) -> Any:
        app_id = wechat.authorize(request, "clear_quota")
        if (await _json_body(request)).get("appid") != app_id:
            raise RefusedError(40013, "invalid appid")
        wechat.clear_quota(app_id)
        return {"errcode": 0, "errmsg": "ok"}


def _media_routes(router: APIRouter, wechat: WechatSandbox) -> None:
    @router.post("/cgi-bin/material/add_material")
    @_refusals_answered
    async def add_material(request: Request, type: str = "") -> Any:  # noqa: A002 - WeChat's name
        app_id = wechat.authorize(request, "add_material")
        if type not in {"image", "thumb", "voice", "video"}:
            raise RefusedError(40004, "invalid media type")
        data, filename = await _upload(request)
        kind = _image_kind(data)
        # The sandbox keeps images only: voice and video material is refused as a wrong type.
        if not kind or type in {"voice", "video"} or (type == "thumb" and kind != "jpg"):
            raise RefusedError(40005, "invalid file type")
        if len(data) > (THUMB_MAX_BYTES if type == "thumb" else IMAGE_MAX_BYTES):
            raise RefusedError(40009, "invalid image size")
        media_id = secrets.token_urlsafe(32)
        url = _keep_image(request, wechat, data, media_id)
        state = sandbox_of(request).state
        with state.lock:
            state.media[media_id] = SandboxMedia(
                platform=PLATFORM,
                account_id=app_id,
                media_id=media_id,
                filename=filename,
                content_type=f"image/{kind}",
                size=len(data),
                url=url,
            )
        return {"media_id": media_id, "url": url}

    @router.post("/cgi-bin/media/uploadimg")
    @_refusals_answered
    async def upload_image(request: Request) -> Any:
        wechat.authorize(request, "uploadimg")
        data, _filename = await _upload(request)
        if _image_kind(data) not in {"jpg", "png"}:
            raise RefusedError(40005, "invalid file type")
        if len(data) >= UPLOADIMG_MAX_BYTES:
            raise RefusedError(40009, "invalid image size")
        return {"url": _keep_image(request, wechat, data, secrets.token_urlsafe(12))}

    @router.get("/mmbiz/{image_id}")
    def image(image_id: str) -> Response:
        with wechat.lock:
            data = wechat.images.get(image_id)
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type=f"image/{_image_kind(data) or 'jpeg'}")


def _keep_image(request: Request, wechat: WechatSandbox, data: bytes, image_id: str) -> str:
    with wechat.lock:
        wechat.images[image_id] = data
    return f"{_base(request)}{PREFIX}/mmbiz/{image_id}"


def _check_article(state: State, app_id: str, article: Any, uploaded: set[str]) -> dict[str, Any]:
    """A draft article as WeChat keeps it; raises ``RefusedError`` for a rule it breaks."""
    if not isinstance(article, dict):
        raise RefusedError(47001, "data format error")
    title, content = str(article.get("title", "")), str(article.get("content", ""))
    if not title or not content:
        raise RefusedError(44004, "empty content" if title else "empty title")
    if len(title) > TITLE_MAX:
        raise RefusedError(45003, "title size out of limit")
    if len(str(article.get("digest", ""))) > DIGEST_MAX:
        raise RefusedError(45004, "description size out of limit")
    if len(str(article.get("author", ""))) > AUTHOR_MAX:
        raise RefusedError(45110, "author size out of limit")
    if len(content) > CONTENT_MAX_CHARS or len(content.encode()) > 1024 * 1024:
        raise RefusedError(45002, "content size out of limit")
    if len(str(article.get("content_source_url", ""))) > 1024:
        raise RefusedError(45005, "url size out of limit")
    thumb = state.media.get(str(article.get("thumb_media_id", "")))
    if thumb is None or thumb.platform != PLATFORM or thumb.account_id != app_id:
        raise RefusedError(40007, "invalid media_id")

    # Images not uploaded to WeChat are filtered out of articles, as the platform does.
    def keep_uploaded(match: re.Match[str]) -> str:
        src = _SRC.search(match.group(0))
        return match.group(0) if src and src.group(1) in uploaded else ""

    kept = _IMG_TAG.sub(keep_uploaded, content)
    dropped = len(_IMG_TAG.findall(content)) - len(_IMG_TAG.findall(kept))
    return {**article, "content": kept, "dropped_images": dropped}


def _draft_routes(router: APIRouter, wechat: WechatSandbox) -> None:
    @router.post("/cgi-bin/draft/add")
    @_refusals_answered
    async def draft_add(request: Request) -> Any:
        app_id = wechat.authorize(request, "draft_add")
        articles = (await _json_body(request)).get("articles")
        if not isinstance(articles, list) or not articles or len(articles) > 8:
            raise RefusedError(47001, "data format error")
        prefix = f"{_base(request)}{PREFIX}/mmbiz/"
        with wechat.lock:
            uploaded = {prefix + image_id for image_id in wechat.images}
        state = sandbox_of(request).state
        checked = [_check_article(state, app_id, article, uploaded) for article in articles]
        media_id = secrets.token_urlsafe(32)
        with wechat.lock:
            wechat.drafts[media_id] = (app_id, checked)
            wechat.draft_times[media_id] = int(time.time())
        return {"media_id": media_id}

    @router.post("/cgi-bin/draft/batchget")
    @_refusals_answered
    async def draft_batchget(request: Request) -> Any:
        app_id = wechat.authorize(request, "draft_batchget")
        body = await _json_body(request)
        offset, count = body.get("offset", 0), body.get("count", 0)
        if not isinstance(offset, int) or not isinstance(count, int):
            raise RefusedError(40097, "invalid args")
        if offset < 0 or not 1 <= count <= 20:
            raise RefusedError(40097, "invalid args")
        with wechat.lock:
            mine = [
                (media_id, articles, wechat.draft_times.get(media_id, 0))
                for media_id, (owner, articles) in wechat.drafts.items()
                if owner == app_id
            ]
        mine.sort(key=lambda draft: -draft[2])
        no_content = bool(body.get("no_content"))
        items = [
            {
                "media_id": media_id,
                "update_time": updated,
                "content": {
                    "news_item": [
                        {
                            key: value
                            for key, value in article.items()
                            if key != "dropped_images" and not (no_content and key == "content")
                        }
                        for article in articles
                    ]
                },
            }
            for media_id, articles, updated in mine[offset : offset + count]
        ]
        return {"total_count": len(mine), "item_count": len(items), "item": items}

    @router.post("/cgi-bin/freepublish/submit")
    @_refusals_answered
    async def submit(request: Request) -> Any:
        app_id = wechat.authorize(request, "freepublish_submit")
        media_id = str((await _json_body(request)).get("media_id", ""))
        with wechat.lock:
            draft = wechat.drafts.get(media_id)
            outcome = wechat.accounts[app_id].publish_outcome
        if draft is None or draft[0] != app_id:
            raise RefusedError(40007, "invalid media_id")
        job = PublishJob(
            publish_id=wechat.next_id(),
            msg_data_id=wechat.next_id(),
            app_id=app_id,
            articles=draft[1],
            finish_at=time.monotonic() + wechat.limits.publish_delay_s,
            outcome=outcome,
        )
        first = draft[1][0]
        state = sandbox_of(request).state
        job.post = state.add_post(
            SandboxPost(
                platform=PLATFORM,
                account_id=app_id,
                post_id=job.publish_id,
                text=html.unescape(_TAGS.sub("", str(first["content"]))).strip(),
                created_at=utcnow(),
                title=str(first["title"]),
                status="publishing",
                extra={
                    "publish_id": job.publish_id,
                    "content": first["content"],
                    "content_source_url": first.get("content_source_url", ""),
                    "dropped_images": first["dropped_images"],
                },
            )
        )
        wechat.start(state, job, _base(request))
        return {
            "errcode": 0,
            "errmsg": "ok",
            "publish_id": job.publish_id,
            "msg_data_id": job.msg_data_id,
        }


def _job(wechat: WechatSandbox, app_id: str, publish_id: str) -> PublishJob:
    if not publish_id:
        raise RefusedError(47001, "data format error")
    with wechat.lock:
        job = wechat.jobs.get(publish_id)
    if job is None or job.app_id != app_id:
        raise RefusedError(40007, "invalid publish_id")
    return job


def _publish_routes(router: APIRouter, wechat: WechatSandbox) -> None:
    @router.post("/cgi-bin/freepublish/get")
    @_refusals_answered
    async def get(request: Request) -> Any:
        app_id = wechat.authorize(request, "freepublish_get")
        job = _job(wechat, app_id, str((await _json_body(request)).get("publish_id", "")))
        wechat.settle(sandbox_of(request).state, job, _base(request))
        return wechat.job_json(job)

    @router.post("/cgi-bin/freepublish/batchget")
    @_refusals_answered
    async def batchget(request: Request) -> Any:
        app_id = wechat.authorize(request, "freepublish_batchget")
        body = await _json_body(request)
        offset, count = body.get("offset", 0), body.get("count", 0)
        if not isinstance(offset, int) or not isinstance(count, int):
            raise RefusedError(40097, "invalid args")
        if offset < 0 or not 1 <= count <= 20:
            raise RefusedError(40097, "invalid args")
        with wechat.lock:
            jobs = [job for job in wechat.jobs.values() if job.app_id == app_id]
        for job in jobs:
            wechat.settle(sandbox_of(request).state, job, _base(request))
        done = sorted((j for j in jobs if j.status == 0), key=_newest_first)
        items = [
            {
                "article_id": job.article_id,
                "msg_data_id": job.msg_data_id,
                "update_time": _published_at(job),
                "content": {"news_item": _news_items(job, bool(body.get("no_content")))},
            }
            for job in done[offset : offset + count]
        ]
        return {"total_count": len(done), "item_count": len(items), "item": items}

    @router.post("/cgi-bin/freepublish/delete")
    @_refusals_answered
    async def delete(request: Request) -> Any:
        app_id = wechat.authorize(request, "freepublish_delete")
        article_id = str((await _json_body(request)).get("article_id", ""))
        with wechat.lock:
            job = next(
                (
                    j
                    for j in wechat.jobs.values()
                    if j.app_id == app_id and j.article_id == article_id and j.status == 0
                ),
                None,
            )
            if not article_id or job is None:
                raise RefusedError(53600, "invalid article_id")
            job.status = 5  # deleted after success
        state = sandbox_of(request).state
        if job.post is not None:
            with state.lock:
                job.post.deleted = True
        return {"errcode": 0, "errmsg": "ok"}

    @router.get("/s/{article_id}", response_class=HTMLResponse)
    def article_page(article_id: str) -> Response:
        with wechat.lock:
            job = next((j for j in wechat.jobs.values() if j.article_id == article_id), None)
        if job is None or job.status != 0 or job.post is None:
            return HTMLResponse("<h1>该内容已被发布者删除</h1>", status_code=404)
        title, text = html.escape(job.post.title), html.escape(job.post.text)
        return HTMLResponse(
            f'<!doctype html><meta charset="utf-8"><title>{title}</title><h1>{title}</h1>'
            f"<p>{text}</p>"
        )


def _published_at(job: PublishJob) -> int:
    """When the job's article was published (unix s): batchget's ``update_time``."""
    return int(job.post.created_at.timestamp()) if job.post is not None else int(time.time())


def _newest_first(job: PublishJob) -> tuple[int, int]:
    return -_published_at(job), -int(job.publish_id)


def _news_items(job: PublishJob, no_content: bool) -> list[dict[str, Any]]:
    items = []
    for index, article in enumerate(job.articles):
        item = {key: value for key, value in article.items() if key != "dropped_images"}
        item.update(url=job.urls[index], is_deleted=False)
        if no_content:
            item["content"] = ""
        items.append(item)
    return items


def _admin_routes(router: APIRouter, wechat: WechatSandbox) -> None:
    """Sandbox-only controls, standing in for the Official Accounts Platform's settings."""

    @router.put("/_sandbox/accounts/{app_id}/server")
    async def configure_server(request: Request, app_id: str) -> Any:
        """Set the server URL and Token; like WeChat, first check the URL echoes echostr."""
        body = await request.json()
        url, token = str(body.get("url", "")), str(body.get("token", ""))
        if app_id not in wechat.accounts or not url.startswith(("http://", "https://")):
            return json_error(400, {"detail": "unknown AppID, or the URL is not http(s)"})
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        echostr = secrets.token_hex(8)
        params = {
            "signature": sign(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                answer = await client.get(url, params=params)
        except httpx.HTTPError as exc:
            return json_error(400, {"detail": f"the URL cannot be reached: {exc!r}"})
        if answer.status_code != 200 or answer.text != echostr:
            return json_error(400, {"detail": "token verification failed (echostr not echoed)"})
        wechat.configure_server(app_id, url=url, token=token)
        return {"app_id": app_id, "url": url}

    @router.put("/_sandbox/accounts/{app_id}/settings")
    async def account_settings(request: Request, app_id: str) -> Any:
        """``publish_outcome`` (0, 2, 3 or 4) and ``denied_apis`` (answered with 48001)."""
        body = await request.json()
        if app_id not in wechat.accounts or body.get("publish_outcome", 0) not in {0, 2, 3, 4}:
            return json_error(400, {"detail": "unknown AppID, or publish_outcome not 0/2/3/4"})
        with wechat.lock:
            account = wechat.accounts[app_id]
            account.publish_outcome = int(body.get("publish_outcome", account.publish_outcome))
            account.denied_apis = set(body.get("denied_apis", account.denied_apis))
        return {
            "app_id": app_id,
            "publish_outcome": account.publish_outcome,
            "denied_apis": sorted(account.denied_apis),
        }
