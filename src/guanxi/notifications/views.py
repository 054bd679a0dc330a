"""In-app notifications: the list of what guanxi told a member, and the top bar's badge.

``/w/{slug}/notifications`` lists the signed-in user's notifications in this workspace,
newest first, each in the reader's language. Reading is personal: nobody sees, or marks,
another person's notifications or another workspace's (they answer 404). The badge
fragment ``/w/{slug}/notifications/badge`` is what the top bar polls for new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import object_session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.notifications import service
from guanxi.notifications.models import Notification
from guanxi.web.deps import Db, Member, safe_next, verify_csrf
from guanxi.web.rendering import register_context, render, renders_a_fragment
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])

# Parameters that hold a translatable message id of their own (a hold's reason).
TRANSLATED_PARAMS = ("reason",)


@dataclass(frozen=True)
class NotificationView:
    """A notification as its reader sees it."""

    id: int
    text: str
    link: str
    created_at: datetime
    unread: bool


def notification_text(note: Notification, language: str) -> str:
    """The notification's message in ``language``, filled with its parameters.

    A message whose stored parameters no longer fit it (the wording changed since) shows
    untranslated rather than breaking the page.
    """
    translations = i18n.get_translations(language)
    params: dict[str, Any] = dict(note.params or {})
    for name in TRANSLATED_PARAMS:
        if isinstance(params.get(name), str):
            params[name] = translations.gettext(params[name])
    try:
        return service.render(note.message, params, language)
    except (KeyError, IndexError, ValueError):
        return note.message


def view_of(note: Notification, language: str) -> NotificationView:
    """What the list shows of ``note``: only same-site links are kept."""
    return NotificationView(
        id=note.id,
        text=notification_text(note, language),
        link=safe_next(note.link, default=""),
        created_at=note.created_at,
        unread=note.read_at is None,
    )


def bell_context(request: Request, base: Mapping[str, Any]) -> dict[str, Any]:
    """``unread_notifications`` for the top bar's bell: the signed-in user's unread ones in
    the workspace shown, counted once per request.

    None when there is nobody signed in, no workspace, or no open session to ask (error
    pages render after the request's session closed): the bell then shows without a count.
    """
    user, workspace = base.get("user"), base.get("nav_workspace")
    if user is None or workspace is None or renders_a_fragment(request):
        return {"unread_notifications": None}
    cached = getattr(request.state, "unread_notifications", None)
    if isinstance(cached, int):
        return {"unread_notifications": cached}
    db = object_session(user)
    if db is None or not db.is_active:
        return {"unread_notifications": None}
    with db.no_autoflush:  # a page re-shown with unsaved input must not flush it
        count = service.count_unread(db, user_id=user.id, workspace_id=workspace.id)
    request.state.unread_notifications = count
    return {"unread_notifications": count}


def _back(membership: Membership) -> RedirectResponse:
    return RedirectResponse(f"/w/{membership.workspace.slug}/notifications", status_code=303)


@router.get("/w/{slug}/notifications")
def notifications_page(request: Request, membership: Member, db: Db) -> Response:
    """The signed-in user's notifications in this workspace."""
    language = request.state.language
    notes = service.list_notifications(
        db, user_id=membership.user_id, workspace_id=membership.workspace_id
    )
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    return render(
        request,
        "notifications/notifications.html",
        {
            "section": "notifications",
            "slug": membership.workspace.slug,
            "notifications": [view_of(note, language) for note in notes],
            "viewer_zone": zone,
        },
    )


@router.get("/w/{slug}/notifications/badge")
def notifications_badge(request: Request, membership: Member, db: Db) -> Response:
    """The top bar's link with the unread count, polled by the page for new notifications."""
    unread = service.count_unread(
        db, user_id=membership.user_id, workspace_id=membership.workspace_id
    )
    context = {"nav_workspace": membership.workspace, "unread_notifications": unread}
    response = render(request, "notifications/_bell.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/w/{slug}/notifications/read-all")
def read_all(membership: Member, db: Db) -> Response:
    """Mark all of the user's notifications in this workspace read."""
    service.mark_all_read(db, user_id=membership.user_id, workspace_id=membership.workspace_id)
    db.commit()
    return _back(membership)


@router.post("/w/{slug}/notifications/{notification_id}/read")
def read_one(notification_id: int, membership: Member, db: Db) -> Response:
    """Mark one notification read."""
    service.mark_read(
        db,
        user_id=membership.user_id,
        workspace_id=membership.workspace_id,
        notification_id=notification_id,
    )
    db.commit()
    return _back(membership)


def set_up(app: FastAPI) -> None:
    """The top bar's bell counts the user's unread notifications on every page."""
    register_context(app, bell_context)
