"""The contract every platform connector implements, and the errors it may raise.

The publishing engine only ever sees these types: which platform is behind a connector is
the connector's business (no ``if platform == "weibo"`` anywhere else). Errors are typed by
what the engine must do next, not by platform: retry later, wait for a quota reset, park
the channel until someone reconnects it, reconcile an unknown outcome, or give up. What a
connector that reads figures promises is in ``metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from guanxi.core.errors import N_


class Capability(StrEnum):
    """What a connector can do through the platform's official API."""

    PUBLISH = "publish"
    PUBLISH_STATUS = "publish_status"  # follow a publish job to its final state
    DELETE = "delete"
    FETCH_COMMENTS = "fetch_comments"
    FETCH_MENTIONS = "fetch_mentions"
    FETCH_MESSAGES = "fetch_messages"
    REPLY = "reply"
    METRICS = "metrics"
    SEARCH = "search"  # a keyword search / public timeline feed, for listening
    HIDE = "hide"  # hide or delete someone else's comment, for moderation
    SCENE_CODES = "scene_codes"  # QR / mini-program codes that name what brought a person


class HashtagStyle(StrEnum):
    """How a platform writes a topic tag."""

    DOUBLE_HASH = "double_hash"  # #话题# (Weibo)
    SINGLE_HASH = "single_hash"  # #话题 followed by a space (Douyin, Xiaohongshu, Bilibili)
    NONE = "none"  # no hashtags (WeChat articles)


class VariantField(StrEnum):
    """An optional field of a variant: the composer shows the ones the platform uses."""

    TITLE = "title"
    DIGEST = "digest"  # an article's summary
    LINK = "link"
    COVER = "cover"


class MediaKind(StrEnum):
    """What a media file is."""

    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class MediaFile:
    """A file from the media library, on local disk, ready to upload."""

    path: Path
    kind: MediaKind
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class VariantDraft:
    """One platform's version of a post, as the composer holds it (checked before scheduling)."""

    text: str
    title: str = ""
    digest: str = ""  # WeChat article summary
    link: str = ""
    media: tuple[MediaFile, ...] = ()
    cover: MediaFile | None = None


@dataclass(frozen=True)
class PublishRequest:
    """What to publish, with the key that makes the publish idempotent and findable.

    ``idempotency_key`` is stable for a target across every attempt; connectors put it
    where the platform lets them (a client id, an invisible marker) so that ``find`` can
    tell after a timeout whether the post went out.
    """

    idempotency_key: str
    variant: VariantDraft


class PublishState(StrEnum):
    """Where a publish stands on the platform."""

    PUBLISHED = "published"
    PROCESSING = "processing"  # accepted, the platform is still working (WeChat publish job)
    PENDING_REVIEW = "pending_review"  # live for the author, under the platform's review
    FAILED = "failed"  # the platform refused it for good (the detail says why)


@dataclass(frozen=True)
class PublishResult:
    """What the platform said about a publish."""

    state: PublishState
    external_id: str = ""  # the post's id on the platform (or the publish job's, while PROCESSING)
    url: str = ""
    detail: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


class FetchedKind(StrEnum):
    """What was read from a platform."""

    POST = "post"  # a public post (search feed, timeline)
    COMMENT = "comment"  # a comment on one of the brand's posts
    MENTION = "mention"  # a post or comment that @-mentions the brand
    MESSAGE = "message"  # a private message to the brand


class ContentFormat(StrEnum):
    """What kind of content a post is, as the platform says (for comparing like with like)."""

    TEXT = "text"  # words only
    IMAGE = "image"  # pictures (a Weibo with pictures, a Douyin image album)
    VIDEO = "video"
    ARTICLE = "article"  # a WeChat article, a Weibo headline article
    LIVE = "live"  # a live stream or its replay


@dataclass(frozen=True)
class FetchedAuthor:
    """Who wrote a fetched item, as the platform describes them."""

    external_id: str
    name: str
    followers: int | None = None
    verified_type: int | None = (
        None  # Weibo's verified_type semantics (-1 ordinary, 0..7, 200, 220)
    )
    url: str = ""
    avatar_url: str = ""


@dataclass(frozen=True)
class FetchedItem:
    """One post, comment, mention or message read from a platform."""

    kind: FetchedKind
    external_id: str
    text: str
    author: FetchedAuthor
    created_at: datetime  # aware, UTC
    post_external_id: str = ""  # the post it is on, is about, or is
    parent_external_id: str = ""  # the comment it answers
    url: str = ""
    metrics: Mapping[str, int] = field(default_factory=dict)  # likes, comments, reposts
    raw: Mapping[str, Any] = field(default_factory=dict)
    format: ContentFormat | None = None  # a post's, where the platform's answer says it


