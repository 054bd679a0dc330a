"""Request dependencies: database session, signed-in user, workspace membership, CSRF, API auth."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts import sessions
from guanxi.accounts.auth import two_factor_pending
from guanxi.accounts.models import Membership, Permission, User, UserSession
from guanxi.core import i18n
from guanxi.core.db import READING, end_read_only
from guanxi.core.errors import N_, NotFoundError, PermissionDeniedError, UserError
from guanxi.core.security import constant_time_equal
from guanxi.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LAST_WORKSPACE = "workspace"


class LoginRequiredError(Exception):
    """No signed-in user; pages answer with a redirect to the sign-in page."""


class TwoFactorRequiredError(Exception):
    """The workspace requires two-factor sign-in, which the member has not set up; pages
    answer with a redirect to /me, where they set it up."""


class ApiAuthError(UserError):
    """Missing, unknown or revoked API token."""

    status_code = 401


def app_settings(request: Request) -> Settings:
    """The running application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """A database session for this request; views commit what they change.

    A request that may change something (not GET, HEAD, OPTIONS) writes through
    ``writing``: on SQLite its transactions take the write lock first, so its reads and
    writes see one snapshot and it waits its turn rather than failing when another
    request wrote meanwhile.
    """
    state = request.app.state
    reading = request.method in SAFE_METHODS
    session: Session = (state.session_factory if reading else state.writing_sessions)()
    session.info[READING] = reading
    request.state.db = session  # what the page renders with (web.rendering)
    try:
        yield session
        end_read_only(session)  # PostgreSQL keeps the statements it prepared
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


SESSION_ID = "sid"
TWO_FACTOR_REQUIRED = N_(
    "This workspace requires two-factor sign-in. Set it up on your settings page (/me), or "
    "use an API token."
)


def signed_in_session(
    request: Request, db: Session, *, with_workspaces: bool = False
) -> UserSession | None:
    """The live server-side session the cookie names (signed out, expired or of an inactive
    user: None); notes when it was last seen. ``with_workspaces``: the user's memberships
    and workspaces are read with it."""
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str) or not session_id:
        return None
    found = sessions.find_session(db, session_id=session_id, with_workspaces=with_workspaces)
    if found is not None:
        sessions.note_seen(db, found=found)  # committed before the view changes anything
    return found


def session_user(request: Request, db: Session) -> User | None:
    """The user the session cookie signs in, if its session is still live."""
    found = signed_in_session(request, db)
    return found.user if found is not None else None


def current_user(request: Request, db: Db) -> User:
    """The signed-in user; pages without one redirect to sign-in."""
    found = signed_in_session(request, db, with_workspaces=True)
    if found is None:
        # A session that is over (signed out, signed out everywhere, password changed) is
        # forgotten here.
        request.session.pop(SESSION_ID, None)
        raise LoginRequiredError
    user = found.user
    request.state.user = user
    request.state.user_session = found
    request.state.memberships = sessions.memberships_by_name(user)  # read with the session
    if user.language:
        request.state.language = user.language
        i18n.set_language(user.language)  # messages of services and checks too
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def workspace_member(slug: str, request: Request, user: CurrentUser, db: Db) -> Membership:
    """The signed-in user's membership of workspace ``slug``; 404 for anyone else's."""
    # The page header's list (read by current_user, workspaces loaded) has it: no query.
    listed = getattr(request.state, "memberships", None) or ()
    membership = next((m for m in listed if m.workspace.slug == slug), None)
    if membership is None:
        membership = accounts.get_membership(db, user=user, workspace_slug=slug)
    request.state.membership = membership
    if membership.workspace.require_two_factor and not two_factor_pending(user):
        raise TwoFactorRequiredError
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


# The roles a page asks for, by what the member may do (accounts.models.ROLE_PERMISSIONS).
Reader = Annotated[Membership, Depends(member_with(Permission.READ))]
Writer = Annotated[Membership, Depends(member_with(Permission.WRITE))]
Approver = Annotated[Membership, Depends(member_with(Permission.APPROVE))]
Owner = Annotated[Membership, Depends(member_with(Permission.MANAGE_MEMBERS))]


def token_member(request: Request, db: Db) -> Membership:
    """The membership a request's ``Authorization: Bearer`` token acts as, in its workspace.

    The one place the API's tokens are checked: every API dependency comes through here.
    """
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


TokenMember = Annotated[Membership, Depends(token_member)]


def api_member(slug: str, membership: TokenMember) -> Membership:
    """The membership of an ``/api/v1/w/{slug}/...`` request: its token's, which must be of
    workspace ``slug``; another workspace's address is a 404, as the pages answer it."""
    if membership.workspace.slug != slug:
        raise NotFoundError(accounts.NOT_A_MEMBER)
    return membership


def browser_api_member(slug: str, request: Request, db: Db) -> Membership:
    """As ``api_member``; a signed-in member's browser may also read (GET) with its session
    cookie, for the JSON the pages fetch (the dashboard's charts). Writes need a token."""
    if request.headers.get("authorization") or request.method not in SAFE_METHODS:
        return api_member(slug, token_member(request, db))
    user = session_user(request, db)
    if user is None:
        raise ApiAuthError(N_("Sign in, or send an API token as 'Authorization: Bearer'."))
    request.state.user = user
    membership = accounts.get_membership(db, user=user, workspace_slug=slug)
    if membership.workspace.require_two_factor and not two_factor_pending(user):
        raise PermissionDeniedError(TWO_FACTOR_REQUIRED)
    request.state.membership = membership
    return membership


def api_member_with(permission: Permission, *, browser: bool = False) -> Callable[..., Membership]:
    """A dependency for ``/api/v1/w/{slug}/...``: the membership the request acts as (a token
    of that workspace; with ``browser``, also a member's session for reads), provided its
    role grants ``permission``."""
    base = browser_api_member if browser else api_member

    def dependency(membership: Membership = Depends(base)) -> Membership:  # noqa: B008 - per base
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
    """The client's address, for throttling and the audit log.

    The socket's peer, unless the peer is one of ``GUANXI_TRUSTED_PROXIES``: then the
    nearest address in ``X-Forwarded-For`` that is not a trusted proxy. Anyone else's
    ``X-Forwarded-For`` is ignored, so a client cannot choose the address it is counted as.
    """
    peer = request.client.host if request.client else None
    trusted = request.app.state.settings.trusted_proxy_networks()
    if peer is None or not trusted or not _is_in(peer, trusted):
        return peer
    hops = [hop.strip() for hop in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    client = peer
    for hop in reversed([hop for hop in hops if hop]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not an address: the last proxy that sent it is as far as we can tell
        client = hop
        if not _is_in(hop, trusted):
            break
    return client


def _is_in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
