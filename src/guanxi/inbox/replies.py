"""Replies to inbox items: through the channel's connector, by hand, or after approval.

Whatever happens, the text of a reply is kept: a platform refusal leaves a ``failed`` reply
with what to do, and a reply that may not go now (WeChat's customer-service window is
closed, a manager must approve it) stays a ``draft`` or ``pending_approval`` reply.

WeChat lets an Official Account answer a person's private message with a customer-service
message only inside the window that person's own message opens: 48 hours, at most 5
messages. guanxi checks the window itself before calling WeChat, and also understands
WeChat's own refusal (errcode 45015).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Permission, User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, mark_needs_reconnect
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    FetchedKind,
    OutcomeUnknownError,
    ReplyRequest,
    TokenError,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, PermissionDeniedError, UserError
from guanxi.core.upsert import upsert
from guanxi.inbox.models import (
    InboxItem,
    InboxSettings,
    ItemKind,
    Reply,
    ReplyState,
    ReplyVia,
)

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5
REPLY_MAX_CHARS = 2000
OUTSIDE_WINDOW_CODE = "45015"

MSG_EMPTY = N_("Write the reply before sending it.")
MSG_TOO_LONG = N_("The reply has {length} characters; keep it under {limit}.")
MSG_WINDOW_CLOSED = N_(
    "WeChat only lets the account answer a private message within 48 hours of the person's "
    "last message. That window is closed, so the reply is kept as a draft: send it when the "
    "person writes again."
)
MSG_WINDOW_FULL = N_(
    "WeChat allows {limit} answers to a person's message; they are used up, so the reply is "
    "kept as a draft: send it when the person writes again."
)
MSG_NO_API = N_(
    "This platform has no API for replies: copy the text, answer on the platform, then mark "
    "the item replied."
)
MSG_UNKNOWN = N_(
    "The platform did not answer in time, so the reply may have been posted. Check the "
    "platform before sending it again: the text is kept here."
)
MSG_NEEDS_APPROVAL = N_("A manager approves replies before they are sent.")
MSG_NOT_PENDING = N_("This reply is not waiting for approval.")
MSG_CANNOT_APPROVE = N_("Only managers and owners approve replies.")
MSG_ALREADY_SENT = N_("This reply was already sent.")

ConnectorFor = Callable[[Channel], Connector]
ContextFor = Callable[[Channel], ChannelContext]


@dataclass(frozen=True)
class MessageWindow:
    """Whether a WeChat private message may still be answered, and until when."""

    open: bool
    opened_at: datetime | None
    closes_at: datetime | None
    sent: int
    remaining: int


def message_window(db: Session, *, item: InboxItem, now: datetime | None = None) -> MessageWindow:
    """The customer-service window of the person who wrote ``item`` on its channel."""
    now = now or utcnow()
    opened_at = db.scalar(
        select(func.max(InboxItem.created_at)).where(
            InboxItem.channel_id == item.channel_id,
            InboxItem.kind == ItemKind.MESSAGE,
            InboxItem.author_external_id == item.author_external_id,
        )
    )
    if opened_at is None:
        return MessageWindow(False, None, None, 0, 0)
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
    closes_at = opened_at + WINDOW
    remaining = max(0, WINDOW_MESSAGES - sent)
    return MessageWindow(now < closes_at and remaining > 0, opened_at, closes_at, sent, remaining)


def approval_required(db: Session, *, workspace_id: int, actor: User | None) -> bool:
    """Whether ``actor``'s replies wait for a manager (the workspace setting, junior roles)."""
    settings = db.get(InboxSettings, workspace_id)
    if settings is None or not settings.reply_approval or actor is None:
        return False
    membership = db.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == actor.id
        )
    )
    return membership is None or not membership.can(Permission.APPROVE)


def set_reply_approval(db: Session, *, workspace_id: int, required: bool) -> InboxSettings:
    """Turn reply approval for junior roles on or off; commits."""
    upsert(db, InboxSettings, {"workspace_id": workspace_id, "reply_approval": required},
           unique=["workspace_id"], update=["reply_approval"])  # fmt: skip
    settings = db.get_one(InboxSettings, workspace_id, populate_existing=True)
    db.commit()
    return settings


def default_connector_for(channel: Channel) -> Connector:
    """The installed connector of ``channel``, built once per process."""
    from guanxi.connectors.registry import shared_connector

    return shared_connector(channel.connector)


def default_context_for(db: Session) -> ContextFor:
    """Channel contexts whose tokens live in ``db``'s database."""
    from guanxi.core.security import SecretBox
    from guanxi.core.settings import get_settings

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


def save_draft(db: Session, *, item: InboxItem, text: str, actor: User | None) -> Reply:
    """Keep a reply to send later; commits."""
    reply = Reply(item_id=item.id, author_id=actor.id if actor else None, text=_check_text(text),
                  state=ReplyState.DRAFT, idempotency_key=uuid.uuid4().hex)  # fmt: skip
    db.add(reply)
    db.commit()
    return reply


