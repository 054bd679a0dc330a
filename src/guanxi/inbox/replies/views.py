"""The replies' pages: answering an item from its thread (through the platform or by hand),
deciding on a reply waiting for approval, the reply approval setting, and saved replies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Permission, Role
from guanxi.accounts.service import require
from guanxi.approvals.rules import APPROVER_ROLES, may_change_who_approves
from guanxi.channels.service import channel_context
from guanxi.connectors.registry import connector_for
from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.security import SecretBox
from guanxi.inbox.items.service import InvalidInboxInputError, get_item
from guanxi.inbox.items.views import back_to_thread, render_thread
from guanxi.inbox.replies import saved, service
from guanxi.inbox.replies.models import Reply
from guanxi.web.deps import CurrentUser, Db, Member, Writer, app_settings, client_ip, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


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
    item = get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    text = form_value(form, "text")
    try:
        if form_value(form, "manual") == "1":
            service.mark_replied(db, item=item, text=text, actor=user)
        else:
            with _wiring(request, db) as wiring:
                service.send_reply(db, item=item, text=text, actor=user, **wiring)
    except UserError as exc:
        db.rollback()
        message = exc.translated(i18n.gettext)
        return render_thread(
            request, db, membership, item, error=message, reply_text=text, status_code=400
        )
    return back_to_thread(membership, item)


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
    item = get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
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
            service.approve_reply(db, reply=reply, actor=user, **wiring)
    elif decision == "reject":
        service.reject_reply(db, reply=reply, actor=user, reason=form_value(form, "reason"))
    elif decision in {"send", "request-approval"}:
        require(membership, Permission.WRITE)
        if decision == "send":
            with _wiring(request, db) as wiring:
                service.deliver(db, reply=reply, **wiring)
        else:
            service.request_approval(db, reply=reply, actor=user)
    else:
        raise InvalidInboxInputError(N_("Choose approve, reject or send."))
    return back_to_thread(membership, reply.item)


# --- Reply approval ----------------------------------------------------------------------


def _approval_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rule = service.reply_rule(db, workspace_id=membership.workspace_id)
    return render(
        request,
        "inbox/reply_approval.html",
        {
            "section": "inbox",
            "required": bool(rule.steps),
            "approver_role": rule.lowest_role.value,
            "can_change": may_change_who_approves(membership.role),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/reply-approval")
def reply_approval_page(request: Request, db: Db, membership: Member) -> Response:
    """Whether replies wait for approval, and who approves them (owners change it)."""
    return _approval_page(request, db, membership)


@router.post("/w/{slug}/inbox/reply-approval")
def save_reply_approval(
    request: Request, db: Db, membership: Member, form: SubmittedForm
) -> Response:
    """Save the reply approval setting; anyone but an owner is refused and nothing changes."""
    role = form_value(form, "approver_role")
    try:
        if role not in {r.value for r in APPROVER_ROLES}:
            raise InvalidInboxInputError(
                N_("Choose who approves: managers and owners, or owners only.")
            )
        service.update_reply_approval(
            db,
            membership=membership,
            required=form_value(form, "required") == "1",
            approver_role=Role(role),
            ip=client_ip(request),
        )
    except UserError as exc:
        db.rollback()
        return _approval_page(
            request,
            db,
            membership,
            error=exc.translated(i18n.gettext),
            status_code=exc.status_code,
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/reply-approval", status_code=303)


# --- Saved replies -----------------------------------------------------------------------


def _saved_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    values: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "inbox/saved_replies.html",
        {
            "section": "inbox",
            "saved_replies": saved.list_saved_replies(db, workspace_id=membership.workspace_id),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/saved-replies")
def saved_replies_page(request: Request, db: Db, membership: Member) -> Response:
    """Reply templates in Chinese and English with variables."""
    return _saved_page(request, db, membership)


@router.post("/w/{slug}/inbox/saved-replies")
def add_saved_reply(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Add a saved reply; a bad one comes back with its text."""
    try:
        saved.save_saved_reply(
            db,
            membership=membership,
            title=form_value(form, "title"),
            language=form_value(form, "language"),
            text=form_value(form, "text"),
        )
    except UserError as exc:
        db.rollback()
        return _saved_page(
            request,
            db,
            membership,
            error=exc.translated(i18n.gettext),
            values=form,
            status_code=400,
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/saved-replies", status_code=303)


@router.post("/w/{slug}/inbox/saved-replies/{saved_id}/delete")
def delete_saved_reply(db: Db, membership: Writer, saved_id: int) -> Response:
    """Remove a saved reply."""
    saved.delete_saved_reply(db, membership=membership, saved_id=saved_id)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/saved-replies", status_code=303)
