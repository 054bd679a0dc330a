"""Weibo through its v2 open API: connect by OAuth2, post with ``statuses/share``.

``statuses/share`` is the endpoint Weibo leaves to third-party apps: the text (at most 140
Chinese characters, no ``#topic#``) must link to a page on the app's registered safe
domain, and one JPEG, PNG or GIF under 5 MB may go with it. Weibo offers no client id to
make a post idempotent, so guanxi writes a short digest of the idempotency key into that
link's query string (``?gx=<digest>``): harmless for readers, and ``find`` can look for it
in the account's timeline after a timeout.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectedIdentity,
    ConnectorConfig,
    ConnectorError,
    Counting,
    FetchPage,
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
    Severity,
    Token,
    TokenError,
    TransientError,
    VariantDraft,
    VariantField,
)
from guanxi.connectors.settings import connector_settings
from guanxi.connectors.weibo_engage import WeiboEngage
from guanxi.connectors.weibo_links import status_url
from guanxi.connectors.weibo_metrics import WeiboMetrics
from guanxi.connectors.weibo_search import search_page
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.settings import ENV_PREFIX, Settings

TEXT_LIMIT = 140  # statuses/share: Chinese characters (two ASCII characters count as one)
IMAGE_LIMIT = 1
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
IMAGE_MAX_BYTES = 5 * 1024 * 1024
MARKER_PARAM = "gx"
MARKER_LENGTH = 16  # hex digits of the key's SHA-256: unique enough per account
FIND_PAGES = 3  # how many timeline pages of 100 posts ``find`` looks through
RATE_WINDOW_S = 3600  # Weibo's limits are hourly, reset on the hour

_URL = re.compile(r"https?://[^\s<>\"']+")
_TOPIC = re.compile(r"#[^#\s]+#")
TOKEN_CODES = frozenset({21301, 21314, 21315, 21316, 21317, 21319, 21327, 21332, 21501})
RATE_CODES = frozenset({10022, 10023, 10024, 20016})
APP_RATE_CODES = frozenset({10022})  # "IP requests out of rate limit": the app's servers
BUSY_CODES = frozenset({10001, 10002, 10003, 10009, 10010, 10011})
TOO_FAST = N_("Weibo limits how often an account may post; guanxi retries after the limit.")
TOKEN_GONE = N_(
    "Weibo no longer accepts this account's authorisation ({error}). Reconnect the account."
)
BUSY = N_("Weibo is busy or failing ({error}); guanxi will try again.")
REFUSED = N_("Weibo refused the request: {error} (error {weibo_code}).")


def weibo_text_length(text: str) -> int:
    """The length Weibo counts: a Chinese character is 1, two ASCII characters are 1."""
    halves = sum(1 if ord(char) < 0x80 else 2 for char in text)
    return (halves + 1) // 2


def marker(idempotency_key: str) -> str:
    """The value written into the link's ``gx`` parameter for this key."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:MARKER_LENGTH]


