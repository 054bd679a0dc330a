"""Sign in and out, language, members, API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts import service
from guanxi.accounts.models import AuditEventRead, Membership, Permission, Role, WorkspaceRead
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import SUPPORTED_LANGUAGES
from guanxi.web.deps import (
    ApiMember,
    CurrentUser,
    Db,
    client_ip,
    member_with,
    safe_next,
    verify_csrf,
)
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
api_router = APIRouter(tags=["workspace"])

Owner = Annotated[Membership, Depends(member_with(Permission.MANAGE_MEMBERS))]
Reader = Annotated[Membership, Depends(member_with(Permission.READ))]


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query name
    """The sign-in form."""
    return render(
        request, "accounts/login.html", {"next": safe_next(next), "email": "", "error": None}
    )


@router.post("/login")
def login(
    request: Request,
    db: Db,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Check the credentials, then start a fresh session."""
    settings = request.app.state.settings
    try:
        user = service.authenticate(
            db,
            email=email,
            password=password,
            ip=client_ip(request),
            max_failures=settings.login_max_failures,
            lock_minutes=settings.login_lock_minutes,
        )
    except UserError as exc:
        db.commit()  # keep the failed attempt: it counts towards the lock
        i18n.set_language(request.state.language)
        return render(
            request,
            "accounts/login.html",
            {"next": safe_next(next), "email": email, "error": exc.translated(i18n.gettext)},
            status_code=exc.status_code,
        )
    db.commit()
    language = user.language or request.session.get("language")
    request.session.clear()  # no session fixation: the signed-in session starts new
    request.session.update({"uid": user.id, "epoch": user.session_epoch})
    if language:
        request.session["language"] = language
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session (the language choice stays)."""
    language = request.session.get("language")
    request.session.clear()
    if language:
        request.session["language"] = language
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def choose_language(
    request: Request,
    db: Db,
    language: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002 - the form field's name
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
    user_id = request.session.get("uid")
    if isinstance(user_id, int):
        user = service.get_user_by_id(db, user_id=user_id)
        if user is not None:
            service.set_user_language(db, user=user, language=chosen)
            db.commit()
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/w/{slug}/settings")
def settings_page(request: Request, db: Db, membership: Reader) -> Response:
    """Members, the member's own API tokens, and (owners) the audit log."""
    return _settings(request, db, membership)


def _settings(
    request: Request, db: Db, membership: Membership, status_code: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {
        "section": "settings",
        "members": service.list_members(db, workspace=membership.workspace),
        "tokens": service.list_api_tokens(db, membership=membership),
        "audit": service.list_audit_events(db, workspace=membership.workspace, limit=50)
        if membership.can(Permission.MANAGE_MEMBERS)
        else [],
        "roles": list(Role),
        "new_token": None,
        "error": None,
    }
    context.update(extra)
    return render(request, "accounts/settings.html", context, status_code=status_code)


@router.post("/w/{slug}/settings/members")
def set_member(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Owner,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    """Add an existing user to the workspace, or change a member's role (owners only)."""
    try:
        service.set_member_by_email(
            db, workspace=membership.workspace, email=email, role=role, actor=user
        )
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _settings(
            request, db, membership, exc.status_code, error=exc.translated(i18n.gettext)
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/settings", status_code=303)


@router.post("/w/{slug}/settings/tokens")
def create_token(
    request: Request, db: Db, membership: Reader, name: Annotated[str, Form()] = ""
) -> Response:
    """Create an API token; its value is shown once."""
    _token, plain = service.create_api_token(
        db, membership=membership, name=name, ip=client_ip(request)
    )
    db.commit()
    return _settings(request, db, membership, new_token=plain)


@router.post("/w/{slug}/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: Db, membership: Reader, token_id: int) -> Response:
    """Revoke one of the member's own tokens."""
    service.revoke_api_token(db, membership=membership, token_id=token_id, ip=client_ip(request))
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/settings", status_code=303)


@api_router.get("/workspace", response_model=WorkspaceRead)
def api_workspace(membership: ApiMember) -> WorkspaceRead:
    """The workspace this token acts in."""
    return WorkspaceRead.model_validate(membership.workspace)


@api_router.get("/audit", response_model=list[AuditEventRead])
def api_audit(db: Db, membership: ApiMember, limit: int = 100) -> list[AuditEventRead]:
    """The workspace's audit log, newest first (owners only)."""
    service.require(membership, Permission.MANAGE_MEMBERS)
    events = service.list_audit_events(db, workspace=membership.workspace, limit=min(limit, 1000))
    return [AuditEventRead.model_validate(event) for event in events]
