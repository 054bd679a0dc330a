"""Connected accounts: creating them, their encrypted secrets, their status and tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors.base import ChannelContext, QuotaExhaustedError, RateLimitedError, Token
from guanxi.core.db import session_scope, utcnow
from guanxi.core.errors import N_, NotFoundError
from guanxi.core.security import SecretBox
from guanxi.core.upsert import get_or_create

# How long one worker may hold the right to fetch a new token before others may take over.
TOKEN_REFRESH_LEASE = timedelta(seconds=30)
# How often a waiting worker looks whether the refresh it waits for has landed.
TOKEN_POLL_INTERVAL_S = 0.05


def create_channel(
    db: Session,
    *,
    workspace: Workspace,
    connector: str,
    platform: str,
    external_id: str,
    name: str,
    credentials: Mapping[str, str],
    box: SecretBox,
    actor: User | None,
    token: Token | None = None,
) -> Channel:
    """Connect an account (or reconnect it, when the same account is connected again)."""
    # Two connect flows of one account (two tabs) may get here at once: one channel.
    channel, created = get_or_create(
        db,
        Channel,
        key={"workspace_id": workspace.id, "connector": connector, "external_id": external_id},
        defaults={"platform": platform, "name": name, "timezone": workspace.timezone},
    )
    before = None if created else {"status": str(channel.status)}
    channel.name = name
    channel.status = ChannelStatus.CONNECTED
    channel.status_reason = ""
    channel.credentials_encrypted = box.encrypt(json.dumps(dict(credentials)))
    if token is not None:
        channel.access_token_encrypted = box.encrypt(token.access_token)
        channel.token_expires_at = token.expires_at
        channel.token_version = (channel.token_version or 0) + 1
    db.flush()
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="channel.connect",
        entity_type="channel",
        entity_id=channel.id,
        before=before,
        after={"connector": connector, "platform": platform, "name": name, "status": "connected"},
    )
    return channel


def get_channel(db: Session, *, workspace: Workspace, channel_id: int) -> Channel:
    """The workspace's channel with this id; NotFound otherwise."""
    channel = db.get(Channel, channel_id)
    if channel is None or channel.workspace_id != workspace.id:
        raise NotFoundError(N_("No such connected account in this workspace."))
    return channel


def list_channels(db: Session, *, workspace: Workspace) -> list[Channel]:
    """The workspace's channels that are not disconnected, by platform then name."""
    query = (
        select(Channel)
        .where(Channel.workspace_id == workspace.id, Channel.status != ChannelStatus.DISCONNECTED)
        .order_by(Channel.platform, Channel.name)
    )
    return list(db.scalars(query))


def credentials_of(channel: Channel, box: SecretBox) -> dict[str, str]:
    """The channel's decrypted long-lived secrets."""
    if not channel.credentials_encrypted:
        return {}
    data: dict[str, str] = json.loads(box.decrypt(channel.credentials_encrypted))
    return data


def mark_needs_reconnect(db: Session, *, channel: Channel, reason: str) -> None:
    """The token failed: the channel's queued posts wait until someone reconnects it."""
    if channel.status == ChannelStatus.NEEDS_RECONNECT:
        return
    before = {"status": str(channel.status)}
    channel.status = ChannelStatus.NEEDS_RECONNECT
    channel.status_reason = reason
    record_audit(
        db,
        actor=None,
        actor_label="system",
        workspace=db.get(Workspace, channel.workspace_id),
        action="channel.needs_reconnect",
        entity_type="channel",
        entity_id=channel.id,
        before=before,
        after={"status": "needs_reconnect", "reason": reason},
    )


def is_paused(channel: Channel, *, now: datetime) -> bool:
    """Whether the platform asked the channel to wait (a rate limit, a spent quota)."""
    return channel.paused_until is not None and channel.paused_until > now


def pause_channel(
    db: Session, *, channel: Channel, error: RateLimitedError | QuotaExhaustedError, now: datetime
) -> datetime:
    """The platform asks to wait: nothing is sent for ``channel`` (for every channel of its
    connector, when the limit is the whole app's) before the time returned. Publishing, the
    inbox and analytics all wait the same way."""
    if isinstance(error, RateLimitedError):
        until = now + timedelta(seconds=max(1.0, error.retry_after_s))
    else:
        until = error.resets_at
    channel.paused_until = max(channel.paused_until or until, until)
    if error.app_wide:
        pause_connector(db, connector=channel.connector, until=until)
    return until


