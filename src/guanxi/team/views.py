"""Sign in and out, language, members, API tokens, password and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts import auth, service, sessions
from guanxi.accounts.models import Membership, Permission, Role
from guanxi.accounts.service import TOKEN_LIFETIME_CHOICES
from guanxi.accounts.throttle import LoginThrottledError, ThrottlePolicy
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import SUPPORTED_LANGUAGES
from guanxi.team import audit
from guanxi.web.deps import (
    SESSION_ID,
    CurrentUser,
    Db,
    Owner,
    Reader,
    app_settings,
    client_ip,
    safe_next,
    session_user,
    verify_csrf,
)
from guanxi.web.limits import FormField, QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _translate(request: Request, error: UserError) -> str:
    i18n.set_language(request.state.language)
    return error.translated(i18n.gettext)


@router.get("/login")
def login_page(request: Request, next: QueryField = "/") -> Response:  # noqa: A002 - the query name
    """The sign-in form."""
    return render(
        request, "accounts/login.html", {"next": safe_next(next), "email": "", "error": None}
    )


@router.post("/login")
def login(
    request: Request,
    db: Db,
    email: FormField = "",
    password: FormField = "",
    next: FormField = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Check the credentials, then start a fresh session."""
    settings = app_settings(request)
    ip = client_ip(request)
    try:
        user = auth.authenticate(
            db, email=email, password=password, ip=ip, policy=ThrottlePolicy.from_settings(settings)
        )
    except UserError as exc:
        db.commit()  # keep the failed attempt: it counts towards the waits
        response = render(
            request,
            "accounts/login.html",
            {"next": safe_next(next), "email": email, "error": _translate(request, exc)},
            status_code=exc.status_code,
        )
        if isinstance(exc, LoginThrottledError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    session_id = sessions.start_session(
        db,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip=ip,
        lifetime=timedelta(days=settings.session_max_age_days),
    )
    db.commit()
    language = user.language or request.session.get("language")
    request.session.clear()  # no session fixation: the signed-in session starts new
    request.session[SESSION_ID] = session_id
    if language:
        request.session["language"] = language
    return RedirectResponse(safe_next(next), status_code=303)


def _end_session(request: Request) -> None:
    language = request.session.get("language")
    request.session.clear()
    if language:  # the language choice outlives the sign-in
        request.session["language"] = language


@router.post("/logout")
def logout(request: Request, db: Db) -> Response:
    """End the session on the server, so no copy of its cookie works any more (the language
    choice stays)."""
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str):
        sessions.end_session(db, session_id=session_id)
        db.commit()
    _end_session(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def choose_language(
    request: Request,
    db: Db,
    language: FormField = "",
    next: FormField = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Switch the UI language, and remember it for a signed-in user."""
    chosen = i18n.normalize_language(language)
    if chosen is None:
        raise UserError(
            N_("Unknown language {language}. Choose one of: {choices}."),
            language=language,
            choices=", ".join(SUPPORTED_LANGUAGES),
        )
    request.session["language"] = chosen
    user = session_user(request, db)
    if user is not None:
        service.set_user_language(db, user=user, language=chosen)
        db.commit()
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/w/{slug}/settings")
def settings_page(request: Request, db: Db, membership: Reader) -> Response:
    """Members, the member's own API tokens and account, and (owners) the audit log."""
    notice = request.session.pop("notice", None)
    return _settings(request, db, membership, notice=notice if isinstance(notice, str) else None)


def _settings(
    request: Request, db: Db, membership: Membership, status_code: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {
        "section": "settings",
        "members": service.list_members(db, workspace=membership.workspace),
        "tokens": service.list_api_tokens(db, membership=membership),
        "token_lifetimes": TOKEN_LIFETIME_CHOICES,
        "now": utcnow(),
        "sessions": sessions.list_sessions(db, user=membership.user),
        "this_session": getattr(request.state, "user_session", None),
        "audit": [
            audit.shown(event, i18n.gettext)
            for event in service.list_audit_events(db, workspace=membership.workspace, limit=50)
        ]
        if membership.can(Permission.MANAGE_MEMBERS)
        else [],
        "account_events": [
            audit.shown(event, i18n.gettext)
            for event in service.list_account_events(db, user=membership.user)
        ],
        "roles": list(Role),
        "new_token": None,
        "error": None,
        "notice": None,
    }
    context.update(extra)
    return render(request, "accounts/settings.html", context, status_code=status_code)


def _back_to_settings(request: Request, membership: Membership, notice: str) -> Response:
    # Post/redirect/get: the notice survives the redirect in the session, untranslated.
    request.session["notice"] = notice
    return RedirectResponse(f"/w/{membership.workspace.slug}/settings", status_code=303)


def _form_error(request: Request, db: Db, membership: Membership, exc: UserError) -> Response:
    db.rollback()  # nothing of a refused form is kept
    return _settings(request, db, membership, exc.status_code, error=_translate(request, exc))


@router.post("/w/{slug}/settings/members")
def set_member(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Owner,
    email: FormField = "",
    role: FormField = "",
) -> Response:
    """Add an existing user to the workspace, or change a member's role (owners only)."""
    try:
        service.set_member_by_email(
            db,
            workspace=membership.workspace,
            email=email,
            role=role,
            actor=user,
            ip=client_ip(request),
        )
    except UserError as exc:
        return _form_error(request, db, membership, exc)
    db.commit()
    return _back_to_settings(request, membership, N_("Members updated."))


@router.post("/w/{slug}/settings/members/{member_id}/remove")
def remove_member(
    request: Request, db: Db, user: CurrentUser, membership: Owner, member_id: int
) -> Response:
    """Take a member out of the workspace (owners only; never the last owner)."""
    try:
        service.remove_member(
            db,
            workspace=membership.workspace,
            membership_id=member_id,
            actor=user,
            ip=client_ip(request),
        )
    except UserError as exc:
        return _form_error(request, db, membership, exc)
    db.commit()
    if member_id == membership.id:  # an owner who left no longer sees this workspace
        return RedirectResponse("/", status_code=303)
    return _back_to_settings(request, membership, N_("Member removed."))


@router.post("/w/{slug}/settings/tokens")
def create_token(
    request: Request,
    db: Db,
    membership: Reader,
    name: FormField = "",
    expires_in_days: FormField = "",
) -> Response:
    """Create an API token, for ever or for a chosen number of days; its value is shown once."""
    try:
        _token, plain = service.create_api_token(
            db,
            membership=membership,
            name=name,
            expires_in_days=service.parse_token_lifetime(expires_in_days),
            ip=client_ip(request),
        )
    except UserError as exc:
        return _form_error(request, db, membership, exc)
    db.commit()
    return _settings(request, db, membership, new_token=plain)


@router.post("/w/{slug}/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: Db, membership: Reader, token_id: int) -> Response:
    """Revoke one of the member's own tokens."""
    service.revoke_api_token(db, membership=membership, token_id=token_id, ip=client_ip(request))
    db.commit()
    return _back_to_settings(request, membership, N_("Token revoked."))


@router.post("/w/{slug}/settings/password")
def change_password(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Reader,
    current_password: FormField = "",
    new_password: FormField = "",
    confirmation: FormField = "",
) -> Response:
    """Change the user's password; every other session of theirs is signed out."""
    settings = app_settings(request)
    try:
        auth.change_password(
            db,
            user=user,
            current_password=current_password,
            new_password=new_password,
            confirmation=confirmation,
            ip=client_ip(request),
            policy=ThrottlePolicy.from_settings(settings),
            current_session=request.state.user_session,
        )
    except UserError as exc:
        db.commit()  # a wrong current password counts towards the sign-in waits
        return _settings(request, db, membership, exc.status_code, error=_translate(request, exc))
    db.commit()
    return _back_to_settings(
        request,
        membership,
        N_("Password changed. Your other sessions are signed out and your API tokens revoked."),
    )


@router.post("/w/{slug}/settings/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, db: Db, user: CurrentUser, membership: Reader
) -> Response:
    """End every session of the user, this one included."""
    auth.sign_out_everywhere(db, user=user, ip=client_ip(request))
    db.commit()
    _end_session(request)
    return RedirectResponse("/login", status_code=303)