@dataclass(frozen=True)
class FetchPage:
    """A page of fetched items, oldest first, and where to continue from."""

    items: tuple[FetchedItem, ...]
    cursor: str  # opaque; passed back as ``since`` it returns only newer items
    has_more: bool = False


@dataclass(frozen=True)
class ReplyRequest:
    """An answer to a comment, mention or message."""

    item_external_id: str
    text: str
    kind: FetchedKind
    post_external_id: str = ""
    author_external_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class ReplyResult:
    """The answer as the platform recorded it."""

    external_id: str
    url: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


class Severity(StrEnum):
    """How a rule violation blocks scheduling."""

    ERROR = "error"  # cannot be scheduled until fixed
    WARNING = "warning"  # a manager may override it with a recorded reason


@dataclass(frozen=True)
class RuleViolation:
    """A platform rule a variant breaks; ``message`` is a translatable id with ``params``."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    params: Mapping[str, str | int] = field(default_factory=dict)
    # The family of Chinese-first check findings this rule already says (``hashtags``):
    # the composer does not show those twice, once as an error and again as a warning.
    covers: str = ""


# A connector may declare ``own_link_domains``: the platform's own hosts (a subdomain
# counts too) whose links in a post must stay as typed, not become tracked links, because
# the platform only opens them in-app (a WeChat article, a Weibo status, a Douyin video)
# or refuses them behind another domain. None declared: every address may be tracked.
OWN_LINK_DOMAINS_ATTRIBUTE = "own_link_domains"


class PreviewKind(StrEnum):
    """How a platform shows a post, for the composer's preview beside the text."""

    MICROBLOG = "microblog"  # a card: avatar, name, text, an image grid (Weibo)
    ARTICLE = "article"  # a title, a cover, a summary (a WeChat article)
    VIDEO = "video"  # a vertical video with its caption (Douyin)
    NOTE = "note"  # a cover image, a short title, the text (a Xiaohongshu note)
    POST = "post"  # any other platform: the text and the media


class Counting(StrEnum):
    """How a platform counts a field's length against its limit."""

    CHARACTERS = "characters"  # every character is one
    LATIN_HALVES = "latin_halves"  # two ASCII characters count as one (Weibo)


@dataclass(frozen=True)
class FieldLimit:
    """A platform's length limit on one field (``text``, ``title``, ``digest``), which the
    composer counts against as a person types; ``validate`` enforces the same number."""

    field: str
    limit: int
    counting: Counting = Counting.CHARACTERS


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working."""

    access_token: str
    expires_at: datetime | None
    refresh_token: str = ""


class TokenStore(Protocol):
    """Where a channel's token lives; shared by every worker process.

    ``refresh`` is single-flight: of several workers that find the same token stale, one
    calls ``fetch`` and stores the new token; the others get that stored token. It matters
    for WeChat, where fetching a new token invalidates the old one.
    """

    def current(self) -> Token | None:
        """The stored token, or None."""
        ...

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """A token newer than ``stale``: fetched once across workers, then shared."""
        ...


@dataclass(frozen=True)
class ChannelContext:
    """What a connector gets to act as one connected account."""

    channel_id: int
    external_id: str  # the account's id on the platform (Weibo uid, WeChat AppID, ...)
    credentials: Mapping[str, str]  # decrypted: app secret, refresh token, ...
    tokens: TokenStore


class ConnectorError(Exception):
    """Base of the errors a connector raises; ``message`` is translatable with ``params``."""

    def __init__(self, message: str, *, code: str = "", **params: str | int) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.code = code  # the platform's own error code, for the attempt log
        self.params = params


class TransientError(ConnectorError):
    """Try again later (network error, 5xx, system busy); nothing was published."""


class RateLimitedError(ConnectorError):
    """The platform asks to slow down; retry after ``retry_after_s``.

    ``app_wide``: the limit counts the whole app (every account connected through it), not
    this account alone, so every channel of the connector waits.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float,
        code: str = "",
        app_wide: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(message, code=code, **params)
        self.retry_after_s = retry_after_s
        self.app_wide = app_wide


