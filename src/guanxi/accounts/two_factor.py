"""Two-factor sign-in with TOTP (RFC 6238) codes from an authenticator app, and recovery codes.

The secret is stored encrypted with the instance's SecretBox. A code is accepted for the
current 30-second step or one step either side (a phone's clock drifts), and only once:
the step of the last accepted code is kept, and a code of that step or an earlier one is
refused. Ten recovery codes, shown once and stored as digests, each sign in once instead
of a code.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from guanxi.accounts import throttle
from guanxi.accounts.auth import two_factor_pending
from guanxi.accounts.models import RecoveryCode, User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.accounts.throttle import ThrottlePolicy
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.security import SecretBox, constant_time_equal, token_digest, verify_password

ISSUER = "guanxi"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_GROUPS = 4  # four groups of four: about 79 bits
CODE_MAX_LENGTH = 40


class WrongCodeError(UserError):
    """A second factor that is wrong, already used or too old."""

    status_code = 401


WRONG_CODE = N_(
    "This code is wrong or was already used. Type the current code from your authenticator "
    "app, or one of your recovery codes."
)


def is_enabled(user: User) -> bool:
    """Whether ``user`` signs in with a code after the password."""
    return two_factor_pending(user)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def begin_setup(db: Session, *, user: User, box: SecretBox) -> str:
    """A new secret for ``user`` (not yet in force: a code confirms it); returns it."""
    if is_enabled(user):
        raise UserError(N_("Two-factor sign-in is already on. Turn it off first to start over."))
    secret = pyotp.random_base32()
    user.totp_secret = box.encrypt(secret)
    user.totp_last_step = 0
    db.flush()
    return secret


def pending_secret(user: User, box: SecretBox) -> str | None:
    """The secret being set up (shown as a QR code until confirmed), if any."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        return None
    return box.decrypt(user.totp_secret)


def provisioning_uri(*, secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _accept_totp(user: User, secret: str, code: str, now: datetime) -> bool:
    """Whether ``code`` is a valid TOTP code of a step not used yet; notes its step."""
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > user.totp_last_step and constant_time_equal(totp.at(step * STEP_SECONDS), code):
            user.totp_last_step = step
            return True
    return False


def _accept_recovery(db: Session, user: User, code: str, now: datetime) -> bool:
    digest = token_digest(code)
    found = db.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    found.used_at = now
    return True


def new_recovery_codes(db: Session, *, user: User) -> list[str]:
    """Ten fresh recovery codes for ``user`` (the old ones stop working); shown once."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODES)
    ]
    db.add_all(
        RecoveryCode(user_id=user.id, code_hash=token_digest(_normalize(code))) for code in codes
    )
    db.flush()
    return codes


def recovery_codes_left(db: Session, *, user: User) -> int:
    """How many unused recovery codes ``user`` has."""
    return len(
        db.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def confirm_setup(
    db: Session, *, user: User, code: str, box: SecretBox, ip: str | None
) -> list[str]:
    """Turn two-factor sign-in on, once ``code`` proves the app has the secret; returns the
    recovery codes to show once."""
    secret = pending_secret(user, box)
    if secret is None:
        raise UserError(N_("Start the set-up again: scan the new QR code, then type its code."))
    if not _accept_totp(user, secret, _normalize(code)[:CODE_MAX_LENGTH], utcnow()):
        raise UserError(
            N_("This code does not match. Type the 6-digit code your app shows for guanxi now.")
        )
    user.totp_enabled_at = utcnow()
    codes = new_recovery_codes(db, user=user)
    record_audit(
        db, actor=user, action="user.two_factor_on", entity_type="user", entity_id=user.id, ip=ip
    )
    return codes


def verify_code(
    db: Session,
    *,
    user: User,
    code: str,
    box: SecretBox,
    ip: str | None,
    policy: ThrottlePolicy,
) -> str:
    """Check a sign-in's second factor; returns how it was given ("totp" or
    "recovery_code"). A wrong code counts as a failed sign-in (the same waits apply)."""
    now = utcnow()
    throttle.check_allowed(db, email=user.email, ip=ip, now=now)
    typed = _normalize(code)[:CODE_MAX_LENGTH]
    secret = box.decrypt(user.totp_secret) if user.totp_secret else None
    if secret is not None and _accept_totp(user, secret, typed, now):
        return "totp"
    if typed and _accept_recovery(db, user, typed, now):
        return "recovery_code"
    throttle.record_failure(db, policy=policy, email=user.email, ip=ip, now=now)
    record_audit(
        db,
        actor=user,
        action="user.sign_in_failed",
        entity_type="user",
        entity_id=user.id,
        after={"reason": "code"},
        ip=ip,
    )
    raise WrongCodeError(WRONG_CODE)


def disable(
    db: Session,
    *,
    user: User,
    password: str,
    code: str,
    box: SecretBox,
    ip: str | None,
    policy: ThrottlePolicy,
) -> None:
    """Turn two-factor sign-in off: the password and a current code (or a recovery code)
    are both needed, so a borrowed session cannot do it."""
    now = utcnow()
    throttle.check_allowed(db, email=user.email, ip=ip, now=now)
    if not verify_password(user.password_hash, password):
        throttle.record_failure(db, policy=policy, email=user.email, ip=ip, now=now)
        raise UserError(N_("Your current password is wrong. Type it again."))
    verify_code(db, user=user, code=code, box=box, ip=ip, policy=policy)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = 0
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_audit(
        db, actor=user, action="user.two_factor_off", entity_type="user", entity_id=user.id, ip=ip
    )


def set_required(
    db: Session, *, workspace: Workspace, actor: User, required: bool, ip: str | None
) -> None:
    """Require (or no longer require) two-factor sign-in of the workspace's members; the
    owner who requires it must use it."""
    if required and not is_enabled(actor):
        raise UserError(
            N_("Turn on two-factor sign-in for yourself first, on your settings page (/me).")
        )
    before = {"require_two_factor": workspace.require_two_factor}
    workspace.require_two_factor = required
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="workspace.require_two_factor",
        entity_type="workspace",
        entity_id=workspace.id,
        before=before,
        after={"require_two_factor": required},
        ip=ip,
    )
