"""What each outcome does to a variant: the mapping from a platform's answer (or a
connector's typed error) to the variant's next state, the channel's pause or parking, and
the people to notify. Also the two ways an outcome arrives from outside the worker: a
platform's status push and a person's "posted by hand" with the live URL.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.catalog.service import get_catalog
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.push import register_push_handler
from guanxi.channels.service import mark_needs_reconnect, pause_channel
from guanxi.connectors.base import (
    ConnectorError,
    OutcomeUnknownError,
    PermanentError,
    PublishResult,
    PublishState,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
    TransientError,
)
from guanxi.connectors.push import PublishFinished
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings, get_settings
from guanxi.notifications import service as notifications
from guanxi.publishing import notices
from guanxi.publishing.models import Post, Variant, VariantState
from guanxi.publishing.states import Actor, transition

log = logging.getLogger(__name__)

S = VariantState

# Retry policy (see docs/publishing-engine.md).
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0
MAX_ATTEMPTS = 6
UNKNOWN_RETRY_S = 60.0
# Following a publish job (PROCESSING / PENDING_REVIEW) with the platform's status call.
STATUS_BASE_S = 15.0
STATUS_CAP_S = 1800.0
STATUS_MAX_CHECKS = 60
MISSED_REASON = N_("missed while guanxi was down")
UNCONFIRMED_REASON = N_("the platform never confirmed whether the post went out")

# The kinds of notification publishing sends, and their messages.
PUBLISH_FAILED = "publish_failed"
CHANNEL_NEEDS_RECONNECT = "channel_needs_reconnect"
MISSED_HELD = "missed_held"
NEEDS_ATTENTION = "needs_attention"
MANUAL_ASSIGNED = "manual_assigned"
MANUAL_OVERDUE = "manual_overdue"

MESSAGES: dict[str, str] = {
    PUBLISH_FAILED: N_("“{post}” could not be published on {channel}: {error}"),
    CHANNEL_NEEDS_RECONNECT: N_(
        "{channel} needs to be reconnected; its scheduled posts wait until then."
    ),
    MISSED_HELD: N_(
        "“{post}” on {channel} was missed while guanxi was down. Confirm it to publish it now."
    ),
    NEEDS_ATTENTION: N_("“{post}” on {channel} needs your attention: {reason}"),
    MANUAL_ASSIGNED: N_("Please post “{post}” on {channel} by hand before {due}."),
    MANUAL_OVERDUE: N_("“{post}” on {channel} was due at {due} and is not marked as posted yet."),
}
notifications.register_kinds(MESSAGES)


def backoff_s(attempt: int, *, base: float = RETRY_BASE_S, cap: float = RETRY_CAP_S) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security


def apply_result(
    db: Session,
    variant: Variant,
    result: PublishResult,
    *,
    now: datetime,
    settings: Settings,
    manual: bool = False,
    by: Actor = Actor.ENGINE,
) -> None:
    """Move ``variant`` to where the platform says the post stands."""
    variant.outcome_unknown = False
    variant.platform_detail = result.detail
    if result.external_id:
        variant.external_id = result.external_id
    if result.url:
        variant.external_url = result.url
    if result.state is PublishState.FAILED:
        fail(
            db,
            variant,
            result.detail or N_("the platform refused the post"),
            settings=settings,
            by=by,
        )
        return
    if result.state is PublishState.PUBLISHED:
        transition(variant, S.PUBLISHED, "", by=by)
        variant.published_at = variant.published_at or now
        variant.next_attempt_at = None
        variant.last_error = ""
        variant.last_error_code = ""
        notices.published(db, settings=settings, variant=variant)
        return
    if result.state is PublishState.PENDING_REVIEW:
        if variant.state != S.PENDING_REVIEW:
            transition(variant, S.PENDING_REVIEW, result.detail, by=by)
        variant.published_at = variant.published_at or now
        variant.next_attempt_at = now + timedelta(
            seconds=backoff_s(1, base=STATUS_BASE_S, cap=STATUS_CAP_S) + STATUS_BASE_S
        )
        return
    # PROCESSING: a platform job to follow, or a person's task on a manual channel.
    if variant.state != S.PROCESSING:
        transition(variant, S.PROCESSING, result.detail, by=by)
    if manual:
        _assign_manual(db, variant, now=now, settings=settings)
    else:
        variant.next_attempt_at = now + timedelta(seconds=STATUS_BASE_S)


def _assign_manual(db: Session, variant: Variant, *, now: datetime, settings: Settings) -> None:
    post = db.get_one(Post, variant.post_id)
    variant.assignee_id = variant.assignee_id or post.created_by_id
    variant.due_at = variant.due_at or variant.scheduled_at or now
    variant.next_attempt_at = None
    notifications.notify(
        db,
        settings=settings,
        workspace_id=variant.workspace_id,
        kind=MANUAL_ASSIGNED,
        params=_params(db, variant, due=variant.due_at.isoformat(timespec="minutes")),
        recipients=[variant.assignee_id],
        link=variant_link(db, variant),
    )


def handle_error(
    db: Session,
    variant: Variant,
    channel: Channel,
    error: BaseException,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Map a connector's error to the variant's (and the channel's) next state."""
    variant.last_error = str(error)[:2000]
    variant.last_error_code = (getattr(error, "code", "") or type(error).__name__)[:40]
    if isinstance(error, RateLimitedError | QuotaExhaustedError):
        _reschedule(variant, at=pause_channel(db, channel=channel, error=error, now=now))
        return
    if isinstance(error, TokenError):
        was_connected = channel.status == ChannelStatus.CONNECTED
        mark_needs_reconnect(db, channel=channel, reason=str(error))
        _reschedule(variant, at=now)  # parked: the dispatcher skips the channel until reconnected
        if was_connected:
            notifications.notify(
                db,
                settings=settings,
                workspace_id=channel.workspace_id,
                kind=CHANNEL_NEEDS_RECONNECT,
                params={"channel": channel.name},
                recipients=_people(db, variant),
                link=variant_link(db, variant),
            )
        return
    if isinstance(error, PermanentError) or (
        isinstance(error, ConnectorError)
        and not isinstance(error, TransientError | OutcomeUnknownError)
    ):
        fail(db, variant, str(error), settings=settings)
        return
    variant.attempt_count += 1
    if not isinstance(error, TransientError):
        # A timeout after sending, or a crash we cannot classify: the post may be live.
        variant.outcome_unknown = True
    if variant.attempt_count >= MAX_ATTEMPTS:
        if variant.outcome_unknown:
            hold(db, variant, UNCONFIRMED_REASON, settings=settings)
        else:
            fail(db, variant, str(error), settings=settings)
        return
    delay = UNKNOWN_RETRY_S if variant.outcome_unknown else backoff_s(variant.attempt_count)
    _reschedule(variant, at=now + timedelta(seconds=delay))


