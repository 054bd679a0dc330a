"""Accounts data access: users, workspaces, memberships, API tokens and the audit log.

Signing in, passwords and sessions live in ``guanxi.accounts.auth``.

Every function that changes state records an audit event in the same session, so the
event is committed (or rolled back) together with the change it describes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from guanxi.accounts.models import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ROLE_LABELS,
    ApiToken,
    AuditEvent,
    Membership,
    Permission,
    Role,
    User,
    UserCreate,
    Workspace,
    WorkspaceCreate,
)
from guanxi.core.capability import workspace_created
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, PermissionDeniedError, UserError
from guanxi.core.security import hash_password, new_token, token_digest
from guanxi.core.upsert import create_unique

EMAIL_MAX_LENGTH = 254  # the column width, and the longest address RFC 5321 allows
TOKEN_NAME_MAX_LENGTH = 120
TOKEN_MAX_DAYS = 3650
# The same answer whether the workspace exists or not: no probing of other brands.
NOT_A_MEMBER = N_("No such workspace, or you are not a member of it.")
# The lifetimes the settings page offers for a new API token (days; None: never expires).
TOKEN_LIFETIME_CHOICES: tuple[int | None, ...] = (7, 30, 90, 365, None)


class RoleDeniedError(PermissionDeniedError):
    """The member's role does not grant a permission; names the role in the user's language."""

    def __init__(self, role: Role) -> None:
        super().__init__(
            N_("Your role ({role}) does not allow this. Ask an owner of the workspace."),
            role=ROLE_LABELS[role],
        )

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message with the role's name translated too."""
        return gettext(self.message).format(role=gettext(str(self.params["role"])))


# --- Audit -----------------------------------------------------------------------------


def record_audit(
    db: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str | int,
    workspace: Workspace | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    label = actor_label or (actor.email if actor is not None else "system")
    event = AuditEvent(
        workspace_id=workspace.id if workspace is not None else None,
        actor_id=actor.id if actor is not None else None,
        actor_label=label[:EMAIL_MAX_LENGTH],
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        ip=ip,
    )
    db.add(event)
    return event


def list_audit_events(db: Session, *, workspace: Workspace, limit: int = 200) -> list[AuditEvent]:
    """The workspace's newest audit events first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def list_account_events(db: Session, *, user: User, limit: int = 20) -> list[AuditEvent]:
    """The user's own account events (sign-ins, password changes), newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.actor_id == user.id, AuditEvent.workspace_id.is_(None))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


# --- Users -----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The form in which e-mail addresses are stored and compared."""
    return email.strip().lower()[:EMAIL_MAX_LENGTH]


def get_user_by_email(db: Session, *, email: str) -> User | None:
    """The user with this e-mail address (case-insensitive), if any."""
    return db.scalar(select(User).where(User.email == normalize_email(email)))


def parse_user_create(*, email: str, name: str, password: str) -> UserCreate:
    """A ``UserCreate`` from raw input, or a UserError saying which value to fix."""
    try:
        return UserCreate(email=email.strip(), name=name.strip(), password=password)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
    if field == "email":
        raise UserError(
            N_("{email} is not a valid e-mail address. Enter one such as name@example.com."),
            email=email.strip() or '""',
        )
    if field == "name":
        raise UserError(N_("Enter a name of 1 to 120 characters."))
    raise UserError(
        N_("A password needs {min} to {max} characters. Choose another one."),
        min=MIN_PASSWORD_LENGTH,
        max=MAX_PASSWORD_LENGTH,
    )


def create_user(
    db: Session, *, data: UserCreate, actor: User | None = None, language: str | None = None
) -> User:
    """Create a user; the e-mail address must be free."""
    email = normalize_email(str(data.email))
    taken = ConflictError(N_("A user with the e-mail address {email} already exists."), email=email)
    if get_user_by_email(db, email=email) is not None:
        raise taken
    values = {
        "email": email,
        "name": data.name.strip(),
        "password_hash": hash_password(data.password),
        "language": language,
    }
    user = create_unique(db, User, values, unique=["email"])
    if user is None:  # signed up by another request since the check
        raise taken
    record_audit(
        db,
        actor=actor,
        actor_label=None if actor else "cli",
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        after={"email": email, "name": user.name},
    )
    return user


def set_user_language(db: Session, *, user: User, language: str) -> None:
    """Remember the user's UI language."""
    if user.language == language:
        return
    before = {"language": user.language}
    user.language = language
    record_audit(
        db,
        actor=user,
        action="user.language",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"language": language},
    )


# --- Workspaces and members ---------------------------------------------------------------


