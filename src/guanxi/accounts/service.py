"""Accounts data access: users, workspaces, memberships, tokens, audit and sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import (
    ApiToken,
    AuditEvent,
    LoginAttempt,
    Membership,
    Permission,
    Role,
    User,
    UserCreate,
    Workspace,
    WorkspaceCreate,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, PermissionDeniedError, UserError
from guanxi.core.security import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)


class InvalidCredentialsError(UserError):
    """Wrong e-mail or password (never says which)."""

    status_code = 401


class LoginThrottledError(UserError):
    """Too many failed sign-ins for this e-mail address."""

    status_code = 429


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
    event = AuditEvent(
        workspace_id=workspace.id if workspace is not None else None,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.email if actor is not None else "system"),
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


def get_user_by_id(db: Session, *, user_id: int) -> User | None:
    """The user with this id, if any."""
    return db.get(User, user_id)


def get_user_by_email(db: Session, *, email: str) -> User | None:
    """The user with this e-mail address (case-insensitive), if any."""
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    db: Session, *, data: UserCreate, actor: User | None = None, language: str | None = None
) -> User:
    """Create a user; the e-mail address must be free."""
    email = str(data.email).strip().lower()
    if get_user_by_email(db, email=email) is not None:
        raise ConflictError(
            N_("A user with the e-mail address {email} already exists."), email=email
        )
    user = User(
        email=email,
        name=data.name.strip(),
        password_hash=hash_password(data.password),
        language=language,
    )
    db.add(user)
    db.flush()
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


def _recent_failures(db: Session, *, email: str, since: datetime) -> int:
    last_success = db.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    window_start = max(since, last_success) if last_success else since
    count = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > window_start,
        )
    )
    return int(count or 0)


def authenticate(
    db: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    max_failures: int,
    lock_minutes: int,
) -> User:
    """The user for these credentials; failures are counted and throttle further tries.

    The attempt is recorded in ``db``; the caller commits even when this raises, so that
    failures are remembered.
    """
    email = email.strip().lower()
    now = utcnow()
    if (
        _recent_failures(db, email=email, since=now - timedelta(minutes=lock_minutes))
        >= max_failures
    ):
        raise LoginThrottledError(
            N_("Too many failed sign-ins. Wait {minutes} minutes, then try again."),
            minutes=lock_minutes,
        )
    user = get_user_by_email(db, email=email)
    ok = user is not None and user.is_active and verify_password(user.password_hash, password)
    db.add(LoginAttempt(email=email, ip=ip, succeeded=ok, created_at=now))
    if not ok or user is None:
        raise InvalidCredentialsError(
            N_("Wrong e-mail address or password. Check both and try again.")
        )
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def create_workspace(
    db: Session, *, data: WorkspaceCreate, owner: User, actor: User | None = None
) -> Workspace:
    """Create a workspace with ``owner`` as its first owner."""
    if db.scalar(select(Workspace).where(Workspace.slug == data.slug)) is not None:
        raise ConflictError(
            N_("The workspace address {slug} is taken. Choose another."), slug=data.slug
        )
    workspace = Workspace(slug=data.slug, name=data.name.strip(), timezone=data.timezone)
    db.add(workspace)
    db.flush()
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
    return workspace


def get_membership(db: Session, *, user: User, workspace_slug: str) -> Membership:
    """The user's membership of the workspace; NotFound when it is not theirs to see."""
    membership = db.scalar(
        select(Membership)
        .join(Workspace, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id, Workspace.slug == workspace_slug)
    )
    if membership is None:
        # The same answer whether the workspace exists or not: no probing of other brands.
        raise NotFoundError(N_("No such workspace, or you are not a member of it."))
    return membership


def require(membership: Membership, permission: Permission) -> None:
    """Raise PermissionDenied unless the member's role grants ``permission``."""
    if not membership.can(permission):
        raise PermissionDeniedError(
            N_("Your role ({role}) does not allow this. Ask an owner of the workspace."),
            role=membership.role,
        )


def list_memberships(db: Session, *, user: User) -> list[Membership]:
    """The user's workspaces, by name."""
    query = (
        select(Membership)
        .join(Workspace, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name)
    )
    return list(db.scalars(query))


def list_members(db: Session, *, workspace: Workspace) -> list[Membership]:
    """The members of a workspace, by e-mail."""
    query = (
        select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.email)
    )
    return list(db.scalars(query))


def add_member(
    db: Session, *, workspace: Workspace, user: User, role: Role, actor: User | None
) -> Membership:
    """Add ``user`` to ``workspace`` with ``role``, or change the role they have."""
    membership = db.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    before = {"role": str(membership.role)} if membership else None
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role)
        db.add(membership)
    else:
        if membership.role == Role.OWNER and role != Role.OWNER:
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
    )
    return membership


def set_member_by_email(
    db: Session, *, workspace: Workspace, email: str, role: str, actor: User | None
) -> Membership:
    """Give the user with ``email`` the role ``role`` (a form's raw values) in the workspace."""
    if role not in {r.value for r in Role}:
        raise UserError(N_("Choose a role: owner, manager, editor or analyst."))
    target = get_user_by_email(db, email=email)
    if target is None:
        raise NotFoundError(
            N_(
                "No user has the e-mail address {email}. Create the user first "
                "(guanxi user create)."
            ),
            email=email.strip(),
        )
    return add_member(db, workspace=workspace, user=target, role=Role(role), actor=actor)


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


def create_api_token(
    db: Session, *, membership: Membership, name: str, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new API token for this member; the plain token is returned once and never stored."""
    plain = new_token()
    token = ApiToken(
        user_id=membership.user_id,
        workspace_id=membership.workspace_id,
        name=name.strip() or "API token",
        token_hash=token_digest(plain),
        prefix=plain[:10],
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
        after={"name": token.name, "prefix": token.prefix},
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
            before={"revoked": False},
            after={"revoked": True},
            ip=ip,
        )
    return token


def membership_for_api_token(db: Session, *, plain_token: str) -> Membership | None:
    """The membership an API token acts as, or None when it is unknown or revoked."""
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(plain_token)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == token.user_id, Membership.workspace_id == token.workspace_id
        )
    )
    if membership is not None:
        token.last_used_at = utcnow()
    return membership
