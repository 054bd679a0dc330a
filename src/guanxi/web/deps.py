"""Request dependencies: database session, signed-in user, workspace membership, CSRF, API auth."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Permission, User
from guanxi.core.errors import N_, PermissionDeniedError, UserError
from guanxi.core.security import constant_time_equal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LAST_WORKSPACE = "workspace"


class LoginRequiredError(Exception):
    """No signed-in user; pages answer with a redirect to the sign-in page."""


class ApiAuthError(UserError):
    """Missing, unknown or revoked API token."""

    status_code = 401


def get_db(request: Request) -> Iterator[Session]:
    """A database session for this request; views commit what they change."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        # close() rolls back what was not committed but, unlike rollback(), does not expire
        # the loaded objects: error pages render after this and still show the user's name.
        session.close()


Db = Annotated[Session, Depends(get_db)]


def ensure_csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Reject a state-changing request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not constant_time_equal(str(expected), sent):
        raise PermissionDeniedError(
            N_("This form has expired or did not come from guanxi. Reload the page and try again.")
        )


def session_user(request: Request, db: Session) -> User | None:
    """The user the session cookie signs in, if it is still valid (active, current epoch)."""
    user_id = request.session.get("uid")
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or request.session.get("epoch") != user.session_epoch:
        return None
    return user


def current_user(request: Request, db: Db) -> User:
    """The signed-in user; pages without one redirect to sign-in."""
    user = session_user(request, db)
    if user is None:
        # A stale session (signed out everywhere, password changed) is forgotten here.
        request.session.pop("uid", None)
        request.session.pop("epoch", None)
        raise LoginRequiredError
    request.state.user = user
    request.state.memberships = accounts.list_memberships(db, user=user)
    if user.language:
        request.state.language = user.language
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def workspace_member(slug: str, request: Request, user: CurrentUser, db: Db) -> Membership:
    """The signed-in user's membership of workspace ``slug``; 404 for anyone else's."""
    membership = accounts.get_membership(db, user=user, workspace_slug=slug)
    request.state.membership = membership
    request.session[LAST_WORKSPACE] = slug  # where "/" and workspace-less pages lead back to
    return membership


def preferred_membership(request: Request, memberships: list[Membership]) -> Membership | None:
    """The workspace to show by default: the last one visited, else the first one joined."""
    last = request.session.get(LAST_WORKSPACE)
    for membership in memberships:
        if membership.workspace.slug == last:
            return membership
    return min(memberships, key=lambda m: m.id, default=None)


Member = Annotated[Membership, Depends(workspace_member)]


# Which permission each ``member_with``/``api_member_with`` dependency checks, so tests can
# find every guarded route (and so routes added later are covered automatically).
PERMISSION_DEPENDENCIES: dict[Callable[..., Membership], Permission] = {}


def member_with(permission: Permission) -> Callable[..., Membership]:
    """A dependency: the membership, provided its role grants ``permission``."""

    def dependency(membership: Member) -> Membership:
        accounts.require(membership, permission)
        return membership

    PERMISSION_DEPENDENCIES[dependency] = permission
    return dependency


def api_member(request: Request, db: Db) -> Membership:
    """The membership an API request acts as, from its ``Authorization: Bearer`` token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiAuthError(
            N_("Send an API token as 'Authorization: Bearer <token>'. Create one under Settings.")
        )
    membership = accounts.membership_for_api_token(db, plain_token=token.strip())
    if membership is None:
        raise ApiAuthError(N_("This API token is unknown or revoked. Create a new one."))
    db.commit()  # last_used_at
    request.state.membership = membership
    request.state.user = membership.user
    return membership


ApiMember = Annotated[Membership, Depends(api_member)]


def api_member_with(permission: Permission) -> Callable[..., Membership]:
    """A dependency for ``/api/v1``: the token's membership, provided its role grants it."""

    def dependency(membership: ApiMember) -> Membership:
        accounts.require(membership, permission)
        return membership

    PERMISSION_DEPENDENCIES[dependency] = permission
    return dependency


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after sign-in; anything else falls back to ``default``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers treat a backslash as a slash and drop tabs and newlines: "/\evil.example"
    # or "/\t/evil.example" would leave the site.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    return target


def client_ip(request: Request) -> str | None:
    """The client's address, for throttling and the audit log."""
    return request.client.host if request.client else None
