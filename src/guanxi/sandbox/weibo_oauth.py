"""The sandbox Weibo's OAuth2 authorization-code flow, as open.weibo.com documents it.

A consent page (``oauth2/authorize``: sign in as one of the sandbox accounts and allow),
``oauth2/access_token`` (a code is good for one exchange, ten minutes) and
``oauth2/get_token_info``; errors in Weibo's OAuth shape
``{"error", "error_code", "error_description"}``.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from guanxi.core.db import utcnow
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.weibo_calls import PLATFORM, PREFIX, _error, _params, _with_query

if TYPE_CHECKING:
    from guanxi.sandbox.weibo import WeiboSandbox


@dataclass
class PendingCode:
    """An authorization code handed out and not yet exchanged."""

    client_id: str
    account_id: str
    redirect_uri: str
    expires_at: datetime


def _oauth_error(error: str, code: int, description: str) -> JSONResponse:
    body = {"error": error, "error_code": code, "error_description": description}
    return json_error(400, body)


def register(router: APIRouter, weibo: WeiboSandbox) -> None:
    """Add the OAuth2 endpoints and the consent page to ``router``."""

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
        weibo.codes[code] = PendingCode(
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