def send_reply(
    db: Session,
    *,
    item: InboxItem,
    text: str,
    actor: User | None,
    connector_for: ConnectorFor = default_connector_for,
    context_for: ContextFor | None = None,
    now: datetime | None = None,
) -> Reply:
    """Answer ``item``: sent, failed (text kept, with what to do), draft or pending approval.

    Commits. Raises ``UserError`` only for an empty or overlong text.
    """
    reply = Reply(item_id=item.id, author_id=actor.id if actor else None, text=_check_text(text),
                  state=ReplyState.DRAFT, idempotency_key=uuid.uuid4().hex)  # fmt: skip
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
    connector_for: ConnectorFor = default_connector_for,
    context_for: ContextFor | None = None,
    now: datetime | None = None,
) -> Reply:
    """Send a draft, failed or approved reply through the channel's connector; commits."""
    if reply.state == ReplyState.SENT:
        raise UserError(MSG_ALREADY_SENT)
    now = now or utcnow()
    item = reply.item
    channel = db.get(Channel, item.channel_id)
    assert channel is not None  # the item's foreign key
    connector = connector_for(channel)
    if Capability.REPLY not in connector.capabilities:
        _set_error(reply, ReplyState.DRAFT, MSG_NO_API, "manual")
        db.commit()
        return reply
    if item.kind == ItemKind.MESSAGE and channel.connector == "wechat_oa":
        window = message_window(db, item=item, now=now)
        if not window.open:
            if window.remaining == 0 and window.closes_at is not None and now < window.closes_at:
                _set_error(reply, ReplyState.DRAFT, MSG_WINDOW_FULL, OUTSIDE_WINDOW_CODE,
                           limit=WINDOW_MESSAGES)  # fmt: skip
            else:
                _set_error(reply, ReplyState.DRAFT, MSG_WINDOW_CLOSED, OUTSIDE_WINDOW_CODE)
            db.commit()
            return reply
    context = (context_for or default_context_for(db))(channel)
    # Saved before the platform is called: the text survives whatever happens next, and no
    # write transaction is held open across the network call.
    db.commit()
    request = ReplyRequest(
        item_external_id=item.external_id, text=reply.text, kind=FetchedKind(str(item.kind)),
        post_external_id=item.post_external_id, author_external_id=item.author_external_id,
        idempotency_key=reply.idempotency_key,
    )  # fmt: skip
    try:
        result = connector.reply(context, request)
    except ConnectorError as exc:
        _refused(db, reply=reply, channel=channel, error=exc)
        db.commit()
        return reply
    reply.state, reply.external_id, reply.url = ReplyState.SENT, result.external_id, result.url
    reply.error, reply.error_code, reply.error_params = "", "", {}
    reply.sent_at = now
    if item.first_response_at is None:
        item.first_response_at = now
    db.commit()
    return reply


def _refused(db: Session, *, reply: Reply, channel: Channel, error: ConnectorError) -> None:
    if error.code == OUTSIDE_WINDOW_CODE:
        _set_error(reply, ReplyState.DRAFT, MSG_WINDOW_CLOSED, OUTSIDE_WINDOW_CODE)
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
    reply = Reply(item_id=item.id, author_id=actor.id if actor else None, text=text.strip(),
                  state=ReplyState.SENT, via=ReplyVia.MANUAL, sent_at=now,
                  idempotency_key=uuid.uuid4().hex)  # fmt: skip
    db.add(reply)
    if item.first_response_at is None:
        item.first_response_at = now
    db.commit()
    return reply


def _require_approver(db: Session, *, reply: Reply, actor: User) -> None:
    membership = db.scalar(
        select(Membership).where(
            Membership.workspace_id == reply.item.workspace_id, Membership.user_id == actor.id
        )
    )
    if membership is None or not membership.can(Permission.APPROVE):
        raise PermissionDeniedError(MSG_CANNOT_APPROVE)
    if reply.state != ReplyState.PENDING_APPROVAL:
        raise UserError(MSG_NOT_PENDING)


def approve_reply(
    db: Session,
    *,
    reply: Reply,
    actor: User,
    connector_for: ConnectorFor = default_connector_for,
    context_for: ContextFor | None = None,
) -> Reply:
    """A manager approves a junior's reply: it is sent at once (audited); commits."""
    _require_approver(db, reply=reply, actor=actor)
    reply.approved_by_id, reply.approved_at = actor.id, utcnow()
    reply.state = ReplyState.DRAFT
    workspace = db.get(Workspace, reply.item.workspace_id)
    record_audit(db, actor=actor, action="inbox.reply.approve", entity_type="inbox_reply",
                 entity_id=reply.id, workspace=workspace)  # fmt: skip
    return deliver(db, reply=reply, connector_for=connector_for, context_for=context_for)


def reject_reply(db: Session, *, reply: Reply, actor: User, reason: str = "") -> Reply:
    """A manager sends a junior's reply back as a draft, with why; commits."""
    _require_approver(db, reply=reply, actor=actor)
    _set_error(reply, ReplyState.DRAFT, reason.strip() or MSG_NEEDS_APPROVAL, "rejected")
    record_audit(db, actor=actor, action="inbox.reply.reject", entity_type="inbox_reply",
                 entity_id=reply.id, workspace=db.get(Workspace, reply.item.workspace_id),
                 after={"reason": reason})  # fmt: skip
    db.commit()
    return reply
