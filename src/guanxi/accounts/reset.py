"""Password reset: a signed, single-use link that expires after an hour.

The link carries the user's id and a fingerprint of their password hash, signed with the
instance's secret key. Setting a new password changes the hash, so the link then opens
nothing: it is single-use, and a later password change (or another reset) voids it too.
No row is stored. Asking for a link answers the same whether or not the address has an
account; requests are counted per address and per client in the audit log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.auth import replace_password
from guanxi.accounts.models import AuditEvent, User
from guanxi.accounts.service import get_user_by_email, normalize_email, record_audit
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError

LINK_LIFETIME = timedelta(hours=1)
RESET_PATH = "/login/reset/"
TOKEN_MAX_LENGTH = 300
# Requests for links counted over the last hour, from the audit log.
REQUEST_WINDOW = timedelta(hours=1)
REQUESTS_PER_ADDRESS = 3
REQUESTS_PER_CLIENT = 10
REQUESTED = "user.password_reset_requested"
_SALT = "guanxi password reset"

INVALID_LINK = N_(
    "This reset link is invalid, already used or older than an hour. Ask for a new one."
)


class ResetThrottledError(UserError):
    """Too many reset links asked for; says when to try again."""

    status_code = 429


@dataclass(frozen=True)
class ResetRequest:
    """What asking for a link produced: the link for the e-mail, if the address has an
    account (the page never says which)."""

    user: User | None
    link: str | None


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:32]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_link(*, user: User, secret_key: str, base_url: str) -> str:
    """A reset link for ``user``, valid for an hour or until the password changes."""
    token = _serializer(secret_key).dumps({"u": user.id, "f": _fingerprint(user)})
    return f"{base_url.rstrip('/')}{RESET_PATH}{token}"


def user_for_token(db: Session, *, token: str, secret_key: str) -> User:
    """The user a reset token is for; ``UserError`` when it is forged, used or expired."""
    if len(token) > TOKEN_MAX_LENGTH:
        raise UserError(INVALID_LINK)
    try:
        payload = _serializer(secret_key).loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except (SignatureExpired, BadSignature):
        raise UserError(INVALID_LINK) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise UserError(INVALID_LINK)
    user = db.get(User, payload["u"])
    if user is None or not user.is_active or payload.get("f") != _fingerprint(user):
        raise UserError(INVALID_LINK)
    return user


def request_link(
    db: Session, *, email: str, ip: str | None, secret_key: str, base_url: str
) -> ResetRequest:
    """Count the request and, when the address has an active account, make its link.

    Raises ``ResetThrottledError`` past the limits, whether or not the address is known.
    """
    email = normalize_email(email)
    since = utcnow() - REQUEST_WINDOW
    recent = select(func.count(AuditEvent.id)).where(
        AuditEvent.action == REQUESTED, AuditEvent.created_at > since
    )
    by_address = db.scalar(recent.where(AuditEvent.actor_label == email)) or 0
    by_client = (db.scalar(recent.where(AuditEvent.ip == ip)) or 0) if ip else 0
    if by_address >= REQUESTS_PER_ADDRESS or by_client >= REQUESTS_PER_CLIENT:
        raise ResetThrottledError(
            N_("Too many reset links were asked for. Wait an hour, then try again.")
        )
    user = get_user_by_email(db, email=email)
    known = user is not None and user.is_active
    record_audit(
        db,
        actor=user if known else None,
        actor_label=email or "(empty)",
        action=REQUESTED,
        entity_type="user",
        entity_id=user.id if user is not None and known else "",
        ip=ip,
    )
    if user is None or not known:
        return ResetRequest(user=None, link=None)
    return ResetRequest(
        user=user, link=make_link(user=user, secret_key=secret_key, base_url=base_url)
    )


def issue_link(
    db: Session, *, user: User, actor: User | None, secret_key: str, base_url: str, ip: str | None
) -> str:
    """A reset link an owner (or the command line) hands over when e-mail is not set up."""
    record_audit(
        db,
        actor=actor,
        action="user.password_reset_issued",
        entity_type="user",
        entity_id=user.id,
        after={"for": user.email},
        ip=ip,
    )
    return make_link(user=user, secret_key=secret_key, base_url=base_url)


def reset_password(
    db: Session,
    *,
    token: str,
    new_password: str,
    confirmation: str,
    secret_key: str,
    ip: str | None,
) -> User:
    """Set a new password through a reset link; every session of the user ends and their
    API tokens are revoked, as after a password change. The link is then void."""
    user = user_for_token(db, token=token, secret_key=secret_key)
    replace_password(
        db,
        user=user,
        new_password=new_password,
        confirmation=confirmation,
        action="user.password_reset",
        keep=None,
        ip=ip,
    )
    return user
