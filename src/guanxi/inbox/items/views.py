"""The inbox pages: the list (filters, search, bulk actions, live new items) and an item's
thread (notes, tags, assignment, status, what rules did, the reply form). The reply form
posts to ``guanxi.inbox.replies.views``; rules, targets and the team report are triage's
pages, ``guanxi.inbox.triage.views``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import ROLE_PERMISSIONS, Membership, Permission, User
from guanxi.channels.models import Channel
from guanxi.channels.our_posts import our_posts
from guanxi.channels.service import list_channels
from guanxi.connectors.registry import UnknownConnectorError, connector_for
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import SentimentTier, Settings
from guanxi.inbox.intake import push
from guanxi.inbox.items import presence, service
from guanxi.inbox.items.models import (
    ITEM_KIND_LABELS,
    ITEM_STATUS_LABELS,
    PRIORITY_LABELS,
    InboxItem,
    ItemKind,
)
from guanxi.inbox.people import names
from guanxi.inbox.people import service as people
from guanxi.inbox.people.models import PERSON_KIND_LABELS, PersonIdentity
from guanxi.inbox.replies import saved
from guanxi.inbox.replies import service as replies
from guanxi.inbox.replies.models import REPLY_STATE_LABELS
from guanxi.inbox.triage.models import ACTION_STATE_LABELS, ModerationAction
from guanxi.inbox.triage.moderation import ACTION_LABELS, SYSTEM_TAG_LABELS
from guanxi.inbox.triage.screening import reasons_in_words
from guanxi.inbox.triage.sentiment import TIER_LABELS, scorer_tier
from guanxi.inbox.triage.sla import get_targets, sla_state
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SENTIMENTS = ("positive", "neutral", "negative")
SENTIMENT_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
POLL_SECONDS = 5
ALL_STATUSES = "all"
BULK_ACTIONS = ("done", "pending", "open", "assign", "tag", "untag")


def _int(value: str) -> int | None:
    return parse_id(value)


def _status_filter(value: str) -> str:
    """The list shows what still needs the team unless a status (or "all") is chosen."""
    if value == "":
        return service.ACTIVE
    return "" if value == ALL_STATUSES else value


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
        status=_status_filter(raw["status"]),
        assignee_id=_int(raw["assignee"]),
        unassigned=raw["assignee"] == "none",
        sentiment=raw["sentiment"] if raw["sentiment"] in SENTIMENTS else "",
        tag=raw["tag"],
        priority=_int(raw["priority"]),
        query=raw["q"],
    )
    return filters, raw


class MemberName(NamedTuple):
    """What the inbox shows of a member: the name, by user id (assignees, note authors), and
    the role (who may be assigned items)."""

    user_id: int
    name: str
    role: str


def _members(
    db: Session, membership: Membership, *, only: set[int] | None = None
) -> dict[int, MemberName]:
    """The workspace's members' names by user id (``only`` those, when given), by e-mail.

    Two columns, not the members' rows: a workspace of 200 members made their loading a
    third of the inbox page's CPU time.
    """
    if only is not None and not only:
        return {}
    statement = (
        select(Membership.user_id, User.name, Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == membership.workspace_id)
        .order_by(User.email)
    )
    if only is not None:
        statement = statement.where(Membership.user_id.in_(sorted(only)))
    return {row.user_id: MemberName(*row) for row in db.execute(statement)}


_WRITING_ROLES = frozenset(
    role.value for role, allowed in ROLE_PERMISSIONS.items() if Permission.WRITE in allowed
)


def _writers(members: dict[int, MemberName]) -> list[tuple[int, str]]:
    """The members with write access as the bulk-assign menu lists them, (user id, name) by
    name (from ``_members``: no query of their own)."""
    writers = [m for m in members.values() if m.role in _WRITING_ROLES]
    return [(m.user_id, m.name) for m in sorted(writers, key=lambda m: m.name)]


def _member_choices(members: dict[int, MemberName]) -> list[tuple[int, str]]:
    """The assignee menus' choices: (user id, name), in ``_members``' order."""
    return [(user_id, member.name) for user_id, member in members.items()]


def author_names(
    db: Session, workspace_id: int, items: Sequence[names.Authored]
) -> names.AuthorNames:
    """Items' authors as the pages name them (remark, nickname, "WeChat fan ·3f9a")."""
    return names.AuthorNames(
        names.remarks_of(
            db,
            workspace_id=workspace_id,
            authors=[(item.platform, item.author_external_id) for item in items],
        )
    )


def _rows_context(
    request: Request,
    db: Session,
    membership: Membership,
    items: list[service.ItemRow],
    *,
    every_member: bool = True,
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
        "author_names": author_names(db, workspace.id, items),
        "tags": service.tags_of(db, item_ids=[item.id for item in items]),
        "sla": sla,
        "members": _members(db, membership, only=None if every_member else assignees),
        "kind_labels": {str(k): v for k, v in ITEM_KIND_LABELS.items()},
        "status_labels": {str(k): v for k, v in ITEM_STATUS_LABELS.items()},
        "sentiment_labels": SENTIMENT_LABELS,
        **_tier_context(request),
        "priority_labels": PRIORITY_LABELS,
    }


