"""Where a request's time went: the ``Server-Timing`` header and the slow-request log.

Every response says how long the database (``db``), template
rendering (``render``) and the whole application (``app``) took, in milliseconds; browsers
show it in their network panel. With ``GUANXI_SLOW_REQUEST_MS`` set, a request slower than
that is logged with its slowest statements, each with its count and total time, so a slow
page names its cause.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import perf_counter

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guanxi.core import querytiming
from guanxi.core.querytiming import QueryTimes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RequestTiming:
    """The time one request spent in the database and in templates, in seconds."""

    queries: QueryTimes = field(default_factory=QueryTimes)
    render_seconds: float = 0.0

    def header(self, total_seconds: float) -> str:
        """The ``Server-Timing`` value, durations in milliseconds.

        No query count: it could tell a visitor which branch a request took (a known
        e-mail address at sign-in, say) more plainly than the durations do.
        """
        return (
            f'db;dur={self.queries.seconds * 1000:.1f};desc="database", '
            f"render;dur={self.render_seconds * 1000:.1f}, app;dur={total_seconds * 1000:.1f}"
        )


_current: ContextVar[RequestTiming | None] = ContextVar("guanxi_request_timing", default=None)


@contextmanager
def rendering() -> Iterator[None]:
    """Count the time inside towards the request's template rendering."""
    started = perf_counter()
    try:
        yield
    finally:
        timing = _current.get()
        if timing is not None:
            timing.render_seconds += perf_counter() - started


class ServerTimingMiddleware:
    """Adds ``Server-Timing`` to every HTTP response; logs requests slower than
    ``slow_request_ms`` (0: none) with their queries."""

    def __init__(self, app: ASGIApp, *, slow_request_ms: int = 0) -> None:
        self.app = app
        self.slow_seconds = slow_request_ms / 1000 if slow_request_ms > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Statements are kept only when a slow request is to be logged with them.
        queries = QueryTimes(by_statement={} if self.slow_seconds is not None else None)
        timing = RequestTiming(queries=queries)
        token = _current.set(timing)
        queries_token = querytiming.track(queries)
        started = perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Server-Timing", timing.header(perf_counter() - started))
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            querytiming.untrack(queries_token)
            _current.reset(token)
            total = perf_counter() - started
            if self.slow_seconds is not None and total >= self.slow_seconds:
                _log_slow(scope, timing, total)


def _log_slow(scope: Scope, timing: RequestTiming, total: float) -> None:
    queries = timing.queries
    lines = [
        f"  {times.count}× {times.seconds * 1000:.1f} ms  {statement}"
        for statement, times in queries.slowest()
    ]
    log.warning(
        "slow request %s %s: %.1f ms (database %.1f ms in %d queries, render %.1f ms)%s",
        scope.get("method", ""),
        scope.get("path", ""),
        total * 1000,
        queries.seconds * 1000,
        queries.count,
        timing.render_seconds * 1000,
        "".join("\n" + line for line in lines),
    )
