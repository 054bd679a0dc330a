"""Security headers on every response, and the Content-Security-Policy's per-request nonce.

The headers are added by a pure ASGI middleware wrapped around the whole application
(outside Starlette's error middleware), so error pages, static files, redirects and
responses of other middleware carry them too. A response that sets one of these headers
itself keeps its own value.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE_KEY = "csp_nonce"
FORM_TARGETS_KEY = "csp_form_targets"
# A year of HTTPS-only for the whole host, once the instance is served over HTTPS.
HSTS = "max-age=31536000; includeSubDomains"
# Browser features the app never uses; a script injected despite the CSP cannot use them either.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def content_security_policy(nonce: str, *, form_targets: Iterable[str] = ()) -> str:
    """The policy: only the app's own scripts, styles, images and connections.

    Inline ``<script>`` and ``<style>`` elements run only with ``nonce``; inline
    ``style="…"`` attributes and event-handler attributes never do. ``form_targets`` are
    further origins a form on the page may lead to (a platform's sign-in page).
    """
    form_action = " ".join(["'self'", *form_targets])
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        f"form-action {form_action}",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def security_headers(
    nonce: str, *, https_only: bool, form_targets: Iterable[str] = ()
) -> dict[str, str]:
    """Every header the app sends on every response, for a request with ``nonce``."""
    headers = {
        "Content-Security-Policy": content_security_policy(nonce, form_targets=form_targets),
        # Clickjacking, content sniffing, addresses leaked to other sites, foreign windows.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https_only:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def csp_nonce(request: Request) -> str:
    """The nonce an inline ``<script>`` or ``<style>`` of this response must carry."""
    nonce = request.scope.get("state", {}).get(NONCE_KEY, "")
    return nonce if isinstance(nonce, str) else ""


def allow_form_targets(request: Request, *origins: str) -> None:
    """Let the page's forms lead to ``origins`` too (a form that redirects to a sign-in)."""
    targets = request.scope.setdefault("state", {}).setdefault(FORM_TARGETS_KEY, [])
    targets.extend(origin for origin in origins if origin not in targets)


class SecurityHeadersMiddleware:
    """Give each HTTP request a fresh nonce and each response the security headers."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        nonce = secrets.token_urlsafe(18)
        state[NONCE_KEY] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                targets = state.get(FORM_TARGETS_KEY, ())
                wanted = security_headers(nonce, https_only=self.https_only, form_targets=targets)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
