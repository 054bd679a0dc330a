"""Posts and their per-channel variants: writing, checking, overriding, scheduling.

A post is written once (Chinese first); each chosen channel gets a ``PublishTarget`` whose
variant starts as a copy of the master and is edited for its platform. Every variant is
checked against its platform's rules (the connector's ``validate``) and the Chinese-first
checks (``guanxi.checks``); errors block scheduling, warnings need a manager's recorded
override. Approvals live in ``guanxi.publishing.approvals``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from guanxi.accounts.models import Membership, Permission, User, Workspace
from guanxi.accounts.service import record_audit, require
from guanxi.channels.models import Channel, ChannelAudience
from guanxi.channels.service import get_channel
from guanxi.checks.findings import Finding
from guanxi.checks.service import accept_warning, compiled_words, run_checks
from guanxi.connectors.base import (
    Connector,
    HashtagStyle,
    RuleViolation,
    Severity,
    VariantDraft,
)
from guanxi.connectors.registry import OFFLINE_HTTP, UnknownConnectorError, connector_for
from guanxi.core import fields
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings
from guanxi.publishing.media import get_media, media_file
from guanxi.publishing.models import (
    COMMENT_MAX_LENGTH,
    DIGEST_MAX_LENGTH,
    LINK_MAX_LENGTH,
    VARIANT_TITLE_MAX_LENGTH,
    Campaign,
    MediaAsset,
    Post,
    PostComment,
    PublishAttempt,
    PublishTarget,
    TargetState,
)
from guanxi.publishing.policy import get_policy
from guanxi.publishing.states import Actor, transition

POST_TITLE_MAX_LENGTH = 200
# A time this far in the past is a typing mistake, not "now".
PAST_TOLERANCE = timedelta(minutes=2)
# The variant fields a platform may ask for beyond the text; which ones a channel shows is
# learned from its connector's validate messages (no platform names here).
OPTIONAL_FIELDS = ("title", "digest", "link", "cover")
EDITABLE_STATES = frozenset(
    {TargetState.DRAFT, TargetState.IN_REVIEW, TargetState.APPROVED, TargetState.SCHEDULED}
)


# --- State changes -----------------------------------------------------------------------


def set_state(
    db: Session, *, target: PublishTarget, state: TargetState, reason: str, actor: User | None
) -> None:
    """Move ``target`` to ``state`` for a person (through the state machine), audited."""
    before = str(target.state)
    transition(target, state, reason, by=Actor.PERSON)
    record_audit(
        db, actor=actor, workspace=db.get(Workspace, target.workspace_id),
        action=f"target.{state.value}", entity_type="publish_target", entity_id=target.id,
        before={"state": before}, after={"state": state.value, "reason": reason},
    )  # fmt: skip


# --- Posts -------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > POST_TITLE_MAX_LENGTH:
        raise UserError(
            N_("Give the post an internal title of 1 to {max} characters."),
            max=POST_TITLE_MAX_LENGTH,
        )
    return title


def _campaign_id(db: Session, workspace: Workspace, value: str) -> int | None:
    if not value.strip():
        return None
    campaign_id = parse_id(value)
    campaign = db.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None or campaign.workspace_id != workspace.id:
        raise UserError(N_("That campaign does not exist in this workspace. Choose another one."))
    return campaign.id


def create_post(
    db: Session,
    *,
    workspace: Workspace,
    actor: User,
    title: str,
    body: str,
    campaign: str,
    channel_ids: Iterable[str],
) -> Post:
    """A post with one variant per chosen channel, each starting as a copy of the body."""
    clean_title = _clean_title(title)
    if not body.strip():
        raise UserError(N_("Write the post's text (in Chinese first) before saving it."))
    campaign_id = _campaign_id(db, workspace, campaign)
    channels = _channels(db, workspace, channel_ids)
    if not channels:
        raise UserError(N_("Choose at least one connected account to publish to."))
    post = Post(
        workspace_id=workspace.id, campaign_id=campaign_id, title=clean_title, body=body.strip(),
        created_by_id=actor.id,
    )  # fmt: skip
    db.add(post)
    db.flush()
    for channel in channels:
        _new_target(db, post, channel)
    record_audit(
        db, actor=actor, workspace=workspace, action="post.create", entity_type="post",
        entity_id=post.id,
        after={"title": clean_title, "channels": [channel.id for channel in channels]},
    )  # fmt: skip
    return post


def _channels(db: Session, workspace: Workspace, channel_ids: Iterable[str]) -> list[Channel]:
    channels: list[Channel] = []
    for value in dict.fromkeys(channel_ids):
        channel_id = parse_id(value)
        if channel_id is None:
            raise UserError(N_("That account is not connected to this workspace. Reload the page."))
        try:
            channels.append(get_channel(db, workspace=workspace, channel_id=channel_id))
        except NotFoundError as exc:
            raise UserError(
                N_("That account is not connected to this workspace. Reload the page.")
            ) from exc
    return channels


def _new_target(db: Session, post: Post, channel: Channel) -> PublishTarget:
    target = PublishTarget(
        workspace_id=post.workspace_id, post_id=post.id, channel_id=channel.id, text=post.body,
        idempotency_key=uuid.uuid4().hex, state=TargetState.DRAFT, media_ids=[], checks=[],
        overrides=[],
    )  # fmt: skip
    post.targets.append(target)
    db.flush()
    return target


def add_channels(
    db: Session, *, post: Post, actor: User, channel_ids: Iterable[str]
) -> list[PublishTarget]:
    """New variants of ``post`` for channels it does not target yet."""
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    present = {target.channel_id for target in post.targets}
    channels = [c for c in _channels(db, workspace, channel_ids) if c.id not in present]
    if not channels:
        raise UserError(N_("Choose an account this post does not go to yet."))
    targets = [_new_target(db, post, channel) for channel in channels]
    record_audit(
        db, actor=actor, workspace=workspace, action="post.add_channels", entity_type="post",
        entity_id=post.id, after={"channels": [channel.id for channel in channels]},
    )  # fmt: skip
    return targets


def update_post(
    db: Session, *, post: Post, actor: User, title: str, body: str, campaign: str
) -> None:
    """Change the post's internal title, master text or campaign (variants keep their text)."""
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    before = {"title": post.title, "campaign_id": post.campaign_id}
    post.title = _clean_title(title)
    if not body.strip():
        raise UserError(N_("Write the post's text (in Chinese first) before saving it."))
    post.body = body.strip()
    post.campaign_id = _campaign_id(db, workspace, campaign)
    record_audit(
        db, actor=actor, workspace=workspace, action="post.update", entity_type="post",
        entity_id=post.id, before=before,
        after={"title": post.title, "campaign_id": post.campaign_id},
    )  # fmt: skip


