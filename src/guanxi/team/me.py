"""A person's own settings page, /me: name, language, time zone, password and two-factor
sign-in."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from guanxi.accounts import auth, profile, two_factor
from guanxi.accounts.models import User
from guanxi.accounts.throttle import ThrottlePolicy
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.security import SecretBox
from guanxi.web.deps import CurrentUser, Db, app_settings, client_ip, verify_csrf
from guanxi.web.limits import FormField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
ME = "/me"


def _qr_svg(text: str) -> Markup:
    qr = segno.make(text, error="m")
    return Markup(qr.svg_inline(scale=4, border=2, dark="#111", light="#fff"))  # noqa: S704 - segno's own SVG, no user markup


def _two_factor(db: Db, request: Request, user: User) -> dict[str, Any]:
    """What the two-factor section shows: on (with codes left), being set up (the QR code
    and the secret to type), or off."""
    box = SecretBox.from_settings(app_settings(request))
    secret = two_factor.pending_secret(user, box)
    uri = two_factor.provisioning_uri(secret=secret, email=user.email) if secret else None
    return {
        "enabled": two_factor.is_enabled(user),
        "codes_left": two_factor.recovery_codes_left(db, user=user),
        "secret": secret,
        "qr": _qr_svg(uri) if uri else None,
        "required": [
            m.workspace.name
            for m in getattr(request.state, "memberships", ())
            if m.workspace.require_two_factor
        ],
    }


def _page(
    request: Request, db: Db, user: CurrentUser, status_code: int = 200, **extra: Any
) -> Response:
    notice = request.session.pop("notice", None)
    context: dict[str, Any] = {
        "two_factor": _two_factor(db, request, user),
        "recovery_codes": None,
        "two_factor_error": None,
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
def me_page(request: Request, db: Db, user: CurrentUser) -> Response:
    """The signed-in person's own settings."""
    return _page(request, db, user)


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
        return _page(request, db, user, exc.status_code, error=_error(request, exc), values=values)
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
        return _page(request, db, user, exc.status_code, password_error=_error(request, exc))
    db.commit()
    request.session["notice"] = N_(
        "Password changed. Your other sessions are signed out and your API tokens revoked."
    )
    return RedirectResponse(ME, status_code=303)


@router.post(f"{ME}/two-factor")
def start_two_factor(request: Request, db: Db, user: CurrentUser) -> Response:
    """Make a new secret and show it as a QR code, to confirm with a code."""
    try:
        two_factor.begin_setup(db, user=user, box=SecretBox.from_settings(app_settings(request)))
    except UserError as exc:
        db.rollback()
        return _page(request, db, user, exc.status_code, two_factor_error=_error(request, exc))
    db.commit()
    return RedirectResponse(f"{ME}#two-factor", status_code=303)


@router.post(f"{ME}/two-factor/confirm")
def confirm_two_factor(
    request: Request, db: Db, user: CurrentUser, code: FormField = ""
) -> Response:
    """Turn two-factor sign-in on with the app's first code; the recovery codes are shown
    once, on this answer."""
    try:
        codes = two_factor.confirm_setup(
            db,
            user=user,
            code=code,
            box=SecretBox.from_settings(app_settings(request)),
            ip=client_ip(request),
        )
    except UserError as exc:
        db.rollback()
        return _page(request, db, user, exc.status_code, two_factor_error=_error(request, exc))
    db.commit()
    return _page(request, db, user, recovery_codes=codes)


@router.post(f"{ME}/two-factor/disable")
def disable_two_factor(
    request: Request,
    db: Db,
    user: CurrentUser,
    password: FormField = "",
    code: FormField = "",
) -> Response:
    """Turn two-factor sign-in off, with the password and a current code."""
    settings = app_settings(request)
    try:
        two_factor.disable(
            db,
            user=user,
            password=password,
            code=code,
            box=SecretBox.from_settings(settings),
            ip=client_ip(request),
            policy=ThrottlePolicy.from_settings(settings),
        )
    except UserError as exc:
        db.commit()  # wrong passwords and codes count towards the sign-in waits
        return _page(request, db, user, exc.status_code, two_factor_error=_error(request, exc))
    db.commit()
    request.session["notice"] = N_("Two-factor sign-in is off.")
    return RedirectResponse(ME, status_code=303)
