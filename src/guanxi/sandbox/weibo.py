"""The sandbox's Weibo: the v2 API surface guanxi uses, as open.weibo.com documents it.

Served under ``/weibo`` (so ``GUANXI_WEIBO_API_BASE=http://127.0.0.1:8100/weibo`` stands in
for ``https://api.weibo.com``): the OAuth2 authorization-code flow (a consent page, then
``oauth2/access_token`` and ``oauth2/get_token_info``), ``users/show``, and the statuses a
third-party app may write: ``statuses/share`` (the text must link to the app's registered
safe domain), ``user_timeline``, ``show`` and ``destroy``. Errors use Weibo's JSON shape
``{"request", "error_code", "error"}`` with its codes; tokens expire; per-IP, per-user and
per-user ``statuses/share`` hourly limits are enforced with the sandbox ``RateLimiter``.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from guanxi.core.db import utcnow
from guanxi.sandbox.app import PlatformSurface, json_error, sandbox_of
from guanxi.sandbox.state import (
    IssuedToken,
    SandboxAccount,
    SandboxApp,
    SandboxMedia,
    SandboxPost,
    SandboxState,
)

PLATFORM = "weibo"
PREFIX = "/weibo"

# The demo app guanxi's demo workspace is configured with, and its registered safe domain.
DEMO_APP_KEY = "3718504626"
DEMO_APP_SECRET = "sandbox-weibo-demo-app-secret-5f0c1e"  # noqa: S105 - sandbox-only
DEMO_SAFE_DOMAIN = "provence-wine.example"
# The demo brand account, with a long-lived token so the demo needs no OAuth click-through.
DEMO_WEIBO_UID = "5821937460"
DEMO_WEIBO_NAME = "普罗旺斯葡萄酒官方微博"
DEMO_WEIBO_TOKEN = "2.00sandboxDemoProvenceWineLongLivedToken"  # noqa: S105 - sandbox-only
SECOND_WEIBO_UID = "6032174958"
SECOND_WEIBO_NAME = "葡萄酒小课堂"

SHARE_TEXT_LIMIT = 140  # statuses/share: at most 140 Chinese characters
PIC_MAX_BYTES = 5 * 1024 * 1024  # statuses/share: images under 5 MB
HOUR = 3600
_URL = re.compile(r"https?://[^\s<>\"']+")
_TOPIC = re.compile(r"#[^#\s]+#")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


@dataclass
class WeiboLimits:
    """The sandbox's limits: small by default so tests and the demo can reach them.

    Weibo counts requests per hour: per IP (an app's server), per user and app, and per
    user for writing endpoints such as ``statuses/share``.
    """

    token_lifetime: timedelta = timedelta(days=7)
    ip_requests_per_hour: int = 1000  # error 10022
    user_requests_per_hour: int = 150  # error 10023
    user_shares_per_hour: int = 30  # error 10024, statuses/share
    repeat_window: timedelta = timedelta(hours=24)  # error 20019 for the same text within it


@dataclass
class _Code:
    client_id: str
    account_id: str
    redirect_uri: str
    expires_at: datetime


@dataclass
class WeiboSandbox:
    """The Weibo surface's own state: limits, safe domains of apps, pending codes."""

    limits: WeiboLimits = field(default_factory=WeiboLimits)
    safe_domains: dict[str, str] = field(default_factory=dict)  # client_id -> domain
    codes: dict[str, _Code] = field(default_factory=dict)

    def add_app(self, state: SandboxState, app: SandboxApp, safe_domain: str) -> SandboxApp:
        """Register a developer app with its safe domain (安全域名)."""
        self.safe_domains[app.client_id] = safe_domain
        return state.add_app(app)

    def seed_demo(self, state: SandboxState) -> None:
        """The demo app, two brand accounts, and a long-lived token for the first."""
        self.add_app(
            state,
            SandboxApp(platform=PLATFORM, client_id=DEMO_APP_KEY, client_secret=DEMO_APP_SECRET),
            DEMO_SAFE_DOMAIN,
        )
        state.add_account(SandboxAccount(PLATFORM, DEMO_WEIBO_UID, DEMO_WEIBO_NAME))
        state.add_account(SandboxAccount(PLATFORM, SECOND_WEIBO_UID, SECOND_WEIBO_NAME))
        with state.lock:
            state.tokens[DEMO_WEIBO_TOKEN] = IssuedToken(
                platform=PLATFORM,
                token=DEMO_WEIBO_TOKEN,
                account_id=DEMO_WEIBO_UID,
                client_id=DEMO_APP_KEY,
                expires_at=utcnow() + timedelta(days=3650),
            )

    def surface(self) -> PlatformSurface:
        """The surface to serve (``create_sandbox_app(platform_surfaces=[...])``)."""
        return PlatformSurface(
            platform=PLATFORM,
            prefix=PREFIX,
            router=_router(self),
            server_error=lambda: _error("", 10009, "Too many pending tasks, system is busy", 503),
            rate_limited=lambda: _error("", 10023, "User requests out of rate limit!", 403),
            seed_demo=self.seed_demo,
            account_links=lambda state: [
                (a.name, f"/accounts/{PLATFORM}/{a.account_id}")
                for a in state.accounts.values()
                if a.platform == PLATFORM
            ],
        )


def weibo_surface(limits: WeiboLimits | None = None) -> PlatformSurface:
    """The Weibo surface with ``limits`` (the defaults when not given)."""
    return WeiboSandbox(limits=limits or WeiboLimits()).surface()


def share_text_length(text: str) -> int:
    """Length as Weibo counts it: a Chinese character is 1, two ASCII characters are 1."""
    halves = sum(1 if ord(char) < 0x80 else 2 for char in text)
    return (halves + 1) // 2


def _error(request: str, code: int, message: str, status_code: int = 400) -> JSONResponse:
    return json_error(status_code, {"request": request, "error_code": code, "error": message})


def _oauth_error(error: str, code: int, description: str) -> JSONResponse:
    body = {"error": error, "error_code": code, "error_description": description}
    return json_error(400, body)


class _RefusedError(Exception):
    """A request Weibo refuses; carries the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def _params(request: Request) -> dict[str, Any]:
    """Query and form parameters together (Weibo accepts either for most calls)."""
    values: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        async with request.form() as form:
            for key in form:
                items = [await _read(item) for item in form.getlist(key)]
                values[key] = items if len(items) > 1 else items[0]
    return values


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


async def _read(item: str | UploadFile) -> str | _Upload:
    # Uploads are read at once, so the form's temporary files are closed with it.
    if isinstance(item, str):
        return item
    return _Upload(item.filename or "pic", item.content_type or "", await item.read())


def _authorize(
    weibo: WeiboSandbox, request: Request, params: dict[str, Any], *, share: bool = False
) -> IssuedToken:
    """The valid token of the call, after the rate limits; raises ``_RefusedError``."""
    path = request.url.path.removeprefix(PREFIX)
    sandbox = sandbox_of(request)
    value = str(params.get("access_token", ""))
    header = request.headers.get("authorization", "")
    if not value and header.lower().startswith("oauth2 "):
        value = header[7:].strip()
    if not value:
        raise _RefusedError(_error(path, 21301, "auth faid!", 401))
    token = sandbox.state.token(PLATFORM, value)
    if token is None or token.revoked:
        raise _RefusedError(_error(path, 21332, "invalid_access_token", 401))
    if not token.valid(utcnow()):
        raise _RefusedError(_error(path, 21327, "expired_token", 401))
    limits, limiter = weibo.limits, sandbox.limiter
    if not limiter.hit(
        f"weibo:app:{token.client_id}", limit=limits.ip_requests_per_hour, window_s=HOUR
    ):
        raise _RefusedError(_error(path, 10022, "IP requests out of rate limit!", 403))
    user_key = f"weibo:user:{token.client_id}:{token.account_id}"
    if not limiter.hit(user_key, limit=limits.user_requests_per_hour, window_s=HOUR):
        raise _RefusedError(_error(path, 10023, "User requests out of rate limit!", 403))
    if share and not limiter.hit(
        f"weibo:share:{token.account_id}", limit=limits.user_shares_per_hour, window_s=HOUR
    ):
        raise _RefusedError(
            _error(path, 10024, "User requests for (statuses/share) out of rate limit!", 403)
        )
    return token


def _user_json(state: SandboxState, account_id: str) -> dict[str, Any]:
    account = state.accounts[(PLATFORM, account_id)]
    return {
        "id": int(account.account_id),
        "idstr": account.account_id,
        "screen_name": account.name,
        "name": account.name,
        "location": "",
        "description": "",
        "url": "",
        "profile_image_url": "",
        "domain": "",
        "verified": True,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
    }


def _status_json(state: SandboxState, post: SandboxPost) -> dict[str, Any]:
    created = post.created_at.astimezone(UTC) + timedelta(hours=8)  # Weibo answers in +0800
    body: dict[str, Any] = {
        "created_at": created.strftime("%a %b %d %H:%M:%S +0800 %Y"),
        "id": int(post.post_id),
        "idstr": post.post_id,
        "mid": post.post_id,
        "text": post.text,
        "source": post.extra.get("source", ""),
        "favorited": False,
        "truncated": False,
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "user": _user_json(state, post.account_id),
    }
    if post.media:
        body["original_pic"] = post.extra.get("pic_url", "")
        body["pic_ids"] = list(post.media)
    if post.extra.get("card"):  # a video, headline article or live stream: its card's type
        body["page_info"] = {"type": post.extra["card"], "object_type": post.extra["card"]}
    from guanxi.sandbox.weibo_metrics import status_counts, user_counts  # noqa: PLC0415 - cycle: weibo_metrics imports this module

    body.update(status_counts(state, post))
    body["user"].update(user_counts(state, post.account_id))
    return body


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


def _router(weibo: WeiboSandbox) -> APIRouter:
    router = APIRouter()
    _oauth_routes(router, weibo)
    _status_routes(router, weibo)
    from guanxi.sandbox import weibo_engage  # noqa: PLC0415 - cycle: weibo_engage imports this module

    weibo_engage.register(router, weibo)
    from guanxi.sandbox import weibo_metrics  # noqa: PLC0415 - cycle: weibo_metrics imports this module

    weibo_metrics.register(router, weibo)
    return router


def _oauth_routes(router: APIRouter, weibo: WeiboSandbox) -> None:

    @router.get("/oauth2/authorize", response_class=HTMLResponse)
    def authorize_page(
        request: Request,
        client_id: str = "",
        redirect_uri: str = "",
        state: str = "",
        response_type: str = "code",
    ) -> Response:
        return _consent(request, weibo, client_id, redirect_uri, state, response_type, "")

    @router.post("/oauth2/authorize")
    async def authorize_submit(request: Request) -> Response:
        form = await _params(request)
        client_id, redirect_uri = str(form.get("client_id", "")), str(form.get("redirect_uri", ""))
        state_value = str(form.get("state", ""))
        sandbox = sandbox_of(request)
        if (PLATFORM, client_id) not in sandbox.state.apps or not redirect_uri:
            return _consent(request, weibo, client_id, redirect_uri, state_value, "code", "")
        if form.get("action") == "cancel":
            query = {"error": "access_denied", "error_code": 21330, "state": state_value}
            return RedirectResponse(_with_query(redirect_uri, query), status_code=302)
        account = sandbox.state.accounts.get((PLATFORM, str(form.get("account_id", ""))))
        if account is None or form.get("password") != account.password:
            return _consent(
                request,
                weibo,
                client_id,
                redirect_uri,
                state_value,
                "code",
                "帐号或密码错误 · Wrong account or password",
            )
        code = secrets.token_hex(16)
        weibo.codes[code] = _Code(
            client_id, account.account_id, redirect_uri, utcnow() + timedelta(minutes=10)
        )
        return RedirectResponse(
            _with_query(redirect_uri, {"code": code, "state": state_value}), status_code=302
        )

    @router.post("/oauth2/access_token")
    async def access_token(request: Request) -> Response:
        params = await _params(request)
        sandbox = sandbox_of(request)
        app = sandbox.state.apps.get((PLATFORM, str(params.get("client_id", ""))))
        if app is None or params.get("client_secret") != app.client_secret:
            return _oauth_error("invalid_client", 21324, "invalid client_id or client_secret")
        if params.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", 21328, "unsupported grant_type")
        code = str(params.get("code", ""))
        pending = weibo.codes.get(code)
        if pending is None or pending.client_id != app.client_id or pending.expires_at < utcnow():
            return _oauth_error("invalid_grant", 21325, "invalid authorization code")
        if params.get("redirect_uri") != pending.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", 21322, "redirect_uri mismatch")
        del weibo.codes[code]  # a code is good for one exchange
        lifetime = weibo.limits.token_lifetime
        token = sandbox.state.issue_token(
            platform=PLATFORM,
            account_id=pending.account_id,
            client_id=app.client_id,
            lifetime=lifetime,
        )
        seconds = int(lifetime.total_seconds())
        return JSONResponse(
            {
                "access_token": token.token,
                "remind_in": str(seconds),
                "expires_in": seconds,
                "uid": pending.account_id,
                "isRealName": "true",
            }
        )

    @router.post("/oauth2/get_token_info")
    async def token_info(request: Request) -> Response:
        params = await _params(request)
        path = "/oauth2/get_token_info"
        token = sandbox_of(request).state.token(PLATFORM, str(params.get("access_token", "")))
        if token is None or token.revoked:
            return _error(path, 21332, "invalid_access_token", 401)
        now = utcnow()
        if not token.valid(now):
            return _error(path, 21327, "expired_token", 401)
        created = token.expires_at - weibo.limits.token_lifetime
        left = int((token.expires_at - now).total_seconds())
        return JSONResponse(
            {
                "uid": int(token.account_id),
                "appkey": token.client_id,
                "scope": "",
                "create_at": int(created.timestamp()),
                "expire_in": left,
            }
        )


def _status_routes(router: APIRouter, weibo: WeiboSandbox) -> None:
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
            )
            post.media.append(pic.filename)
            post.extra["pic_url"] = state.media[media_id].url
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


def _find_post(state: SandboxState, post_id: str) -> SandboxPost | None:
    with state.lock:
        return next(
            (p for p in state.posts if p.platform == PLATFORM and p.post_id == post_id), None
        )


def _with_query(url: str, query: dict[str, Any]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _consent(
    request: Request,
    weibo: WeiboSandbox,
    client_id: str,
    redirect_uri: str,
    state: str,
    response_type: str,
    problem: str,
) -> HTMLResponse:
    """Weibo's authorization page: sign in as one of the sandbox accounts and allow."""
    sandbox = sandbox_of(request)
    app = sandbox.state.apps.get((PLATFORM, client_id))
    if app is None:
        return _page(
            "21324 invalid_client", "<p>应用不存在 · Unknown app (client_id).</p>", status=400
        )
    if not redirect_uri or response_type != "code":
        return _page("21323 invalid_request", "<p>redirect_uri / response_type</p>", status=400)
    if app.redirect_uris and redirect_uri not in app.redirect_uris:
        return _page("21322 redirect_uri_mismatch", "<p>redirect_uri</p>", status=400)
    with sandbox.state.lock:
        accounts = [a for a in sandbox.state.accounts.values() if a.platform == PLATFORM]
    options = "".join(
        f'<label><input type="radio" name="account_id" value="{html.escape(a.account_id)}"'
        f"{' checked' if i == 0 else ''}> {html.escape(a.name)} ({html.escape(a.account_id)})"
        "</label><br>"
        for i, a in enumerate(accounts)
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
        )
    )
    domain = html.escape(weibo.safe_domains.get(client_id, ""))
    body = (
        f"<h1>微博授权 · Weibo authorization</h1><p>应用 {html.escape(client_id)} ({domain}) "
        "请求获得你的授权 · This app asks to post on your behalf.</p>"
        f"{f'<p class=error>{html.escape(problem)}</p>' if problem else ''}"
        f'<form method="post" action="{PREFIX}/oauth2/authorize">{hidden}{options}'
        '<p><label>密码 · Password <input type="password" name="password" value="sandbox">'
        "</label></p>"
        '<button type="submit" name="action" value="allow">授权 · Allow</button> '
        '<button type="submit" name="action" value="cancel">取消 · Cancel</button></form>'
    )
    return _page("微博授权", body, status=400 if problem else 200)


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · sandbox Weibo</title></head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status)