def get_post(db: Session, *, workspace: Workspace, post_id: int) -> Post:
    """The workspace's post with this id; NotFound for anyone else's."""
    post = db.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        raise NotFoundError(N_("No such post in this workspace."))
    return post


def get_target(*, post: Post, target_id: int) -> PublishTarget:
    """The post's variant with this id; NotFound otherwise."""
    for target in post.targets:
        if target.id == target_id:
            return target
    raise NotFoundError(N_("No such variant of this post."))


def get_variant(
    db: Session, *, workspace: Workspace, post_id: int, target_id: int
) -> tuple[Post, PublishTarget]:
    """The workspace's post and its variant ``target_id``; NotFound for anyone else's."""
    post = get_post(db, workspace=workspace, post_id=post_id)
    return post, get_target(post=post, target_id=target_id)


def _posts_query(
    *, workspace: Workspace, state: str, channel_id: int | None, campaign_id: int | None
) -> Select[Post]:
    query = select(Post).where(Post.workspace_id == workspace.id)
    if state:
        if state not in set(TargetState):
            raise UserError(N_("Unknown state in the filter. Choose one from the list."))
        query = query.where(
            Post.targets.any((PublishTarget.state == state) & (PublishTarget.post_id == Post.id))
        )
    if channel_id is not None:
        query = query.where(Post.targets.any(PublishTarget.channel_id == channel_id))
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    return query


