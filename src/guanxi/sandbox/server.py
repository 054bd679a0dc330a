"""Running the sandbox: in a background thread (tests, benchmarks) or as a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from guanxi.core.serving import serve_in_thread
from guanxi.sandbox.app import Sandbox, create_sandbox_app


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on localhost."""

    base_url: str
    app: FastAPI

    @property
    def sandbox(self) -> Sandbox:
        """Its state, faults and limiter, for tests to inspect and steer."""
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    def api_base(self, platform_prefix: str) -> str:
        """The base URL a connector is configured with, e.g. ``api_base("/weibo")``."""
        return self.base_url + platform_prefix


@contextmanager
def run_in_thread(app: FastAPI | None = None, host: str = "127.0.0.1") -> Iterator[RunningSandbox]:
    """Serve the sandbox on a free port until the block ends."""
    app = app or create_sandbox_app()
    with serve_in_thread(app, host) as base_url:
        yield RunningSandbox(base_url=base_url, app=app)
