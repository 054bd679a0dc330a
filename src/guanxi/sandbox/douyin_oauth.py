"""The sandbox Douyin's OAuth, as open.douyin.com documents it.

A consent page (``/platform/oauth/connect/``: sign in as one of the sandbox accounts and
allow), ``/oauth/access_token/`` (a code is good for one exchange, ten minutes),
``/oauth/refresh_token/`` (Douyin keeps the refresh token and its 30 days) and
``/oauth/userinfo/``, in Douyin's response envelope.
"""

from __future__ import annotations

import html
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.douyin import (
    ACCESS_TOKEN_LIFETIME,
    CLIENT_KEY_UNKNOWN,
    CLIENT_SECRET_WRONG,
    CODE_INVALID,
    CODE_LIFETIME,
    PARAM_ERROR,
    PLATFORM,
    REFRESH_TOKEN_EXPIRED,
    REFRESH_TOKEN_LIFETIME,
    _check_token,
    _Grant,
    _ok,
    error_response,
)
from guanxi.sandbox.state import IssuedToken

if TYPE_CHECKING:
    from guanxi.sandbox.douyin import _DouyinMemory


async def _fields(request: Request) -> dict[str, str]:
    """Form or JSON body fields (Douyin accepts both on its OAuth endpoints)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _token_data(token: IssuedToken, scope: str, refresh_expires: datetime) -> dict[str, Any]:
    now = utcnow()
    return {
        "access_token": token.token,
        "expires_in": int((token.expires_at - now).total_seconds()),
        "open_id": token.account_id,
        "refresh_token": token.refresh_token,
        "refresh_expires_in": max(0, int((refresh_expires - now).total_seconds())),
        "scope": scope,
    }


def register(router: APIRouter, memory: _DouyinMemory) -> None:  # noqa: PLR0915 - one closure per route
    """Add the consent page and the token and user-info endpoints to ``router``."""

    @router.get("/platform/oauth/connect/", response_class=HTMLResponse)
    def consent_page(
        request: Request,
        client_key: str = "",
        response_type: str = "",
        scope: str = "",
        redirect_uri: str = "",
        state: str = "",
    ) -> HTMLResponse:
        sandbox = sandbox_of(request)
        app = sandbox.state.apps.get((PLATFORM, client_key))
        if app is None or response_type != "code" or not redirect_uri:
            return HTMLResponse(_page("授权失败", "<p>client_key 或参数错误。</p>"), 400)
        if app.redirect_uris and redirect_uri not in app.redirect_uris:
            return HTMLResponse(_page("授权失败", "<p>redirect_uri 不在白名单中。</p>"), 400)
        accounts = [a for a in sandbox.state.accounts.values() if a.platform == PLATFORM]
        options = "".join(
            f'<option value="{html.escape(a.account_id)}">{html.escape(a.name)}</option>'
            for a in accounts
        )
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (
                ("client_key", client_key),
                ("scope", scope),
                ("redirect_uri", redirect_uri),
                ("state", state),
            )
        )
        body = (
            "<h1>抖音授权 (sandbox)</h1>"
            f"<p>应用 {html.escape(client_key)} 申请以下权限：{html.escape(scope)}</p>"
            f'<form method="post">{hidden}<label>账号 <select name="open_id">{options}'
            '</select></label> <label>密码 <input type="password" name="password"></label> '
            '<button type="submit">同意授权</button></form>'
        )
        return HTMLResponse(_page("抖音授权", body))

    @router.post("/platform/oauth/connect/", response_model=None)
    async def consent(request: Request) -> Response:
        sandbox = sandbox_of(request)
        form = await _fields(request)
        account = sandbox.state.accounts.get((PLATFORM, form.get("open_id", "")))
        if account is None or form.get("password") != account.password:
            return HTMLResponse(_page("授权失败", "<p>账号或密码错误。</p>"), 401)
        code = secrets.token_urlsafe(18)
        with memory.lock:
            memory.grants[code] = _Grant(
                client_key=form.get("client_key", ""),
                open_id=account.account_id,
                scope=form.get("scope", ""),
                redirect_uri=form.get("redirect_uri", ""),
                expires_at=utcnow() + CODE_LIFETIME,
            )
        redirect_uri = form.get("redirect_uri", "")
        joiner = "&" if "?" in redirect_uri else "?"
        query = urlencode({"code": code, "state": form.get("state", "")})
        return RedirectResponse(f"{redirect_uri}{joiner}{query}", status_code=302)

    @router.post("/oauth/access_token/")
    async def access_token(request: Request) -> JSONResponse:
        sandbox = sandbox_of(request)
        form = await _fields(request)
        if form.get("grant_type") != "authorization_code" or not form.get("code"):
            return error_response(PARAM_ERROR)
        app = sandbox.state.apps.get((PLATFORM, form.get("client_key", "")))
        if app is None:
            return error_response(CLIENT_KEY_UNKNOWN)
        if form.get("client_secret") != app.client_secret:
            return error_response(CLIENT_SECRET_WRONG)
        with memory.lock:
            grant = memory.grants.pop(form["code"], None)
        if grant is None or grant.client_key != app.client_id or grant.expires_at < utcnow():
            return error_response(CODE_INVALID)
        token = sandbox.state.issue_token(
            platform=PLATFORM,
            account_id=grant.open_id,
            client_id=app.client_id,
            lifetime=ACCESS_TOKEN_LIFETIME,
        )
        refresh_expires = utcnow() + REFRESH_TOKEN_LIFETIME
        with memory.lock:
            memory.refresh_expiry[token.refresh_token] = refresh_expires
        return _ok(_token_data(token, grant.scope, refresh_expires))

    @router.post("/oauth/refresh_token/")
    async def refresh_token(request: Request) -> JSONResponse:
        sandbox = sandbox_of(request)
        form = await _fields(request)
        value = form.get("refresh_token", "")
        if form.get("grant_type") != "refresh_token" or not value:
            return error_response(PARAM_ERROR)
        if (PLATFORM, form.get("client_key", "")) not in sandbox.state.apps:
            return error_response(CLIENT_KEY_UNKNOWN)
        with sandbox.state.lock:
            issued = [t for t in sandbox.state.tokens.values() if t.refresh_token == value]
        with memory.lock:
            expires = memory.refresh_expiry.get(value)
        # A user who cancels the authorization (a revocation) loses the refresh token too.
        if not issued or any(t.revoked for t in issued) or expires is None or expires < utcnow():
            return error_response(REFRESH_TOKEN_EXPIRED)
        latest = max(issued, key=lambda t: t.expires_at)
        token = sandbox.state.issue_token(
            platform=PLATFORM,
            account_id=latest.account_id,
            client_id=latest.client_id,
            lifetime=ACCESS_TOKEN_LIFETIME,
        )
        token.refresh_token = value  # Douyin keeps the refresh token (and its expiry)
        return _ok(_token_data(token, "", expires))

    @router.post("/oauth/userinfo/")
    async def userinfo(request: Request) -> JSONResponse:
        sandbox = sandbox_of(request)
        form = await _fields(request)
        problem = _check_token(sandbox.state, form.get("access_token", ""), form.get("open_id", ""))
        if problem is not None:
            return problem
        account = sandbox.state.accounts[(PLATFORM, form["open_id"])]
        return _ok(
            {"open_id": account.account_id, "union_id": "", "nickname": account.name, "avatar": ""}
        )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
