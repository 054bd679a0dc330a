"""The manual connector: platforms without a publishing API (Xiaohongshu, Bilibili, Kuaishou,
Zhihu, Douban, QZone, Youku, ...) are still connectors. Publishing hands a copy-ready
package to a person; the target is done when that person pastes the live URL.

An account is connected by naming its platform (a catalog slug) and its name or handle.
Rules are conservative: only limits known for sure are errors (see docs/connectors.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from guanxi.catalog.service import get_catalog
from guanxi.connectors.base import (
    NOT_SUPPORTED,
    Capability,
    ChannelContext,
    ConnectedIdentity,
    ConnectorConfig,
    CredentialField,
    FieldLimit,
    HashtagStyle,
    MediaKind,
    NotSupportedError,
    PermanentError,
    PreviewKind,
    PublishRequest,
    PublishResult,
    PublishState,
    ReadNotSupported,
    RuleViolation,
    Severity,
    VariantDraft,
    VariantField,
)
from guanxi.core.errors import N_
from guanxi.core.settings import Settings

HANDLE_MAX_LENGTH = 120
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
WAITING_FOR_A_PERSON = N_("Waiting for a person to post it by hand.")

# Platforms without an official publishing API: the usual reason to connect one by hand.
WITHOUT_API = ("xiaohongshu", "bilibili", "kuaishou", "zhihu", "douban", "qzone", "youku")


@dataclass(frozen=True)
class PlatformRules:
    """What is known for sure about a platform's limits (None: not known, not checked)."""

    title_max: int | None = None
    text_max: int | None = None
    needs_media: bool = False  # warn when a post has neither an image nor a video
    media_required: bool = False  # ... an error rather than a warning
    links_clickable: bool = True  # False: warn that a link in the post is plain text
    hashtag_style: HashtagStyle = HashtagStyle.SINGLE_HASH
    preview: PreviewKind = PreviewKind.POST
    # The platform's own hosts, whose links stay as typed (connectors.base).
    own_link_domains: tuple[str, ...] = ()


RULES: dict[str, PlatformRules] = {
    # Xiaohongshu notes: title up to 20 characters, body up to 1,000; a note is built around
    # images or a video (none: it cannot be posted), and links in a note are not clickable.
    # The image limit has changed over the years: not checked.
    "xiaohongshu": PlatformRules(
        title_max=20,
        text_max=1000,
        needs_media=True,
        media_required=True,
        links_clickable=False,
        preview=PreviewKind.NOTE,
        own_link_domains=("xiaohongshu.com", "xhslink.com"),
    ),
    # Bilibili video titles take up to 80 characters.
    "bilibili": PlatformRules(title_max=80),
    "weibo": PlatformRules(
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        preview=PreviewKind.MICROBLOG,
        own_link_domains=("weibo.com", "weibo.cn", "t.cn"),
    ),
    "wechat": PlatformRules(
        title_max=64,
        hashtag_style=HashtagStyle.NONE,
        preview=PreviewKind.ARTICLE,
        own_link_domains=("mp.weixin.qq.com", "weixin.qq.com"),
    ),
}


def catalog_slugs() -> tuple[str, ...]:
    """Every platform in the catalog: any of them can be posted to by hand."""
    return tuple(platform.slug for platform in get_catalog().platforms)


