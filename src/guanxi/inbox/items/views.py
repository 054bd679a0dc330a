"""The inbox pages: the list (filters, search, bulk actions, live new items), an item's
thread (reply, notes, tags, assignment, status, moderation log). Rules, SLA, saved replies
and the team report are in ``settings_views``; people and debates in ``people_views``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Permission, User
from guanxi.accounts.service import list_members, require
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, list_channels
from guanxi.connectors.registry import UnknownConnectorError, connector_for
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.security import SecretBox
from guanxi.inbox.intake import push
from guanxi.inbox.items import service
from guanxi.inbox.items.models import (
    ITEM_KIND_LABELS,
    ITEM_STATUS_LABELS,
    REPLY_STATE_LABELS,
    InboxItem,
    ItemKind,
    Reply,
)
from guanxi.inbox.people.models import ACTION_STATE_LABELS, ModerationAction, PersonIdentity
from guanxi.inbox.replies import service as replies
from guanxi.inbox.triage.moderation import ACTION_LABELS, reverse_action
from guanxi.inbox.triage.sla import get_targets, sla_state
from guanxi.web.deps import (
    CurrentUser,
    Db,
    Member,
    Writer,
    app_settings,
    client_ip,
    verify_csrf,
)
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SENTIMENTS = ("positive", "neutral", "negative")
SENTIMENT_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
POLL_SECONDS = 5


def _int(value: str) -> int | None:
    return parse_id(value)


def filters_from(request: Request) -> tuple[service.ItemFilters, dict[str, str]]:
    """The list filters in the query string, and the raw values to refill the form."""
    raw = {
        key: request.query_params.get(key, "").strip()[:200]
        for key in (
            "platform",
            "account",
            "status",
            "assignee",
            "sentiment",
            "tag",
            "priority",
            "q",
        )
    }
    filters = service.ItemFilters(
        platform=raw["platform"],
        channel_id=_int(raw["account"]),
        status=raw["status"],
        assignee_id=_int(raw["assignee"]),
        unassigned=raw["assignee"] == "none",
        sentiment=raw["sentiment"] if raw["sentiment"] in SENTIMENTS else "",
        tag=raw["tag"],
        priority=_int(raw["priority"]),
        query=raw["q"],
    )
    return filters, raw


def _members(
    db: Session, membership: Membership, *, only: set[int] | None = None
) -> dict[int, User]:
    """The workspace's members by user id (``only`` those, when given)."""
    if only is not None and not only:
        return {}
    members = list_members(db, workspace=membership.workspace, user_ids=only)
    return {m.user_id: m.user for m in members}


def _rows_context(
    db: Session, membership: Membership, items: list[InboxItem], *, every_member: bool = True
) -> dict[str, Any]:
    """What the rows need; ``every_member`` for the assignee filter (the live poll shows
    rows only, so it reads just their assignees, and nothing at all when nothing is new)."""
    workspace = membership.workspace
    sla: dict[int, Any] = {}
    if items:
        targets = get_targets(db, workspace_id=workspace.id, timezone=workspace.timezone)
        now = utcnow()
        sla = {item.id: sla_state(targets, item, now=now) for item in items}
    assignees = {item.assignee_id for item in items if item.assignee_id is not None}
    return {
        "items": items,
        "tags": service.tags_of(db, item_ids=[item.id for item in items]),
        "sla": sla,
        "members": _members(db, membership, only=None if every_member else assignees),
        "kind_labels": {str(k): v for k, v in ITEM_KIND_LABELS.items()},
        "status_labels": {str(k): v for k, v in ITEM_STATUS_LABELS.items()},
        "sentiment_labels": SENTIMENT_LABELS,
    }


@router.get("/w/{slug}/inbox")
def inbox_page(request: Request, db: Db, membership: Member) -> Response:
    """Every comment, mention and message across platforms and accounts, newest first."""
    workspace = membership.workspace
    filters, raw = filters_from(request)
    error = None
    try:
        items = service.list_items(db, workspace_id=workspace.id, filters=filters)
    except UserError as exc:
        error, items = exc.translated(i18n.gettext), []
    # Polling asks for items newer than the newest now, whatever the page shows.
    newest = service.mark_seen(db, user_id=membership.user_id, workspace_id=workspace.id)
    db.commit()
    channels = list_channels(db, workspace=workspace)
    poll_query = urlencode({key: value for key, value in raw.items() if value and key != "q"})
    return render(
        request,
        "inbox/list.html",
        {
            "section": "inbox",
            "filters": raw,
            "channels": channels,
            "platforms": sorted({channel.platform for channel in channels}),
            "all_tags": service.list_tags(db, workspace_id=workspace.id),
            "sentiments": SENTIMENTS,
            "after": newest,
            "poll_query": poll_query,
            "searching": bool(filters.query),
            "unread": 0,
            "poll_seconds": POLL_SECONDS,
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            **_rows_context(db, membership, items),
        },
        status_code=400 if error else 200,
    )