def _tier_context(request: Request) -> dict[str, Any]:
    """What shows which model scored a sentiment: in the list only where the deployment
    re-scores with the accurate tier (elsewhere every line would say "fast model")."""
    settings: Settings = request.app.state.settings
    return {
        "tier_labels": TIER_LABELS,
        "scorer_tier": scorer_tier,
        "list_shows_tier": settings.sentiment_tier is SentimentTier.ACCURATE,
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
    rows = _rows_context(request, db, membership, items)
    return render(
        request,
        "inbox/list.html",
        {
            "bulk_done": _bulk_done(request, rows["members"]),
            "writers": _writers(rows["members"]),
            "member_choices": _member_choices(rows["members"]),
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
            **rows,
        },
        status_code=400 if error else 200,
    )


@router.get("/w/{slug}/inbox/poll")
def inbox_poll(request: Request, db: Db, membership: Member, after: int = 0) -> Response:
    """HTMX: rows newer than ``after`` matching the filters, and the unread count."""
    workspace = membership.workspace
    filters, raw = filters_from(request)
    items = service.items_after(db, workspace_id=workspace.id, filters=filters, after=after)
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
            **_rows_context(request, db, membership, items, every_member=False),
        },
    )


@router.post("/w/{slug}/inbox/bulk")
def bulk_action(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Apply one action to the selected items: a status, an assignee, or a tag."""
    ids = [item_id for value in form.get("item", []) if (item_id := parse_id(value)) is not None]
    action = form_value(form, "action")
    # The page picks a member by name and types a tag; the keyboard shortcuts send "value".
    field = {"assign": "member", "tag": "tag", "untag": "tag"}.get(action, "value")
    value = form_value(form, field) or form_value(form, "value")
    if action in {"open", "pending", "done"}:
        changed = service.set_status(db, membership=membership, item_ids=ids, status=action)
    elif action == "assign":
        changed = service.assign(db, membership=membership, item_ids=ids, assignee_id=_int(value))
    elif action in {"tag", "untag"}:
        changed = service.tag_items(
            db, membership=membership, item_ids=ids, name=value, remove=action == "untag"
        )
    else:
        raise service.InvalidInboxInputError(N_("Choose what to do with the selected items."))
    db.commit()
    return RedirectResponse(
        _after_bulk(form_value(form, "next"), membership, action, changed, value), status_code=303
    )


def _after_bulk(back: str, membership: Membership, action: str, changed: int, value: str) -> str:
    """The list the bulk form was on, saying what was done (``done``, ``changed``, ``to``)."""
    inbox = f"/w/{membership.workspace.slug}/inbox"
    path, _, query = back.partition("?") if back.startswith(inbox) else (inbox, "", "")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in {"done", "changed", "to"}]
    return (
        f"{path}?{urlencode([*kept, ('done', action), ('changed', str(changed)), ('to', value)])}"
    )


def _bulk_done(request: Request, members: dict[int, MemberName]) -> dict[str, Any] | None:
    """What the last bulk action did, from the address it came back to (or None)."""
    action = request.query_params.get("done", "")
    changed = parse_id(request.query_params.get("changed", ""))
    if action not in BULK_ACTIONS or changed is None:
        return None
    to = request.query_params.get("to", "")[:60]
    if action == "assign":
        member = members.get(parse_id(to) or 0)
        action, to = ("assign", member.name) if member else ("unassign", "")
    return {"action": action, "count": changed, "name": to}


def render_thread(
    request: Request,
    db: Session,
    membership: Membership,
    item: InboxItem,
    *,
    error: str | None = None,
    reply_text: str = "",
    note_text: str = "",
    status_code: int = 200,
    around: int | None = None,
    pane: bool = False,
) -> Response:
    """The thread page of ``item`` (its thread centred on the item, or on entry ``around``);
    a refused form comes back with its ``error`` and text. ``pane``: only the thread, for
    the list's right-hand pane."""
    workspace = membership.workspace
    targets = get_targets(db, workspace_id=workspace.id, timezone=workspace.timezone)
    # Kept referenced: the message window finds its item's account in the session.
    channels = list_channels(db, workspace=workspace)
    channel_names = {c.id: c.name for c in channels}
    person_id = db.scalar(
        select(PersonIdentity.person_id).where(
            PersonIdentity.workspace_id == workspace.id,
            PersonIdentity.platform == item.platform,
            PersonIdentity.external_id == item.author_external_id,
        )
    )
    account = channel_names.get(item.channel_id, "")
    saved_replies = [
        {
            "title": s.title,
            "language": s.language,
            "text": saved.render_saved_reply(s.text, item=item, account=account),
        }
        for s in saved.list_saved_replies(db, workspace_id=workspace.id)
    ]
    actions = list(
        db.scalars(
            select(ModerationAction)
            .where(ModerationAction.item_id == item.id)
            .order_by(ModerationAction.id)
        )
    )
    window = _message_window(db, item)
    centre = service.in_thread(db, item=item, other_id=around) if around else None
    thread = service.thread_of(db, item=item, around=centre)
    post = our_posts(db, workspace=workspace, keys=[(item.channel_id, item.post_external_id)])
    user = membership.user
    can_write = membership.can(Permission.WRITE)
    # Each reply's buttons are the actions the approval rules allow this member now.
    reply_actions = replies.reply_actions(
        db,
        replies=[reply for entry in thread.entries for reply in entry.replies],
        actor=user,
        workspace_id=workspace.id,
        can_write=can_write,
    )
    person = (
        people.profile(db, workspace_id=workspace.id, person_id=person_id) if person_id else None
    )
    members = _members(db, membership)
    return render(
        request,
        "inbox/_thread_pane.html" if pane else "inbox/thread.html",
        {
            "section": "inbox",
            "person": person,
            "person_name": names.person_name,
            "person_kind_labels": {str(k): v for k, v in PERSON_KIND_LABELS.items()},
            "item": item,
            "thread": thread,
            "author_names": author_names(db, workspace.id, thread.entries),
            **_presence_context(db, membership, item),
            "our_post": post.get((item.channel_id, item.post_external_id)),
            "reply_actions": reply_actions,
            "account": account,
            "person_id": person_id,
            "notes": service.notes_of(db, item_id=item.id),
            "item_tags": service.tags_of(db, item_ids=[item.id]).get(item.id, []),
            "sla": sla_state(targets, item, now=utcnow()),
            "members": members,
            "member_choices": _member_choices(members),
            "saved_replies": saved_replies,
            "moderation": actions,
            "action_labels": {str(k): v for k, v in ACTION_LABELS.items()},
            "action_state_labels": {str(k): v for k, v in ACTION_STATE_LABELS.items()},
            "reply_state_labels": {str(k): v for k, v in REPLY_STATE_LABELS.items()},
            "status_labels": {str(k): v for k, v in ITEM_STATUS_LABELS.items()},
            "kind_labels": {str(k): v for k, v in ITEM_KIND_LABELS.items()},
            "priority_labels": PRIORITY_LABELS,
            "sentiment_labels": SENTIMENT_LABELS,
            **_tier_context(request),
            "reasons_in_words": reasons_in_words,
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
def thread_page(
    request: Request, db: Db, membership: Member, item_id: int, around: QueryField = ""
) -> Response:
    """One item with its post's thread, our replies, notes, tags and what rules did; the
    thread is centred on the item ("earlier" and "later" centre it on another entry)."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    db.commit()  # what was read so far: on SQLite the write below then waits for its turn
    presence.mark_present(db, item_id=item.id, user_id=membership.user_id, replying=False)
    db.commit()
    pane = request.headers.get("HX-Request") == "true" and request.query_params.get("pane") == "1"
    return render_thread(request, db, membership, item, around=parse_id(around), pane=pane)


@router.post("/w/{slug}/inbox/items/{item_id}/presence")
def item_presence(
    request: Request, db: Db, membership: Member, item_id: int, form: SubmittedForm
) -> Response:
    """HTMX: the member still has the item open (replying or not); who else has it open."""
    item = service.get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    replying = form_value(form, "replying") == "1" and membership.can(Permission.WRITE)
    presence.mark_present(db, item_id=item.id, user_id=membership.user_id, replying=replying)
    db.commit()
    return render(request, "inbox/_presence.html", _presence_context(db, membership, item))


def _presence_context(db: Session, membership: Membership, item: InboxItem) -> dict[str, Any]:
    """What the collision warning shows: the other members with ``item`` open now."""
    return {
        "item": item,
        "present": presence.others_present(db, item_id=item.id, user_id=membership.user_id),
        "presence_seconds": presence.PRESENCE_POLL_SECONDS,
    }


def back_to_thread(membership: Membership, item: InboxItem) -> RedirectResponse:
    """Back to ``item``'s thread page after a form on it."""
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/items/{item.id}", status_code=303
    )


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
        return render_thread(
            request, db, membership, item, error=message, note_text=text, status_code=400
        )
    db.commit()
    return back_to_thread(membership, item)


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
    return back_to_thread(membership, item)


def tag_label(name: str) -> str:
    """A tag as shown: the rules' own tags in the reader's language, the team's as typed."""
    label = SYSTEM_TAG_LABELS.get(name)
    return i18n.gettext(label) if label else name


def set_up(app: FastAPI) -> None:
    """Messages the platforms push go to the inbox; tags are shown in the reader's language."""
    push.register_push_handlers()
    app.state.templates.env.filters["tag_label"] = tag_label
