"""Replies to inbox items: through the channel's connector, by hand, or after approval.

Whatever happens, the text of a reply is kept: a platform refusal leaves a ``failed`` reply
with what to do, and a reply that may not go now (the platform's window for answering a
private message is closed, a manager must approve it) stays a ``draft`` or
``pending_approval`` reply.

A platform may let an account answer a person's private message only inside the window
that person's own message opens (WeChat: 48 hours, at most 5 answers); its connector
declares the window (``LimitsMessageReplies``). guanxi checks the window itself before
calling the platform, and also understands the platform's own refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.approvals import rules
from guanxi.approvals.record import record_decision
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, mark_needs_reconnect
from guanxi.connectors import registry
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    FetchedKind,
    LimitsMessageReplies,
    OutcomeUnknownError,
    ReplyRequest,
    ReplyWindow,
    TokenError,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, PermissionDeniedError, UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.core.upsert import get_or_create
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.inbox.replies.models import InboxSettings, Reply, ReplyState, ReplyVia

REPLY_MAX_CHARS = 2000
DEFAULT_REPLY_APPROVER_ROLE = Role.MANAGER

MSG_EMPTY = N_("Write the reply before sending it.")
MSG_TOO_LONG = N_("The reply has {length} characters; keep it under {limit}.")
MSG_NO_API = N_(
    "This platform has no API for replies: copy the text, answer on the platform, then mark "
    "the item replied."
)
MSG_UNKNOWN = N_(
    "The platform did not answer in time, so the reply may have been posted. Check the "
    "platform before sending it again: the text is kept here."
)
MSG_NEEDS_APPROVAL = N_("This reply waits for approval before it is sent.")
MSG_WAITING = N_("This reply is waiting for approval: an approver sends it by approving it.")
MSG_ALREADY_SENT = N_("This reply was already sent.")
MSG_REJECTED = N_("Sent back without a reason.")
MSG_SEND_UNAPPROVED = N_(
    "This reply needs approval before it is sent. Ask for approval again, or write a new reply."
)
MSG_NOT_RESUBMITTABLE = N_(
    "Only a draft or failed reply that needs approval can be sent for approval."
)

ConnectorFor = Callable[[Channel], Connector]
ContextFor = Callable[[Channel], ChannelContext]


@dataclass(frozen=True)
class MessageWindow:
    """Whether a private message may still be answered, and until when."""

    open: bool
    opened_at: datetime | None
    closes_at: datetime | None
    sent: int
    remaining: int
    rule: ReplyWindow


def reply_window_of(connector: Connector) -> ReplyWindow | None:
    """The window the connector's platform sets for answering private messages, if any."""
    return connector.message_reply_window if isinstance(connector, LimitsMessageReplies) else None


def message_window(
    db: Session,
    *,
    item: InboxItem,
    now: datetime | None = None,
    connector_for: ConnectorFor | None = None,
) -> MessageWindow:
    """The window the person who wrote ``item`` opened on its channel, by the rule of the
    channel's connector (``LookupError`` when its platform sets none)."""
    channel = db.get_one(Channel, item.channel_id)
    rule = reply_window_of((connector_for or registry.connector_for)(channel))
    if rule is None:
        msg = f"the {channel.connector} connector sets no window for answering messages"
        raise LookupError(msg)
    now = now or utcnow()
    opened_at = db.scalar(
        select(func.max(InboxItem.created_at)).where(
            InboxItem.channel_id == item.channel_id,
            InboxItem.kind == ItemKind.MESSAGE,
            InboxItem.author_external_id == item.author_external_id,
        )
    )
    if opened_at is None:
        return MessageWindow(False, None, None, 0, 0, rule)
    sent = (
        db.scalar(
            select(func.count(Reply.id))
            .join(InboxItem, Reply.item_id == InboxItem.id)
            .where(
                InboxItem.channel_id == item.channel_id,
                InboxItem.kind == ItemKind.MESSAGE,
                InboxItem.author_external_id == item.author_external_id,
                Reply.state == ReplyState.SENT,
                Reply.via == ReplyVia.API,
                Reply.sent_at >= opened_at,
            )
        )
        or 0
    )
    closes_at = opened_at + rule.duration
    remaining = max(0, rule.max_replies - sent)
    return MessageWindow(
        now < closes_at and remaining > 0, opened_at, closes_at, sent, remaining, rule
    )


