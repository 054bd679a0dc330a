"""A person's own settings page, /me: name, language, time zone and password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts import auth, profile
from guanxi.accounts.throttle import ThrottlePolicy
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.web.deps import CurrentUser, Db, app_settings, client_ip, verify_csrf
from guanxi.web.limits import FormField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
ME = "/me"


def _page(request: Request, user: CurrentUser, status_code: int = 200, **extra: Any) -> Response:
    notice = request.session.pop("notice", None)
    context: dict[str, Any] = {
        "section": "me",
        "zones": profile.zone_choices(),
        "now": utcnow(),
        "values": {
            "name": user.name,
            "language": user.language or request.state.language,
            "timezone": user.timezone or "",
        },
        "error": None,
        "notice": notice if isinstance(notice, str) else None,
    }
    context.update(extra)
    return render(request, "accounts/me.html", context, status_code=status_code)


def _error(request: Request, error: UserError) -> str:
    i18n.set_language(request.state.language)
    return error.translated(i18n.gettext)


@router.get(ME)
def me_page(request: Request, user: CurrentUser) -> Response:
    """The signed-in person's own settings."""
    return _page(request, user)


@router.post(ME)
def save_profile(
    request: Request,
    db: Db,
    user: CurrentUser,
    name: FormField = "",
    language: FormField = "",
    timezone: FormField = "",
) -> Response:
    """Save the name, language and time zone; the page shows what to fix otherwise."""
    try:
        profile.update_profile(db, user=user, name=name, language=language, timezone=timezone)
    except UserError as exc:
        db.rollback()
        values = {"name": name, "language": language, "timezone": timezone}
        return _page(request, user, exc.status_code, error=_error(request, exc), values=values)
    db.commit()
    request.session["language"] = user.language
    request.session["notice"] = N_("Your settings are saved.")
    return RedirectResponse(ME, status_code=303)


@router.post(f"{ME}/password")
def change_own_password(
    request: Request,
    db: Db,
    user: CurrentUser,
    current_password: FormField = "",
    new_password: FormField = "",
    confirmation: FormField = "",
) -> Response:
    """Change the password (the current one is required); other sessions are signed out."""
    try:
        auth.change_password(
            db,
            user=user,
            current_password=current_password,
            new_password=new_password,
            confirmation=confirmation,
            ip=client_ip(request),
            policy=ThrottlePolicy.from_settings(app_settings(request)),
            current_session=request.state.user_session,
        )
    except UserError as exc:
        db.commit()  # a wrong current password counts towards the sign-in waits
        return _page(request, user, exc.status_code, password_error=_error(request, exc))
    db.commit()
    request.session["notice"] = N_(
        "Password changed. Your other sessions are signed out and your API tokens revoked."
    )
    return RedirectResponse(ME, status_code=303)
