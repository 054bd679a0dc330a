"""Where notifications go: each person's channels per kind of event (``/me/notifications``),
and the workspace's team-chat robots, which managers set up and test
(``/w/{slug}/notifications/team-chat``; another workspace's robot answers 404).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.notifications import preferences, robots
from guanxi.notifications.teamchat import ROBOT_LABELS, SIGNED
from guanxi.web.deps import Approver, CurrentUser, Db, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])


@router.get("/me/notifications")
def preferences_page(request: Request, user: CurrentUser, db: Db) -> Response:
    """The signed-in person's choice of channels for each kind of event."""
    return _preferences(request, db, user.id, saved=request.query_params.get("saved") == "1")


def _preferences(
    request: Request, db: Session, user_id: int, *, saved: bool = False, error: str = ""
) -> Response:
    return render(
        request,
        "notifications/preferences.html",
        {
            "section": "me",
            "choices": preferences.all_choices(db, user_id=user_id),
            "labels": preferences.TUNABLE,
            "channels": preferences.CHANNELS,
            "saved": saved,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post("/me/notifications")
def preferences_save(request: Request, user: CurrentUser, db: Db, form: SubmittedForm) -> Response:
    """Save the person's choices (an unticked box is off)."""
    try:
        preferences.save_choices(db, user_id=user.id, choices=preferences.choices_from_form(form))
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _preferences(request, db, user.id, error=exc.translated(i18n.gettext))
    return RedirectResponse("/me/notifications?saved=1", status_code=303)


def _robots_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    notice: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    i18n.set_language(request.state.language)
    deliveries = robots.recent_deliveries(db, workspace_id=membership.workspace_id)
    names = {
        robot.id: robot.name
        for robot in robots.list_robots(db, workspace_id=membership.workspace_id)
    }
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    rows: list[dict[str, Any]] = [
        {
            "delivery": delivery,
            "robot": names.get(delivery.robot_id, ""),
            "error": robots.error_text(delivery, i18n.gettext),
        }
        for delivery in deliveries
    ]
    return render(
        request,
        "notifications/team_chat.html",
        {
            "section": "settings",
            "slug": membership.workspace.slug,
            "robots": robots.list_robots(db, workspace_id=membership.workspace_id),
            "kinds": ROBOT_LABELS,
            "signed": [kind.value for kind in SIGNED],
            "deliveries": rows,
            "viewer_zone": zone,
            "error": error,
            "notice": notice,
            "values": values or {},
            "languages": robots.LANGUAGES,
        },
        status_code=400 if error else 200,
    )


@router.get("/w/{slug}/notifications/team-chat")
def robots_page(request: Request, membership: Approver, db: Db) -> Response:
    """The workspace's team-chat robots and their latest deliveries."""
    notice = request.query_params.get("notice", "")
    return _robots_page(request, db, membership, notice=notice)


def _back(membership: Membership, notice: str) -> RedirectResponse:
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/notifications/team-chat?notice={notice}",
        status_code=303,
    )


@router.post("/w/{slug}/notifications/team-chat")
def robot_add(request: Request, membership: Approver, db: Db, form: SubmittedForm) -> Response:
    """Add a robot."""
    values = {
        name: form_value(form, name) for name in ("kind", "name", "url", "secret", "language")
    }
    try:
        robots.add_robot(
            db,
            membership=membership,
            form=robots.RobotForm(**values),
            settings=app_settings(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        values["secret"] = ""  # a secret is never written back into a page
        return _robots_page(
            request, db, membership, error=exc.translated(i18n.gettext), values=values
        )
    return _back(membership, "added")


@router.post("/w/{slug}/notifications/team-chat/{robot_id}/test")
def robot_test(membership: Approver, db: Db, robot_id: int) -> Response:
    """Queue a test message to the robot; the page shows how it went."""
    robots.queue_test(db, membership=membership, robot_id=robot_id)
    db.commit()
    return _back(membership, "test")


@router.post("/w/{slug}/notifications/team-chat/{robot_id}/remove")
def robot_remove(membership: Approver, db: Db, robot_id: int) -> Response:
    """Remove the robot."""
    robots.remove_robot(db, membership=membership, robot_id=robot_id)
    db.commit()
    return _back(membership, "removed")