def reply_rule(db: Session, *, workspace_id: int) -> rules.WhoApproves:
    """The workspace's reply approval: one step or none, and the lowest approving role."""
    settings = db.get(InboxSettings, workspace_id)
    if settings is None:
        return rules.WhoApproves(0, DEFAULT_REPLY_APPROVER_ROLE)
    return rules.WhoApproves(int(settings.reply_approval), Role(settings.reply_approver_role))


def _role_of(db: Session, *, workspace_id: int, user_id: int) -> Role | None:
    role = db.scalar(
        select(Membership.role).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    )
    return Role(role) if role is not None else None


def approval_required(db: Session, *, workspace_id: int, actor: User | None) -> bool:
    """Whether ``actor``'s replies wait for approval (the workspace setting, their role).

    Replies guanxi sends by itself (``actor`` None: an auto-reply rule a member set up)
    do not wait.
    """
    if actor is None:
        return False
    role = _role_of(db, workspace_id=workspace_id, user_id=actor.id)
    return rules.reply_needs_approval(reply_rule(db, workspace_id=workspace_id), role)


def reply_needs_approval(db: Session, *, reply: Reply) -> bool:
    """Whether ``reply`` may only be sent once approved (its author's role, the setting)."""
    if reply.author_id is None:
        return False
    workspace_id = reply.item.workspace_id
    role = _role_of(db, workspace_id=workspace_id, user_id=reply.author_id)
    return rules.reply_needs_approval(reply_rule(db, workspace_id=workspace_id), role)


def reply_review(db: Session, *, reply: Reply) -> rules.Review:
    """The reply's approval as the shared rules see it: one step, its author excluded."""
    return _review(reply_rule(db, workspace_id=reply.item.workspace_id), reply)


def _review(rule: rules.WhoApproves, reply: Reply) -> rules.Review:
    authors = frozenset({rules.member_key(reply.author_id)} if reply.author_id else ())
    approvers = (rules.member_key(reply.approved_by_id),) if reply.approved_by_id else ()
    return rules.Review(
        steps=1,
        lowest_role=rule.lowest_role,
        authors=authors,
        approvers=approvers,
        in_review=reply.state == ReplyState.PENDING_APPROVAL,
    )


def _decider(db: Session, *, reply: Reply, actor: User) -> rules.Decider:
    role = _role_of(db, workspace_id=reply.item.workspace_id, user_id=actor.id)
    if role is None:  # not a member: the views never get here, a script might
        raise PermissionDeniedError(N_("Only members of the workspace approve its replies."))
    return rules.Decider.member(actor.id, role)


def may_decide_reply(db: Session, *, reply: Reply, actor: User) -> bool:
    """Whether ``actor`` may approve or reject the reply now (the thread shows the buttons)."""
    role = _role_of(db, workspace_id=reply.item.workspace_id, user_id=actor.id)
    if role is None:
        return False
    return rules.may_decide(reply_review(db, reply=reply), rules.Decider.member(actor.id, role))


def may_send_reply(db: Session, *, reply: Reply) -> bool:
    """Whether a draft or failed reply may be sent again now: approved, or no approval needed."""
    if reply.state not in (ReplyState.DRAFT, ReplyState.FAILED):
        return False
    return _release_refusal(db, reply=reply) is None


@dataclass(frozen=True)
class ReplyActions:
    """The buttons a member sees on one reply of a thread, as the approval rules allow now."""

    decide: bool
    send: bool
    request: bool


