"""In-app notifications: the list of what the engine told a member, and the top bar's badge.

``/w/{slug}/notifications`` lists the signed-in user's notifications in this workspace,
newest first, each in the reader's language. Reading is personal: nobody sees, or marks,
another person's notifications or another workspace's (they answer 404). The badge
fragment ``/w/{slug}/notifications/badge`` is what the top bar polls for new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError
from guanxi.publishing import notify
from guanxi.publishing.models import Notification
from guanxi.publishing.views import viewer_zone
from guanxi.web.deps import Db, Member, safe_next, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

# The page shows the most recent ones; older ones are still counted while unread.
PAGE_SIZE = 200
# Parameters that hold a translatable message id of their own (a hold's reason).
TRANSLATED_PARAMS = ("reason",)
NO_SUCH_NOTIFICATION = N_("You have no notification with this number in this workspace.")


@dataclass(frozen=True)
class NotificationView:
    """A notification as its reader sees it."""

    id: int
    text: str
    link: str
    created_at: datetime
    unread: bool


def count_unread(db: Session, *, user_id: int, workspace_id: int) -> int:
    """How many of the user's notifications in the workspace are unread (one COUNT query)."""
    query = select(func.count(Notification.id)).where(
        Notification.user_id == user_id,
        Notification.workspace_id == workspace_id,
        Notification.read_at.is_(None),
    )
    return db.scalar(query) or 0


def list_notifications(
    db: Session, *, user_id: int, workspace_id: int, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The user's notifications in the workspace, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.workspace_id == workspace_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def mark_read(db: Session, *, user_id: int, workspace_id: int, notification_id: int) -> None:
    """Mark one of the user's notifications read; NotFound for anyone else's."""
    note = db.get(Notification, notification_id)
    if note is None or note.user_id != user_id or note.workspace_id != workspace_id:
        raise NotFoundError(NO_SUCH_NOTIFICATION)
    if note.read_at is None:
        note.read_at = utcnow()


def mark_all_read(db: Session, *, user_id: int, workspace_id: int) -> int:
    """Mark every unread notification of the user in the workspace read; return how many."""
    statement = (
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.workspace_id == workspace_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


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
        return notify.render(note.message, params, language)
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


def _back(membership: Membership) -> RedirectResponse:
    return RedirectResponse(f"/w/{membership.workspace.slug}/notifications", status_code=303)


@router.get("/w/{slug}/notifications")
def notifications_page(request: Request, membership: Member, db: Db) -> Response:
    """The signed-in user's notifications in this workspace."""
    language = request.state.language
    notes = list_notifications(db, user_id=membership.user_id, workspace_id=membership.workspace_id)
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    return render(
        request,
        "publishing/notifications.html",
        {
            "section": "notifications",
            "slug": membership.workspace.slug,
            "notifications": [view_of(note, language) for note in notes],
            "viewer_zone": zone,
        },
    )


@router.get("/w/{slug}/notifications/badge")
def notifications_badge(request: Request, membership: Member) -> Response:
    """The top bar's link with the unread count, polled by the page for new notifications."""
    response = render(
        request, "publishing/_notification_bell.html", {"nav_workspace": membership.workspace}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/w/{slug}/notifications/read-all")
def read_all(membership: Member, db: Db) -> Response:
    """Mark all of the user's notifications in this workspace read."""
    mark_all_read(db, user_id=membership.user_id, workspace_id=membership.workspace_id)
    db.commit()
    return _back(membership)


@router.post("/w/{slug}/notifications/{notification_id}/read")
def read_one(notification_id: int, membership: Member, db: Db) -> Response:
    """Mark one notification read."""
    mark_read(
        db,
        user_id=membership.user_id,
        workspace_id=membership.workspace_id,
        notification_id=notification_id,
    )
    db.commit()
    return _back(membership)
