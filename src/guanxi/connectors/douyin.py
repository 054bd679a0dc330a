"""Douyin (抖音) through its open platform: OAuth, video upload and create, review status.

A video up to 128 MB goes up in one request (``/video/upload/``); a larger one through
Douyin's part upload (``/video/part/init/``, ``/video/part/upload/`` for each part in order,
``/video/part/complete/``), read from disk one part at a time.

A created video goes through Douyin's review first: it is "published, pending review"
(``video_status`` 4) until it turns public (5) or is found not suitable for the public (2).
Access tokens last 15 days and are refreshed with the stored refresh token (30 days).
Douyin's rules for a post and the marker that finds a lost post are in ``douyin_rules``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectedIdentity,
    ConnectorConfig,
    FieldLimit,
    HashtagStyle,
    MediaFile,
    MediaKind,
    OutcomeUnknownError,
    PermanentError,
    PreviewKind,
    PublishRequest,
    PublishResult,
    PublishState,
    RateLimitedError,
    ReadNotSupported,
    RuleViolation,
    Token,
    TokenError,
    TransientError,
    VariantDraft,
    VariantField,
)
from guanxi.connectors.douyin_engage import DouyinEngage
from guanxi.connectors.douyin_metrics import METRICS_SCOPES, DouyinMetrics
from guanxi.connectors.douyin_rules import (
    MAX_TEXT_LENGTH,
    idempotency_marker,
    variant_problems,
    visible_text,
)
from guanxi.connectors.file_part import FilePart
from guanxi.connectors.settings import connector_settings
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.settings import ENV_PREFIX, Settings

SCOPES = "user_info,video.create,video.data,video.list,video.delete," + METRICS_SCOPES
MAX_SINGLE_UPLOAD_BYTES = 128 * 1024 * 1024  # /video/upload/; a larger file goes in parts
# Douyin's suggested part size; it takes parts of 5 MB to 100 MB (the last may be smaller).
PART_SIZE_BYTES = 20 * 1024 * 1024
# How many pages of /video/list/ ``find`` reads: the post it looks for is a recent one.
FIND_PAGES = 5
FIND_PAGE_SIZE = 20
DEFAULT_RETRY_AFTER_S = 60.0

TOKEN_CODES = frozenset({2190002, 2190008, 2190015})
REFRESHABLE_CODES = frozenset({2190002, 2190008})
SCOPE_CODES = frozenset({2190003, 2190004})  # the user did not grant a scope: reconnect
RATE_LIMIT_CODES = frozenset({2100006})
BUSY_CODES = frozenset({2100004, 2100002})
# The part upload's session is gone or lost a part (upload_id unknown or past its 2 hours,
# a part out of order, a part missing at complete): a fresh upload from the first part fixes it.
UPLOAD_SESSION_CODES = frozenset({2100011, 2100012, 2100013})
REFRESH_FAILED_CODES = frozenset({10008, 10010, 10020})

# video_status values of /video/data/ and /video/list/.
STATUS_NOT_PUBLIC = 2
STATUS_REVIEWING = 4

PENDING_REVIEW_DETAIL = N_("Published, pending Douyin's review.")


class DouyinSettings(BaseSettings):
    """The Douyin app of this instance (variables documented in docs/configuration.md)."""

    model_config = SettingsConfigDict(
        env_prefix=f"{ENV_PREFIX}DOUYIN_", extra="ignore", frozen=True
    )

    api_base: str = Field("https://open.douyin.com", description="Douyin API base URL.")
    client_key: str = Field("", description="This instance's Douyin client key.")
    client_secret: SecretStr = Field(SecretStr(""), description="The Douyin secret.")


class DouyinConnector(DouyinMetrics, DouyinEngage, ReadNotSupported):
    """The Douyin open platform behind guanxi's connector Protocol."""

    name = "douyin"
    platforms: tuple[str, ...] = ("douyin",)
    capabilities = frozenset({Capability.PUBLISH, Capability.PUBLISH_STATUS, Capability.DELETE})
    # The inbox side (connectors.douyin_engage): comments and replies, no hiding; figures
    # (connectors.douyin_metrics).
    capabilities |= {Capability.FETCH_COMMENTS, Capability.REPLY, Capability.METRICS}
    hashtag_style = HashtagStyle.SINGLE_HASH
    variant_fields: frozenset[VariantField] = frozenset()
    field_limits = (FieldLimit("text", MAX_TEXT_LENGTH),)
    # Videos and profiles open in the app; v.douyin.com is Douyin's own share link.
    own_link_domains = ("douyin.com", "iesdouyin.com")
    preview = PreviewKind.VIDEO
    settings_model = DouyinSettings

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        part_size: int = PART_SIZE_BYTES,
        single_upload_limit: int = MAX_SINGLE_UPLOAD_BYTES,
    ) -> None:
        """``part_size`` and ``single_upload_limit`` are Douyin's; tests make them small."""
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._http = config.http
        self._part_size = part_size
        self._single_upload_limit = single_upload_limit

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> DouyinConnector:
        """The connector for this instance's Douyin app (client key and secret)."""
        own = connector_settings(DouyinSettings, settings)
        secret = own.client_secret.get_secret_value()
        return cls(ConnectorConfig(own.api_base, http, app_id=own.client_key, app_secret=secret))

    # Connecting an account.

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Douyin's consent page for this app."""
        query = urlencode(
            {
                "client_key": self._config.app_id,
                "response_type": "code",
                "scope": SCOPES,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self._base}/platform/oauth/connect/?{query}"

    def complete_authorization(
        self,
        *,
        code: str,
        redirect_uri: str,  # noqa: ARG002 - Douyin's token endpoint does not take it
    ) -> ConnectedIdentity:
        """Exchange the code for a token, then read the account's nickname."""
        data = self._oauth(
            "/oauth/access_token/",
            {
                "client_key": self._config.app_id,
                "client_secret": self._config.app_secret,
                "code": code,
                "grant_type": "authorization_code",
            },
        )
        token = _token_from(data)
        open_id = str(data.get("open_id", ""))
        info = self._oauth(
            "/oauth/userinfo/", {"access_token": token.access_token, "open_id": open_id}
        )
        return ConnectedIdentity(
            external_id=open_id,
            name=str(info.get("nickname") or open_id),
            credentials={"refresh_token": token.refresh_token},
            token=token,
        )

    # Rules.

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """Douyin's rules: one video (format, size, duration), text length, ``#话题`` tags."""
        return variant_problems(variant)

    # Publishing.

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """Upload the video, then create the post; the result is pending Douyin's review."""
        videos = [m for m in request.variant.media if m.kind is MediaKind.VIDEO]
        if not videos:
            raise PermanentError(N_("Douyin needs a video: add one."), code="no_video")
        video_id = self._upload(channel, videos[0])
        text = visible_text(request.variant.text) + idempotency_marker(request.idempotency_key)
        data = self._api(
            channel,
            "POST",
            "/video/create/",
            json={"video_id": video_id, "text": text},
            applies=True,
        )
        item_id = str(data.get("item_id", ""))
        if not item_id:
            raise OutcomeUnknownError(N_("Douyin accepted the video without saying its id."))
        return PublishResult(
            state=PublishState.PENDING_REVIEW,
            external_id=item_id,
            detail=PENDING_REVIEW_DETAIL,
            raw=data,
        )

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        """Whether the video is still under review, public, or refused."""
        data = self._api(channel, "POST", "/video/data/", json={"item_ids": [external_id]})
        items = [i for i in data.get("list") or [] if str(i.get("item_id")) == external_id]
        if not items:
            return PublishResult(
                state=PublishState.FAILED,
                external_id=external_id,
                detail=N_("Douyin no longer has this video: it was deleted or never made it."),
                raw=data,
            )
        return _result_of(items[0])

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The post carrying this request's marker among the account's recent videos."""
        marker = idempotency_marker(request.idempotency_key)
        text = visible_text(request.variant.text)
        by_text: dict[str, Any] | None = None
        cursor = 0
        for _page in range(FIND_PAGES):
            data = self._api(
                channel, "GET", "/video/list/", params={"cursor": cursor, "count": FIND_PAGE_SIZE}
            )
            for item in data.get("list") or []:
                title = str(item.get("title", ""))
                if title.endswith(marker):
                    return _result_of(item)
                # Should the platform strip invisible characters, the same text still
                # identifies it; the risk is missing a repost, never posting twice.
                if by_text is None and visible_text(title) == text:
                    by_text = item
            if not data.get("has_more"):
                break
            cursor = int(data.get("cursor", 0))
        return _result_of(by_text) if by_text is not None else None

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        """Delete the video."""
        self._api(channel, "POST", "/video/delete/", json={"item_id": external_id})

    # HTTP.

    def _upload(self, channel: ChannelContext, video: MediaFile) -> str:
        if video.size > self._single_upload_limit:
            return self._upload_in_parts(channel, video)
        with video.path.open("rb") as handle:
            data = self._api(
                channel,
                "POST",
                "/video/upload/",
                files={"video": (video.path.name, handle, video.content_type)},
                rewind=handle,
            )
        return _video_id_of(data)

    def _upload_in_parts(self, channel: ChannelContext, video: MediaFile) -> str:
        """Douyin's part upload: init, every part in order, complete; the video's id.

        A failed part fails the upload: the retry starts a new one (an upload id lives 2 hours).
        """
        data = self._api(channel, "POST", "/video/part/init/")
        upload_id = str(data.get("upload_id", ""))
        if not upload_id:
            raise TransientError(N_("Douyin did not start the video's upload. It will be retried."))
        with video.path.open("rb") as handle:
            total = os.fstat(handle.fileno()).st_size
            for number, start in enumerate(range(0, total, self._part_size), start=1):
                part = FilePart(handle, start, min(self._part_size, total - start))
                self._api(
                    channel,
                    "POST",
                    "/video/part/upload/",
                    params={"upload_id": upload_id, "part_number": number},
                    files={"video": (video.path.name, part, video.content_type)},
                    rewind=part,
                )
        data = self._api(channel, "POST", "/video/part/complete/", params={"upload_id": upload_id})
        return _video_id_of(data)

    def _token(self, channel: ChannelContext) -> Token:
        token = channel.tokens.current()
        if token is None or (
            token.expires_at is not None and token.expires_at <= utcnow() + timedelta(seconds=60)
        ):
            return self._refresh(channel, token)
        return token

    def _refresh(self, channel: ChannelContext, stale: Token | None) -> Token:
        refresh_token = channel.credentials.get("refresh_token", "")

        def fetch() -> Token:
            if not refresh_token:
                raise TokenError(N_("The Douyin authorization has expired: reconnect the account."))
            data = self._oauth(
                "/oauth/refresh_token/",
                {
                    "client_key": self._config.app_id,
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                },
            )
            return _token_from(data)

        return channel.tokens.refresh(stale, fetch)

    def _api(
        self,
        channel: ChannelContext,
        method: str,
        path: str,
        *,
        applies: bool = False,
        rewind: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Call the API as the channel, refreshing the token once if Douyin says it expired.

        ``applies``: the call publishes, so a timeout after sending is an unknown outcome.
        """
        token = self._token(channel)
        params = {"open_id": channel.external_id, **kwargs.pop("params", {})}
        for attempt in range(2):
            try:
                response = self._http.request(
                    method,
                    f"{self._base}{path}",
                    params=params,
                    headers={"access-token": token.access_token},
                    **kwargs,
                )
            except httpx.TimeoutException as exc:
                _raise_timeout(exc, applies=applies)
            except httpx.HTTPError as exc:
                raise TransientError(
                    N_("Could not reach Douyin ({error}). It will be retried."),
                    error=type(exc).__name__,
                ) from exc
            try:
                return _data_of(response, applies=applies)
            except TokenError as exc:
                if attempt == 1 or exc.code not in {str(c) for c in REFRESHABLE_CODES}:
                    raise
                token = self._refresh(channel, token)
                if rewind is not None:
                    rewind.seek(0)
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _oauth(self, path: str, fields: Mapping[str, str]) -> dict[str, Any]:
        try:
            response = self._http.post(f"{self._base}{path}", data=dict(fields))
        except httpx.HTTPError as exc:
            raise TransientError(
                N_("Could not reach Douyin ({error}). It will be retried."),
                error=type(exc).__name__,
            ) from exc
        try:
            return _data_of(response, applies=False)
        except PermanentError as exc:
            if exc.code.isdigit() and int(exc.code) in REFRESH_FAILED_CODES | {10007}:
                raise TokenError(
                    N_("Douyin no longer accepts this authorization: reconnect the account."),
                    code=exc.code,
                ) from exc
            raise


def _video_id_of(data: Mapping[str, Any]) -> str:
    video_id = str((data.get("video") or {}).get("video_id", ""))
    if not video_id:
        raise TransientError(N_("Douyin did not return an id for the uploaded video."))
    return video_id


def _raise_timeout(exc: httpx.TimeoutException, *, applies: bool) -> None:
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) or not applies:
        raise TransientError(N_("Douyin did not answer in time. It will be retried.")) from exc
    raise OutcomeUnknownError(
        N_("Douyin did not answer in time after the video was sent; checking whether it went out.")
    ) from exc