def reply_actions(
    db: Session, *, replies: Sequence[Reply], actor: User, workspace_id: int, can_write: bool
) -> dict[int, ReplyActions]:
    """Each reply's buttons for ``actor``: what ``may_decide_reply``, ``may_send_reply`` and
    ``reply_needs_approval`` answer, in two queries for a whole thread instead of a few per
    reply."""
    if not replies:
        return {}
    rule = reply_rule(db, workspace_id=workspace_id)
    people = {actor.id} | {reply.author_id for reply in replies if reply.author_id is not None}
    roles = {
        user_id: Role(role)
        for user_id, role in db.execute(
            select(Membership.user_id, Membership.role).where(
                Membership.workspace_id == workspace_id, Membership.user_id.in_(sorted(people))
            )
        )
    }
    actor_role = roles.get(actor.id)
    found = {}
    for reply in replies:
        needs = reply.author_id is not None and rules.reply_needs_approval(
            rule, roles.get(reply.author_id)
        )
        sendable = reply.state in (ReplyState.DRAFT, ReplyState.FAILED) and (
            rules.release_refusal(needs_approval=needs, approved=reply.approved_by_id is not None)
            is None
        )
        decide = actor_role is not None and rules.may_decide(
            _review(rule, reply), rules.Decider.member(actor.id, actor_role)
        )
        found[reply.id] = ReplyActions(
            decide=decide,
            send=can_write and sendable,
            request=can_write
            and reply.state in (ReplyState.DRAFT, ReplyState.FAILED)
            and not sendable
            and needs,
        )
    return found


def _release_refusal(db: Session, *, reply: Reply) -> UserError | None:
    refusal = rules.release_refusal(
        needs_approval=reply_needs_approval(db, reply=reply),
        approved=reply.approved_by_id is not None,
    )
    return PermissionDeniedError(MSG_SEND_UNAPPROVED) if refusal is not None else None


def update_reply_approval(
    db: Session,
    *,
    membership: Membership,
    required: bool,
    approver_role: Role,
    ip: str | None = None,
) -> InboxSettings:
    """Turn reply approval on or off and say who approves; only an owner may. Audited."""
    # Two first saves at once create the settings row once.
    settings, _created = get_or_create(
        db,
        InboxSettings,
        key={"workspace_id": membership.workspace_id},
        defaults={
            "reply_approval": False,
            "reply_approver_role": DEFAULT_REPLY_APPROVER_ROLE.value,
        },
    )
    before = rules.WhoApproves(int(settings.reply_approval), Role(settings.reply_approver_role))
    after = rules.WhoApproves(int(required), approver_role)
    refusal = rules.policy_change_refusal(membership.role, before, after)
    if refusal is not None:
        raise refusal
    if approver_role not in rules.APPROVER_ROLES:
        raise UserError(N_("Choose who approves: managers and owners, or owners only."))
    if before != after:
        settings.reply_approval = required
        settings.reply_approver_role = approver_role.value
        record_audit(
            db,
            actor=membership.user,
            workspace=membership.workspace,
            action="inbox.reply_approval.update",
            entity_type="inbox_settings",
            entity_id=membership.workspace_id,
            before={"required": bool(before.steps), "approver_role": before.lowest_role.value},
            after={"required": required, "approver_role": approver_role.value},
            ip=ip,
        )
    db.flush()
    return settings


def default_context_for(db: Session) -> ContextFor:
    """Channel contexts whose tokens live in ``db``'s database."""
    sessions = sessionmaker(bind=db.get_bind(), expire_on_commit=False)
    box = SecretBox.from_settings(get_settings())
    return lambda channel: channel_context(channel, sessions=sessions, box=box, owner="inbox")


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise UserError(MSG_EMPTY)
    if len(text) > REPLY_MAX_CHARS:
        raise UserError(MSG_TOO_LONG, length=len(text), limit=REPLY_MAX_CHARS)
    return text


