"""Users, workspaces (one per brand), memberships with roles, API tokens, audit events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core import fields
from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_


class Role(StrEnum):
    """What a member may do in a workspace, from most to least powerful."""

    OWNER = "owner"  # manages members and the workspace itself
    MANAGER = "manager"  # approves
    EDITOR = "editor"  # the community manager: writes, replies
    ANALYST = "analyst"  # reads


ROLE_LABELS: dict[Role, str] = {
    Role.OWNER: N_("Owner"),
    Role.MANAGER: N_("Manager"),
    Role.EDITOR: N_("Editor"),
    Role.ANALYST: N_("Analyst"),
}


class Permission(StrEnum):
    """Actions checked by views and services."""

    READ = "read"
    WRITE = "write"
    APPROVE = "approve"
    MANAGE_MEMBERS = "manage_members"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.MANAGER: frozenset({Permission.READ, Permission.WRITE, Permission.APPROVE}),
    Role.OWNER: frozenset(Permission),
}


class User(TimestampMixin, Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    # The zone every time is shown in for this person; None: the workspace's zone.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Counts the times every session of the user was ended at once (password change, "sign
    # out everywhere"), for the audit log; the sessions themselves are rows of UserSession.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Two-factor sign-in: the TOTP secret, encrypted (SecretBox); it counts from
    # totp_enabled_at, once confirmed with a code. No code works twice: a code must be of a
    # later time step than totp_last_step.
    totp_secret: Mapped[str | None] = mapped_column(String(300), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Workspace(TimestampMixin, Base):
    """One brand's space; an agency has many."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Members without two-factor sign-in are sent to /me to set it up (API tokens still work).
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan"
    )


class Membership(TimestampMixin, Base):
    """A user's role in a workspace."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship(back_populates="memberships")

    def can(self, permission: Permission) -> bool:
        """Whether this member's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[Role(self.role)]


class ApiToken(Base):
    """A bearer token for ``/api/v1``, bound to one user in one workspace; stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship()
    workspace: Mapped[Workspace] = relationship()

    def expired(self, now: datetime) -> bool:
        """Whether the token's chosen lifetime is over at ``now``."""
        return self.expires_at is not None and self.expires_at <= now


class UserSession(Base):
    """A signed-in browser. Its cookie carries a random id; only the id's digest is stored,
    so signing out (deleting the row) ends the session wherever the cookie was copied."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code that signs in instead of a TOTP code (a lost phone); stored hashed."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEvent(Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_workspace_created", "workspace_id", "created_at"),
        # Requests for password-reset links are counted by action over the last hour.
        Index("ix_audit_events_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), default=None
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleScope(StrEnum):
    """What a count of failed sign-ins is about (docs/security.md)."""

    ADDRESS = "address"  # one client address, whatever the account
    ACCOUNT = "account"  # one e-mail address, from any client
    ACCOUNT_ADDRESS = "account_address"  # one e-mail address from one client


class SignInThrottle(Base):
    """Failed sign-ins counted for one scope and key, shared by every web process.

    The key is a digest (of the client address, the e-mail address or both), so typed
    addresses of any length fit and the table holds nobody's address in clear.
    """

    __tablename__ = "sign_in_throttles"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[ThrottleScope] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # After this quiet time the count is forgotten (and the row may be deleted).
    forget_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$"


class UserCreate(BaseModel):
    """What it takes to create a user."""

    email: EmailStr
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class WorkspaceCreate(BaseModel):
    """What it takes to create a workspace."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if fields.zone_or_none(value) is None:
            msg = f"{value!r} is not an IANA time zone such as Asia/Shanghai"
            raise ValueError(msg)
        return value


class WorkspaceRead(BaseModel):
    """A workspace as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    timezone: str


class AuditEventRead(BaseModel):
    """An audit event as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime
