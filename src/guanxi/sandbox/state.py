"""The sandbox's memory: accounts, apps, issued tokens, published posts, uploaded media.

Everything lives in one process behind one lock; the sandbox is a test double of remote
services, so what matters is that it behaves like them, not that it survives a restart.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from guanxi.core.db import utcnow
from guanxi.sandbox.clock import SandboxClock


@dataclass
class SandboxAccount:
    """An account on a sandboxed platform (a Weibo user, an Official Account, a Douyin user)."""

    platform: str
    account_id: str  # Weibo uid, WeChat AppID, Douyin open_id
    name: str
    secret: str = ""  # WeChat AppSecret; empty elsewhere
    password: str = "sandbox"  # noqa: S105 - the sandbox consent page's fixed password


@dataclass
class SandboxApp:
    """A registered developer app (Weibo App Key, Douyin client key)."""

    platform: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()


@dataclass
class IssuedToken:
    """An access token the sandbox handed out."""

    platform: str
    token: str
    account_id: str
    client_id: str
    expires_at: datetime
    revoked: bool = False
    refresh_token: str = ""

    def valid(self, now: datetime) -> bool:
        """Whether the token still works."""
        return not self.revoked and now < self.expires_at


@dataclass
class SandboxPost:
    """Something published on a sandboxed platform."""

    platform: str
    account_id: str
    post_id: str
    text: str
    created_at: datetime
    title: str = ""
    media: list[str] = field(default_factory=list)
    status: str = "published"  # platforms may add their own: "processing", "reviewing"
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class SandboxMedia:
    """An uploaded file."""

    platform: str
    account_id: str
    media_id: str
    filename: str
    content_type: str
    size: int
    url: str = ""
    data: bytes = b""  # the file itself, where the sandbox shows it (a Weibo post's picture)


class SandboxState:
    """All sandbox data, guarded by one re-entrant lock (``with state.lock:``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[tuple[str, str], SandboxAccount] = {}
        self.apps: dict[tuple[str, str], SandboxApp] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (platform, client, account)
        self.posts: list[SandboxPost] = []
        self.media: dict[str, SandboxMedia] = {}
        self._ids = itertools.count(4_800_000_000_000_000)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.clock = SandboxClock()  # "now" for the figures the platforms report

    def next_id(self) -> str:
        """A fresh numeric id, shaped like the platforms' 16-digit ids."""
        with self.lock:
            return str(next(self._ids))

    def add_account(self, account: SandboxAccount) -> SandboxAccount:
        """Register an account (replacing one with the same platform and id)."""
        with self.lock:
            self.accounts[(account.platform, account.account_id)] = account
        return account

    def add_app(self, app: SandboxApp) -> SandboxApp:
        """Register a developer app."""
        with self.lock:
            self.apps[(app.platform, app.client_id)] = app
        return app

    def issue_token(
        self, *, platform: str, account_id: str, client_id: str, lifetime: timedelta
    ) -> IssuedToken:
        """A new access token for the account (with a refresh token)."""
        token = IssuedToken(
            platform=platform,
            token=f"{platform}.{secrets.token_urlsafe(24)}",
            account_id=account_id,
            client_id=client_id,
            expires_at=utcnow() + lifetime,
            refresh_token=f"{platform}.refresh.{secrets.token_urlsafe(24)}",
        )
        with self.lock:
            self.tokens[token.token] = token
        return token

    def token(self, platform: str, value: str) -> IssuedToken | None:
        """The issued token with this value on this platform, valid or not."""
        with self.lock:
            token = self.tokens.get(value)
        return token if token is not None and token.platform == platform else None

    def revoke_tokens(self, platform: str, account_id: str | None = None) -> int:
        """Revoke every token of a platform (or of one account); returns how many."""
        with self.lock:
            hit = [
                t
                for t in self.tokens.values()
                if t.platform == platform and (account_id is None or t.account_id == account_id)
            ]
            for token in hit:
                token.revoked = True
        return len(hit)

    def add_post(self, post: SandboxPost) -> SandboxPost:
        """Record a published post."""
        with self.lock:
            self.posts.append(post)
        return post

    def posts_of(self, platform: str, account_id: str) -> list[SandboxPost]:
        """An account's posts, newest first."""
        with self.lock:
            found = [p for p in self.posts if p.platform == platform and p.account_id == account_id]
        return sorted(found, key=lambda p: p.created_at, reverse=True)