def list_posts(
    db: Session,
    *,
    workspace: Workspace,
    state: str = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Post]:
    """The workspace's posts, newest first, filtered by a target state, channel or campaign;
    ``limit`` posts from ``offset`` when given, each with its variants loaded."""
    query = _posts_query(
        workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id
    )
    query = query.options(selectinload(Post.targets)).order_by(
        Post.created_at.desc(), Post.id.desc()
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.scalars(query))


def count_posts(
    db: Session,
    *,
    workspace: Workspace,
    state: str = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
) -> int:
    """How many posts the filters of ``list_posts`` give."""
    query = _posts_query(
        workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id
    )
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def list_attempts(db: Session, *, target: PublishTarget) -> list[PublishAttempt]:
    """Every publish attempt of a target, the latest first."""
    query = (
        select(PublishAttempt)
        .where(PublishAttempt.target_id == target.id)
        .order_by(PublishAttempt.number.desc(), PublishAttempt.id.desc())
    )
    return list(db.scalars(query))


# --- Variants ----------------------------------------------------------------------------


def content_digest(target: PublishTarget) -> str:
    """A digest of what the variant says and shows: an approval is valid for this only."""
    content = {
        "text": target.text,
        "title": target.title,
        "digest": target.digest,
        "link": target.link,
        "media_ids": list(target.media_ids or []),
        "cover_media_id": target.cover_media_id,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _media_ids(db: Session, workspace: Workspace, values: Iterable[str]) -> list[int]:
    ids: list[int] = []
    for value in dict.fromkeys(values):
        media_id = parse_id(value)
        if media_id is None:
            raise UserError(N_("That file is not in the media library. Reload the page."))
        try:
            ids.append(get_media(db, workspace=workspace, media_id=media_id).id)
        except NotFoundError as exc:
            raise UserError(N_("That file is not in the media library. Reload the page.")) from exc
    return ids


def update_variant(
    db: Session,
    *,
    target: PublishTarget,
    actor: User,
    text: str,
    title: str = "",
    digest: str = "",
    link: str = "",
    media_ids: Iterable[str] = (),
    cover_media_id: str = "",
) -> bool:
    """Save an edited variant; True when the edit made its approvals stale.

    An approved variant goes back to review (or to draft when no approval is needed); so
    does a scheduled one, which also leaves the queue (its time is kept, to schedule it
    again). One being published, or live, cannot be edited.
    """
    if target.state not in EDITABLE_STATES:
        raise UserError(
            N_("This variant is being published or is live, so it cannot be edited any more.")
        )
    workspace = db.get(Workspace, target.workspace_id)
    assert workspace is not None
    if not text.strip():
        raise UserError(N_("A variant needs its text. Write it, or copy it from the master."))
    if len(title) > VARIANT_TITLE_MAX_LENGTH or len(digest) > DIGEST_MAX_LENGTH:
        raise UserError(
            N_("A title may have up to {title} characters and a summary up to {digest}."),
            title=VARIANT_TITLE_MAX_LENGTH,
            digest=DIGEST_MAX_LENGTH,
        )
    link = link.strip()
    if link and (len(link) > LINK_MAX_LENGTH or not link.startswith(("http://", "https://"))):
        raise UserError(N_("A link starts with http:// or https://. Correct it or leave it empty."))
    ids = _media_ids(db, workspace, media_ids)
    cover = _media_ids(db, workspace, [cover_media_id])[0] if cover_media_id.strip() else None
    scheduled = target.state == TargetState.SCHEDULED
    try:
        with db.no_autoflush:
            stale = _apply_edit(db, target=target, workspace=workspace, actor=actor,
                                values=(text, title, digest, link, ids, cover))  # fmt: skip
        if scheduled:
            db.flush()  # the dispatcher may have claimed it meanwhile (the row's version)
    except StaleDataError as exc:
        raise UserError(
            N_(
                "The engine started publishing this variant a moment ago, so your edit "
                "was not saved. Reload the page to see where it stands."
            )
        ) from exc
    return stale


def _apply_edit(
    db: Session,
    *,
    target: PublishTarget,
    workspace: Workspace,
    actor: User,
    values: tuple[str, str, str, str, list[int], int | None],
) -> bool:
    text, title, digest, link, ids, cover = values
    before = content_digest(target)
    target.text, target.title, target.link = text.strip(), title.strip(), link
    target.digest = digest.strip()
    target.media_ids = ids
    target.cover_media_id = cover
    after = content_digest(target)
    if after == before:
        return False
    if actor.id not in (target.content_author_ids or []):
        # Whoever changes the content is one of its authors: they cannot approve it.
        target.content_author_ids = [*(target.content_author_ids or []), actor.id]
    record_audit(
        db, actor=actor, workspace=workspace, action="variant.update",
        entity_type="publish_target", entity_id=target.id,
        before={"digest": before}, after={"digest": after},
    )  # fmt: skip
    if target.state == TargetState.SCHEDULED:
        steps = get_policy(db, workspace=workspace).approval_steps
        new_state = TargetState.IN_REVIEW if steps else TargetState.DRAFT
        reason = N_(
            "Edited while scheduled: it left the queue. Have it approved and schedule it again."
        )
        target.next_attempt_at = None
        set_state(db, target=target, state=new_state, reason=reason, actor=actor)
        return True
    if target.state == TargetState.APPROVED:
        steps = get_policy(db, workspace=workspace).approval_steps
        new_state = TargetState.IN_REVIEW if steps else TargetState.DRAFT
        reason = N_("Edited after approval: the earlier approval no longer counts.")
        set_state(db, target=target, state=new_state, reason=reason, actor=actor)
        return True
    if target.state == TargetState.IN_REVIEW:
        target.state_reason = N_("Edited during review: earlier approvals no longer count.")
        return True
    return False


def variant_draft(db: Session, target: PublishTarget, data_dir: Path) -> VariantDraft:
    """The variant as its connector checks and publishes it."""
    media = [db.get(MediaAsset, media_id) for media_id in target.media_ids or []]
    cover = db.get(MediaAsset, target.cover_media_id) if target.cover_media_id else None
    return VariantDraft(
        text=target.text, title=target.title, digest=target.digest, link=target.link,
        media=tuple(media_file(asset, data_dir) for asset in media if asset is not None),
        cover=media_file(cover, data_dir) if cover is not None else None,
    )  # fmt: skip


def load_connector(channel: Channel, settings: Settings) -> Connector | None:
    """The channel's connector, to check drafts with, or None when it is not installed."""
    try:
        return connector_for(channel, settings=settings, http=OFFLINE_HTTP)
    except UnknownConnectorError:
        return None


def variant_fields(connector: Connector | None) -> list[str]:
    """The optional fields a channel's platform uses, as its connector declares them."""
    if connector is None:
        return []
    return [name for name in OPTIONAL_FIELDS if name in connector.variant_fields]


def _platform_findings(
    connector: Connector | None, channel: Channel, draft: VariantDraft
) -> list[dict[str, Any]]:
    if connector is None:
        missing = Finding(
            code="connector.missing", severity=Severity.ERROR,
            message=N_("The {connector} connector is not installed: this account cannot publish."),
            params={"connector": channel.connector},
        )  # fmt: skip
        return [{"source": "platform", **missing.to_dict()}]
    return [
        {"source": "platform", **_from_violation(v).to_dict()} for v in connector.validate(draft)
    ]


def _from_violation(violation: RuleViolation) -> Finding:
    return Finding(
        code=violation.code, severity=Severity(violation.severity), message=violation.message,
        params=dict(violation.params),
    )  # fmt: skip


def check_draft(
    db: Session, *, channel: Channel, draft: VariantDraft, settings: Settings
) -> list[dict[str, Any]]:
    """Every finding on a draft for ``channel``: its platform's rules, then the Chinese-first
    checks; as stored in ``PublishTarget.checks`` (``source`` says which)."""
    connector = load_connector(channel, settings)
    workspace = db.get(Workspace, channel.workspace_id)
    assert workspace is not None
    findings = run_checks(
        text=draft.text, title=draft.title, digest=draft.digest, link=draft.link,
        audience=ChannelAudience(channel.audience),
        hashtag_style=connector.hashtag_style if connector else HashtagStyle.NONE,
        words=compiled_words(db, workspace=workspace),
    )  # fmt: skip
    return [
        *_platform_findings(connector, channel, draft),
        *({"source": "checks", **finding.to_dict()} for finding in findings),
    ]


def check_variant(
    db: Session, *, target: PublishTarget, settings: Settings
) -> list[dict[str, Any]]:
    """Check a saved variant and store the results on it (``PublishTarget.checks``)."""
    channel = db.get(Channel, target.channel_id)
    assert channel is not None
    draft = variant_draft(db, target, settings.data_dir)
    target.checks = check_draft(db, channel=channel, draft=draft, settings=settings)
    return target.checks


def unresolved(target: PublishTarget) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored errors, and the stored warnings no manager has overridden."""
    overridden = {override["code"] for override in target.overrides or []}
    errors = [f for f in target.checks or [] if f["severity"] == Severity.ERROR.value]
    warnings = [
        f
        for f in target.checks or []
        if f["severity"] == Severity.WARNING.value and f["code"] not in overridden
    ]
    return errors, warnings


def override_warning(
    db: Session, *, target: PublishTarget, membership: Membership, code: str, reason: str
) -> None:
    """A manager lets a warning of the variant's last checks pass, with a reason recorded
    with their name (``PublishTarget.overrides``; audited). Needs Permission.APPROVE; see
    ``checks.service.accept_warning`` for what can be overridden."""
    require(membership, Permission.APPROVE)
    if target.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This post does not exist in this workspace."))
    override = accept_warning(target.checks, code=code, reason=reason, actor=membership)
    # A new list: SQLAlchemy does not see changes made inside a JSON value.
    target.overrides = [*target.overrides, override]
    record_audit(
        db,
        actor=membership.user,
        action="check.override",
        entity_type="publish_target",
        entity_id=target.id,
        workspace=membership.workspace,
        after={"code": code, "reason": override["reason"]},
    )
    db.flush()


# --- Scheduling --------------------------------------------------------------------------


def parse_local_time(value: str, timezone: str) -> datetime:
    """A ``YYYY-MM-DDTHH:MM`` time typed in ``timezone``, as an aware UTC datetime."""
    zone = fields.zone_or_none(timezone) or ZoneInfo("Asia/Shanghai")
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UserError(
            N_("Enter the date and time as YYYY-MM-DD HH:MM, for example 2026-12-01 09:30.")
        ) from exc
    fields.usable_day(naive.date(), field=N_("Date"))  # year 1 or 9999 overflows in UTC
    if naive.tzinfo is not None:
        return naive.astimezone(ZoneInfo("UTC"))
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def schedule_target(
    db: Session,
    *,
    target: PublishTarget,
    membership: Membership,
    when: datetime | None,
    settings: Settings,
) -> None:
    """Schedule a variant for ``when`` (None: publish now) once approved and checked.

    Checks run again first: an error blocks, and so does a warning no manager overrode.
    """
    from guanxi.publishing.approvals import approvals_complete

    require(membership, Permission.WRITE)
    workspace = membership.workspace
    policy = get_policy(db, workspace=workspace)
    ready = target.state == TargetState.APPROVED or (
        target.state == TargetState.DRAFT and policy.approval_steps == 0
    )
    if not ready:
        raise UserError(N_("Only an approved variant can be scheduled. Submit it for review."))
    if policy.approval_steps and not approvals_complete(db, target=target, policy=policy):
        raise UserError(N_("This variant changed since it was approved. Submit it for review."))
    now = utcnow()
    if when is not None and when < now - PAST_TOLERANCE:
        raise UserError(N_("That time has passed. Choose a later time, or use “Publish now”."))
    check_variant(db, target=target, settings=settings)
    errors, warnings = unresolved(target)
    if errors:
        raise UserError(
            N_("Fix the {count} error(s) in this variant before scheduling it."), count=len(errors)
        )
    if warnings:
        raise UserError(
            N_("{count} warning(s) need a manager's override before scheduling."),
            count=len(warnings),
        )
    if target.state == TargetState.DRAFT:
        # No approval steps: the state machine still passes through "approved".
        set_state(db, target=target, state=TargetState.APPROVED, reason="", actor=membership.user)
    at = when if when is not None and when > now else now
    target.scheduled_at = at
    target.next_attempt_at = at
    set_state(db, target=target, state=TargetState.SCHEDULED, reason="", actor=membership.user)


def unschedule_target(db: Session, *, target: PublishTarget, membership: Membership) -> None:
    """Take a scheduled variant off the queue; it stays approved."""
    require(membership, Permission.WRITE)
    if target.state != TargetState.SCHEDULED:
        raise UserError(N_("Only a scheduled variant can be unscheduled."))
    target.scheduled_at = None
    target.next_attempt_at = None
    set_state(db, target=target, state=TargetState.APPROVED, reason="", actor=membership.user)


def retry_target(
    db: Session, *, target: PublishTarget, membership: Membership, confirmed: bool
) -> None:
    """Queue a failed variant again now; one that needs attention only after a manager confirms."""
    require(membership, Permission.WRITE)
    if target.state == TargetState.NEEDS_ATTENTION:
        require(membership, Permission.APPROVE)
        if not confirmed:
            raise UserError(
                N_("Tick the box to confirm you checked the account and the platform first.")
            )
    elif target.state != TargetState.FAILED:
        raise UserError(N_("Only a failed variant, or one that needs attention, can be retried."))
    target.next_attempt_at = utcnow()
    set_state(db, target=target, state=TargetState.SCHEDULED, reason="", actor=membership.user)


# --- Comments ----------------------------------------------------------------------------


def add_comment(
    db: Session, *, post: Post, body: str, author: User | None, author_label: str
) -> PostComment:
    """A comment on a post by a member or an external reviewer."""
    body = body.strip()
    if not body or len(body) > COMMENT_MAX_LENGTH:
        raise UserError(N_("Write a comment of 1 to {max} characters."), max=COMMENT_MAX_LENGTH)
    comment = PostComment(
        post_id=post.id, author_id=author.id if author else None, author_label=author_label,
        body=body,
    )  # fmt: skip
    db.add(comment)
    db.flush()
    record_audit(
        db, actor=author, actor_label=author_label, workspace=db.get(Workspace, post.workspace_id),
        action="post.comment", entity_type="post", entity_id=post.id,
        after={"comment_id": comment.id},
    )  # fmt: skip
    return comment


def list_comments(db: Session, *, post: Post) -> list[PostComment]:
    """A post's comments, oldest first."""
    query = select(PostComment).where(PostComment.post_id == post.id).order_by(PostComment.id)
    return list(db.scalars(query))
