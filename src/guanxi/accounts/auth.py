"""Signing in: credentials, throttling of failed attempts, passwords, and ending every
session of a user at once.

Every attempt and change is recorded in the audit log, as an account event (no workspace).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import sessions, throttle
from guanxi.accounts.models import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ApiToken,
    User,
    UserSession,
)
from guanxi.accounts.service import get_user_by_email, normalize_email, record_audit
from guanxi.accounts.throttle import LoginThrottledError, ThrottlePolicy
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


def authenticate(
    db: Session, *, email: str, password: str, ip: str | None, policy: ThrottlePolicy
) -> User:
    """The user for these credentials; failures are counted and make this client wait.

    Every attempt is recorded in ``db`` (throttle counts and the audit log); the caller
    commits even when this raises, so that failures are remembered.
    """
    email = normalize_email(email)
    now = utcnow()
    user = get_user_by_email(db, email=email)
    try:
        throttle.check_allowed(db, email=email, ip=ip, now=now)
    except LoginThrottledError:
        _audit_sign_in(db, user=user, email=email, ip=ip, failure="throttled")
        raise
    # Nothing is written yet: end the reads before the slow hash, so that on SQLite no
    # write lock is held while it runs (the writes below take it in a new transaction).
    db.commit()
    if user is None:
        waste_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active
    if not ok or user is None:
        throttle.record_failure(db, policy=policy, email=email, ip=ip, now=now)
        _audit_sign_in(db, user=user, email=email, ip=ip, failure="credentials")
        raise InvalidCredentialsError(
            N_("Wrong e-mail address or password. Check both and try again.")
        )
    throttle.record_success(db, email=email, ip=ip)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _audit_sign_in(db, user=user, email=email, ip=ip, failure=None)
    return user


def two_factor_pending(user: User) -> bool:
    """Whether ``user``, whose password was right, still has to give a code."""
    return user.totp_enabled_at is not None and user.totp_secret is not None


def _audit_sign_in(
    db: Session, *, user: User | None, email: str, ip: str | None, failure: str | None
) -> None:
    # Failures for a known address are the account owner's business: they see them
    # among their account events. Unknown addresses keep the typed address as the label.
    if failure is not None:
        action = "user.sign_in_failed"
    elif user is not None and two_factor_pending(user):
        action = "user.sign_in_password"  # the code comes next (two_factor.verify_code)
    else:
        action = "user.sign_in"
    record_audit(
        db,
        actor=user,
        actor_label=email or "(empty)",
        action=action,
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
    policy: ThrottlePolicy,
    current_session: UserSession | None,
) -> None:
    """Set a new password; ends every other session of the user and revokes their API tokens.

    A wrong current password counts as a failed sign-in, so a borrowed session cannot be
    used to guess the password.
    """
    now = utcnow()
    throttle.check_allowed(db, email=user.email, ip=ip, now=now)
    if not verify_password(user.password_hash, current_password):
        throttle.record_failure(db, policy=policy, email=user.email, ip=ip, now=now)
        raise UserError(N_("Your current password is wrong. Type it again."))
    replace_password(
        db,
        user=user,
        new_password=new_password,
        confirmation=confirmation,
        action="user.password_change",
        keep=current_session,
        ip=ip,
    )


def replace_password(
    db: Session,
    *,
    user: User,
    new_password: str,
    confirmation: str,
    action: str,
    keep: UserSession | None,
    ip: str | None,
) -> None:
    """Set ``user``'s new password (checked first): every other session of theirs ends (all
    but ``keep``), their API tokens are revoked, and the change is audited as ``action``."""
    check_new_password(new_password, confirmation)
    before = {"session_epoch": user.session_epoch}
    user.password_hash = hash_password(new_password)
    user.session_epoch += 1
    ended = sessions.end_sessions_of(db, user=user, keep=keep)
    revoked = revoke_api_tokens(db, user=user)
    record_audit(
        db,
        actor=user,
        action=action,
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={
            "session_epoch": user.session_epoch,
            "sessions_ended": ended,
            "api_tokens_revoked": revoked,
        },
        ip=ip,
    )


def check_new_password(new_password: str, confirmation: str) -> None:
    """Refuse a new password of the wrong length, or one typed differently twice."""
    if not MIN_PASSWORD_LENGTH <= len(new_password) <= MAX_PASSWORD_LENGTH:
        raise UserError(
            N_("A password needs {min} to {max} characters. Choose another one."),
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
        )
    if new_password != confirmation:
        raise UserError(N_("The two new passwords differ. Type the same new password twice."))


def revoke_api_tokens(db: Session, *, user: User) -> int:
    """Revoke every live API token of ``user``; returns how many. Whoever learnt the old
    password may have made tokens with it: none outlives it."""
    tokens = list(
        db.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def sign_out_everywhere(db: Session, *, user: User, ip: str | None) -> None:
    """End every session of the user, on every device, including the current one."""
    before = {"session_epoch": user.session_epoch}
    user.session_epoch += 1
    ended = sessions.end_sessions_of(db, user=user)
    record_audit(
        db,
        actor=user,
        action="user.sign_out_everywhere",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"session_epoch": user.session_epoch, "sessions_ended": ended},
        ip=ip,
    )