@router.get("/w/{slug}/inbox/poll")
def inbox_poll(request: Request, db: Db, membership: Member, after: int = 0) -> Response:
    """HTMX: rows newer than ``after`` matching the filters, and the unread count."""
    workspace = membership.workspace
    filters, raw = filters_from(request)
    statement = service.items_statement(db, workspace_id=workspace.id, filters=filters)
    items = list(db.scalars(statement.where(InboxItem.id > after).limit(service.PAGE_SIZE)))
    newest = max([after, *(item.id for item in items)])
    poll_query = urlencode({key: value for key, value in raw.items() if value and key != "q"})
    return render(
        request,
        "inbox/_poll.html",
        {
            "after": newest,
            "poll_query": poll_query,
            "poll_seconds": POLL_SECONDS,
            "unread": service.unread_count(
                db, user_id=membership.user_id, workspace_id=workspace.id
            ),
            "can_write": membership.can(Permission.WRITE),
            **_rows_context(db, membership, items, every_member=False),
        },
    )


@router.post("/w/{slug}/inbox/bulk")
def bulk_action(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Apply one action to the selected items: a status, an assignee, or a tag."""
    ids = [item_id for value in form.get("item", []) if (item_id := parse_id(value)) is not None]
    action = form_value(form, "action")
    value = form_value(form, "value")
    if action in {"open", "pending", "done"}:
        service.set_status(db, membership=membership, item_ids=ids, status=action)
    elif action == "assign":
        service.assign(db, membership=membership, item_ids=ids, assignee_id=_int(value))
    elif action in {"tag", "untag"}:
        service.tag_items(
            db, membership=membership, item_ids=ids, name=value, remove=action == "untag"
        )
    else:
        raise service.InvalidInboxInputError(N_("Choose what to do with the selected items."))
    db.commit()
    back = form_value(form, "next")
    target = (
        back
        if back.startswith(f"/w/{membership.workspace.slug}/inbox")
        else f"/w/{membership.workspace.slug}/inbox"
    )
    return RedirectResponse(target, status_code=303)


def _thread_page(
    request: Request,
    db: Session,
    membership: Membership,
    item: InboxItem,
    *,
    error: str | None = None,
    reply_text: str = "",
    note_text: str = "",
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    targets = get_targets(db, workspace_id=workspace.id, timezone=workspace.timezone)
    channel_names = {c.id: c.name for c in list_channels(db, workspace=workspace)}
    person_id = db.scalar(
        select(PersonIdentity.person_id).where(
            PersonIdentity.workspace_id == workspace.id,
            PersonIdentity.platform == item.platform,
            PersonIdentity.external_id == item.author_external_id,
        )
    )
    account = channel_names.get(item.channel_id, "")
    saved = [
        {
            "title": s.title,
            "language": s.language,
            "text": service.render_saved_reply(s.text, item=item, account=account),
        }
        for s in service.list_saved_replies(db, workspace_id=workspace.id)
    ]
    actions = list(
        db.scalars(
            select(ModerationAction)
            .where(ModerationAction.item_id == item.id)
            .order_by(ModerationAction.id)
        )
    )
    window = _message_window(db, item)
    thread = service.thread_of(db, item=item)
    user = membership.user
    can_write = membership.can(Permission.WRITE)
    # Each reply's buttons are the actions the approval rules allow this member now.
    reply_actions = {
        reply.id: {
            "decide": replies.may_decide_reply(db, reply=reply, actor=user),
            "send": can_write and replies.may_send_reply(db, reply=reply),
            "request": can_write
            and reply.state in ("draft", "failed")
            and not replies.may_send_reply(db, reply=reply)
            and replies.reply_needs_approval(db, reply=reply),
        }
        for entry in thread
        for reply in entry.replies
    }
    return render(
        request,
        "inbox/thread.html",
        {
            "section": "inbox",
            "item": item,
            "thread": thread,
            "reply_actions": reply_actions,
            "account": account,
            "person_id": person_id,
            "notes": service.notes_of(db, item_id=item.id),
            "item_tags": service.tags_of(db, item_ids=[item.id]).get(item.id, []),
            "sla": sla_state(targets, item, now=utcnow()),
            "members": _members(db, membership),
            "saved_replies": saved,
            "moderation": actions,
            "action_labels": {str(k): v for k, v in ACTION_LABELS.items()},
            "action_state_labels": {str(k): v for k, v in ACTION_STATE_LABELS.items()},
            "reply_state_labels": {str(k): v for k, v in REPLY_STATE_LABELS.items()},
            "status_labels": {str(k): v for k, v in ITEM_STATUS_LABELS.items()},
            "kind_labels": {str(k): v for k, v in ITEM_KIND_LABELS.items()},
            "window": window,
            "can_write": membership.can(Permission.WRITE),
            "can_approve": membership.can(Permission.APPROVE),
            "error": error,
            "reply_text": reply_text,
            "note_text": note_text,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/items/{item_id}")
def thread_page(request: Request, db: Db, membership: Member, item_id: int) -> Response:
    """One item with its post's thread, our replies, notes, tags and what rules did."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    return _thread_page(request, db, membership, item)


def _back(membership: Membership, item: InboxItem) -> RedirectResponse:
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/items/{item.id}", status_code=303
    )