def _reschedule(variant: Variant, *, at: datetime) -> None:
    transition(variant, S.SCHEDULED, "", by=Actor.ENGINE)
    variant.next_attempt_at = at


def fail(
    db: Session, variant: Variant, error: str, *, settings: Settings, by: Actor = Actor.ENGINE
) -> None:
    """The variant failed for good: record why and tell the author and the managers."""
    transition(variant, S.FAILED, error[:2000], by=by)
    variant.next_attempt_at = None
    notifications.notify(
        db,
        settings=settings,
        workspace_id=variant.workspace_id,
        kind=PUBLISH_FAILED,
        params=_params(db, variant, error=error[:300]),
        recipients=_people(db, variant),
        link=variant_link(db, variant),
    )


def hold(db: Session, variant: Variant, reason: str, *, settings: Settings) -> None:
    """The variant waits for a person (NEEDS_ATTENTION); tell the author and the managers."""
    transition(variant, S.NEEDS_ATTENTION, reason, by=Actor.ENGINE)
    variant.next_attempt_at = None
    kind = MISSED_HELD if reason == MISSED_REASON else NEEDS_ATTENTION
    notifications.notify(
        db,
        settings=settings,
        workspace_id=variant.workspace_id,
        kind=kind,
        params=_params(db, variant, reason=reason),
        recipients=_people(db, variant),
        link=variant_link(db, variant),
    )


