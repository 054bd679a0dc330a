"""What each outcome does to a target: the mapping from a platform's answer (or a
connector's typed error) to the target's next state, the channel's pause or parking, and
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
from guanxi.publishing.models import Post, PublishTarget, TargetState
from guanxi.publishing.states import Actor, transition

log = logging.getLogger(__name__)

S = TargetState

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
    target: PublishTarget,
    result: PublishResult,
    *,
    now: datetime,
    settings: Settings,
    manual: bool = False,
    by: Actor = Actor.ENGINE,
) -> None:
    """Move ``target`` to where the platform says the post stands."""
    target.outcome_unknown = False
    target.platform_detail = result.detail
    if result.external_id:
        target.external_id = result.external_id
    if result.url:
        target.external_url = result.url
    if result.state is PublishState.FAILED:
        fail(
            db,
            target,
            result.detail or N_("the platform refused the post"),
            settings=settings,
            by=by,
        )
        return
    if result.state is PublishState.PUBLISHED:
        transition(target, S.PUBLISHED, "", by=by)
        target.published_at = target.published_at or now
        target.next_attempt_at = None
        target.last_error = ""
        target.last_error_code = ""
        notices.published(db, settings=settings, target=target)
        return
    if result.state is PublishState.PENDING_REVIEW:
        if target.state != S.PENDING_REVIEW:
            transition(target, S.PENDING_REVIEW, result.detail, by=by)
        target.published_at = target.published_at or now
        target.next_attempt_at = now + timedelta(
            seconds=backoff_s(1, base=STATUS_BASE_S, cap=STATUS_CAP_S) + STATUS_BASE_S
        )
        return
    # PROCESSING: a platform job to follow, or a person's task on a manual channel.
    if target.state != S.PROCESSING:
        transition(target, S.PROCESSING, result.detail, by=by)
    if manual:
        _assign_manual(db, target, now=now, settings=settings)
    else:
        target.next_attempt_at = now + timedelta(seconds=STATUS_BASE_S)


def _assign_manual(
    db: Session, target: PublishTarget, *, now: datetime, settings: Settings
) -> None:
    post = db.get_one(Post, target.post_id)
    target.assignee_id = target.assignee_id or post.created_by_id
    target.due_at = target.due_at or target.scheduled_at or now
    target.next_attempt_at = None
    notifications.notify(
        db,
        settings=settings,
        workspace_id=target.workspace_id,
        kind=MANUAL_ASSIGNED,
        params=_params(db, target, due=target.due_at.isoformat(timespec="minutes")),
        recipients=[target.assignee_id],
        link=target_link(db, target),
    )


def handle_error(
    db: Session,
    target: PublishTarget,
    channel: Channel,
    error: BaseException,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Map a connector's error to the target's (and the channel's) next state."""
    target.last_error = str(error)[:2000]
    target.last_error_code = (getattr(error, "code", "") or type(error).__name__)[:40]
    if isinstance(error, RateLimitedError | QuotaExhaustedError):
        _reschedule(target, at=pause_channel(db, channel=channel, error=error, now=now))
        return
    if isinstance(error, TokenError):
        was_connected = channel.status == ChannelStatus.CONNECTED
        mark_needs_reconnect(db, channel=channel, reason=str(error))
        _reschedule(target, at=now)  # parked: the dispatcher skips the channel until reconnected
        if was_connected:
            notifications.notify(
                db,
                settings=settings,
                workspace_id=channel.workspace_id,
                kind=CHANNEL_NEEDS_RECONNECT,
                params={"channel": channel.name},
                recipients=_people(db, target),
                link=target_link(db, target),
            )
        return
    if isinstance(error, PermanentError) or (
        isinstance(error, ConnectorError)
        and not isinstance(error, TransientError | OutcomeUnknownError)
    ):
        fail(db, target, str(error), settings=settings)
        return
    target.attempt_count += 1
    if not isinstance(error, TransientError):
        # A timeout after sending, or a crash we cannot classify: the post may be live.
        target.outcome_unknown = True
    if target.attempt_count >= MAX_ATTEMPTS:
        if target.outcome_unknown:
            hold(db, target, UNCONFIRMED_REASON, settings=settings)
        else:
            fail(db, target, str(error), settings=settings)
        return
    delay = UNKNOWN_RETRY_S if target.outcome_unknown else backoff_s(target.attempt_count)
    _reschedule(target, at=now + timedelta(seconds=delay))


def _reschedule(target: PublishTarget, *, at: datetime) -> None:
    transition(target, S.SCHEDULED, "", by=Actor.ENGINE)
    target.next_attempt_at = at


def fail(
    db: Session, target: PublishTarget, error: str, *, settings: Settings, by: Actor = Actor.ENGINE
) -> None:
    """The target failed for good: record why and tell the author and the managers."""
    transition(target, S.FAILED, error[:2000], by=by)
    target.next_attempt_at = None
    notifications.notify(
        db,
        settings=settings,
        workspace_id=target.workspace_id,
        kind=PUBLISH_FAILED,
        params=_params(db, target, error=error[:300]),
        recipients=_people(db, target),
        link=target_link(db, target),
    )