def _data_of(response: httpx.Response, *, applies: bool) -> dict[str, Any]:
    """The ``data`` of a Douyin answer, or the typed error its ``error_code`` means."""
    try:
        body = response.json()
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        if response.status_code >= 500 and applies:
            # A gateway error without Douyin's answer: the post may or may not exist.
            raise OutcomeUnknownError(
                N_("Douyin answered HTTP {status} without details; checking whether it went out."),
                code=str(response.status_code),
                status=response.status_code,
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(
                N_("Douyin answered HTTP {status}. It will be retried."),
                code=str(response.status_code),
                status=response.status_code,
            )
        raise PermanentError(
            N_("Douyin sent an answer guanxi does not understand (HTTP {status})."),
            code=str(response.status_code),
            status=response.status_code,
        )
    code = int(data.get("error_code") or 0)
    if code == 0 and response.status_code < 400:
        return data
    _raise_for(code, str(data.get("description", "")), response)
    raise AssertionError  # pragma: no cover - _raise_for always raises


def _raise_for(code: int, description: str, response: httpx.Response) -> None:
    text = str(code)
    if code in TOKEN_CODES:
        raise TokenError(
            N_("Douyin refused the access token ({description}): reconnect the account."),
            code=text,
            description=description,
        )
    if code in SCOPE_CODES:
        raise TokenError(
            N_("The Douyin account did not grant guanxi this permission: reconnect it."),
            code=text,
        )
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        retry_after = response.headers.get("retry-after", "")
        seconds = float(retry_after) if retry_after.isdigit() else DEFAULT_RETRY_AFTER_S
        raise RateLimitedError(
            N_("Douyin asks to slow down; retrying in {seconds} s."),
            retry_after_s=seconds,
            code=text,
            seconds=int(seconds),
        )
    if code in UPLOAD_SESSION_CODES:
        raise TransientError(
            N_("Douyin lost track of the video's upload ({description}); it will start over."),
            code=text,
            description=description,
        )
    if code in BUSY_CODES or response.status_code >= 500:
        raise TransientError(
            N_("Douyin is busy ({description}). It will be retried."),
            code=text,
            description=description,
        )
    raise PermanentError(
        N_("Douyin refused the request: {description} (error {error_code})."),
        code=text,
        description=description,
        error_code=text,
    )


def _token_from(data: Mapping[str, Any]) -> Token:
    access_token = str(data.get("access_token", ""))
    if not access_token:
        raise TransientError(N_("Douyin did not return an access token. It will be retried."))
    expires_in = int(data.get("expires_in") or 0)
    return Token(
        access_token=access_token,
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
        refresh_token=str(data.get("refresh_token", "")),
    )


def _result_of(item: Mapping[str, Any]) -> PublishResult:
    item_id = str(item.get("item_id", ""))
    url = str(item.get("share_url", ""))
    status = int(item.get("video_status") or 0)
    if status == STATUS_REVIEWING or not item.get("is_reviewed", True):
        return PublishResult(
            PublishState.PENDING_REVIEW, item_id, url, PENDING_REVIEW_DETAIL, dict(item)
        )
    if status == STATUS_NOT_PUBLIC:
        return PublishResult(
            PublishState.FAILED,
            item_id,
            url,
            N_("Douyin's review found the video not suitable for the public."),
            dict(item),
        )
    return PublishResult(PublishState.PUBLISHED, item_id, url, "", dict(item))
