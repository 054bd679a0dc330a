"""At most ``GUANXI_WEB_THREADS`` requests inside the application at once; the others wait
their turn, in order, before they take anything.

FastAPI runs each synchronous dependency and the endpoint in the thread pool one after the
other, handing the thread back in between, while the request's database session keeps its
connection. Without a bound on requests, more requests than connections can each hold one
and wait for a thread, while every thread waits for a connection: nothing moves until the
pool's 30 s timeout fails them all (the first errors of ``guanxi bench web``). Admitting
no more requests than the pool has connections makes that impossible.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send


class RequestSlots:
    """Admit ``slots`` HTTP requests at a time; the rest wait, first come first served."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        self._semaphore: anyio.Semaphore | None = None  # made on the serving event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.slots)
        async with self._semaphore:
            await self.app(scope, receive, send)