def _people(db: Session, variant: Variant) -> list[int | None]:
    post = db.get_one(Post, variant.post_id)
    return [post.created_by_id, *notifications.managers_of(db, workspace_id=variant.workspace_id)]


def _params(db: Session, variant: Variant, **extra: str) -> dict[str, Any]:
    post = db.get_one(Post, variant.post_id)
    channel = db.get_one(Channel, variant.channel_id)
    return {"post": post.title, "channel": channel.name, "variant_id": variant.id, **extra}


def variant_link(db: Session, variant: Variant) -> str:
    """The app path of the variant's post."""
    workspace = db.get_one(Workspace, variant.workspace_id)
    return f"/w/{workspace.slug}/posts/{variant.post_id}"


def apply_platform_status(
    db: Session, *, channel: Channel, external_id: str, result: PublishResult
) -> Variant | None:
    """Record a status the platform pushed (e.g. WeChat's PUBLISHJOBFINISH); None if unknown.

    Only a variant of ``channel`` that is still being followed (PROCESSING or PENDING_REVIEW)
    with this external id is updated; the caller commits.
    """
    variant = db.scalar(
        select(Variant).where(
            Variant.channel_id == channel.id,
            Variant.external_id == external_id,
            Variant.state.in_([S.PROCESSING, S.PENDING_REVIEW]),
        )
    )
    if variant is None:
        return None
    if result.state is PublishState.PROCESSING:
        return variant
    apply_result(db, variant, result, now=utcnow(), settings=get_settings(), by=Actor.PLATFORM)
    return variant


def apply_pushed_status(db: Session, channel: Channel, event: PublishFinished) -> None:
    """A publish's end the platform pushed, applied to its variant; commits."""
    variant = apply_platform_status(
        db, channel=channel, external_id=event.external_id, result=event.result
    )
    db.commit()
    log.info(
        "publish %s finished for channel %s: variant %s",
        event.external_id,
        channel.id,
        variant.id if variant else "none",
    )


def register_push_handlers() -> None:
    """Publish results the platforms push are applied to their variants."""
    register_push_handler(PublishFinished, apply_pushed_status)


def complete_manual_variant(
    db: Session, *, variant: Variant, live_url: str, actor: User
) -> Variant:
    """A person posted the variant by hand: check the live URL, mark it PUBLISHED, audit it.

    The URL must be http(s) and, when the catalog knows the platform's website, on that
    site's domain (a subdomain counts). Bad input raises a UserError and changes nothing.
    """
    url = live_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(N_("Paste the full address of the live post, starting with https://."))
    channel = db.get_one(Channel, variant.channel_id)
    expected = platform_domain(channel.platform)
    host = parts.hostname.lower()
    if expected and host != expected and not host.endswith("." + expected):
        raise UserError(
            N_("This address is not on {domain}. Paste the address of the post on {domain}."),
            domain=expected,
        )
    if variant.state not in {S.PROCESSING, S.NEEDS_ATTENTION}:
        raise UserError(N_("This post is not waiting to be posted by hand."))
    before = {"state": str(variant.state)}
    transition(variant, S.PUBLISHED, "", by=Actor.PERSON)
    variant.external_url = url
    variant.published_at = utcnow()
    variant.next_attempt_at = None
    variant.outcome_unknown = False
    record_audit(
        db,
        actor=actor,
        workspace=db.get(Workspace, variant.workspace_id),
        action="variant.posted_by_hand",
        entity_type="variant",
        entity_id=variant.id,
        before=before,
        after={"state": "published", "url": url},
    )
    db.flush()
    return variant


def platform_domain(slug: str) -> str:
    """The registrable domain of the platform's website in the catalog ("" if unknown)."""
    platform = get_catalog().get(slug)
    if platform is None or platform.website is None or not platform.website.host:
        return ""
    labels = platform.website.host.lower().split(".")
    # weibo.com, xiaohongshu.com; keep three labels for second-level country domains (qq.com.cn).
    keep = 3 if len(labels) >= 3 and labels[-2] in {"com", "net", "org"} else 2
    return ".".join(labels[-keep:])