def _set_error(
    reply: Reply, state: ReplyState, message: str, code: str = "", **params: object
) -> None:
    reply.state = state
    reply.error, reply.error_code = message, code
    reply.error_params = {key: str(value) for key, value in params.items()}


def send_reply(
    db: Session,
    *,
    item: InboxItem,
    text: str,
    actor: User | None,
    connector_for: ConnectorFor = registry.connector_for,
    context_for: ContextFor | None = None,
    now: datetime | None = None,
) -> Reply:
    """Answer ``item``: sent, failed (text kept, with what to do), draft or pending approval.

    Commits. Raises ``UserError`` only for an empty or overlong text.
    """
    reply = Reply(
        item_id=item.id,
        author_id=actor.id if actor else None,
        text=_check_text(text),
        state=ReplyState.DRAFT,
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(reply)
    if approval_required(db, workspace_id=item.workspace_id, actor=actor):
        _set_error(reply, ReplyState.PENDING_APPROVAL, MSG_NEEDS_APPROVAL)
        db.commit()
        return reply
    db.flush()
    return deliver(db, reply=reply, connector_for=connector_for, context_for=context_for, now=now)


def deliver(
    db: Session,
    *,
    reply: Reply,
    connector_for: ConnectorFor = registry.connector_for,
    context_for: ContextFor | None = None,
    now: datetime | None = None,
) -> Reply:
    """Send a draft, failed or approved reply through the channel's connector; commits.

    A reply that needs approval goes only once approved: a pending or rejected one is
    refused (PermissionDeniedError) and stays as it is.
    """
    if reply.state == ReplyState.SENT:
        raise UserError(MSG_ALREADY_SENT)
    if reply.state == ReplyState.PENDING_APPROVAL:
        raise PermissionDeniedError(MSG_WAITING)
    refusal = _release_refusal(db, reply=reply)
    if refusal is not None:
        raise refusal
    now = now or utcnow()
    item = reply.item
    channel = db.get(Channel, item.channel_id)
    assert channel is not None  # the item's foreign key
    connector = connector_for(channel)
    if Capability.REPLY not in connector.capabilities:
        _set_error(reply, ReplyState.DRAFT, MSG_NO_API, "manual")
        db.commit()
        return reply
    rule = reply_window_of(connector)
    if item.kind == ItemKind.MESSAGE and rule is not None:
        window = message_window(db, item=item, now=now, connector_for=lambda _: connector)
        if not window.open:
            if window.remaining == 0 and window.closes_at is not None and now < window.closes_at:
                _set_error(
                    reply,
                    ReplyState.DRAFT,
                    rule.full_message,
                    rule.refusal_code,
                    limit=rule.max_replies,
                )
            else:
                _set_error(reply, ReplyState.DRAFT, rule.closed_message, rule.refusal_code)
            db.commit()
            return reply
    context = (context_for or default_context_for(db))(channel)
    # Saved before the platform is called: the text survives whatever happens next, and no
    # write transaction is held open across the network call.
    db.commit()
    request = ReplyRequest(
        item_external_id=item.external_id,
        text=reply.text,
        kind=FetchedKind(str(item.kind)),
        post_external_id=item.post_external_id,
        author_external_id=item.author_external_id,
        idempotency_key=reply.idempotency_key,
    )
    try:
        result = connector.reply(context, request)
    except ConnectorError as exc:
        _refused(db, reply=reply, channel=channel, error=exc, rule=rule)
        db.commit()
        return reply
    reply.state, reply.external_id, reply.url = ReplyState.SENT, result.external_id, result.url
    reply.error, reply.error_code, reply.error_params = "", "", {}
    reply.sent_at = now
    if item.first_response_at is None:
        item.first_response_at = now
    db.commit()
    return reply


def _refused(
    db: Session, *, reply: Reply, channel: Channel, error: ConnectorError, rule: ReplyWindow | None
) -> None:
    if rule is not None and error.code == rule.refusal_code:
        _set_error(reply, ReplyState.DRAFT, rule.closed_message, rule.refusal_code)
        return
    if isinstance(error, OutcomeUnknownError):  # a second send could post it twice
        _set_error(reply, ReplyState.FAILED, MSG_UNKNOWN, error.code or "timeout")
        return
    # The connector's own message (translatable) says what went wrong and what to do; the
    # failed state tells the person the text is kept for another try.
    _set_error(reply, ReplyState.FAILED, error.message, error.code, **error.params)
    if isinstance(error, TokenError):
        mark_needs_reconnect(db, channel=channel, reason=str(error))


def mark_replied(db: Session, *, item: InboxItem, text: str, actor: User | None) -> Reply:
    """Record a reply a person posted on the platform by hand (manual platforms); commits."""
    now = utcnow()
    reply = Reply(
        item_id=item.id,
        author_id=actor.id if actor else None,
        text=text.strip(),
        state=ReplyState.SENT,
        via=ReplyVia.MANUAL,
        sent_at=now,
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(reply)
    if item.first_response_at is None:
        item.first_response_at = now
    db.commit()
    return reply


def _decide(db: Session, *, reply: Reply, actor: User, approved: bool, reason: str = "") -> None:
    """Apply the shared rules to the decision and audit it (the caller commits)."""
    rules.decide(
        reply_review(db, reply=reply), _decider(db, reply=reply, actor=actor), approved=approved
    )  # raises the refusal: not pending, the author, a role below the approvers
    record_decision(
        db,
        workspace=db.get(Workspace, reply.item.workspace_id),
        subject="inbox.reply",
        entity_type="inbox_reply",
        entity_id=reply.id,
        approved=approved,
        actor=actor,
        details={"text": reply.text, **({} if approved else {"reason": reason})},
    )


def approve_reply(
    db: Session,
    *,
    reply: Reply,
    actor: User,
    connector_for: ConnectorFor = registry.connector_for,
    context_for: ContextFor | None = None,
) -> Reply:
    """An approver approves a reply that waits: it is sent at once (audited); commits."""
    _decide(db, reply=reply, actor=actor, approved=True)
    reply.approved_by_id, reply.approved_at = actor.id, utcnow()
    reply.state = ReplyState.DRAFT
    return deliver(db, reply=reply, connector_for=connector_for, context_for=context_for)


def reject_reply(db: Session, *, reply: Reply, actor: User, reason: str = "") -> Reply:
    """An approver sends a reply back as a draft, with why (audited); commits.

    It cannot be sent until someone asks for approval again and an approver approves it.
    """
    _decide(db, reply=reply, actor=actor, approved=False, reason=reason.strip())
    reply.approved_by_id, reply.approved_at = None, None
    _set_error(reply, ReplyState.DRAFT, reason.strip() or MSG_REJECTED, "rejected")
    db.commit()
    return reply


def request_approval(db: Session, *, reply: Reply, actor: User) -> Reply:
    """Ask for approval again of a draft or failed reply that needs it (audited); commits."""
    if reply.state not in (ReplyState.DRAFT, ReplyState.FAILED) or reply.approved_by_id:
        raise UserError(MSG_NOT_RESUBMITTABLE)
    if not reply_needs_approval(db, reply=reply):
        raise UserError(MSG_NOT_RESUBMITTABLE)
    _set_error(reply, ReplyState.PENDING_APPROVAL, MSG_NEEDS_APPROVAL)
    record_audit(
        db,
        actor=actor,
        workspace=db.get(Workspace, reply.item.workspace_id),
        action="inbox.reply.request_approval",
        entity_type="inbox_reply",
        entity_id=reply.id,
    )
    db.commit()
    return reply
