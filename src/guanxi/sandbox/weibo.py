"""The sandbox's Weibo: the v2 API surface guanxi uses, as open.weibo.com documents it.

Served under ``/weibo`` (so ``GUANXI_WEIBO_API_BASE=http://127.0.0.1:8100/weibo`` stands in
for ``https://api.weibo.com``): the OAuth2 authorization-code flow (``weibo_oauth``), the
statuses a third-party app may write (``weibo_statuses``), comments and mentions
(``weibo_engage``), figures (``weibo_metrics``) and each post's page (``weibo_pages``).
Errors use Weibo's JSON shape ``{"request", "error_code", "error"}`` with its codes; tokens
expire; per-IP, per-user and per-user ``statuses/share`` hourly limits are enforced with
the sandbox ``RateLimiter`` (``weibo_calls``). This module holds the surface's state, its
limits and the demo accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import APIRouter

from guanxi.core.db import utcnow
from guanxi.sandbox import weibo_engage, weibo_oauth, weibo_pages, weibo_statuses
from guanxi.sandbox.app import PlatformSurface
from guanxi.sandbox.state import IssuedToken, SandboxAccount, SandboxApp, SandboxState
from guanxi.sandbox.weibo_calls import PLATFORM, PREFIX, _error
from guanxi.sandbox.weibo_oauth import PendingCode
from guanxi.sandbox.weibo_statuses import share_text_length

__all__ = [
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET",
    "DEMO_SAFE_DOMAIN",
    "DEMO_WEIBO_NAME",
    "DEMO_WEIBO_TOKEN",
    "DEMO_WEIBO_UID",
    "PLATFORM",
    "PREFIX",
    "SECOND_WEIBO_NAME",
    "SECOND_WEIBO_UID",
    "WeiboLimits",
    "WeiboSandbox",
    "share_text_length",
    "weibo_surface",
]

# The demo app guanxi's demo workspace is configured with, and its registered safe domain.
DEMO_APP_KEY = "3718504626"
DEMO_APP_SECRET = "sandbox-weibo-demo-app-secret-5f0c1e"  # noqa: S105 - sandbox-only
DEMO_SAFE_DOMAIN = "provence-wine.example"
# The demo brand account, with a long-lived token so the demo needs no OAuth click-through.
DEMO_WEIBO_UID = "5821937460"
DEMO_WEIBO_NAME = "普罗旺斯葡萄酒官方微博"
DEMO_WEIBO_TOKEN = "2.00sandboxDemoProvenceWineLongLivedToken"  # noqa: S105 - sandbox-only
SECOND_WEIBO_UID = "6032174958"
SECOND_WEIBO_NAME = "葡萄酒小课堂"


@dataclass
class WeiboLimits:
    """The sandbox's limits: small by default so tests and the demo can reach them.

    Weibo counts requests per hour: per IP (an app's server), per user and app, and per
    user for writing endpoints such as ``statuses/share``.
    """

    token_lifetime: timedelta = timedelta(days=7)
    ip_requests_per_hour: int = 1000  # error 10022
    user_requests_per_hour: int = 150  # error 10023
    user_shares_per_hour: int = 30  # error 10024, statuses/share
    repeat_window: timedelta = timedelta(hours=24)  # error 20019 for the same text within it


@dataclass
class WeiboSandbox:
    """The Weibo surface's own state: limits, safe domains of apps, pending codes."""

    limits: WeiboLimits = field(default_factory=WeiboLimits)
    safe_domains: dict[str, str] = field(default_factory=dict)  # client_id -> domain
    codes: dict[str, PendingCode] = field(default_factory=dict)

    def add_app(self, state: SandboxState, app: SandboxApp, safe_domain: str) -> SandboxApp:
        """Register a developer app with its safe domain (安全域名)."""
        self.safe_domains[app.client_id] = safe_domain
        return state.add_app(app)

    def seed_demo(self, state: SandboxState) -> None:
        """The demo app, two brand accounts, and a long-lived token for the first."""
        self.add_app(
            state,
            SandboxApp(platform=PLATFORM, client_id=DEMO_APP_KEY, client_secret=DEMO_APP_SECRET),
            DEMO_SAFE_DOMAIN,
        )
        state.add_account(SandboxAccount(PLATFORM, DEMO_WEIBO_UID, DEMO_WEIBO_NAME))
        state.add_account(SandboxAccount(PLATFORM, SECOND_WEIBO_UID, SECOND_WEIBO_NAME))
        with state.lock:
            state.tokens[DEMO_WEIBO_TOKEN] = IssuedToken(
                platform=PLATFORM,
                token=DEMO_WEIBO_TOKEN,
                account_id=DEMO_WEIBO_UID,
                client_id=DEMO_APP_KEY,
                expires_at=utcnow() + timedelta(days=3650),
            )

    def surface(self) -> PlatformSurface:
        """The surface to serve (``create_sandbox_app(platform_surfaces=[...])``)."""
        return PlatformSurface(
            platform=PLATFORM,
            prefix=PREFIX,
            router=_router(self),
            server_error=lambda: _error("", 10009, "Too many pending tasks, system is busy", 503),
            rate_limited=lambda: _error("", 10023, "User requests out of rate limit!", 403),
            seed_demo=self.seed_demo,
            account_links=lambda state: [
                (a.name, f"/accounts/{PLATFORM}/{a.account_id}")
                for a in state.accounts.values()
                if a.platform == PLATFORM
            ],
        )


def weibo_surface(limits: WeiboLimits | None = None) -> PlatformSurface:
    """The Weibo surface with ``limits`` (the defaults when not given)."""
    return WeiboSandbox(limits=limits or WeiboLimits()).surface()


def _router(weibo: WeiboSandbox) -> APIRouter:
    router = APIRouter()
    weibo_oauth.register(router, weibo)
    weibo_statuses.register(router, weibo)
    weibo_engage.register(router, weibo)
    weibo_pages.register(router)
    from guanxi.sandbox import weibo_metrics  # noqa: PLC0415 - cycle: weibo_metrics imports this module

    weibo_metrics.register(router, weibo)
    return router
