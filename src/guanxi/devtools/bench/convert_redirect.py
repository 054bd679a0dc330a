"""The redirect half of ``guanxi bench convert``: ``/l/<key>`` under load, then killed.

One real ``guanxi serve`` process (uvicorn, one worker) on a free loopback port, on the
scratch database and a data dir of its own. The client is this process: C keep-alive
connections on one asyncio loop, each sending the next request as soon as the last one is
answered (a closed loop: the load is bounded by C), with a raw HTTP/1.1 writer and reader
so that the client spends as little of the two cores as it can; the CPU time each side used
is measured and reported, since they compete for the same cores.

Lost clicks: after the load, K more redirects are answered and the server is SIGKILLed
right after the K-th answer; a new server on the same data dir stores what the dead one's
journal holds (at its first redirect, as in production), is stopped, and every click id a
redirect handed out is looked for in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from guanxi.convert.models import LinkClick
from guanxi.convert.redirect import CLICK_PARAMETER
from guanxi.core.db import make_engine
from guanxi.devtools.bench.common import BenchError, Progress, percentile
from guanxi.devtools.bench.web_stack import _die_with_parent, free_port

START_TIMEOUT_S = 180.0  # a loaded machine imports the app slowly
SETTLE_TIMEOUT_S = 60.0
# A phone in WeChat's in-app browser (the redirect reads the app and the device from it).
AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.{n} NetType/WIFI Language/zh_CN"
)


@dataclass
class RedirectFigures:
    """What the load and the kill measured."""

    answered: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    server_cpu_s: float = 0.0
    # The server's CPU from the load's start until its copier had stored every click the
    # load was answered with (the copier may lag behind the answers), and how long after.
    server_store_cpu_s: float = 0.0
    stored_after_s: float = 0.0
    client_cpu_s: float = 0.0
    killed_after: int = 0
    click_ids: set[str] = field(default_factory=set)
    stored: int = 0
    lost: int = 0

    @property
    def server_us_per_click(self) -> float:
        """Server CPU microseconds per answered redirect, its storing included."""
        return self.server_store_cpu_s / self.answered * 1e6 if self.answered else 0.0

    @property
    def clicks_per_s(self) -> float:
        """Answered redirects per second of the load."""
        return self.answered / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        """The ``q`` percentile of the latencies, in ms."""
        return percentile(self.latencies_ms, q)


class Server:
    """``guanxi serve`` as a child process, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "guanxi", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = (
                    f"the server stopped at start (exit {self.process.returncode}):\n{self.tail()}"
                )
                raise BenchError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        msg = f"the server did not answer within {START_TIMEOUT_S:.0f} s:\n{self.tail()}"
        raise BenchError(msg)

    def cpu_s(self) -> float:
        """User + system CPU seconds the server used so far (Linux ``/proc``)."""
        if self.process is None:
            return 0.0
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing copied."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """SIGTERM, as a deployment stops it (its shutdown stores the journal's rest)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def tail(self, lines: int = 15) -> str:
        """The last lines the server printed."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server for the block; stopped however the block ends."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class _Load:
    """Shared by the connections of one load."""

    keys: list[str]
    deadline: float
    budget: int  # answers to collect before stopping (0: until the deadline)
    latencies_ms: list[float] = field(default_factory=list)
    click_ids: list[str] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self) -> int | None:
        """The number of the next request, or None when the load is over."""
        if self.done.is_set() or time.perf_counter() >= self.deadline:
            return None
        if self.budget and self.sent >= self.budget:
            return None
        self.sent += 1
        return self.sent


async def _connection(port: int, load: _Load, on_budget: Callable[[], None] | None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (number := load.take()) is not None:
            key = load.keys[number % len(load.keys)]
            request = (
                f"GET /l/{key} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"User-Agent: {AGENT.format(n=number)}\r\n\r\n"
            )
            began = time.perf_counter()
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            elapsed = (time.perf_counter() - began) * 1000
            status, location, length = _read_head(head)
            if length:
                await reader.readexactly(length)
            click_id = parse_qs(urlsplit(location).query).get(CLICK_PARAMETER, [""])[0]
            if status != 302 or not click_id:
                load.errors += 1
                continue
            load.latencies_ms.append(elapsed)
            load.click_ids.append(click_id)
            if load.budget and len(load.click_ids) == load.budget and on_budget is not None:
                load.done.set()
                on_budget()  # the kill: right after the answer, before anything else runs
    finally:
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await writer.wait_closed()


def _read_head(head: bytes) -> tuple[int, str, int]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    location, length = "", 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "location":
            location = value.strip()
        elif name == "content-length":
            length = int(value.strip())
    return status, location, length


async def _run_load(
    port: int,
    *,
    keys: list[str],
    concurrency: int,
    seconds: float,
    budget: int,
    on_budget: Callable[[], None] | None,
) -> _Load:
    load = _Load(keys=keys, deadline=time.perf_counter() + seconds, budget=budget)
    results = await asyncio.gather(
        *(_connection(port, load, on_budget) for _ in range(concurrency)), return_exceptions=True
    )
    load.errors += sum(1 for result in results if isinstance(result, BaseException))
    return load


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (as the server uses): the client's share of the CPU is smaller."""
    try:
        import uvloop  # noqa: PLC0415 - optional; only the benchmark's client needs it

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def measure_redirects(**options: Any) -> RedirectFigures:
    """The load, the kill, the recovery and the count of lost clicks, on a thread of their
    own: the client's event loop must not meet one already running in the caller's thread
    (Playwright's sync API keeps one in a test process)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-redirect") as pool:
        return pool.submit(lambda: _measure_redirects(**options)).result()


def _measure_redirects(
    *,
    env: dict[str, str],
    database_url: str,
    workdir: Path,
    keys: list[str],
    seconds: float,
    concurrency: int,
    kill_after: int,
    progress: Progress,
) -> RedirectFigures:
    """The load, the kill, the recovery and the count of lost clicks."""
    figures = RedirectFigures(killed_after=kill_after)
    log = workdir / "serve.log"
    loop = _event_loop()
    try:
        first = Server(env, log)
        first.start()
        try:
            progress("redirect: warm-up", 0, 1)
            warm = loop.run_until_complete(
                _run_load(
                    first.port,
                    keys=keys,
                    concurrency=concurrency,
                    seconds=1.0,
                    budget=0,
                    on_budget=None,
                )
            )
            figures.click_ids.update(warm.click_ids)
            _wait_stored(database_url, figures.click_ids)  # the load's CPU is the load's own
            progress("redirect: warm-up", 1, 1)
            progress("redirect: load (s)", 0, round(seconds))
            server_before, client_before = first.cpu_s(), time.process_time()
            began = time.perf_counter()
            load = loop.run_until_complete(
                _run_load(
                    first.port,
                    keys=keys,
                    concurrency=concurrency,
                    seconds=seconds,
                    budget=0,
                    on_budget=None,
                )
            )
            figures.seconds = time.perf_counter() - began
            figures.server_cpu_s = first.cpu_s() - server_before
            figures.client_cpu_s = time.process_time() - client_before
            progress("redirect: load (s)", round(seconds), round(seconds))
            figures.answered = len(load.latencies_ms)
            figures.latencies_ms = load.latencies_ms
            figures.errors = load.errors + warm.errors
            figures.click_ids.update(load.click_ids)
            ended = time.perf_counter()
            _wait_stored(database_url, figures.click_ids)
            figures.stored_after_s = time.perf_counter() - ended
            figures.server_store_cpu_s = first.cpu_s() - server_before
            progress("redirect: kill", 0, kill_after)
            killed = loop.run_until_complete(
                _run_load(
                    first.port,
                    keys=keys,
                    concurrency=concurrency,
                    seconds=600.0,
                    budget=kill_after,
                    on_budget=first.kill,
                )
            )
            # Every answer read counts, also those that reached the socket just before the
            # kill; the connections the kill cut are not the server's errors.
            figures.click_ids.update(killed.click_ids)
            progress("redirect: kill", kill_after, kill_after)
        finally:
            first.kill()
        second = Server(env, log)
        with running(second):  # its first redirect stores the dead server's journal
            after = loop.run_until_complete(
                _run_load(
                    second.port, keys=keys, concurrency=1, seconds=10.0, budget=1, on_budget=None
                )
            )
            figures.click_ids.update(after.click_ids)
    finally:
        loop.close()
    figures.stored = _stored(database_url, figures.click_ids)
    figures.lost = len(figures.click_ids) - figures.stored
    return figures


def _wait_stored(database_url: str, click_ids: set[str]) -> None:
    """Wait until the server's copier has stored ``click_ids`` (a BenchError after
    SETTLE_TIMEOUT_S)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while (stored := _stored(database_url, click_ids)) < len(click_ids):
        if time.monotonic() > deadline:
            msg = (
                f"the server stored {stored:,} of {len(click_ids):,} clicks "
                f"{SETTLE_TIMEOUT_S:.0f} s after the load"
            )
            raise BenchError(msg)
        time.sleep(0.25)


def _stored(database_url: str, click_ids: set[str]) -> int:
    """How many of ``click_ids`` the database holds."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = set(connection.scalars(select(LinkClick.click_id)))
    finally:
        engine.dispose()
    return len(click_ids & stored)
