"""``guanxi bench web``: simulated people of all four roles working in the web app at once.

1. a scratch database (SQLite, or a database made on a PostgreSQL server and dropped at
   the end) filled with the demo and a realistic volume (``web_data``);
2. the stack ``guanxi up`` runs, as child processes on free loopback ports: the platform
   sandbox, a worker and the web app in W processes; each child dies with this process;
3. N people sign in through the real ``/login`` form, then browse and work as community
   managers do (pages, HTMX partials, chart APIs, notes, assignments, replies, approvals,
   drafts) with a think time, until S seconds or the request budget are spent;
4. the report: requests/s, p50/p95/p99 per page kind and overall, every error with its
   cause, and the last line ``people=<n> rps=<x> p95_ms=<y> errors=<z>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import func, select

from guanxi.accounts.models import Role
from guanxi.core.db import make_engine
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    no_progress,
    percentile,
    scratch_database,
)
from guanxi.devtools.bench.web_data import PERSON_PASSWORD, BenchData, Person, Volume, fill_demo
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.inbox.items.models import InternalNote
from guanxi.inbox.replies.models import Reply
from guanxi.publishing.models import Approval, Post

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 60.0
SIGN_INS_AT_ONCE = 4
KEEPALIVE_S = 2.0  # below uvicorn's 5 s keep-alive timeout, with room for a loaded machine
CHART_PANELS = ("volume", "sentiment", "share-of-voice", "source-kinds", "stages", "platforms")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DECIDE = re.compile(r'action="([^"]*/variants/\d+)/decide"')
_POST_ID = re.compile(r"/posts/(\d+)")
_ALERT = re.compile(r'role="alert"[^>]*>([^<]+)<')


@dataclass(frozen=True)
class WebBenchConfig:
    """One run: who, how long, on what."""

    people: int
    seconds: float
    think_s: float = 3.0
    database_url: str = ""
    web_workers: int = 1
    volume: Volume = field(default_factory=Volume)
    max_requests: int = 0  # 0: no budget but the time
    seed: int = 0


@dataclass(frozen=True)
class Sample:
    """One request: its page kind, who made it, how long it took, and what went wrong."""

    kind: str
    role: Role
    ms: float
    error: str = ""


@dataclass
class WebBenchResult:
    """The samples of a run and the figures computed from them.

    ``samples`` are the working time's requests, the ones rates and percentiles speak of;
    the sign-ins before it (a password hash each, once per person) are kept apart.
    """

    people: int
    elapsed_s: float
    samples: list[Sample]
    sign_ins: list[Sample] = field(default_factory=list)
    stored: dict[str, int] = field(default_factory=dict)
    logs: Path | None = None  # where the stack's logs were kept (when a request failed)

    @property
    def errors(self) -> list[Sample]:
        """The requests that failed, sign-ins included, each with its cause."""
        return [sample for sample in [*self.sign_ins, *self.samples] if sample.error]

    @property
    def rps(self) -> float:
        """Requests answered per second over the working time."""
        return len(self.samples) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def by_kind(self) -> dict[str, list[float]]:
        """Durations (ms) per page kind, kinds sorted by name (sign-in among them)."""
        kinds: dict[str, list[float]] = {}
        for sample in [*self.sign_ins, *self.samples]:
            kinds.setdefault(sample.kind, []).append(sample.ms)
        return dict(sorted(kinds.items()))

    def by_role(self) -> dict[Role, int]:
        """Requests made per role in the working time."""
        counts = dict.fromkeys(Role, 0)
        for sample in self.samples:
            counts[sample.role] += 1
        return counts

    def p95_ms(self) -> float:
        """The 95th percentile of every request's duration."""
        return percentile([sample.ms for sample in self.samples], 95)

    def last_line(self) -> str:
        """The summary line scripts read."""
        return (
            f"people={self.people} rps={self.rps:.1f} p95_ms={self.p95_ms():.0f} "
            f"errors={len(self.errors)}"
        )