class QuotaExhaustedError(ConnectorError):
    """A daily (or longer) quota is used up; nothing will work before ``resets_at``."""

    def __init__(
        self,
        message: str,
        *,
        resets_at: datetime,
        code: str = "",
        app_wide: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(message, code=code, **params)
        self.resets_at = resets_at
        self.app_wide = app_wide  # as for RateLimitedError


class TokenError(ConnectorError):
    """The account's authorisation is gone: park its queue until someone reconnects it."""


class OutcomeUnknownError(ConnectorError):
    """The request may have been applied (timeout after sending): reconcile before retrying."""


class PermanentError(ConnectorError):
    """The platform refused this content for good; retrying the same request cannot help."""


class NotSupportedError(ConnectorError):
    """The connector does not have this capability."""


NOT_SUPPORTED = N_("This platform's API does not offer this.")


@dataclass(frozen=True)
class ConnectorConfig:
    """How a connector reaches its platform: the base URL (real or sandbox) and a client."""

    base_url: str
    http: httpx.Client
    app_id: str = ""
    app_secret: str = ""
    redirect_uri: str = ""


@dataclass(frozen=True)
class ConnectedIdentity:
    """Who an account is once connected: what guanxi stores for it."""

    external_id: str
    name: str
    credentials: Mapping[str, str] = field(default_factory=dict)  # stored encrypted
    token: Token | None = None


@dataclass(frozen=True)
class CredentialField:
    """A field a user fills in to connect an account (an AppID, an AppSecret)."""

    name: str
    label: str  # translatable message id
    secret: bool = False
    help: str = ""  # translatable message id


@runtime_checkable
class OAuthConnect(Protocol):
    """A connector whose accounts connect through the platform's OAuth2 consent page."""

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Where to send the user to grant access."""
        ...

    def complete_authorization(self, *, code: str, redirect_uri: str) -> ConnectedIdentity:
        """Exchange the returned code for a token and the account's identity."""
        ...


@runtime_checkable
class CredentialsConnect(Protocol):
    """A connector whose accounts connect with credentials typed into guanxi."""

    credential_fields: tuple[CredentialField, ...]

    def verify_credentials(self, credentials: Mapping[str, str]) -> ConnectedIdentity:
        """Check the credentials with the platform; raise a ConnectorError if they fail."""
        ...


@dataclass(frozen=True)
class ReplyWindow:
    """How long after a person's private message, and how often, the account may answer it
    (WeChat: 48 hours, 5 answers); messages are translatable ids."""

    duration: timedelta
    max_replies: int
    refusal_code: str  # the code of the connector's error for an answer outside the window
    closed_message: str  # the window is closed: the reply is kept as a draft
    full_message: str  # with {limit}: the answers allowed are used up
    open_note: str  # on the reply form, with %(count)d: how many answers are left
    closed_note: str  # on the reply form: a reply now will be kept as a draft


@runtime_checkable
class LimitsMessageReplies(Protocol):
    """A connector whose platform lets an account answer a private message only in a window."""

    message_reply_window: ReplyWindow


@runtime_checkable
class Connector(Protocol):
    """A platform behind one interface. Built-ins and plugins alike implement this.

    A connector also implements ``OAuthConnect`` or ``CredentialsConnect`` for connecting
    accounts; capabilities it lacks raise ``NotSupportedError``.
    """

    name: str  # the entry-point name: "weibo", "wechat_oa", "douyin", "manual"
    platforms: tuple[str, ...]  # catalog slugs this connector serves
    capabilities: frozenset[Capability]
    hashtag_style: HashtagStyle
    variant_fields: frozenset[VariantField]  # the optional fields the platform uses

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """The platform's rules this variant breaks (length, media count, required cover...)."""
        ...

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """Send the post; raise a ConnectorError subclass that says what to do on failure."""
        ...

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        """Where a PROCESSING or PENDING_REVIEW publish stands now."""
        ...

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """After an unknown outcome: the post if it did go out, else None (safe to retry)."""
        ...

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        """Remove a published post."""
        ...

    def fetch_comments(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Comments on the account's posts newer than the cursor ``since``."""
        ...

    def fetch_mentions(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Posts and comments mentioning the account, newer than ``since``."""
        ...

    def fetch_messages(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Private messages to the account, newer than ``since``."""
        ...

    def search_posts(self, channel: ChannelContext, *, query: str, since: str = "") -> FetchPage:
        """Public posts matching ``query`` (keywords), newer than ``since``."""
        ...

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:
        """Answer a comment, mention or message."""
        ...

    def hide(self, channel: ChannelContext, *, item_external_id: str, kind: FetchedKind) -> None:
        """Hide or delete someone else's comment (moderation)."""
        ...


class ReadNotSupported:
    """Defaults for the read and engage side: a connector overrides what its platform offers."""

    def fetch_comments(self, channel: ChannelContext, *, since: str = "") -> FetchPage:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="fetch_comments")

    def fetch_mentions(self, channel: ChannelContext, *, since: str = "") -> FetchPage:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="fetch_mentions")

    def fetch_messages(self, channel: ChannelContext, *, since: str = "") -> FetchPage:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="fetch_messages")

    def search_posts(self, channel: ChannelContext, *, query: str, since: str = "") -> FetchPage:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="search")

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="reply")

    def hide(self, channel: ChannelContext, *, item_external_id: str, kind: FetchedKind) -> None:  # noqa: ARG002
        """Not offered by this platform's API."""
        raise NotSupportedError(NOT_SUPPORTED, code="hide")
