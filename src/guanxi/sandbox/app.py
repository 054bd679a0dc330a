"""The sandbox server: platform surfaces, fault injection, admin endpoints, account pages."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from guanxi.sandbox.audience import account_section
from guanxi.sandbox.audience import install as install_audience
from guanxi.sandbox.faults import FaultKind, FaultPlan, FaultRule
from guanxi.sandbox.metrics import install as install_metrics
from guanxi.sandbox.ratelimit import RateLimiter
from guanxi.sandbox.state import SandboxPost, SandboxState

MEDIA_PATH = "/_sandbox/media"  # where the sandbox's pages show uploaded pictures


@dataclass
class PlatformSurface:
    """One platform's API as the sandbox serves it, under ``prefix`` (e.g. ``/weibo``).

    ``server_error`` and ``rate_limited`` render that platform's own error shapes, so an
    injected fault looks exactly like the real platform failing.
    """

    platform: str
    prefix: str
    router: APIRouter
    server_error: Callable[[], Response]
    rate_limited: Callable[[], Response]
    seed_demo: Callable[[SandboxState], None] = lambda _state: None
    account_links: Callable[[SandboxState], list[tuple[str, str]]] = field(
        default=lambda _state: []
    )


@dataclass
class Sandbox:
    """Everything a surface needs at request time (``request.app.state.sandbox``)."""

    state: SandboxState
    faults: FaultPlan
    limiter: RateLimiter
    surfaces: list[PlatformSurface]


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def surfaces() -> list[PlatformSurface]:
    """Every platform surface the sandbox serves."""
    from guanxi.sandbox.douyin import douyin_surface  # noqa: PLC0415 - cycle: the douyin surface imports this module
    from guanxi.sandbox.wechat import wechat_surface  # noqa: PLC0415 - cycle: the wechat surface imports this module
    from guanxi.sandbox.weibo import weibo_surface  # noqa: PLC0415 - cycle: the weibo surface imports this module
    from guanxi.sandbox.weibo_search import weibo_search_surface  # noqa: PLC0415 - cycle: the weibo_search surface imports this module

    return [douyin_surface(), wechat_surface(), weibo_surface(), weibo_search_surface()]


def create_sandbox_app(
    state: SandboxState | None = None,
    *,
    seed: int = 0,
    demo: bool = True,
    platform_surfaces: list[PlatformSurface] | None = None,
) -> FastAPI:
    """The sandbox application; ``demo`` seeds the demo accounts and apps."""
    state = state or SandboxState()
    served = platform_surfaces if platform_surfaces is not None else surfaces()
    sandbox = Sandbox(state=state, faults=FaultPlan(seed), limiter=RateLimiter(), surfaces=served)
    app = FastAPI(title="guanxi sandbox", docs_url="/_sandbox/docs", redoc_url=None)
    app.state.sandbox = sandbox
    for surface in served:
        app.include_router(surface.router, prefix=surface.prefix)
        if demo:
            surface.seed_demo(state)

    @app.middleware("http")
    async def inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        surface = next((s for s in served if request.url.path.startswith(s.prefix + "/")), None)
        if surface is None:
            return await call_next(request)
        path = request.url.path.removeprefix(surface.prefix)
        state.requests.append((request.method, request.url.path))
        hang_after = 0.0
        for rule in sandbox.faults.draw(surface.platform, path):
            if rule.kind is FaultKind.LATENCY:
                await asyncio.sleep(rule.delay_s)
            elif rule.kind is FaultKind.SERVER_ERROR:
                return surface.server_error()
            elif rule.kind is FaultKind.RATE_LIMIT:
                return surface.rate_limited()
            elif rule.kind is FaultKind.REVOKE_TOKEN:
                state.revoke_tokens(surface.platform)
            elif rule.kind is FaultKind.TIMEOUT_AFTER_ACCEPT:
                hang_after = max(hang_after, rule.delay_s)
        response = await call_next(request)
        if hang_after:
            # The work is done (the post exists); the client just never hears back in time.
            await asyncio.sleep(hang_after)
        return response

    _admin_routes(app, sandbox)
    _pages(app, sandbox)
    install_audience(app, state, seed=seed)
    install_metrics(app, state, seed=seed)
    return app


def _admin_routes(app: FastAPI, sandbox: Sandbox) -> None:
    @app.get("/_sandbox/faults")
    def list_faults() -> list[dict[str, Any]]:
        return [rule.to_dict() for rule in sandbox.faults.rules()]

    @app.post("/_sandbox/faults", status_code=201)
    def add_fault(rule: dict[str, Any]) -> dict[str, Any]:
        try:
            parsed = FaultRule(**{**rule, "kind": FaultKind(rule.get("kind", ""))})
            sandbox.faults.add(parsed)
        except (TypeError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return parsed.to_dict()

    @app.delete("/_sandbox/faults", status_code=204)
    def clear_faults() -> Response:
        sandbox.faults.clear()
        return Response(status_code=204)

    @app.get("/_sandbox/posts")
    def list_posts(platform: str = "", account_id: str = "") -> list[dict[str, Any]]:
        with sandbox.state.lock:
            posts = list(sandbox.state.posts)
        return [
            {
                "platform": p.platform,
                "account_id": p.account_id,
                "post_id": p.post_id,
                "title": p.title,
                "text": p.text,
                "status": p.status,
                "deleted": p.deleted,
                "created_at": p.created_at.isoformat(),
                "media": p.media,
                "extra": p.extra,
            }
            for p in posts
            if (not platform or p.platform == platform)
            and (not account_id or p.account_id == account_id)
        ]

    @app.post("/_sandbox/revoke", status_code=200)
    def revoke(platform: str, account_id: str | None = None) -> dict[str, int]:
        return {"revoked": sandbox.state.revoke_tokens(platform, account_id)}

    @app.get(MEDIA_PATH + "/{media_id}")
    def media_file(media_id: str) -> Response:
        with sandbox.state.lock:
            media = sandbox.state.media.get(media_id)
        if media is None or not media.data:
            return Response(status_code=404)
        return Response(media.data, media_type=media.content_type or "application/octet-stream")

    @app.get("/_sandbox/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}


def _pages(app: FastAPI, sandbox: Sandbox) -> None:
    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        with sandbox.state.lock:
            accounts = sorted(sandbox.state.accounts.values(), key=lambda a: (a.platform, a.name))
        rows = "".join(
            f'<li><a href="/accounts/{html.escape(a.platform)}/{html.escape(a.account_id)}">'
            f"{html.escape(a.platform)} · {html.escape(a.name)}</a></li>"
            for a in accounts
        )
        return _page("guanxi sandbox", f"<h1>Sandbox accounts</h1><ul>{rows}</ul>")

    @app.get("/accounts/{platform}/{account_id}", response_class=HTMLResponse)
    def account_page(platform: str, account_id: str) -> HTMLResponse:
        account = sandbox.state.accounts.get((platform, account_id))
        if account is None:
            return HTMLResponse(_page("Not found", "<h1>No such sandbox account</h1>"), 404)
        items = "".join(
            f'<article class="post" data-post-id="{html.escape(p.post_id)}">'
            f"<header>{p.created_at:%Y-%m-%d %H:%M:%S} UTC · {html.escape(p.status)}"
            f"{' · deleted' if p.deleted else ''}</header>"
            f"{f'<h2>{html.escape(p.title)}</h2>' if p.title else ''}"
            f"<p>{html.escape(p.text)}</p>{_pictures(sandbox.state, p)}</article>"
            for p in sandbox.state.posts_of(platform, account_id)
        )
        body = (
            f'<p><a href="/">All accounts</a></p><h1>{html.escape(account.name)}</h1>'
            f"<p>{html.escape(platform)} · {html.escape(account_id)}</p>"
            f"{items or '<p>Nothing published yet.</p>'}"
            f"{account_section(sandbox.state, platform, account_id)}"
        )
        return HTMLResponse(_page(account.name, body))


def _pictures(state: SandboxState, post: SandboxPost) -> str:
    """The pictures uploaded with ``post`` that the sandbox kept."""
    with state.lock:
        kept = [m for m in post.extra.get("media_ids", []) if m in state.media]
    return "".join(
        f'<img src="{MEDIA_PATH}/{html.escape(media_id)}" alt="" style="max-width:100%">'
        for media_id in kept
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · sandbox</title><style>"
        "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:760px;margin:2rem auto}"
        ".post{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;margin:.6rem 0}"
        ".post header{color:#666;font-size:.85rem}</style></head>"
        f"<body>{body}</body></html>"
    )


def json_error(status_code: int, body: dict[str, Any]) -> JSONResponse:
    """A platform-shaped JSON error response."""
    return JSONResponse(body, status_code=status_code)