class ManualConnector(ReadNotSupported):
    """A person posts the package; guanxi tracks who, by when, and the live URL."""

    name = "manual"
    # What "Connect …" offers, for a connector that serves many platforms (see channels).
    offer_label = N_("an account on a platform without an API (manual publishing)")
    capabilities = frozenset({Capability.PUBLISH})
    credential_fields = (
        CredentialField(
            "platform",
            N_("Platform"),
            help=N_("The catalog platform the account is on, e.g. xiaohongshu or bilibili."),
        ),
        CredentialField(
            "name", N_("Account name or handle"), help=N_("As it appears on the platform.")
        ),
    )

    def __init__(self, config: ConnectorConfig, platform: str = "") -> None:
        self._config = config
        self.platform = platform  # set on a connector bound to one platform
        self.platforms: tuple[str, ...] = (platform,) if platform else catalog_slugs()
        rules = RULES.get(platform, PlatformRules())
        self.hashtag_style = rules.hashtag_style
        self.preview = rules.preview
        self.own_link_domains = rules.own_link_domains
        self.variant_fields = frozenset({VariantField.TITLE} if rules.title_max else ())
        self.field_limits = tuple(
            FieldLimit(name, limit)
            for name, limit in (("title", rules.title_max), ("text", rules.text_max))
            if limit is not None
        )

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> ManualConnector:  # noqa: ARG003 - the same constructor as every connector
        """The manual connector; it calls no platform."""
        return cls(ConnectorConfig(base_url="", http=http))

    def for_platform(self, platform: str) -> ManualConnector:
        """This connector bound to one platform, so ``validate`` applies its rules."""
        return ManualConnector(self._config, platform)

    # Connecting an account.

    def verify_credentials(self, credentials: Mapping[str, str]) -> ConnectedIdentity:
        """Check the platform is in the catalog and the handle is given.

        The channel's platform is ``credentials["platform"]`` of the identity returned.
        """
        platform = credentials.get("platform", "").strip().lower()
        handle = " ".join(credentials.get("name", "").split())
        if platform not in catalog_slugs():
            raise PermanentError(
                N_("'{platform}' is not a platform of the catalog: choose one from the list."),
                code="unknown_platform",
                platform=platform,
            )
        if not handle or len(handle) > HANDLE_MAX_LENGTH:
            raise PermanentError(
                N_("Give the account's name or handle, up to {limit} characters."),
                code="bad_handle",
                limit=HANDLE_MAX_LENGTH,
            )
        return ConnectedIdentity(
            external_id=f"{platform}:{handle}",
            name=handle,
            credentials={"platform": platform, "name": handle},
        )

    # Rules.

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """The bound platform's known limits; unbound, only that there is something to post."""
        return validate_for_platform(self.platform, variant)

    # Publishing: a person does it.

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:  # noqa: ARG002 - a person publishes
        """Nothing is sent: the target waits for the person it is assigned to."""
        return PublishResult(state=PublishState.PROCESSING, detail=WAITING_FOR_A_PERSON)

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:  # noqa: ARG002 - only the person knows
        """Still waiting: only the person can say it is live (by pasting its URL)."""
        return PublishResult(state=PublishState.PROCESSING, detail=WAITING_FOR_A_PERSON)

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:  # noqa: ARG002 - nothing is ever sent
        """Nothing was sent by guanxi, so there is nothing to find."""
        return None

    def delete(self, channel: ChannelContext, external_id: str) -> None:  # noqa: ARG002
        """A post made by hand is deleted by hand."""
        raise NotSupportedError(NOT_SUPPORTED, code="manual")


def validate_for_platform(platform: str, variant: VariantDraft) -> list[RuleViolation]:
    """``variant`` checked against what is known of ``platform`` (any slug; unknown: generic)."""
    rules = RULES.get(platform, PlatformRules())
    problems: list[RuleViolation] = []
    if not variant.text.strip() and not variant.media and not variant.title.strip():
        problems.append(
            RuleViolation(
                "manual.empty", N_("There is nothing to post: write a text or add media.")
            )
        )
    if rules.title_max is not None and len(variant.title) > rules.title_max:
        problems.append(
            RuleViolation(
                "manual.title_too_long",
                N_("The title has {length} characters; this platform allows {limit}. Shorten it."),
                params={"length": len(variant.title), "limit": rules.title_max},
            )
        )
    if rules.text_max is not None and len(variant.text) > rules.text_max:
        problems.append(
            RuleViolation(
                "manual.text_too_long",
                N_("The text has {length} characters; this platform allows {limit}. Shorten it."),
                params={"length": len(variant.text), "limit": rules.text_max},
            )
        )
    if rules.needs_media and not any(
        m.kind in {MediaKind.IMAGE, MediaKind.VIDEO} for m in variant.media
    ):
        problems.append(
            RuleViolation(
                "manual.media_expected",
                N_("Posts on this platform are built around images or a video: add some."),
                severity=Severity.ERROR if rules.media_required else Severity.WARNING,
            )
        )
    if not rules.links_clickable and (variant.link.strip() or _URL.search(variant.text)):
        problems.append(
            RuleViolation(
                "manual.link_not_clickable",
                N_(
                    "Links are not clickable on this platform: readers see plain text. Name "
                    "the page in words, or move the link to your profile."
                ),
                severity=Severity.WARNING,
            )
        )
    return problems
