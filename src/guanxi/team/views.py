"""Sign in and out, language, members, API tokens, password and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts import auth, service, sessions, two_factor
from guanxi.accounts.models import Membership, Permission, Role, User
from guanxi.accounts.service import TOKEN_LIFETIME_CHOICES
from guanxi.accounts.throttle import LoginThrottledError, ThrottlePolicy
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.security import SecretBox
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
CODE_PAGE = "/login/code"
PENDING_CODE = "pending_code"
# How long the half-signed-in state lasts between the password and the code.
CODE_TIME = timedelta(minutes=5)


def _translate(request: Request, error: UserError) -> str:
    i18n.set_language(request.state.language)
    return error.translated(i18n.gettext)


@router.get("/login")
def login_page(request: Request, next: QueryField = "/") -> Response:  # noqa: A002 - the query name
    """The sign-in form (with a notice after a password reset)."""
    notice = request.session.pop("notice", None)
    context = {"next": safe_next(next), "email": "", "error": None, "notice": notice}
    return render(request, "accounts/login.html", context)


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
            {
                "next": safe_next(next),
                "email": email,
                "error": _translate(request, exc),
                "notice": None,
            },
            status_code=exc.status_code,
        )
        if isinstance(exc, LoginThrottledError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if auth.two_factor_pending(user):
        db.commit()
        # Half signed in: the signed cookie names who gave the right password, until when.
        request.session[PENDING_CODE] = {
            "user": user.id,
            "epoch": user.session_epoch,
            "until": int((utcnow() + CODE_TIME).timestamp()),
            "next": safe_next(next),
        }
        return RedirectResponse(CODE_PAGE, status_code=303)
    return _signed_in(request, db, user=user, target=safe_next(next))


def _signed_in(request: Request, db: Db, *, user: User, target: str) -> Response:
    """Start a fresh session for ``user`` (committed) and go to ``target``."""
    settings = app_settings(request)
    session_id = sessions.start_session(
        db,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
        lifetime=timedelta(days=settings.session_max_age_days),
    )
    db.commit()
    language = user.language or request.session.get("language")
    request.session.clear()  # no session fixation: the signed-in session starts new
    request.session[SESSION_ID] = session_id
    if language:
        request.session["language"] = language
    return RedirectResponse(target, status_code=303)


def _pending_user(request: Request, db: Db) -> tuple[User, str] | None:
    """Who gave the right password and still owes a code, and where they go next; None
    when nobody does, or the five minutes are over, or their password changed since."""
    pending = request.session.get(PENDING_CODE)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    if int(pending.get("until", 0)) < utcnow().timestamp():
        request.session.pop(PENDING_CODE, None)
        return None
    user = db.get(User, pending["user"])
    if (
        user is None
        or not user.is_active
        or not auth.two_factor_pending(user)
        or user.session_epoch != pending.get("epoch")
    ):
        return None
    return user, safe_next(str(pending.get("next", "/")))


@router.get(CODE_PAGE)
def code_page(request: Request, db: Db) -> Response:
    """The second step of signing in: the code from the authenticator app."""
    if _pending_user(request, db) is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "accounts/login_code.html", {"error": None})


@router.post(CODE_PAGE)
def check_code(request: Request, db: Db, code: FormField = "") -> Response:
    """Sign in once the code (or a recovery code) is right; a wrong one counts as a failed
    sign-in, and after five minutes the password is asked again."""
    pending = _pending_user(request, db)
    if pending is None:
        request.session["notice"] = N_("Signing in took too long. Type your password again.")
        return RedirectResponse("/login", status_code=303)
    user, target = pending
    settings = app_settings(request)
    ip = client_ip(request)
    try:
        kind = two_factor.verify_code(
            db,
            user=user,
            code=code,
            box=SecretBox.from_settings(settings),
            ip=ip,
            policy=ThrottlePolicy.from_settings(settings),
        )
    except UserError as exc:
        db.commit()  # the failure counts towards the waits
        response = render(
            request,
            "accounts/login_code.html",
            {"error": _translate(request, exc)},
            status_code=exc.status_code,
        )
        if isinstance(exc, LoginThrottledError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    service.record_audit(
        db,
        actor=user,
        action="user.sign_in",
        entity_type="user",
        entity_id=user.id,
        after={"second_factor": kind},
        ip=ip,
    )
    return _signed_in(request, db, user=user, target=target)


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
    return settings_with(
        request, db, membership, notice=notice if isinstance(notice, str) else None
    )


def settings_with(
    request: Request, db: Db, membership: Membership, status_code: int = 200, **extra: Any
) -> Response:
    """The settings page, with ``extra`` in its context (an error, a token shown once)."""
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
        "reset_link": None,
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
    return settings_with(request, db, membership, exc.status_code, error=_translate(request, exc))


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
    return settings_with(request, db, membership, new_token=plain)


@router.post("/w/{slug}/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: Db, membership: Reader, token_id: int) -> Response:
    """Revoke one of the member's own tokens."""
    service.revoke_api_token(db, membership=membership, token_id=token_id, ip=client_ip(request))
    db.commit()
    return _back_to_settings(request, membership, N_("Token revoked."))


@router.post("/w/{slug}/settings/two-factor")
def require_two_factor(
    request: Request, db: Db, user: CurrentUser, membership: Owner, required: FormField = ""
) -> Response:
    """Require two-factor sign-in of every member (owners only, who must use it)."""
    try:
        two_factor.set_required(
            db,
            workspace=membership.workspace,
            actor=user,
            required=required == "1",
            ip=client_ip(request),
        )
    except UserError as exc:
        return _form_error(request, db, membership, exc)
    db.commit()
    return _back_to_settings(request, membership, N_("Two-factor sign-in setting saved."))


@router.post("/w/{slug}/settings/password")
def old_password_address(_membership: Reader) -> Response:
    """The password is changed on /me; a form still posted to this older address (an open
    tab) is sent there, and nothing changes."""
    return RedirectResponse("/me#password", status_code=303)


@router.post("/w/{slug}/settings/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, db: Db, user: CurrentUser, membership: Reader
) -> Response:
    """End every session of the user, this one included."""
    auth.sign_out_everywhere(db, user=user, ip=client_ip(request))
    db.commit()
    _end_session(request)
    return RedirectResponse("/login", status_code=303)
