"""Signed-in sessions, kept in the database so that ending one ends it everywhere.

The browser's cookie carries a random session id; the database keeps its SHA-256 digest
with the user, the browser's user agent, the address, and when it was last seen and
expires. Signing out deletes the row: a copy of the cookie saved earlier opens nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from guanxi.accounts.models import Membership, User, UserSession
from guanxi.core.db import utcnow
from guanxi.core.security import token_digest

USER_AGENT_MAX_LENGTH = 300
# last_seen_at is written at most this often per session, not on every request.
LAST_SEEN_PRECISION = timedelta(minutes=1)


def start_session(
    db: Session, *, user: User, user_agent: str, ip: str | None, lifetime: timedelta
) -> str:
    """A new session for ``user``; returns the id for the cookie (stored only as a digest)."""
    now = utcnow()
    # Expired sessions go; rows another request has locked are skipped, not waited for.
    expired = (
        select(UserSession.id)
        .where(UserSession.expires_at <= now)
        .with_for_update(skip_locked=True)
    )
    db.execute(delete(UserSession).where(UserSession.id.in_(expired.scalar_subquery())))
    plain = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(plain),
            user_agent=user_agent[:USER_AGENT_MAX_LENGTH],
            ip=ip,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    db.flush()
    return plain


def find_session(
    db: Session, *, session_id: str, now: datetime | None = None, with_workspaces: bool = False
) -> UserSession | None:
    """The live session with this id, of an active user. ``with_workspaces``: the user's
    memberships and their workspaces come in the same statement (``memberships_by_name``),
    as every page's header lists them."""
    now = now or utcnow()
    user = joinedload(UserSession.user)
    if with_workspaces:
        user = user.joinedload(User.memberships).joinedload(Membership.workspace)
    query = (
        select(UserSession)
        .options(user)
        .where(UserSession.token_hash == token_digest(session_id), UserSession.expires_at > now)
    )
    found = db.scalars(query).unique().one_or_none()
    if found is None or not found.user.is_active:
        return None
    return found


def memberships_by_name(user: User) -> list[Membership]:
    """The user's memberships as ``find_session(..., with_workspaces=True)`` loaded them, by
    workspace name (as ``accounts.service.list_memberships`` reads them)."""
    return sorted(user.memberships, key=lambda membership: membership.workspace.name)


def note_seen(db: Session, *, found: UserSession, now: datetime | None = None) -> None:
    """Note that ``found`` was used now, at most once a minute, in a transaction of its own
    (committed): the request's reads so far end first, so that on SQLite the write begins
    its own transaction and waits its turn for the lock instead of failing."""
    now = now or utcnow()
    if now - found.last_seen_at < LAST_SEEN_PRECISION:
        return
    db.commit()
    found.last_seen_at = now
    db.commit()


def end_session(db: Session, *, session_id: str) -> None:
    """Sign out this session (nothing happens if it is already over)."""
    db.execute(delete(UserSession).where(UserSession.token_hash == token_digest(session_id)))


def end_sessions_of(db: Session, *, user: User, keep: UserSession | None = None) -> int:
    """End every session of ``user`` except ``keep``; returns how many were ended."""
    conditions = [UserSession.user_id == user.id]
    if keep is not None:
        conditions.append(UserSession.id != keep.id)
    ended = db.scalar(select(func.count()).select_from(UserSession).where(*conditions))
    db.execute(delete(UserSession).where(*conditions))
    return int(ended or 0)


def list_sessions(db: Session, *, user: User) -> list[UserSession]:
    """The user's live sessions, the most recently seen first."""
    return list(
        db.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )
