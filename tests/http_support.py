"""HTTP clients for the servers a test runs on this machine (the sandbox, the web app).

A loaded CI machine answers slowly, and a read that times out there is not what such a
test is about: reads get ``LOCAL_READ_S``. A test of a platform that never answers makes
only the requests it is about time out, with ``hang_up_on``: every other request of the
test (a token, an upload before the faulted call) keeps the generous timeout.
"""

from __future__ import annotations

from typing import Any

import httpx

LOCAL_READ_S = 30.0
LOCAL_CONNECT_S = 5.0
LOCAL_TIMEOUT = httpx.Timeout(LOCAL_READ_S, connect=LOCAL_CONNECT_S)
HANG_UP_AFTER_S = 1.0  # what a test of a timeout waits; its fault must hang longer


def local_client(
    *, hang_up_on: str | None = None, after_s: float = HANG_UP_AFTER_S, **options: Any
) -> httpx.Client:
    """A client with generous timeouts; with ``hang_up_on``, the requests whose path holds
    it give up after ``after_s`` seconds."""
    hooks: dict[str, list[Any]] = {
        kind: list(found) for kind, found in options.pop("event_hooks", {}).items()
    }
    if hang_up_on is not None:
        short = httpx.Timeout(after_s).as_dict()

        def hang_up(request: httpx.Request) -> None:
            if hang_up_on in request.url.path:
                request.extensions["timeout"] = short

        hooks.setdefault("request", []).append(hang_up)
    return httpx.Client(timeout=LOCAL_TIMEOUT, event_hooks=hooks, **options)


def get(url: str, **options: Any) -> httpx.Response:
    """``httpx.get`` with the generous timeout unless the test gives its own."""
    return httpx.get(url, **{"timeout": LOCAL_TIMEOUT, **options})


def post(url: str, **options: Any) -> httpx.Response:
    """``httpx.post`` with the generous timeout unless the test gives its own."""
    return httpx.post(url, **{"timeout": LOCAL_TIMEOUT, **options})


def put(url: str, **options: Any) -> httpx.Response:
    """``httpx.put`` with the generous timeout unless the test gives its own."""
    return httpx.put(url, **{"timeout": LOCAL_TIMEOUT, **options})
