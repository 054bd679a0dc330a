"""WeChat Official Account (微信公众号): articles through the draft and free-publish APIs.

An account connects with its AppID and AppSecret. Its access token is shared by every
worker and only ever fetched inside ``ChannelContext.tokens.refresh``: WeChat invalidates
a token when a new one is fetched, so two workers fetching on their own would lock each
other out. Publishing uploads the cover and the body's images, adds a draft and submits it;
``errcode 0`` on submit only means the job started: the job is followed with
``freepublish/get`` (and WeChat's ``PUBLISHJOBFINISH`` push, see guanxi.channels.webhooks).

The connector is assembled from its parts: the API's errors, HTTP and tokens
(``wechat_api``), an article's rules (``wechat_rules``), comments and messages
(``wechat_engage``), pushes (``wechat_push``), figures (``wechat_metrics``) and scene codes
(``wechat_codes``); this module
connects, publishes, finds and deletes articles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
    PermanentError,
    PreviewKind,
    PublishRequest,
    PublishResult,
    PublishState,
    ReadNotSupported,
    RuleViolation,
    Severity,
    TransientError,
    VariantDraft,
    VariantField,
)
from guanxi.connectors.settings import connector_settings
from guanxi.connectors.wechat_api import WechatApi, _errcode
from guanxi.connectors.wechat_codes import WechatCodes
from guanxi.connectors.wechat_engage import WechatEngage
from guanxi.connectors.wechat_html import sanitize_html
from guanxi.connectors.wechat_jobs import result_from_job
from guanxi.connectors.wechat_metrics import WechatMetrics
from guanxi.connectors.wechat_push import WechatPush
from guanxi.connectors.wechat_rules import DIGEST_MAX, TITLE_MAX, article_problems
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.settings import ENV_PREFIX, Settings

THUMB_MAX_BYTES = 64 * 1024  # a JPEG this small may go up as a "thumb"; others as "image"
FIND_PAGES = 10  # find looks at the 200 most recent articles
# A draft with our marker but no published article: younger than this, its publish job may
# still be running (WeChat's take seconds to a minute); older, it was never submitted or
# its job failed. Below the engine's reconcile budget (MAX_ATTEMPTS x UNKNOWN_RETRY_S).
DRAFT_SETTLE_S = 180
APP_ID_PATTERN = re.compile(r"^wx[0-9A-Za-z]{16}$")

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


class WechatOaConnector(
    WechatApi, WechatMetrics, WechatPush, WechatEngage, WechatCodes, ReadNotSupported
):
    """Publishes articles to a WeChat Official Account; see the module docstring."""

    name = "wechat_oa"
    platforms = ("wechat",)
    capabilities = frozenset({Capability.PUBLISH, Capability.PUBLISH_STATUS, Capability.DELETE})
    # The inbox side (connectors.wechat_engage); messages arrive by push, not by fetching.
    capabilities |= {Capability.FETCH_COMMENTS, Capability.REPLY, Capability.HIDE}
    capabilities |= {Capability.METRICS}  # connectors.wechat_metrics (the data cube)
    capabilities |= {Capability.SCENE_CODES}  # connectors.wechat_codes (QR, mini-program)
    hashtag_style = HashtagStyle.NONE
    variant_fields = frozenset({VariantField.TITLE, VariantField.DIGEST, VariantField.COVER})
    field_limits = (FieldLimit("title", TITLE_MAX), FieldLimit("digest", DIGEST_MAX))
    preview = PreviewKind.ARTICLE
    # An article may link only to other WeChat articles and mini-program pages; behind a
    # short link on another domain the link would no longer open.
    own_link_domains = ("mp.weixin.qq.com", "weixin.qq.com")
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

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> WechatOaConnector:
        """The connector for ``GUANXI_WECHAT_API_BASE``; each account brings its own keys."""
        own = connector_settings(WechatSettings, settings)
        return cls(ConnectorConfig(base_url=own.api_base, http=http))

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
        return article_problems(variant)

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
