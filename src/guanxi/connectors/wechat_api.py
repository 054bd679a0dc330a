"""The WeChat Official Account API as every call needs it: errors, HTTP and the shared token.

``_raise_for`` turns WeChat's ``errcode`` into the error that tells the engine what to do
(retry, wait for the quota's reset at midnight Beijing time, reconnect, give up).
``WechatApi`` sends requests (UTF-8 JSON bodies, uploads) and keeps the account's access
token, which every worker shares: it is only ever fetched inside
``ChannelContext.tokens.refresh``, because WeChat invalidates a token when a new one is
fetched; a call refused on its token is sent again once with a fresh one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from guanxi.connectors.base import (
    ChannelContext,
    ConnectorConfig,
    OutcomeUnknownError,
    PermanentError,
    QuotaExhaustedError,
    RateLimitedError,
    Token,
    TokenError,
    TransientError,
)
from guanxi.connectors.wechat_jobs import MSG_REFUSED
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

BEIJING = ZoneInfo("Asia/Shanghai")
RATE_LIMIT_RETRY_S = 60.0
# A token this close to expiry is refreshed first: a request sent now may arrive after it.
TOKEN_MARGIN = timedelta(seconds=60)

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # the access token: refresh and retry once
CREDENTIAL_ERRCODES = frozenset({40001, 40013, 40125, 41002, 41004})  # at the token endpoint

MSG_BUSY = N_("WeChat is busy (error {errcode}). guanxi will try again shortly.")
MSG_UNREACHABLE = N_("WeChat could not be reached ({error}). guanxi will try again shortly.")
MSG_UNKNOWN = N_(
    "WeChat did not answer in time, so the article may have been submitted. guanxi checks "
    "the account's published articles before trying again."
)
MSG_QUOTA = N_(
    "The account's daily WeChat API quota is used up (error 45009). Publishing resumes after "
    "midnight Beijing time, or after an administrator resets the quota."
)
MSG_MINUTE = N_("WeChat asks to slow down (error 45011). guanxi retries in a minute.")
MSG_PER_MINUTE = N_(
    "WeChat allows 5,000 of these calls a minute and this one was over (error 44990). guanxi "
    "retries in a minute."
)
MSG_SCENE_TOO_LONG = N_(
    "WeChat refused the code's scene as too long (error 85096). Use a shorter scene key."
)
MSG_BAD_ARGUMENT = N_(
    "WeChat refused a value of the request (error 40097: {errmsg}). Check the page path, "
    "width and expiry, then try again."
)
MSG_UNAUTHORIZED = N_(
    "This Official Account may not use the WeChat API needed for publishing (error 48001, "
    "api unauthorized). Complete WeChat verification (微信认证) of the account, or grant the "
    "permission in the Official Accounts Platform, then schedule the post again."
)
MSG_CREDENTIALS = N_(
    "WeChat refused the AppID or AppSecret (error {errcode}). Copy both again from the Official "
    "Accounts Platform (Settings and Development → Basic configuration) and reconnect."
)
MSG_IP = N_(
    "WeChat refused this server's IP address (error 40164). Add the server's public IP to "
    "the IP whitelist in the Official Accounts Platform (Settings and Development → Basic "
    "configuration), then reconnect."
)
MSG_TOKEN = N_(
    "WeChat keeps refusing the account's access token (error {errcode}). Reconnect the account."
)


def next_beijing_midnight(now: datetime | None = None) -> datetime:
    """When WeChat's daily quotas reset: the next midnight in Beijing, in UTC."""
    local = (now or utcnow()).astimezone(BEIJING)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=BEIJING).astimezone(
        UTC
    )


def _busy(code: str) -> TransientError:
    return TransientError(MSG_BUSY, code=code, errcode=code)


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0) or 0)
    except (TypeError, ValueError):
        return -1


def _raise_for(data: Mapping[str, Any]) -> None:
    """Raise the error that tells the engine what to do about WeChat's ``errcode``."""
    code = _errcode(data)
    if code == 0:
        return
    errmsg = str(data.get("errmsg", ""))
    if code == -1:
        raise _busy("-1")
    if code == 45009:
        raise QuotaExhaustedError(MSG_QUOTA, resets_at=next_beijing_midnight(), code="45009")
    if code == 45011:
        raise RateLimitedError(MSG_MINUTE, retry_after_s=RATE_LIMIT_RETRY_S, code="45011")
    if code == 44990:
        raise RateLimitedError(MSG_PER_MINUTE, retry_after_s=RATE_LIMIT_RETRY_S, code="44990")
    if code == 85096:
        raise PermanentError(MSG_SCENE_TOO_LONG, code="85096")
    if code == 40097:
        told = errmsg.split(" rid:", maxsplit=1)[0]
        raise PermanentError(MSG_BAD_ARGUMENT, code="40097", errmsg=told)
    if code == 48001:
        raise PermanentError(MSG_UNAUTHORIZED, code="48001")
    if code == 40164:
        raise TokenError(MSG_IP, code="40164")
    if code in TOKEN_ERRCODES:
        raise TokenError(MSG_TOKEN, code=str(code), errcode=code)
    errmsg = errmsg.split(" rid:", maxsplit=1)[0]  # the request id helps nobody here
    raise PermanentError(MSG_REFUSED, code=str(code), errcode=code, errmsg=errmsg)


