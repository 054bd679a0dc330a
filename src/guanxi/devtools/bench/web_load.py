"""``guanxi bench web``: simulated people of all four roles working in the web app at once.

1. a scratch database (SQLite, or a database made on a PostgreSQL server and dropped at
   the end) filled with the demo and a realistic volume (``web_data``);
2. the stack ``guanxi up`` runs, as child processes on free loopback ports: the platform
   sandbox, a worker and the web app in W processes; each child dies with this process
   (``web_stack``);
3. N people sign in through the real ``/login`` form, then browse and work as community
   managers do (pages, HTMX partials, chart APIs, notes, assignments, replies, approvals,
   drafts) with a think time, until S seconds or the request budget are spent
   (``web_people``);
4. the report: requests/s, p50/p95/p99 per page kind and overall, every error with its
   cause, and the last line ``people=<n> rps=<x> p95_ms=<y> errors=<z>`` (``web_results``).
"""

from __future__ import annotations

import asyncio
import importlib
import secrets
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from guanxi.core.db import make_engine
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    in_own_thread,
    no_progress,
    scratch_database,
)
from guanxi.devtools.bench.web_cpu import CpuMeter
from guanxi.devtools.bench.web_data import fill_demo_database
from guanxi.devtools.bench.web_people import simulate
from guanxi.devtools.bench.web_results import WebBenchConfig, WebBenchResult
from guanxi.devtools.bench.web_stack import child_environment, running_stack
from guanxi.inbox.items.models import InternalNote
from guanxi.inbox.replies.models import Reply
from guanxi.publishing.models import Approval, Post

__all__ = ["WebBenchConfig", "WebBenchResult", "run_in_own_loop", "run_web_bench"]


def run_web_bench(config: WebBenchConfig, *, progress: Progress = no_progress) -> WebBenchResult:
    """Fill a scratch database, start the stack, let the people work, stop everything."""
    if config.people < 1 or config.seconds <= 0:
        msg = "--people must be at least 1 and --seconds more than 0"
        raise BenchError(msg)
    with (
        tempfile.TemporaryDirectory(prefix="guanxi-bench-web-") as workdir,
        scratch_database(config.database_url, Path(workdir)) as url,
    ):
        data_dir = Path(workdir) / "data"
        secret_key = secrets.token_urlsafe(48)
        settings = Settings(
            database_url=url, data_dir=data_dir, smtp_host="", secret_key=secret_key
        )
        data = fill_demo_database(
            url, settings=settings, people=config.people, volume=config.volume, progress=progress
        )
        env = child_environment(database_url=url, data_dir=data_dir, secret_key=secret_key)
        with running_stack(env, web_workers=config.web_workers, logs=Path(workdir)) as stack:
            cpu = CpuMeter(
                trees={CPU_PARTS[name]: pid for name, pid in stack.processes().items()},
                database=local_database(url),
            )
            result = run_in_own_loop(
                lambda: simulate(
                    data, base_url=stack.base_url, config=config, progress=progress, cpu=cpu
                )
            )
        result.stored = stored_writes(url)
        if result.errors:  # the causes are in the server's log: keep it past the scratch dir
            result.logs = Path(tempfile.mkdtemp(prefix="guanxi-bench-web-logs-"))
            for log in Path(workdir).glob("*.log"):
                shutil.copy(log, result.logs / log.name)
        return result


T = TypeVar("T")
# The stack's parts as the CPU report names them.
CPU_PARTS = {
    "web": "web app (every process)",
    "worker": "worker",
    "sandbox": "platform sandbox",
}


def local_database(url: str) -> str:
    """The database's name when it is a PostgreSQL server's on this machine, else ""."""
    parsed = make_url(url)
    local = parsed.host in (None, "", "localhost", "127.0.0.1", "::1")
    return parsed.database or "" if parsed.get_backend_name() == "postgresql" and local else ""


def run_in_own_loop(make: Callable[[], Coroutine[object, object, T]]) -> T:
    """Run the coroutine ``make()`` builds on an event loop of its own thread, so that the
    benchmark also runs where the caller's thread already has a loop running; uvloop's
    loop where installed (as the web app's: a lighter load generator)."""

    def run() -> T:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(make())

    return in_own_thread(run)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        uvloop = importlib.import_module("uvloop")  # not on Windows
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def stored_writes(url: str) -> dict[str, int]:
    """What the people's writes left in the database: notes, drafts, approvals, replies."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                "notes": select(func.count(InternalNote.id)).where(
                    InternalNote.text.like("bench note %")
                ),
                "drafts": select(func.count(Post.id)).where(Post.title.like("bench draft %")),
                "approvals": select(func.count(Approval.id)),
                "replies": select(func.count(Reply.id)),
            }
            return {name: int(connection.scalar(query) or 0) for name, query in counts.items()}
    finally:
        engine.dispose()