def hold(db: Session, target: PublishTarget, reason: str, *, settings: Settings) -> None:
    """The target waits for a person (NEEDS_ATTENTION); tell the author and the managers."""
    transition(target, S.NEEDS_ATTENTION, reason, by=Actor.ENGINE)
    target.next_attempt_at = None
    kind = MISSED_HELD if reason == MISSED_REASON else NEEDS_ATTENTION
    notifications.notify(
        db,
        settings=settings,
        workspace_id=target.workspace_id,
        kind=kind,
        params=_params(db, target, reason=reason),
        recipients=_people(db, target),
        link=target_link(db, target),
    )


def _people(db: Session, target: PublishTarget) -> list[int | None]:
    post = db.get_one(Post, target.post_id)
    return [post.created_by_id, *notifications.managers_of(db, workspace_id=target.workspace_id)]


def _params(db: Session, target: PublishTarget, **extra: str) -> dict[str, Any]:
    post = db.get_one(Post, target.post_id)
    channel = db.get_one(Channel, target.channel_id)
    return {"post": post.title, "channel": channel.name, "target_id": target.id, **extra}


def target_link(db: Session, target: PublishTarget) -> str:
    """The app path of the target's post."""
    workspace = db.get_one(Workspace, target.workspace_id)
    return f"/w/{workspace.slug}/posts/{target.post_id}"


def apply_platform_status(
    db: Session, *, channel: Channel, external_id: str, result: PublishResult
) -> PublishTarget | None:
    """Record a status the platform pushed (e.g. WeChat's PUBLISHJOBFINISH); None if unknown.

    Only a target of ``channel`` that is still being followed (PROCESSING or PENDING_REVIEW)
    with this external id is updated; the caller commits.
    """
    target = db.scalar(
        select(PublishTarget).where(
            PublishTarget.channel_id == channel.id,
            PublishTarget.external_id == external_id,
            PublishTarget.state.in_([S.PROCESSING, S.PENDING_REVIEW]),
        )
    )
    if target is None:
        return None
    if result.state is PublishState.PROCESSING:
        return target
    apply_result(db, target, result, now=utcnow(), settings=get_settings(), by=Actor.PLATFORM)
    return target


def apply_pushed_status(db: Session, channel: Channel, event: PublishFinished) -> None:
    """A publish's end the platform pushed, applied to its target; commits."""
    target = apply_platform_status(
        db, channel=channel, external_id=event.external_id, result=event.result
    )
    db.commit()
    log.info(
        "publish %s finished for channel %s: target %s",
        event.external_id,
        channel.id,
        target.id if target else "none",
    )


def register_push_handlers() -> None:
    """Publish results the platforms push are applied to their targets."""
    register_push_handler(PublishFinished, apply_pushed_status)


def complete_manual_target(
    db: Session, *, target: PublishTarget, live_url: str, actor: User
) -> PublishTarget:
    """A person posted the target by hand: check the live URL, mark it PUBLISHED, audit it.

    The URL must be http(s) and, when the catalog knows the platform's website, on that
    site's domain (a subdomain counts). Bad input raises a UserError and changes nothing.
    """
    url = live_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(N_("Paste the full address of the live post, starting with https://."))
    channel = db.get_one(Channel, target.channel_id)
    expected = platform_domain(channel.platform)
    host = parts.hostname.lower()
    if expected and host != expected and not host.endswith("." + expected):
        raise UserError(
            N_("This address is not on {domain}. Paste the address of the post on {domain}."),
            domain=expected,
        )
    if target.state not in {S.PROCESSING, S.NEEDS_ATTENTION}:
        raise UserError(N_("This post is not waiting to be posted by hand."))
    before = {"state": str(target.state)}
    transition(target, S.PUBLISHED, "", by=Actor.PERSON)
    target.external_url = url
    target.published_at = utcnow()
    target.next_attempt_at = None
    target.outcome_unknown = False
    record_audit(
        db,
        actor=actor,
        workspace=db.get(Workspace, target.workspace_id),
        action="publish_target.posted_by_hand",
        entity_type="publish_target",
        entity_id=target.id,
        before=before,
        after={"state": "published", "url": url},
    )
    db.flush()
    return target


def platform_domain(slug: str) -> str:
    """The registrable domain of the platform's website in the catalog ("" if unknown)."""
    platform = get_catalog().get(slug)
    if platform is None or platform.website is None or not platform.website.host:
        return ""
    labels = platform.website.host.lower().split(".")
    # weibo.com, xiaohongshu.com; keep three labels for second-level country domains (qq.com.cn).
    keep = 3 if len(labels) >= 3 and labels[-2] in {"com", "net", "org"} else 2
    return ".".join(labels[-keep:])
