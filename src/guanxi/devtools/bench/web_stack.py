"""The stack ``guanxi bench web`` measures: what ``guanxi up`` runs, as child processes.

The platform sandbox, a worker and the web app in W processes, each on a free loopback port
with the scratch database's settings; every child dies with the benchmark's process (and
takes its own worker processes along), and its output is kept in a log for the report.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from guanxi.devtools.bench.common import BenchError
from guanxi.devtools.demo.stack import sandbox_environment

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PARTS = ("sandbox", "worker", "web")  # in the order they start


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark's process ends (Linux), and a
    process group of its own, so stopping it stops the web app's worker processes too."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Stack:
    """The sandbox, a worker and the web app as child processes on loopback."""

    def __init__(self, *, env: dict[str, str], web_workers: int, logs: Path) -> None:
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.env = {**env, **sandbox_environment(self.sandbox_port)}
        self.web_workers = web_workers
        self.logs = logs
        self.children: list[subprocess.Popen[bytes]] = []

    @property
    def base_url(self) -> str:
        """Where the web app answers."""
        return f"http://127.0.0.1:{self.web_port}"

    def processes(self) -> dict[str, int]:
        """Each running part's process id, by name (the web app's is its first process)."""
        return dict(zip(PARTS, (child.pid for child in self.children), strict=False))

    def _start(self, name: str, *arguments: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:  # the child keeps its own copy
            self.children.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    [sys.executable, "-m", "guanxi", *arguments],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,  # noqa: PLW1509
                )
            )

    def start(self) -> None:
        """Start every part and wait until the sandbox and the web app answer."""
        self._start("sandbox", "sandbox", "--port", str(self.sandbox_port))
        self._start("worker", "worker", "--workers", "1")
        self._start(
            "web", "serve", "--port", str(self.web_port), "--workers", str(self.web_workers)
        )
        self._wait_for(f"http://127.0.0.1:{self.sandbox_port}/_sandbox/health")
        self._wait_for(f"{self.base_url}/healthz")

    def _wait_for(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for child, name in zip(self.children, PARTS, strict=False):
                if child.poll() is not None:
                    msg = f"the {name} stopped at start (exit {child.returncode})"
                    raise BenchError(f"{msg}:\n{self.log_tails()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        msg = f"{url} did not answer within {START_TIMEOUT_S:.0f} s"
        raise BenchError(f"{msg}:\n{self.log_tails()}")

    def log_tails(self, lines: int = 8) -> str:
        """The last lines each part printed (the logs go with the scratch directory)."""
        tails = []
        for log in sorted(self.logs.glob("*.log")):
            last = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.stem}\n" + "\n".join(last))
        return "\n".join(tails)

    def stop(self) -> None:
        """Stop every part and the processes it started."""
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.clear()


def child_environment(*, database_url: str, data_dir: Path, secret_key: str) -> dict[str, str]:
    """The stack's settings: the scratch database, its own data dir, one secret key."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUANXI_")}
    return {
        **env,
        "GUANXI_DATABASE_URL": database_url,
        "GUANXI_DATA_DIR": str(data_dir),
        "GUANXI_SECRET_KEY": secret_key,
        "GUANXI_SMTP_HOST": "",
    }


@contextlib.contextmanager
def running_stack(env: dict[str, str], *, web_workers: int, logs: Path) -> Iterator[Stack]:
    """The stack for the block; stopped however the block ends."""
    stack = Stack(env=env, web_workers=web_workers, logs=logs)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