def parse_workspace_create(*, slug: str, name: str, timezone: str) -> WorkspaceCreate:
    """A ``WorkspaceCreate`` from raw input, or a UserError saying which value to fix."""
    try:
        return WorkspaceCreate(slug=slug.strip(), name=name.strip(), timezone=timezone.strip())
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
    if field == "slug":
        raise UserError(
            N_(
                "{slug} cannot be a workspace address. Use 3 to 60 lower-case letters, digits "
                "and hyphens, such as provence-wines."
            ),
            slug=slug.strip() or '""',
        )
    if field == "name":
        raise UserError(N_("Enter a name of 1 to 120 characters."))
    raise UserError(
        N_("{timezone} is not a time zone. Use a name such as Asia/Shanghai or Europe/Paris."),
        timezone=timezone.strip() or '""',
    )


def get_workspace_by_slug(db: Session, *, slug: str) -> Workspace | None:
    """The workspace with this address, if any (no access check: for the CLI)."""
    return db.scalar(select(Workspace).where(Workspace.slug == slug))


def create_workspace(
    db: Session, *, data: WorkspaceCreate, owner: User, actor: User | None = None
) -> Workspace:
    """Create a workspace with ``owner`` as its first owner, set up by every capability."""
    taken = ConflictError(
        N_("The workspace address {slug} is taken. Choose another."), slug=data.slug
    )
    if get_workspace_by_slug(db, slug=data.slug) is not None:
        raise taken
    values = {"slug": data.slug, "name": data.name.strip(), "timezone": data.timezone}
    workspace = create_unique(db, Workspace, values, unique=["slug"])
    if workspace is None:  # created by another request since the check
        raise taken
    db.add(Membership(user_id=owner.id, workspace_id=workspace.id, role=Role.OWNER))
    record_audit(
        db,
        actor=actor,
        actor_label=None if actor else "cli",
        workspace=workspace,
        action="workspace.create",
        entity_type="workspace",
        entity_id=workspace.id,
        after={"slug": workspace.slug, "name": workspace.name, "owner": owner.email},
    )
    workspace_created(db, workspace_id=workspace.id)
    return workspace


def get_membership(db: Session, *, user: User, workspace_slug: str) -> Membership:
    """The user's membership of the workspace; NotFound when it is not theirs to see."""
    membership = db.scalar(
        select(Membership)
        .join(Workspace, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id, Workspace.slug == workspace_slug)
    )
    if membership is None:
        raise NotFoundError(NOT_A_MEMBER)
    return membership


def require(membership: Membership, permission: Permission) -> None:
    """Raise PermissionDenied unless the member's role grants ``permission``."""
    if not membership.can(permission):
        raise RoleDeniedError(Role(membership.role))


def list_memberships(db: Session, *, user: User) -> list[Membership]:
    """The user's workspaces, by name."""
    query = (
        select(Membership)
        .join(Workspace, Membership.workspace_id == Workspace.id)
        .options(contains_eager(Membership.workspace))  # the page header needs them loaded
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name)
    )
    return list(db.scalars(query))


def list_members(
    db: Session, *, workspace: Workspace, user_ids: Iterable[int] | None = None
) -> list[Membership]:
    """The members of a workspace (those of ``user_ids`` when given), by e-mail."""
    query = (
        select(Membership)
        .join(User, Membership.user_id == User.id)
        .options(contains_eager(Membership.user))  # pages name each member: one query
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.email)
    )
    if user_ids is not None:
        query = query.where(Membership.user_id.in_(list(user_ids)))
    return list(db.scalars(query))


def add_member(
    db: Session,
    *,
    workspace: Workspace,
    user: User,
    role: Role,
    actor: User | None,
    ip: str | None = None,
) -> Membership:
    """Add ``user`` to ``workspace`` with ``role``, or change the role they have."""
    membership = db.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    if membership is not None and membership.role == role:
        return membership  # nothing changes, so nothing to audit
    before = {"user": user.email, "role": str(membership.role)} if membership else None
    if membership is None:
        values = {"workspace_id": workspace.id, "user_id": user.id, "role": role}
        membership = create_unique(db, Membership, values, unique=["user_id", "workspace_id"])
        if membership is None:  # added by another request meanwhile: change theirs
            return add_member(db, workspace=workspace, user=user, role=role, actor=actor, ip=ip)
    else:
        if membership.role == Role.OWNER:
            _ensure_another_owner(db, workspace=workspace, leaving=user)
        membership.role = role
    db.flush()
    record_audit(
        db,
        actor=actor,
        actor_label=None if actor else "cli",
        workspace=workspace,
        action="membership.set",
        entity_type="membership",
        entity_id=membership.id,
        before=before,
        after={"user": user.email, "role": str(role)},
        ip=ip,
    )
    return membership


def set_member_by_email(
    db: Session,
    *,
    workspace: Workspace,
    email: str,
    role: str,
    actor: User | None,
    ip: str | None = None,
) -> Membership:
    """Give the user with ``email`` the role ``role`` (a form's raw values) in the workspace."""
    if role not in {r.value for r in Role}:
        raise UserError(N_("Choose a role: owner, manager, editor or analyst."))
    if not email.strip():
        raise UserError(N_("Enter the e-mail address of the person to add."))
    target = get_user_by_email(db, email=email)
    if target is None:
        raise UserError(
            N_(
                "No user has the e-mail address {email}. Check the address, or create the "
                "user first (guanxi user create)."
            ),
            email=email.strip(),
        )
    return add_member(db, workspace=workspace, user=target, role=Role(role), actor=actor, ip=ip)