def _on_domain(url: str, domain: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return bool(domain) and (host == domain or host.endswith("." + domain))


def _with_marker(url: str, value: str) -> str:
    base, _, fragment = url.partition("#")
    joined = base + ("&" if "?" in base else "?") + f"{MARKER_PARAM}={value}"
    return joined + (f"#{fragment}" if fragment else "")


class WeiboSettings(BaseSettings):
    """The Weibo app of this instance (variables documented in docs/configuration.md)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}WEIBO_", extra="ignore", frozen=True)

    api_base: str = Field("https://api.weibo.com", description="Weibo API base URL.")
    app_key: str = Field("", description="This instance's Weibo app key (App Key).")
    app_secret: SecretStr = Field(SecretStr(""), description="The Weibo app's secret.")
    safe_domain: str = Field("", description="The Weibo app's registered safe domain.")


class WeiboConnector(WeiboMetrics, WeiboEngage, ReadNotSupported):
    """Weibo v2: ``statuses/share`` with one image, the safe-domain link, OAuth2 connect."""

    name = "weibo"
    platforms = ("weibo",)
    capabilities = frozenset({Capability.PUBLISH, Capability.DELETE, Capability.SEARCH})
    # The inbox side (connectors.weibo_engage).
    capabilities |= {
        Capability.FETCH_COMMENTS,
        Capability.FETCH_MENTIONS,
        Capability.REPLY,
        Capability.HIDE,
    }
    capabilities |= {Capability.METRICS}  # connectors.weibo_metrics
    # Weibo writes topics as #话题#, but statuses/share (the only publishing API open to
    # third parties) refuses text containing them: through this connector, no hashtags.
    hashtag_style = HashtagStyle.NONE
    variant_fields: frozenset[VariantField] = frozenset()
    field_limits = (FieldLimit("text", TEXT_LIMIT, Counting.LATIN_HALVES),)
    preview = PreviewKind.MICROBLOG
    # Statuses, topics and profiles open as cards in the app; t.cn is Weibo's own shortener.
    own_link_domains = ("weibo.com", "weibo.cn", "t.cn")
    settings_model = WeiboSettings

    def __init__(self, config: ConnectorConfig, *, safe_domain: str = "") -> None:
        self._config = config
        self._base = config.base_url.rstrip("/")
        self.safe_domain = safe_domain.strip().lower()

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> WeiboConnector:
        """The connector for this instance's Weibo app, from the settings."""
        own = connector_settings(WeiboSettings, settings)
        config = ConnectorConfig(
            base_url=own.api_base,
            http=http,
            app_id=own.app_key,
            app_secret=own.app_secret.get_secret_value(),
        )
        return cls(config, safe_domain=own.safe_domain)

    # --- Rules --------------------------------------------------------------------------

    def compose(self, variant: VariantDraft, idempotency_key: str) -> str:
        """The ``status`` text sent: the variant's text with its safe-domain link marked."""
        text = variant.text.strip()
        link = variant.link.strip()
        if link and link not in text:
            text = f"{text} {link}" if text else link
        mark = marker(idempotency_key)
        for url in _URL.findall(text):
            if _on_domain(url, self.safe_domain):
                return text.replace(url, _with_marker(url, mark), 1)
        return text

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """What keeps this variant from ``statuses/share``, each with how to fix it."""
        problems: list[RuleViolation] = []
        if not variant.text.strip() and not variant.link.strip():
            problems.append(RuleViolation("weibo.empty", N_("Write the text of the Weibo post.")))
        status = self.compose(variant, "0" * MARKER_LENGTH)
        if not self.safe_domain:
            problems.append(
                RuleViolation(
                    "weibo.no_safe_domain",
                    N_(
                        "guanxi does not know your Weibo app's safe domain. Ask the "
                        "administrator to set GUANXI_WEIBO_SAFE_DOMAIN."
                    ),
                )
            )
        elif not any(_on_domain(url, self.safe_domain) for url in _URL.findall(status)):
            problems.append(
                RuleViolation(
                    "weibo.safe_domain_link",
                    N_(
                        "Weibo only accepts a post that links to a page on {domain}. Add a "
                        "link to a page on {domain}."
                    ),
                    params={"domain": self.safe_domain},
                )
            )
        length = weibo_text_length(status)
        if length > TEXT_LIMIT:
            problems.append(
                RuleViolation(
                    "weibo.too_long",
                    N_(
                        "The post counts {length} characters with its link; Weibo allows "
                        "{limit} (two Latin letters or digits count as one). Shorten it."
                    ),
                    params={"length": length, "limit": TEXT_LIMIT},
                )
            )
        if _TOPIC.search(status):
            problems.append(
                RuleViolation(
                    "weibo.topic",
                    N_(
                        "Weibo does not accept #topic# tags in posts shared by apps. Remove "
                        "the # marks around the topic."
                    ),
                    covers="hashtags",
                )
            )
        problems.extend(self._media_problems(variant.media))
        return problems

    def _media_problems(self, media: tuple[MediaFile, ...]) -> list[RuleViolation]:
        problems: list[RuleViolation] = []
        if len(media) > IMAGE_LIMIT:
            problems.append(
                RuleViolation(
                    "weibo.image_count",
                    N_("Weibo takes one image with a shared post; keep one and remove the others."),
                    params={"count": len(media)},
                )
            )
        for item in media:
            if item.kind is not MediaKind.IMAGE or item.content_type not in IMAGE_TYPES:
                problems.append(
                    RuleViolation(
                        "weibo.image_type",
                        N_("{file} cannot go to Weibo: use a JPEG, PNG or GIF image."),
                        params={"file": item.path.name},
                    )
                )
            elif item.size >= IMAGE_MAX_BYTES:
                problems.append(
                    RuleViolation(
                        "weibo.image_size",
                        N_("{file} is too large for Weibo: use an image under 5 MB."),
                        params={"file": item.path.name},
                    )
                )
        return problems

    # --- Publishing ---------------------------------------------------------------------

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """Post with ``statuses/share``; raises the ConnectorError that says what to do next."""
        token = self._token(channel)
        status = self.compose(request.variant, request.idempotency_key)
        blocking = [v for v in self.validate(request.variant) if v.severity is Severity.ERROR]
        if blocking:
            raise PermanentError(blocking[0].message, code=blocking[0].code, **blocking[0].params)
        data = {"access_token": token, "status": quote(status, safe="")}
        files: dict[str, tuple[str, bytes, str]] | None = None
        if request.variant.media:
            image = request.variant.media[0]
            try:
                content = image.path.read_bytes()
            except OSError as exc:
                raise PermanentError(
                    N_("The image {file} is missing from the media library; upload it again."),
                    file=image.path.name,
                ) from exc
            files = {"pic": (image.path.name, content, image.content_type)}
        try:
            body = self._call("POST", "/2/statuses/share.json", data=data, files=files, sent=True)
        except PermanentError as exc:
            if exc.code != "20019":
                raise
            # Repeated text: an earlier attempt may have gone out; if so, that post is ours.
            found = self.find(channel, request)
            if found is not None:
                return found
            raise PermanentError(
                N_(
                    "Weibo refuses the same text twice in a short time. Change the text, or "
                    "check the account for the earlier post."
                ),
                code="20019",
            ) from exc
        return self._result(body)

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """The account's post carrying this request's marker, if it went out."""
        token = self._token(channel)
        needle = f"{MARKER_PARAM}={marker(request.idempotency_key)}"
        for page in range(1, FIND_PAGES + 1):
            body = self._call(
                "GET",
                "/2/statuses/user_timeline.json",
                params={"access_token": token, "count": 100, "page": page},
            )
            statuses = body.get("statuses", [])
            for status in statuses:
                if needle in str(status.get("text", "")):
                    return self._result(status)
            if len(statuses) < 100:
                break
        return None

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        """Weibo posts are live at once: whether the post still exists."""
        token = self._token(channel)
        try:
            body = self._call(
                "GET", "/2/statuses/show.json", params={"access_token": token, "id": external_id}
            )
        except PermanentError as exc:
            if exc.code == "20101":
                return PublishResult(PublishState.FAILED, external_id, detail="deleted")
            raise
        return self._result(body)

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        """Remove the post (``statuses/destroy``); a post already gone counts as removed."""
        token = self._token(channel)
        try:
            self._call(
                "POST",
                "/2/statuses/destroy.json",
                data={"access_token": token, "id": external_id},
                sent=True,
            )
        except PermanentError as exc:
            if exc.code != "20101":
                raise

    # --- Listening ----------------------------------------------------------------------

    def search_posts(self, channel: ChannelContext, *, query: str, since: str = "") -> FetchPage:
        """Public posts matching ``query`` newer than the cursor ``since`` (``search/statuses``)."""
        return search_page(self._call, token=self._token(channel), query=query, since=since)

    # --- Connecting ---------------------------------------------------------------------

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Weibo's consent page for this instance's app."""
        self._require_app()
        query = urlencode(
            {
                "client_id": self._config.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "state": state,
            }
        )
        return f"{self._base}/oauth2/authorize?{query}"

    def complete_authorization(self, *, code: str, redirect_uri: str) -> ConnectedIdentity:
        """Exchange the code for a token, then read the account's name."""
        self._require_app()
        body = self._call(
            "POST",
            "/oauth2/access_token",
            data={
                "client_id": self._config.app_id,
                "client_secret": self._config.app_secret,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        access_token, uid = str(body.get("access_token", "")), str(body.get("uid", ""))
        if not access_token or not uid:
            raise TransientError(BUSY, error="no access_token in the answer")
        expires_in = int(body.get("expires_in") or 0)
        user = self._call(
            "GET", "/2/users/show.json", params={"access_token": access_token, "uid": uid}
        )
        token = Token(
            access_token=access_token,
            expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
        )
        name = str(user.get("screen_name") or user.get("name") or uid)
        return ConnectedIdentity(external_id=uid, name=name, token=token)

    def _require_app(self) -> None:
        if not self._config.app_id or not self._config.app_secret:
            raise PermanentError(
                N_(
                    "This guanxi has no Weibo app. Ask the administrator to set "
                    "GUANXI_WEIBO_APP_KEY and GUANXI_WEIBO_APP_SECRET."
                )
            )

    # --- HTTP ---------------------------------------------------------------------------

    def _token(self, channel: ChannelContext) -> str:
        # Weibo gives apps no refresh token: an expired token needs the user to reconnect.
        token = channel.tokens.current()
        if token is None:
            raise TokenError(TOKEN_GONE, error="no token stored")
        if token.expires_at is not None and token.expires_at <= utcnow():
            raise TokenError(TOKEN_GONE, error="expired_token", code="21327")
        return token.access_token

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        sent: bool = False,
    ) -> dict[str, Any]:
        """One API call; ``sent`` marks a write, whose timeout leaves the outcome unknown."""
        body = self._json(method, path, params=params, data=data, files=files, sent=sent)
        if not isinstance(body, dict):
            raise PermanentError(REFUSED, error=str(body)[:200], weibo_code="list", code="list")
        return body

    def _call_for_list(self, path: str, *, params: Mapping[str, Any]) -> list[Any]:
        """A read Weibo answers with a JSON array (``statuses/count``)."""
        body = self._json("GET", path, params=params)
        if not isinstance(body, list):
            raise PermanentError(REFUSED, error=str(body)[:200], weibo_code="dict", code="dict")
        return body

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        sent: bool = False,
    ) -> dict[str, Any] | list[Any]:
        """One call's JSON answer (an object or an array), or the error Weibo's answer means."""
        try:
            response = self._config.http.request(
                method, self._base + path, params=params, data=data, files=files
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(BUSY, error=type(exc).__name__) from exc
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if sent:
                raise OutcomeUnknownError(
                    N_("Weibo did not answer in time; guanxi checks whether the post went out."),
                    error=type(exc).__name__,
                ) from exc
            raise TransientError(BUSY, error=type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise TransientError(BUSY, error=type(exc).__name__) from exc
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError):
            body = None
        if not isinstance(body, dict | list):
            if response.status_code >= 500:
                raise TransientError(BUSY, error=f"HTTP {response.status_code}")
            status = str(response.status_code)
            raise PermanentError(REFUSED, error=response.text[:200], weibo_code=status, code=status)
        if isinstance(body, list):
            if response.status_code >= 400:
                raise _error_for(response.status_code, {})
            return body
        if "error_code" in body or response.status_code >= 400:
            raise _error_for(response.status_code, body)
        return body

    def _result(self, status: Mapping[str, Any]) -> PublishResult:
        post_id = str(status.get("idstr") or status.get("id") or "")
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=post_id,
            url=status_url(self._base, post_id, _uid(status)),
            raw=dict(status),
        )


def _uid(status: Mapping[str, Any]) -> str:
    """The id of a status's author, "" when the status does not say."""
    user = status.get("user")
    if not isinstance(user, Mapping):
        return ""
    return str(user.get("idstr") or user.get("id") or "")


def _error_for(status_code: int, body: Mapping[str, Any]) -> ConnectorError:
    """The ConnectorError for one of Weibo's error answers."""
    try:
        code = int(body.get("error_code") or 0)
    except (TypeError, ValueError):
        code = 0
    error = str(body.get("error_description") or body.get("error") or "")
    if code in TOKEN_CODES:
        return TokenError(TOKEN_GONE, error=error, code=str(code))
    if code in RATE_CODES:
        now = utcnow().timestamp()
        retry_after = RATE_WINDOW_S - (now % RATE_WINDOW_S)
        return RateLimitedError(
            TOO_FAST, retry_after_s=retry_after, code=str(code), app_wide=code in APP_RATE_CODES
        )
    if code in BUSY_CODES or status_code >= 500:
        return TransientError(BUSY, error=error, code=str(code or status_code))
    number = str(code or status_code)
    return PermanentError(REFUSED, error=error, weibo_code=number, code=number)