def pause_connector(db: Session, *, connector: str, until: datetime) -> None:
    """An app-wide limit: every channel of ``connector`` waits until ``until``."""
    db.execute(
        update(Channel)
        .where(
            Channel.connector == connector,
            or_(Channel.paused_until.is_(None), Channel.paused_until < until),
        )
        .values(paused_until=until)
        .execution_options(synchronize_session=False)
    )


def disconnect_channel(db: Session, *, channel: Channel, actor: User | None) -> None:
    """Stop acting as the account: forget its secrets; the row stays for history."""
    before = {"status": str(channel.status)}
    channel.status = ChannelStatus.DISCONNECTED
    channel.status_reason = ""
    channel.credentials_encrypted = ""
    channel.access_token_encrypted = ""
    channel.token_expires_at = None
    channel.token_version = (channel.token_version or 0) + 1
    record_audit(
        db,
        actor=actor,
        workspace=db.get(Workspace, channel.workspace_id),
        action="channel.disconnect",
        entity_type="channel",
        entity_id=channel.id,
        before=before,
        after={"status": "disconnected"},
    )


class DbTokenStore:
    """A channel's access token in the database, refreshed single-flight across processes.

    The right to fetch is a lease taken with one atomic UPDATE, so it works the same on
    PostgreSQL and SQLite, across threads and processes: one worker fetches, the others
    wait for ``token_version`` to move and then use the token it stored.
    """

    def __init__(
        self, sessions: sessionmaker[Session], channel_id: int, box: SecretBox, owner: str
    ) -> None:
        self._sessions = sessions
        self._channel_id = channel_id
        self._box = box
        self._owner = owner

    def _read(self, db: Session) -> tuple[Token | None, int]:
        channel = db.get(Channel, self._channel_id, populate_existing=True)
        if channel is None or not channel.access_token_encrypted:
            return None, channel.token_version if channel else 0
        token = Token(
            access_token=self._box.decrypt(channel.access_token_encrypted),
            expires_at=channel.token_expires_at,
        )
        return token, channel.token_version

    def current(self) -> Token | None:
        """The stored token, or None."""
        with session_scope(self._sessions) as db:
            return self._read(db)[0]

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """A token newer than ``stale``: fetched by one worker, shared with the others."""
        deadline = time.monotonic() + TOKEN_REFRESH_LEASE.total_seconds() * 2
        while True:
            with session_scope(self._sessions) as db:
                token, version = self._read(db)
                if token is not None and token != stale and _usable(token):
                    return token
                now = utcnow()
                result = db.execute(
                    update(Channel)
                    .where(
                        Channel.id == self._channel_id,
                        Channel.token_version == version,
                        or_(
                            Channel.token_refresh_lease_until.is_(None),
                            Channel.token_refresh_lease_until < now,
                        ),
                    )
                    .values(token_refresh_lease_until=now + TOKEN_REFRESH_LEASE)
                    .execution_options(synchronize_session=False)
                )
                taken = getattr(result, "rowcount", 0) == 1
            if taken:
                return self._fetch_and_store(fetch, version)
            if time.monotonic() > deadline:
                msg = "timed out waiting for another worker to refresh the access token"
                raise TimeoutError(msg)
            time.sleep(TOKEN_POLL_INTERVAL_S)

    def _fetch_and_store(self, fetch: Callable[[], Token], version: int) -> Token:
        try:
            token = fetch()
        except BaseException:
            with session_scope(self._sessions) as db:
                db.execute(
                    update(Channel)
                    .where(Channel.id == self._channel_id)
                    .values(token_refresh_lease_until=None)
                    .execution_options(synchronize_session=False)
                )
            raise
        with session_scope(self._sessions) as db:
            db.execute(
                update(Channel)
                .where(Channel.id == self._channel_id)
                .values(
                    access_token_encrypted=self._box.encrypt(token.access_token),
                    token_expires_at=token.expires_at,
                    token_version=version + 1,
                    token_refresh_lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        return token


def _usable(token: Token) -> bool:
    # A token about to expire is treated as expired: a request sent now may land after.
    return token.expires_at is None or token.expires_at > utcnow() + timedelta(seconds=60)


def channel_context(
    channel: Channel, *, sessions: sessionmaker[Session], box: SecretBox, owner: str
) -> ChannelContext:
    """What a connector needs to act as ``channel``."""
    return ChannelContext(
        channel_id=channel.id,
        external_id=channel.external_id,
        credentials=credentials_of(channel, box),
        tokens=DbTokenStore(sessions, channel.id, box, owner),
    )