def remove_member(
    db: Session, *, workspace: Workspace, membership_id: int, actor: User, ip: str | None = None
) -> None:
    """Take a member out of the workspace and revoke their API tokens for it."""
    membership = db.get(Membership, membership_id)
    if membership is None or membership.workspace_id != workspace.id:
        raise NotFoundError(N_("No such member in this workspace."))
    if membership.role == Role.OWNER:
        _ensure_another_owner(db, workspace=workspace, leaving=membership.user)
    tokens = db.scalars(
        select(ApiToken).where(
            ApiToken.user_id == membership.user_id,
            ApiToken.workspace_id == workspace.id,
            ApiToken.revoked_at.is_(None),
        )
    )
    revoked = 0
    for token in tokens:
        token.revoked_at = utcnow()
        revoked += 1
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="membership.remove",
        entity_type="membership",
        entity_id=membership.id,
        before={"user": membership.user.email, "role": str(membership.role)},
        after={"api_tokens_revoked": revoked},
        ip=ip,
    )
    db.delete(membership)
    db.flush()


def _ensure_another_owner(db: Session, *, workspace: Workspace, leaving: User) -> None:
    owners = db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.workspace_id == workspace.id,
            Membership.role == Role.OWNER,
            Membership.user_id != leaving.id,
        )
    )
    if not owners:
        raise ConflictError(
            N_("A workspace needs at least one owner. Make someone else owner first.")
        )


# --- API tokens ---------------------------------------------------------------------------


class ApiTokenExpiredError(UserError):
    """An API token used after the end of the lifetime chosen when it was made."""

    status_code = 401


def parse_token_lifetime(text: str) -> int | None:
    """Days a new token lasts, from a form or a command line; empty means it never expires."""
    text = text.strip()
    if not text:
        return None
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise UserError(
            N_("A token lasts 1 to {max} days, or never expires. {value} is neither."),
            max=TOKEN_MAX_DAYS,
            value=text[:20],
        )
    return days


def create_api_token(
    db: Session,
    *,
    membership: Membership,
    name: str,
    expires_in_days: int | None = None,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for this member, for ever or ``expires_in_days`` days; the plain
    token is returned once and never stored."""
    name = name.strip()
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise UserError(
            N_("A token name can have at most {max} characters. Choose a shorter one."),
            max=TOKEN_NAME_MAX_LENGTH,
        )
    if expires_in_days is not None:
        parse_token_lifetime(str(expires_in_days))
    plain = new_token()
    now = utcnow()
    token = ApiToken(
        user_id=membership.user_id,
        workspace_id=membership.workspace_id,
        name=name or "API token",
        token_hash=token_digest(plain),
        prefix=plain[:10],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.add(token)
    db.flush()
    record_audit(
        db,
        actor=membership.user,
        workspace=membership.workspace,
        action="api_token.create",
        entity_type="api_token",
        entity_id=token.id,
        after={
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
        ip=ip,
    )
    return token, plain


def list_api_tokens(db: Session, *, membership: Membership) -> list[ApiToken]:
    """The member's tokens in this workspace, newest first."""
    query = (
        select(ApiToken)
        .where(
            ApiToken.user_id == membership.user_id,
            ApiToken.workspace_id == membership.workspace_id,
        )
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.scalars(query))


def revoke_api_token(
    db: Session, *, membership: Membership, token_id: int, ip: str | None = None
) -> ApiToken:
    """Revoke one of the member's tokens."""
    token = db.get(ApiToken, token_id)
    if (
        token is None
        or token.user_id != membership.user_id
        or token.workspace_id != membership.workspace_id
    ):
        raise NotFoundError(N_("No such API token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(
            db,
            actor=membership.user,
            workspace=membership.workspace,
            action="api_token.revoke",
            entity_type="api_token",
            entity_id=token.id,
            before={"name": token.name, "revoked": False},
            after={"name": token.name, "revoked": True},
            ip=ip,
        )
    return token


def membership_for_api_token(db: Session, *, plain_token: str) -> Membership | None:
    """The membership an API token acts as, or None when it is unknown or revoked.

    Raises ``ApiTokenExpiredError`` for a token past its lifetime, saying since when.
    """
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(plain_token)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expired(utcnow()) and token.expires_at is not None:
        raise ApiTokenExpiredError(
            N_("This API token expired on {date}. Create a new one under Settings."),
            date=token.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == token.user_id, Membership.workspace_id == token.workspace_id
        )
    )
    if membership is not None:
        token.last_used_at = utcnow()
    return membership