class WechatApi:
    """Requests to the WeChat API with the account's shared access token."""

    def __init__(self, config: ConnectorConfig) -> None:
        self._base = config.base_url.rstrip("/")
        self._http = config.http

    def _request(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        sent_means_unknown: bool = False,
    ) -> dict[str, Any]:
        query = {**(params or {}), **({"access_token": token} if token else {})}
        extra: dict[str, Any] = {}
        if body is not None:
            # WeChat keeps \u-escaped Chinese as literal text: send UTF-8.
            extra["content"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
            extra["headers"] = {"content-type": "application/json; charset=utf-8"}
        if files is not None:
            extra["files"] = dict(files)
        try:
            response = self._http.request(method, self._base + path, params=query, **extra)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(MSG_UNREACHABLE, code="network", error=type(exc).__name__) from exc
        except httpx.TransportError as exc:  # after the request went out
            if sent_means_unknown:
                raise OutcomeUnknownError(MSG_UNKNOWN, code="timeout") from exc
            raise TransientError(MSG_UNREACHABLE, code="network", error=type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _busy(str(response.status_code))
        if response.status_code == 429:
            raise RateLimitedError(MSG_MINUTE, retry_after_s=RATE_LIMIT_RETRY_S, code="429")
        try:
            data = response.json()
        except ValueError as exc:
            raise _busy(str(response.status_code)) from exc
        if not isinstance(data, dict):
            raise _busy(str(response.status_code))
        return data

    def fetch_token(self, credentials: Mapping[str, str], stale: Token | None = None) -> Token:
        """A token from ``stable_token`` (forced past ``stale`` if WeChat still hands it out).

        Only ``verify_credentials`` and ``TokenStore.refresh`` call this.
        """
        request = {
            "grant_type": "client_credential",
            "appid": credentials.get("app_id", ""),
            "secret": credentials.get("app_secret", ""),
            "force_refresh": False,
        }
        data = self._request("POST", "/cgi-bin/stable_token", body=request)
        if stale is not None and data.get("access_token") == stale.access_token:
            data = self._request(
                "POST", "/cgi-bin/stable_token", body={**request, "force_refresh": True}
            )
        code = _errcode(data)
        if code in CREDENTIAL_ERRCODES:
            raise TokenError(MSG_CREDENTIALS, code=str(code), errcode=code)
        _raise_for(data)
        try:
            lifetime = timedelta(seconds=int(data["expires_in"]))
            return Token(access_token=str(data["access_token"]), expires_at=utcnow() + lifetime)
        except (KeyError, TypeError, ValueError) as exc:
            raise _busy("token") from exc

    def _token(self, channel: ChannelContext) -> Token:
        current = channel.tokens.current()
        if current is not None and (
            current.expires_at is None or current.expires_at > utcnow() + TOKEN_MARGIN
        ):
            return current
        return self._refresh(channel, current)

    def _refresh(self, channel: ChannelContext, stale: Token | None) -> Token:
        def fetch() -> Token:
            return self.fetch_token(channel.credentials, stale)

        return channel.tokens.refresh(stale, fetch)

    def _call(
        self,
        channel: ChannelContext,
        path: str,
        *,
        sent_means_unknown: bool = False,
        method: str = "POST",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send an API call (POST unless told) with the shared token; refresh it once if
        WeChat refuses it."""
        token = self._token(channel)
        data = self._request(
            method, path, token=token.access_token, sent_means_unknown=sent_means_unknown, **kwargs
        )
        if _errcode(data) in TOKEN_ERRCODES:
            # Refused on its token, the call did nothing: sending it again is safe.
            token = self._refresh(channel, token)
            data = self._request(
                method,
                path,
                token=token.access_token,
                sent_means_unknown=sent_means_unknown,
                **kwargs,
            )
        _raise_for(data)
        return data

    def _call_for_image(self, channel: ChannelContext, path: str, body: Mapping[str, Any]) -> bytes:
        """POST a call WeChat answers with an image (its errors come as JSON)."""
        token = self._token(channel)
        for attempt in range(2):
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                response = self._http.post(
                    self._base + path,
                    params={"access_token": token.access_token},
                    content=content,
                    headers={"content-type": "application/json; charset=utf-8"},
                )
            except httpx.TransportError as exc:
                raise TransientError(
                    MSG_UNREACHABLE, code="network", error=type(exc).__name__
                ) from exc
            if response.status_code >= 500:
                raise _busy(str(response.status_code))
            if response.headers.get("content-type", "").startswith("image/"):
                return response.content
            try:
                data = response.json()
            except ValueError as exc:
                raise _busy(str(response.status_code)) from exc
            if not isinstance(data, dict):
                raise _busy(str(response.status_code))
            if _errcode(data) in TOKEN_ERRCODES and attempt == 0:
                token = self._refresh(channel, token)
                continue
            _raise_for(data)
            break
        raise _busy("image")