# --- The stack ----------------------------------------------------------------------------


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
            for child, name in zip(self.children, ("sandbox", "worker", "web"), strict=False):
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


# --- The people ---------------------------------------------------------------------------

# (action, weight) per role: everyone reads; writes follow what each role may do.
READS: tuple[tuple[str, int], ...] = (
    ("overview", 2),
    ("inbox", 3),
    ("inbox-poll", 3),
    ("inbox-thread", 3),
    ("dashboard", 2),
    ("chart-api", 3),
    ("dashboard-posts", 1),
    ("calendar", 1),
    ("posts", 1),
    ("post", 1),
    ("market", 1),
)
WRITES: dict[Role, tuple[tuple[str, int], ...]] = {
    Role.OWNER: (("note", 1), ("assign", 1)),
    Role.MANAGER: (("note", 1), ("assign", 1), ("approval", 2)),
    Role.EDITOR: (("note", 1), ("reply", 1), ("draft", 2)),
    Role.ANALYST: (),
}


class Budget:
    """The run's bounds: a deadline and, optionally, a number of requests."""

    def __init__(self, *, seconds: float, max_requests: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.left = max_requests if max_requests > 0 else -1

    def restart(self) -> None:
        """The working time starts now (after the sign-ins)."""
        self.deadline = time.monotonic() + self.seconds

    def take(self) -> bool:
        """Whether one more request may start (and count it)."""
        if time.monotonic() >= self.deadline or self.left == 0:
            return False
        if self.left > 0:
            self.left -= 1
        return True


@dataclass
class Shared:
    """What the simulated people share: the data's ids, the budget, posts awaiting review."""

    data: BenchData
    budget: Budget
    think_s: float
    samples: list[Sample] = field(default_factory=list)
    in_review: list[int] = field(default_factory=list)


class Browser:
    """One signed-in person: their own cookies, their CSRF token, their requests timed."""

    def __init__(self, person: Person, shared: Shared, base_url: str, rng: random.Random) -> None:
        self.person, self.shared, self.rng = person, shared, rng
        # A browser drops a kept-alive connection the server is about to close (uvicorn after
        # 5 s idle) or retries on it; without this, a think time past 5 s reads as an error.
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT_S,
            follow_redirects=False,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self.csrf = ""
        self.slug = shared.data.slug

    async def request(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        htmx: bool = False,
    ) -> httpx.Response | None:
        """Make one request and record it; None when it failed (the cause is recorded)."""
        headers = {"HX-Request": "true"} if htmx else {}
        if data is not None:
            data = {**data, "csrf_token": self.csrf}
        started = time.perf_counter()
        error = ""
        response = None
        try:
            response = await self.client.request(method, url, data=data, headers=headers)
            error = _failure(response)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - started) * 1000
        self.shared.samples.append(
            Sample(
                kind=kind,
                role=self.person.role,
                ms=ms,
                error=f"{method} {url}: {error}" if error else "",
            )
        )
        if error or response is None:
            return None
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def sign_in(self) -> bool:
        """Through the real form: the page (and its CSRF token), then the post."""
        if await self.request("sign-in", "GET", "/login") is None:
            return False
        signed = await self.request(
            "sign-in",
            "POST",
            "/login",
            data={
                "email": self.person.email,
                "password": PERSON_PASSWORD,
                "next": f"/w/{self.slug}/",
            },
        )
        return (
            signed is not None
            and await self.request("overview", "GET", f"/w/{self.slug}/") is not None
        )

    async def work(self, *, signed_in: bool) -> None:
        """One action after another with a think time, until the budget ends."""
        try:
            if not signed_in:
                return
            if self.shared.think_s > 0:  # people start over the first think time, not at once
                await asyncio.sleep(self.rng.uniform(0, self.shared.think_s))
            actions = [*READS, *WRITES[self.person.role]]
            names = [name for name, _ in actions]
            weights = [weight for _, weight in actions]
            # Each of the role's tasks once first (every run writes), then at random.
            first = [name for name, _ in WRITES[self.person.role]]
            while self.shared.budget.take():
                await self.act(first.pop(0) if first else self.rng.choices(names, weights)[0])
                if self.shared.think_s > 0:
                    think = self.shared.think_s * self.rng.uniform(0.5, 1.5)
                    await asyncio.sleep(min(think, self.shared.budget.deadline - time.monotonic()))
        finally:
            await self.client.aclose()

    def page(self, action: str) -> tuple[str, bool]:
        """The address a read action opens, and whether HTMX asks for it (a partial)."""
        w, data, rng = f"/w/{self.slug}", self.shared.data, self.rng
        pages = {
            "overview": (f"{w}/", False),
            "inbox": (f"{w}/inbox", False),
            "inbox-poll": (f"{w}/inbox/poll?after={max(data.item_ids)}", True),
            "inbox-thread": (f"{w}/inbox/items/{rng.choice(data.item_ids)}", False),
            "dashboard": (f"{w}/listen/dashboard", False),
            "chart-api": (f"/api/v1{w}/listen/dashboard/{rng.choice(CHART_PANELS)}", False),
            "dashboard-posts": (f"{w}/listen/dashboard/posts", True),
            "calendar": (f"{w}/calendar", False),
            "posts": (f"{w}/publish", False),
            "post": (f"{w}/posts/{rng.choice(data.post_ids)}", False),
            "market": (f"{w}/market", False),
        }
        return pages[action]

    async def act(self, action: str) -> None:
        """One thing a community manager does."""
        w, data, rng = f"/w/{self.slug}", self.shared.data, self.rng
        item = f"{w}/inbox/items/{rng.choice(data.item_ids)}"
        if action == "note":
            await self.request(
                action, "POST", f"{item}/note", data={"text": f"bench note {rng.randrange(10**6)}"}
            )
        elif action == "assign":
            assignee = rng.choice(
                [p for p in data.people if p.role is not Role.ANALYST] or data.people
            ).user_id
            await self.request(
                action, "POST", f"{item}/update", data={"action": "assign", "value": str(assignee)}
            )
        elif action == "reply":  # recorded as posted by hand: the bench's items are not live
            await self.request(
                action,
                "POST",
                f"{item}/reply",
                data={"text": f"谢谢您的留言 {rng.randrange(10**6)}", "manual": "1"},
            )
        elif action == "draft":
            await self.draft()
        elif action == "approval":
            await self.approve()
        else:
            url, htmx = self.page(action)
            await self.request(action, "GET", url, htmx=htmx)

    async def draft(self) -> None:
        """A post for one account, submitted for review (a manager approves it later)."""
        created = await self.request(
            "draft",
            "POST",
            f"/w/{self.slug}/publish/new",
            data={
                "title": f"bench draft {self.rng.randrange(10**6)}",
                "body": "普罗旺斯桃红葡萄酒，夏日首选。",
                "channels": str(self.rng.choice(self.shared.data.channel_ids)),
            },
        )
        found = _POST_ID.search(created.headers.get("location", "")) if created else None
        if found is None:
            return
        post_id = int(found.group(1))
        if (
            await self.request("draft", "POST", f"/w/{self.slug}/posts/{post_id}/submit", data={})
            is not None
        ):
            self.shared.in_review.append(post_id)

    async def approve(self) -> None:
        """The oldest post waiting for review: open it, approve its variants' next step."""
        if not self.shared.in_review:
            await self.request(
                "post", "GET", f"/w/{self.slug}/posts/{self.rng.choice(self.shared.data.post_ids)}"
            )
            return
        post_id = self.shared.in_review.pop(0)
        page = await self.request("post", "GET", f"/w/{self.slug}/posts/{post_id}")
        if page is None:
            return
        decisions = _DECIDE.findall(page.text)
        if not decisions:  # submitted, not decided by anyone else: the form must be there
            self.shared.samples.append(
                Sample(
                    kind="approval",
                    role=self.person.role,
                    ms=0.0,
                    error=f"GET /w/{self.slug}/posts/{post_id}: no approval form on a post in "
                    f"review ({_first_line(page.text)})",
                )
            )
        for action in decisions:
            await self.request(
                "approval",
                "POST",
                f"{action}/decide",
                data={"decision": "approve", "comment": "好"},
            )


