"""WeChat Official Account (微信公众号): articles through the draft and free-publish APIs.

An account connects with its AppID and AppSecret. Its access token is shared by every
worker and only ever fetched inside ``ChannelContext.tokens.refresh``: WeChat invalidates
a token when a new one is fetched, so two workers fetching on their own would lock each
other out. Publishing uploads the cover and the body's images, adds a draft and submits it;
``errcode 0`` on submit only means the job started: the job is followed with
``freepublish/get`` (and WeChat's ``PUBLISHJOBFINISH`` push, see guanxi.channels.webhooks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectedIdentity,
    ConnectorConfig,
    CredentialField,
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
    QuotaExhaustedError,
    RateLimitedError,
    ReadNotSupported,
    RuleViolation,
    Severity,
    Token,
    TokenError,
    TransientError,
    VariantDraft,
    VariantField,
)
from guanxi.connectors.settings import connector_settings
from guanxi.connectors.wechat_engage import WechatEngage
from guanxi.connectors.wechat_html import sanitize_html, url_scheme
from guanxi.connectors.wechat_jobs import MSG_REFUSED, result_from_job
from guanxi.connectors.wechat_metrics import WechatMetrics
from guanxi.connectors.wechat_push import WechatPush
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.settings import ENV_PREFIX, Settings

BEIJING = ZoneInfo("Asia/Shanghai")
TITLE_MAX = 64
DIGEST_MAX = 120
CONTENT_MAX_CHARS = 20_000
COVER_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp"})
COVER_MAX_BYTES = 10 * 1024 * 1024
THUMB_MAX_BYTES = 64 * 1024  # a JPEG this small may go up as a "thumb"; others as "image"
BODY_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
BODY_IMAGE_MAX_BYTES = 1024 * 1024 - 1  # media/uploadimg: JPG or PNG under 1 MB
WECHAT_IMAGE_HOSTS = frozenset({"mmbiz.qpic.cn", "mmbiz.qlogo.cn"})
FIND_PAGES = 10  # find looks at the 200 most recent articles
# A draft with our marker but no published article: younger than this, its publish job may
# still be running (WeChat's take seconds to a minute); older, it was never submitted or
# its job failed. Below the engine's reconcile budget (MAX_ATTEMPTS x UNKNOWN_RETRY_S).
DRAFT_SETTLE_S = 180
RATE_LIMIT_RETRY_S = 60.0
APP_ID_PATTERN = re.compile(r"^wx[0-9A-Za-z]{16}$")
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
MSG_INVALID = N_("The article breaks WeChat's rules ({problems}). Fix the variant and retry.")
MSG_APP_ID = N_(
    "The AppID should look like wx followed by 16 letters and digits. Copy it from the "
    "Official Accounts Platform (Settings and Development → Basic configuration)."
)
MSG_SECRET_MISSING = N_(
    "Enter the AppSecret from the Official Accounts Platform (Settings and Development → "
    "Basic configuration)."
)
MSG_MEDIA_MISSING = N_("The media file {name} is missing from the media library. Upload it again.")
MSG_STILL_PUBLISHING = N_(
    "WeChat has this article as a draft but does not list it as published yet: its publish "
    "may still be running. guanxi checks again shortly and never sends it twice."
)
MSG_NOT_PUBLISHED = N_("This article is not published on WeChat, so there is nothing to delete.")
MSG_TITLE_MISSING = N_("A WeChat article needs a title. Add one (up to 64 characters).")
MSG_TITLE_LONG = N_("The title has {length} characters; WeChat allows at most {limit}. Shorten it.")
MSG_DIGEST_LONG = N_(
    "The summary has {length} characters; WeChat allows at most {limit}. Shorten it."
)
MSG_COVER_MISSING = N_("A WeChat article needs a cover image. Choose one from the media library.")
MSG_COVER_FORMAT = N_(
    "The cover must be a JPG, PNG, GIF or BMP image under 10 MB. Choose another image."
)
MSG_LINK = N_("The original-article link must start with http:// or https://. Correct it.")
MSG_BODY_MISSING = N_("The article has no text. Write the body before scheduling it.")
MSG_BODY_LONG = N_(
    "The body is too long for WeChat ({length} characters with markup; at most {limit}). "
    "Shorten it or split it into two articles."
)
MSG_SANITISED = N_(
    "These parts of the body are not allowed in WeChat articles and will be removed: {removed}."
)
MSG_EXTERNAL_IMAGE = N_(
    "The image {src} is not in the post's media: WeChat articles only show images uploaded "
    "to WeChat. Add the image to the media library and use it from there."
)
MSG_VIDEO = N_(
    "WeChat articles published by guanxi carry images only: the video {name} is left out."
)
MSG_BODY_IMAGE = N_(
    "The image {name} cannot go into a WeChat article: body images must be JPG or PNG under "
    "1 MB. Convert or shrink it."
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
    if code == 48001:
        raise PermanentError(MSG_UNAUTHORIZED, code="48001")
    if code == 40164:
        raise TokenError(MSG_IP, code="40164")
    if code in TOKEN_ERRCODES:
        raise TokenError(MSG_TOKEN, code=str(code), errcode=code)
    errmsg = errmsg.split(" rid:", maxsplit=1)[0]  # the request id helps nobody here
    raise PermanentError(MSG_REFUSED, code=str(code), errcode=code, errmsg=errmsg)


def _is_wechat_image(src: str) -> bool:
    return (urlsplit(src).hostname or "").lower() in WECHAT_IMAGE_HOSTS


def _rule(
    code: str, message: str, severity: Severity = Severity.ERROR, **params: str | int
) -> RuleViolation:
    return RuleViolation(code, message, severity, params)


def _body_problems(variant: VariantDraft) -> list[RuleViolation]:
    problems: list[RuleViolation] = []
    clean = sanitize_html(variant.text)
    if not re.sub(r"<[^>]*>", "", clean.html).strip() and not clean.images:
        problems.append(_rule("wechat.body_missing", MSG_BODY_MISSING))
    if len(clean.html) > CONTENT_MAX_CHARS:
        problems.append(
            _rule(
                "wechat.body_too_long",
                MSG_BODY_LONG,
                length=len(clean.html),
                limit=CONTENT_MAX_CHARS,
            )
        )
    if clean.removed:
        removed = ", ".join(clean.removed)
        problems.append(
            _rule("wechat.body_sanitised", MSG_SANITISED, Severity.WARNING, removed=removed)
        )
    names = {media.path.name for media in variant.media}
    problems.extend(
        _rule("wechat.external_image", MSG_EXTERNAL_IMAGE, src=src[:200])
        for src in clean.images
        if src not in names and not _is_wechat_image(src)
    )
    for media in variant.media:
        name = media.path.name
        if media.kind is MediaKind.VIDEO:
            problems.append(_rule("wechat.video_left_out", MSG_VIDEO, Severity.WARNING, name=name))
        elif media.content_type not in BODY_IMAGE_TYPES or media.size > BODY_IMAGE_MAX_BYTES:
            problems.append(_rule("wechat.body_image_format", MSG_BODY_IMAGE, name=name))
    return problems


def _marker(key: str) -> str:
    # Sanitised bodies carry no comments of their own, so this one cannot be imitated.
    return f"<!--guanxi:{key}-->"


class WechatSettings(BaseSettings):
    """Where the WeChat Official Account API is; each account brings its own AppID and
    AppSecret."""

    model_config = SettingsConfigDict(
        env_prefix=f"{ENV_PREFIX}WECHAT_", extra="ignore", frozen=True
    )

    api_base: str = Field(
        "https://api.weixin.qq.com", description="WeChat Official Account API base URL."
    )


class WechatOaConnector(WechatMetrics, WechatPush, WechatEngage, ReadNotSupported):
    """Publishes articles to a WeChat Official Account; see the module docstring."""

    name = "wechat_oa"
    platforms = ("wechat",)
    capabilities = frozenset({Capability.PUBLISH, Capability.PUBLISH_STATUS, Capability.DELETE})
    # The inbox side (connectors.wechat_engage); messages arrive by push, not by fetching.
    capabilities |= {Capability.FETCH_COMMENTS, Capability.REPLY, Capability.HIDE}
    capabilities |= {Capability.METRICS}  # connectors.wechat_metrics (the data cube)
    hashtag_style = HashtagStyle.NONE
    variant_fields = frozenset({VariantField.TITLE, VariantField.DIGEST, VariantField.COVER})
    field_limits = (FieldLimit("title", TITLE_MAX), FieldLimit("digest", DIGEST_MAX))
    preview = PreviewKind.ARTICLE
    settings_model = WechatSettings
    credential_fields = (
        CredentialField(
            "app_id",
            N_("AppID"),
            help=N_(
                "Settings and Development → Basic configuration, in the Official Accounts Platform."
            ),
        ),
        CredentialField(
            "app_secret",
            N_("AppSecret"),
            secret=True,
            help=N_("Shown once when generated there; reset it if nobody kept it."),
        ),
        CredentialField(
            "server_token",
            N_("Server token (optional)"),
            secret=True,
            help=N_(
                "The Token of the server configuration, set with the URL guanxi shows for this "
                "account: WeChat then tells guanxi as soon as an article is published."
            ),
        ),
    )

    def __init__(self, config: ConnectorConfig) -> None:
        self._base = config.base_url.rstrip("/")
        self._http = config.http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> WechatOaConnector:
        """The connector for ``GUANXI_WECHAT_API_BASE``; each account brings its own keys."""
        own = connector_settings(WechatSettings, settings)
        return cls(ConnectorConfig(base_url=own.api_base, http=http))

    # --- HTTP and tokens -----------------------------------------------------------------

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
        self, channel: ChannelContext, path: str, *, sent_means_unknown: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        """POST an API call with the shared token; refresh it once if WeChat refuses it."""
        token = self._token(channel)
        data = self._request(
            "POST", path, token=token.access_token, sent_means_unknown=sent_means_unknown, **kwargs
        )
        if _errcode(data) in TOKEN_ERRCODES:
            # Refused on its token, the call did nothing: sending it again is safe.
            token = self._refresh(channel, token)
            data = self._request(
                "POST",
                path,
                token=token.access_token,
                sent_means_unknown=sent_means_unknown,
                **kwargs,
            )
        _raise_for(data)
        return data

    # --- connecting ----------------------------------------------------------------------

    def verify_credentials(self, credentials: Mapping[str, str]) -> ConnectedIdentity:
        """Check the AppID and AppSecret by fetching a token with them."""
        app_id = credentials.get("app_id", "").strip()
        secret = credentials.get("app_secret", "").strip()
        if not APP_ID_PATTERN.match(app_id):
            raise PermanentError(MSG_APP_ID, code="app_id")
        if not secret:
            raise PermanentError(MSG_SECRET_MISSING, code="app_secret")
        kept = {"app_id": app_id, "app_secret": secret}
        if credentials.get("server_token", "").strip():
            kept["server_token"] = credentials["server_token"].strip()
        token = self.fetch_token(kept)
        return ConnectedIdentity(external_id=app_id, name=app_id, credentials=kept, token=token)

    # --- rules ---------------------------------------------------------------------------

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """Title ≤ 64, summary ≤ 120, a cover, a body; body images on WeChat or in media."""
        problems: list[RuleViolation] = []
        if not variant.title.strip():
            problems.append(_rule("wechat.title_missing", MSG_TITLE_MISSING))
        elif len(variant.title) > TITLE_MAX:
            problems.append(
                _rule(
                    "wechat.title_too_long",
                    MSG_TITLE_LONG,
                    length=len(variant.title),
                    limit=TITLE_MAX,
                )
            )
        if len(variant.digest) > DIGEST_MAX:
            problems.append(
                _rule(
                    "wechat.digest_too_long",
                    MSG_DIGEST_LONG,
                    length=len(variant.digest),
                    limit=DIGEST_MAX,
                )
            )
        if variant.cover is None:
            problems.append(_rule("wechat.cover_missing", MSG_COVER_MISSING))
        elif variant.cover.content_type not in COVER_TYPES or variant.cover.size > COVER_MAX_BYTES:
            problems.append(_rule("wechat.cover_format", MSG_COVER_FORMAT))
        if variant.link and url_scheme(variant.link) not in {"http", "https"}:
            problems.append(_rule("wechat.link_invalid", MSG_LINK))
        return problems + _body_problems(variant)

    # --- publishing ----------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """Upload cover and images, add a draft, submit it: PROCESSING with the publish_id."""
        variant = request.variant
        errors = [p.code for p in self.validate(variant) if p.severity is Severity.ERROR]
        if errors:
            raise PermanentError(MSG_INVALID, code="invalid", problems=", ".join(errors))
        assert variant.cover is not None  # validate requires one
        cover = self._upload_cover(channel, variant.cover)
        content = self._article_body(channel, variant) + _marker(request.idempotency_key)
        article = {
            "title": variant.title,
            "author": "",
            "digest": variant.digest,
            "content": content,
            "content_source_url": variant.link,
            "thumb_media_id": cover,
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
        }
        draft = self._call(channel, "/cgi-bin/draft/add", body={"articles": [article]})
        submitted = self._call(
            channel,
            "/cgi-bin/freepublish/submit",
            body={"media_id": draft["media_id"]},
            sent_means_unknown=True,
        )
        return PublishResult(
            PublishState.PROCESSING,
            external_id=str(submitted["publish_id"]),
            detail=N_("Submitted: WeChat is publishing the article."),
            raw={
                "publish_id": str(submitted["publish_id"]),
                "draft_media_id": draft["media_id"],
                "msg_data_id": str(submitted.get("msg_data_id", "")),
            },
        )

    def _read(self, media: MediaFile) -> bytes:
        try:
            return media.path.read_bytes()
        except OSError as exc:
            raise PermanentError(MSG_MEDIA_MISSING, code="media", name=media.path.name) from exc

    def _upload_cover(self, channel: ChannelContext, cover: MediaFile) -> str:
        kind = (
            "thumb"
            if cover.content_type == "image/jpeg" and cover.size <= THUMB_MAX_BYTES
            else "image"
        )
        files = {"media": (cover.path.name, self._read(cover), cover.content_type)}
        data = self._call(
            channel, "/cgi-bin/material/add_material", params={"type": kind}, files=files
        )
        return str(data["media_id"])

    def _article_body(self, channel: ChannelContext, variant: VariantDraft) -> str:
        """The sanitised body with the post's images uploaded and their sources rewritten."""
        images = [media for media in variant.media if media.kind is MediaKind.IMAGE]
        uploaded: dict[str, str] = {}
        for media in images:
            files = {"media": (media.path.name, self._read(media), media.content_type)}
            data = self._call(channel, "/cgi-bin/media/uploadimg", files=files)
            uploaded[media.path.name] = str(data["url"])
        clean = sanitize_html(variant.text, rewrite_src=uploaded)
        # Images of the post that the body does not show go at the end, in order.
        shown = set(clean.images)
        extra = "".join(
            f'<p><img src="{uploaded[m.path.name]}"></p>'
            for m in images
            if m.path.name not in shown
        )
        return clean.html + extra

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        """Where the publish job ``external_id`` (a publish_id) stands."""
        return result_from_job(
            self._call(channel, "/cgi-bin/freepublish/get", body={"publish_id": external_id})
        )

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """After an unknown outcome, where this request's article stands.

        Published articles are listed by ``freepublish/batchget`` only once their job has
        finished, so a draft carrying the marker is looked for too: a recent one may still be
        publishing (TransientError: ask again later, never send a second article); one older
        than ``DRAFT_SETTLE_S`` was never submitted, or its job failed, so it is submitted
        again itself. None only when WeChat has no trace of it: safe to send.
        """
        marker = _marker(request.idempotency_key)
        published = self._find_published(channel, marker)
        if published is not None:
            return published
        draft = self._find_draft(channel, marker)
        if draft is None:
            return None
        media_id, updated = draft
        if utcnow().timestamp() - updated < DRAFT_SETTLE_S:
            raise TransientError(MSG_STILL_PUBLISHING, code="draft_pending")
        submitted = self._call(
            channel,
            "/cgi-bin/freepublish/submit",
            body={"media_id": media_id},
            sent_means_unknown=True,
        )
        return PublishResult(
            PublishState.PROCESSING,
            external_id=str(submitted["publish_id"]),
            detail=N_("Submitted: WeChat is publishing the article."),
            raw={
                "publish_id": str(submitted["publish_id"]),
                "draft_media_id": media_id,
                "found_by": "draft",
            },
        )

    def _find_draft(self, channel: ChannelContext, marker: str) -> tuple[str, int] | None:
        """The newest draft carrying ``marker``: its media_id and update time (unix s)."""
        for page in range(FIND_PAGES):
            data = self._call(
                channel,
                "/cgi-bin/draft/batchget",
                body={"offset": page * 20, "count": 20, "no_content": 0},
            )
            for item in data.get("item") or []:
                for news in (item.get("content") or {}).get("news_item") or []:
                    if marker in str(news.get("content", "")):
                        return str(item.get("media_id", "")), int(item.get("update_time", 0) or 0)
            if (page + 1) * 20 >= int(data.get("total_count", 0) or 0):
                break
        return None

    def _find_published(self, channel: ChannelContext, marker: str) -> PublishResult | None:
        """The published article carrying ``marker``, if WeChat lists one."""
        for page in range(FIND_PAGES):
            data = self._call(
                channel,
                "/cgi-bin/freepublish/batchget",
                body={"offset": page * 20, "count": 20, "no_content": 0},
            )
            items = data.get("item") or []
            for item in items:
                for news in (item.get("content") or {}).get("news_item") or []:
                    if marker in str(news.get("content", "")):
                        return PublishResult(
                            PublishState.PUBLISHED,
                            external_id=str(item.get("article_id", "")),
                            url=str(news.get("url", "")),
                            raw={"found_by": "batchget"},
                        )
            if (page + 1) * 20 >= int(data.get("total_count", 0) or 0):
                break
        return None

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        """Delete a published article (by article_id, or by the publish_id that made it)."""
        article_id = external_id
        if external_id.isdigit():  # a publish_id: WeChat's are numeric, article ids are not
            job = self._call(channel, "/cgi-bin/freepublish/get", body={"publish_id": external_id})
            if _errcode(job) or job.get("publish_status") != 0:
                raise PermanentError(MSG_NOT_PUBLISHED, code="not_published")
            article_id = str(job.get("article_id", ""))
        self._call(
            channel, "/cgi-bin/freepublish/delete", body={"article_id": article_id, "index": 0}
        )
