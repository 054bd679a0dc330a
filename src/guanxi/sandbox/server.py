"""Running the sandbox: in a background thread (tests, benchmarks) or as a command."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = "the sandbox did not start"
                raise RuntimeError(msg)
            time.sleep(0.02)
        yield RunningSandbox(base_url=f"http://{host}:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