def _failure(response: httpx.Response) -> str:
    """Why a response is a failure for a person, or "" (a redirect to sign-in is one)."""
    if response.status_code >= 400:
        return f"{response.status_code} {_first_line(response.text)}"
    location = response.headers.get("location", "")
    if response.is_redirect and location.startswith("/login"):
        return f"{response.status_code} signed out (redirected to {location})"
    return ""


def _first_line(body: str) -> str:
    """The message of an error page (its alert), else the body's first line."""
    alert = _ALERT.search(body)
    if alert:
        return " ".join(alert.group(1).split())[:200]
    lines = body.strip().splitlines()
    return lines[0][:200] if lines else ""


async def simulate(
    data: BenchData, *, base_url: str, config: WebBenchConfig, progress: Progress
) -> WebBenchResult:
    """Every person at once, until the budget is spent; ``progress`` sees the seconds."""
    shared = Shared(
        data=data,
        budget=Budget(seconds=config.seconds, max_requests=config.max_requests),
        think_s=config.think_s,
    )
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible mix, not secrets
    browsers = [
        Browser(person, shared, base_url, random.Random(rng.random()))  # noqa: S311
        for person in data.people[: config.people]
    ]
    signed_in = await _sign_everyone_in(browsers, progress)
    sign_ins, shared.samples = shared.samples, []
    shared.budget.restart()
    started = time.monotonic()
    tasks = [
        asyncio.create_task(browser.work(signed_in=ok))
        for browser, ok in zip(browsers, signed_in, strict=True)
    ]
    total = round(config.seconds)
    while not all(task.done() for task in tasks):
        progress("load (s)", min(total, round(time.monotonic() - started)), total)
        await asyncio.wait(tasks, timeout=0.5)
    progress("load (s)", total, total)
    for task in tasks:
        task.result()  # a bug in the generator surfaces instead of hiding in the figures
    return WebBenchResult(
        people=len(browsers),
        elapsed_s=time.monotonic() - started,
        samples=shared.samples,
        sign_ins=sign_ins,
    )