@router.post("/w/{slug}/inbox/items/{item_id}/reply")
def reply_to_item(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    item_id: int,
    form: SubmittedForm,
) -> Response:
    """Send a reply through the connector (or record one posted by hand); text never lost."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    text = form_value(form, "text")
    try:
        if form_value(form, "manual") == "1":
            replies.mark_replied(db, item=item, text=text, actor=user)
        else:
            with _wiring(request, db) as wiring:
                replies.send_reply(db, item=item, text=text, actor=user, **wiring)
    except UserError as exc:
        db.rollback()
        message = exc.translated(i18n.gettext)
        return _thread_page(
            request, db, membership, item, error=message, reply_text=text, status_code=400
        )
    return _back(membership, item)


def _message_window(db: Session, item: InboxItem) -> replies.MessageWindow | None:
    """The window for answering a private message, when its platform sets one."""
    if item.kind != ItemKind.MESSAGE:
        return None
    channel = db.get_one(Channel, item.channel_id)
    try:
        # The process's shared connector: the window is the platform's rule, no call is made.
        connector = connector_for(channel)
    except UnknownConnectorError:
        return None
    if replies.reply_window_of(connector) is None:
        return None
    return replies.message_window(db, item=item, connector_for=lambda _: connector)


@contextmanager
def _wiring(request: Request, db: Session) -> Iterator[dict[str, Any]]:
    """The connector and channel context of this app's settings (not the process's), for
    the reply service; the HTTP client lives as long as the request needs it."""
    settings = app_settings(request)
    sessions = sessionmaker(bind=db.get_bind(), expire_on_commit=False)
    box = SecretBox.from_settings(settings)
    with httpx.Client(timeout=30.0) as http:
        yield {
            "connector_for": partial(connector_for, settings=settings, http=http),
            "context_for": lambda channel: channel_context(
                channel, sessions=sessions, box=box, owner="inbox-web"
            ),
        }


def _reply_of(db: Session, membership: Membership, item_id: int, reply_id: int) -> Reply:
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    reply = db.get(Reply, reply_id)
    if reply is None or reply.item_id != item.id:
        raise NotFoundError(N_("This reply does not exist (any more)."))
    return reply


@router.post("/w/{slug}/inbox/items/{item_id}/replies/{reply_id}/{decision}")
def decide_reply(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Member,
    item_id: int,
    reply_id: int,
    decision: str,
    form: SubmittedForm,
) -> Response:
    """An approver approves (sends) or rejects a reply waiting for approval; anyone who can
    write sends a draft or failed reply again (once approved, where approval is needed) or
    asks for approval again."""
    reply = _reply_of(db, membership, item_id, reply_id)
    if decision == "approve":
        with _wiring(request, db) as wiring:
            replies.approve_reply(db, reply=reply, actor=user, **wiring)
    elif decision == "reject":
        replies.reject_reply(db, reply=reply, actor=user, reason=form_value(form, "reason"))
    elif decision in {"send", "request-approval"}:
        require(membership, Permission.WRITE)
        if decision == "send":
            with _wiring(request, db) as wiring:
                replies.deliver(db, reply=reply, **wiring)
        else:
            replies.request_approval(db, reply=reply, actor=user)
    else:
        raise service.InvalidInboxInputError(N_("Choose approve, reject or send."))
    return _back(membership, reply.item)


@router.post("/w/{slug}/inbox/items/{item_id}/note")
def add_note(
    request: Request, db: Db, membership: Writer, item_id: int, form: SubmittedForm
) -> Response:
    """An internal note for the team; a bad one comes back with its text."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    text = form_value(form, "text")
    try:
        service.add_note(db, membership=membership, item_id=item.id, text=text)
    except UserError as exc:
        db.rollback()
        message = exc.translated(i18n.gettext)
        return _thread_page(
            request, db, membership, item, error=message, note_text=text, status_code=400
        )
    db.commit()
    return _back(membership, item)


@router.post("/w/{slug}/inbox/items/{item_id}/update")
def update_item(db: Db, membership: Writer, item_id: int, form: SubmittedForm) -> Response:
    """Status, assignee or a tag of one item (the thread page's small forms)."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    action, value = form_value(form, "action"), form_value(form, "value")
    if action == "status":
        service.set_status(db, membership=membership, item_ids=[item.id], status=value)
    elif action == "assign":
        service.assign(db, membership=membership, item_ids=[item.id], assignee_id=_int(value))
    elif action in {"tag", "untag"}:
        service.tag_items(
            db, membership=membership, item_ids=[item.id], name=value, remove=action == "untag"
        )
    else:
        raise service.InvalidInboxInputError(N_("Choose what to change."))
    db.commit()
    return _back(membership, item)


@router.post("/w/{slug}/inbox/actions/{action_id}/reverse")
def reverse(request: Request, db: Db, membership: Writer, action_id: int) -> Response:
    """Undo an automatic moderation action (where the platform allows)."""
    action = reverse_action(db, membership=membership, action_id=action_id, ip=client_ip(request))
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/items/{action.item_id}", status_code=303
    )


def set_up(app: FastAPI) -> None:
    """Messages the platforms push go to the inbox."""
    push.register_push_handlers()
