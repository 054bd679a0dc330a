"""Signing in: credentials, the lock after repeated failures, passwords, and the session
epoch that ends every session of a user at once.

Every attempt and change is recorded in the audit log, as an account event (no workspace).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, LoginAttempt, User
from guanxi.accounts.service import get_user_by_email, normalize_email, record_audit
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.security import (
    hash_password,
    password_needs_rehash,
    verify_password,
    waste_password_check,
)


class InvalidCredentialsError(UserError):
    """Wrong e-mail or password (never says which)."""

    status_code = 401


class LoginThrottledError(UserError):
    """Too many failed sign-ins for this e-mail address."""

    status_code = 429


def _lock_minutes_left(
    db: Session, *, email: str, now: datetime, max_failures: int, lock_minutes: int
) -> int:
    """Minutes until this address may try again; 0 when it is not locked.

    The last ``max_failures`` failures since the last success, all within the window,
    lock the address until the oldest of them leaves the window.
    """
    window = timedelta(minutes=lock_minutes)
    last_success = db.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    since = max(now - window, last_success) if last_success else now - window
    failures = list(
        db.scalars(
            select(LoginAttempt.created_at)
            .where(
                LoginAttempt.email == email,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.created_at > since,
            )
            .order_by(LoginAttempt.created_at.desc())
            .limit(max_failures)
        )
    )
    if len(failures) < max_failures:
        return 0
    seconds = (failures[-1] + window - now).total_seconds()
    return max(1, math.ceil(seconds / 60))


def _check_not_locked(
    db: Session, *, email: str, now: datetime, max_failures: int, lock_minutes: int
) -> None:
    minutes = _lock_minutes_left(
        db, email=email, now=now, max_failures=max_failures, lock_minutes=lock_minutes
    )
    if minutes:
        raise LoginThrottledError(
            N_("Too many failed sign-ins. Wait {minutes} minutes, then try again."),
            minutes=minutes,
        )


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

    Every attempt is recorded in ``db`` (as a login attempt and in the audit log); the
    caller commits even when this raises, so that failures are remembered.
    """
    email = normalize_email(email)
    now = utcnow()
    user = get_user_by_email(db, email=email)
    try:
        _check_not_locked(
            db, email=email, now=now, max_failures=max_failures, lock_minutes=lock_minutes
        )
    except LoginThrottledError:
        _audit_sign_in(db, user=user, email=email, ip=ip, failure="locked")
        raise
    if user is None:
        waste_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active
    db.add(LoginAttempt(email=email, ip=ip, succeeded=ok, created_at=now))
    if not ok or user is None:
        _audit_sign_in(db, user=user, email=email, ip=ip, failure="credentials")
        raise InvalidCredentialsError(
            N_("Wrong e-mail address or password. Check both and try again.")
        )
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _audit_sign_in(db, user=user, email=email, ip=ip, failure=None)
    return user


def _audit_sign_in(
    db: Session, *, user: User | None, email: str, ip: str | None, failure: str | None
) -> None:
    # Failures for a known address are the account owner's business: they see them
    # among their account events. Unknown addresses keep the typed address as the label.
    record_audit(
        db,
        actor=user,
        actor_label=email or "(empty)",
        action="user.sign_in" if failure is None else "user.sign_in_failed",
        entity_type="user",
        entity_id=user.id if user is not None else "",
        after={"reason": failure} if failure else None,
        ip=ip,
    )


def change_password(
    db: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    confirmation: str,
    ip: str | None,
    max_failures: int,
    lock_minutes: int,
) -> int:
    """Set a new password; signs out every other session. Returns the new session epoch.

    A wrong current password counts as a failed sign-in, so a borrowed session cannot be
    used to guess the password.
    """
    now = utcnow()
    _check_not_locked(
        db, email=user.email, now=now, max_failures=max_failures, lock_minutes=lock_minutes
    )
    if not verify_password(user.password_hash, current_password):
        db.add(LoginAttempt(email=user.email, ip=ip, succeeded=False, created_at=now))
        raise UserError(N_("Your current password is wrong. Type it again."))
    if not MIN_PASSWORD_LENGTH <= len(new_password) <= MAX_PASSWORD_LENGTH:
        raise UserError(
            N_("A password needs {min} to {max} characters. Choose another one."),
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
        )
    if new_password != confirmation:
        raise UserError(N_("The two new passwords differ. Type the same new password twice."))
    before = {"session_epoch": user.session_epoch}
    user.password_hash = hash_password(new_password)
    user.session_epoch += 1
    record_audit(
        db,
        actor=user,
        action="user.password_change",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"session_epoch": user.session_epoch},
        ip=ip,
    )
    return user.session_epoch


def sign_out_everywhere(db: Session, *, user: User, ip: str | None) -> None:
    """End every session of the user, on every device, including the current one."""
    before = {"session_epoch": user.session_epoch}
    user.session_epoch += 1
    record_audit(
        db,
        actor=user,
        action="user.sign_out_everywhere",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"session_epoch": user.session_epoch},
        ip=ip,
    )