async def _sign_everyone_in(browsers: list[Browser], progress: Progress) -> list[bool]:
    """Each person through the sign-in form, a few at a time (each costs a password hash)."""
    gate = asyncio.Semaphore(SIGN_INS_AT_ONCE)
    done = 0

    async def one(browser: Browser) -> bool:
        nonlocal done
        async with gate:
            ok = await browser.sign_in()
        done += 1
        progress("sign-in", done, len(browsers))
        return ok

    return list(await asyncio.gather(*(one(browser) for browser in browsers)))


# --- The run ------------------------------------------------------------------------------


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
        engine = make_engine(url)
        try:
            data = fill_demo(
                engine,
                settings=settings,
                people=config.people,
                volume=config.volume,
                progress=progress,
            )
        finally:
            engine.dispose()
        env = child_environment(database_url=url, data_dir=data_dir, secret_key=secret_key)
        with running_stack(env, web_workers=config.web_workers, logs=Path(workdir)) as stack:
            result = run_in_own_loop(
                lambda: simulate(data, base_url=stack.base_url, config=config, progress=progress)
            )
        result.stored = stored_writes(url)
        if result.errors:  # the causes are in the server's log: keep it past the scratch dir
            result.logs = Path(tempfile.mkdtemp(prefix="guanxi-bench-web-logs-"))
            for log in Path(workdir).glob("*.log"):
                shutil.copy(log, result.logs / log.name)
        return result


T = TypeVar("T")


def run_in_own_loop(make: Callable[[], Coroutine[object, object, T]]) -> T:
    """Run the coroutine ``make()`` builds on an event loop of its own thread, so that the
    benchmark also runs where the caller's thread already has a loop running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


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
