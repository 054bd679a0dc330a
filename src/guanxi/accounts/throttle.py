"""Sign-in throttling: growing waits after failed sign-ins, counted in the database.

Three counts slow a guesser down without letting anyone lock a person out:

- per **account and client address**: after ``account_address_free`` failures, that client
  waits before trying that account again; the wait doubles with each further failure;
- per **client address**: after ``address_free`` failures on any accounts, the address
  waits before trying any account (a flood from one client);
- per **account**: after ``account_free`` failures from anywhere, clients that have been
  failing wait before trying that account again, while a client that has not failed (the
  owner on another network) still signs in with the right password.

A wait starts at ``FIRST_WAIT`` and doubles up to ``longest_wait``; a count is forgotten
after ``longest_wait`` with no failure once its wait is over. Counts live in the
database, so every web process sees the same ones. docs/security.md has the why.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guanxi.accounts.models import SignInThrottle, ThrottleScope
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings

FIRST_WAIT = timedelta(seconds=30)
UNKNOWN_ADDRESS = "unknown"
WAIT_SECONDS = N_("Too many failed sign-ins. Wait {seconds} seconds, then try again.")
WAIT_MINUTES = N_("Too many failed sign-ins. Wait {minutes} minutes, then try again.")
NETWORK_WAIT_SECONDS = N_(
    "Too many failed sign-ins from your network. Wait {seconds} seconds, then try again."
)
NETWORK_WAIT_MINUTES = N_(
    "Too many failed sign-ins from your network. Wait {minutes} minutes, then try again."
)


class LoginThrottledError(UserError):
    """Too many failed sign-ins; says how long to wait (also in ``retry_after`` seconds)."""

    status_code = 429

    def __init__(self, *, scope: ThrottleScope, wait: timedelta) -> None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        from_network = scope is ThrottleScope.ADDRESS
        if seconds < 120:
            message = NETWORK_WAIT_SECONDS if from_network else WAIT_SECONDS
            super().__init__(message, seconds=seconds)
        else:
            message = NETWORK_WAIT_MINUTES if from_network else WAIT_MINUTES
            super().__init__(message, minutes=math.ceil(seconds / 60))
        self.retry_after = seconds


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures each count allows before waits begin, and the longest wait."""

    account_address_free: int
    account_free: int
    address_free: int
    longest_wait: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        """The policy the instance is configured with (docs/configuration.md)."""
        return cls(
            account_address_free=settings.login_max_failures,
            account_free=settings.login_account_max_failures,
            address_free=settings.login_address_max_failures,
            longest_wait=timedelta(minutes=settings.login_lock_minutes),
        )

    def free(self, scope: ThrottleScope) -> int:
        """Failures this count allows before each further one makes the client wait."""
        return {
            ThrottleScope.ACCOUNT_ADDRESS: self.account_address_free,
            ThrottleScope.ACCOUNT: self.account_free,
            ThrottleScope.ADDRESS: self.address_free,
        }[scope]

    def wait_after(self, failures: int, scope: ThrottleScope) -> timedelta | None:
        """The wait after the ``failures``-th failure; None while failures are still free."""
        excess = failures - self.free(scope)
        if excess < 0:
            return None
        if excess >= 32:  # 2**32 times FIRST_WAIT is past any sensible longest wait
            return self.longest_wait
        wait: timedelta = FIRST_WAIT * 2**excess
        return min(wait, self.longest_wait)


def _keys(*, email: str, ip: str | None) -> dict[ThrottleScope, str]:
    address = ip or UNKNOWN_ADDRESS

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    return {
        ThrottleScope.ADDRESS: digest(address),
        ThrottleScope.ACCOUNT: digest(email),
        ThrottleScope.ACCOUNT_ADDRESS: digest(f"{email}\n{address}"),
    }


def check_allowed(db: Session, *, email: str, ip: str | None, now: datetime) -> None:
    """Raise ``LoginThrottledError`` when this client must wait before trying this account."""
    keys = _keys(email=email, ip=ip)
    rows = {
        row.scope: row
        for row in db.scalars(
            select(SignInThrottle).where(
                SignInThrottle.key.in_(keys.values()), SignInThrottle.forget_at > now
            )
        )
        if keys.get(ThrottleScope(row.scope)) == row.key
    }

    def blocked(scope: ThrottleScope) -> timedelta | None:
        row = rows.get(scope)
        if row is None or row.blocked_until is None or row.blocked_until <= now:
            return None
        return row.blocked_until - now

    for scope in (ThrottleScope.ADDRESS, ThrottleScope.ACCOUNT_ADDRESS):
        wait = blocked(scope)
        if wait is not None:
            raise LoginThrottledError(scope=scope, wait=wait)
    # An attack on the account holds back only the clients that have been failing.
    address = rows.get(ThrottleScope.ADDRESS)
    wait = blocked(ThrottleScope.ACCOUNT)
    if wait is not None and address is not None and address.failures > 0:
        raise LoginThrottledError(scope=ThrottleScope.ACCOUNT, wait=wait)


def record_failure(
    db: Session, *, policy: ThrottlePolicy, email: str, ip: str | None, now: datetime
) -> None:
    """Count a failed sign-in in every scope; the caller commits even when it then raises."""
    # Forgotten counts go; rows another sign-in is counting on are skipped, not waited for.
    forgotten = (
        select(SignInThrottle.id)
        .where(SignInThrottle.forget_at <= now)
        .with_for_update(skip_locked=True)
    )
    db.execute(delete(SignInThrottle).where(SignInThrottle.id.in_(forgotten.scalar_subquery())))
    # Always in the same order, so concurrent sign-ins lock the rows without deadlocking.
    for scope, key in sorted(_keys(email=email, ip=ip).items()):
        _count(db, policy=policy, scope=scope, key=key, now=now)


def _count(
    db: Session, *, policy: ThrottlePolicy, scope: ThrottleScope, key: str, now: datetime
) -> None:
    # Insert first: the write lock (SQLite) or the row lock below (PostgreSQL) makes the
    # read-and-update one step, so parallel failures are all counted.
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(
        insert(SignInThrottle)
        .values(scope=scope.value, key=key, failures=0, forget_at=now + policy.longest_wait)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    row = db.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.scope == scope.value, SignInThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.forget_at <= now:  # a forgotten count that was not deleted yet starts again
        row.failures, row.blocked_until = 0, None
    row.failures += 1
    wait = policy.wait_after(row.failures, scope)
    if wait is not None:
        row.blocked_until = max(now + wait, row.blocked_until or now)
    row.forget_at = max(now, row.blocked_until or now) + policy.longest_wait
    db.flush()


def record_success(db: Session, *, email: str, ip: str | None) -> None:
    """The right password forgets the count of this account from this client only: a guesser
    with an account of their own must not clear their address's count between guesses."""
    key = _keys(email=email, ip=ip)[ThrottleScope.ACCOUNT_ADDRESS]
    db.execute(
        update(SignInThrottle)
        .where(
            SignInThrottle.scope == ThrottleScope.ACCOUNT_ADDRESS.value, SignInThrottle.key == key
        )
        .values(failures=0, blocked_until=None)
    )
