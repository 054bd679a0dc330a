"""``guanxi bench pages``: the CPU time and queries of each page ``guanxi bench web`` opens.

Latency on a shared machine is mostly queueing; CPU time per request and queries per page
are what a change to a page moves. This fills a scratch database as ``guanxi bench web``
does, builds the app as ``guanxi serve`` does, signs one person of each role in through the
real ``/login`` form and sends each page of the benchmark's mix and its writes (notes,
assignments, replies, an editor's draft created then submitted for review, a manager's
approval of it) straight into the ASGI app, in this process: no HTTP client or server
shares the figures. Per page: the process's CPU time per request (every
thread: FastAPI runs the dependencies and the endpoint in its thread pool) and the
statements run. On a PostgreSQL server on this machine, also the CPU time its processes
serving the app's connections spent per request (``/proc/<pid>/schedstat``).
"""

from __future__ import annotations

import asyncio
import importlib
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, event

from guanxi.accounts.models import Role
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    in_own_thread,
    no_progress,
    scratch_database,
)
from guanxi.devtools.bench.web_data import (
    PERSON_PASSWORD,
    BenchData,
    Volume,
    fill_demo_database,
)
from guanxi.devtools.bench.web_people import CHART_PANELS, READS
from guanxi.sandbox.weibo import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_SAFE_DOMAIN
from guanxi.shell.app import create_app

SECRET_KEY = "bench-pages-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - scratch
WARM_UP_ROUNDS = 2  # templates compiled, caches filled: what a running server has
ROLES = (Role.OWNER, Role.MANAGER, Role.EDITOR, Role.ANALYST)
# The writes of ``guanxi bench web``'s people, by role, in the order a round sends them.
WRITES: dict[Role, tuple[str, ...]] = {
    Role.OWNER: ("note", "assign"),
    Role.MANAGER: ("note", "assign", "approval"),
    Role.EDITOR: ("note", "reply", "draft", "draft-submit"),
    Role.ANALYST: (),
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_POST_ID = re.compile(r"/posts/(\d+)$")
_DECIDE = re.compile(r'action="([^"]*/variants/\d+)/decide"')
_ALERT = re.compile(r'role="alert"[^>]*>([^<]+)<')


@dataclass(frozen=True)
class PagesConfig:
    """One run: the data, how many rounds, which pages."""

    people: int = 40
    rounds: int = 10
    database_url: str = ""
    volume: Volume = field(default_factory=Volume)
    only: tuple[str, ...] = ()
    profile: int = 0  # print the N costliest functions (needs yappi)


@dataclass
class PageCost:
    """What the requests of one page kind cost."""

    kind: str
    cpu_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    database_cpu_ms: list[float] = field(default_factory=list)  # PostgreSQL on this machine
    statements: Counter[str] = field(default_factory=Counter)

    def add(self, cpu_ms: float, statements: list[str], database_ns: int | None) -> None:
        """One request's CPU time, statements and (when known) the server's CPU time."""
        self.cpu_ms.append(cpu_ms)
        self.queries.append(len(statements))
        self.statements.update(statements)
        if database_ns is not None:
            self.database_cpu_ms.append(database_ns / 1e6)

    @property
    def median_ms(self) -> float:
        """The median CPU time of a request, in milliseconds."""
        return statistics.median(self.cpu_ms)

    @property
    def mean_ms(self) -> float:
        """The mean CPU time of a request, in milliseconds."""
        return statistics.fmean(self.cpu_ms)

    @property
    def database_mean_ms(self) -> float | None:
        """The mean CPU time of the database server's processes for a request, when known."""
        return statistics.fmean(self.database_cpu_ms) if self.database_cpu_ms else None

    @property
    def mean_queries(self) -> float:
        """The statements a request runs, on average."""
        return statistics.fmean(self.queries)


@dataclass
class PagesResult:
    """Each page kind's costs, in the order they were first requested, and the profile."""

    costs: dict[str, PageCost]
    profile: list[str] = field(default_factory=list)

    def mix_cpu_ms(self) -> float:
        """The CPU time of an average read of ``guanxi bench web``'s people: each read page's
        mean (what a server spends, its costly cases included) weighted as often as they
        open it."""
        weights = {kind: weight for kind, weight in READS if kind in self.costs}
        if not weights:
            return 0.0
        total = sum(self.costs[kind].mean_ms * weight for kind, weight in weights.items())
        return total / sum(weights.values())

    def last_line(self) -> str:
        """``pages=<n> mix_cpu_ms=<x>``: what a run compares with another."""
        return f"pages={len(self.costs)} mix_cpu_ms={self.mix_cpu_ms():.1f}"


def run_pages_bench(config: PagesConfig, *, progress: Progress = no_progress) -> PagesResult:
    """Fill a scratch database, then measure every page in this process."""
    if config.rounds < 1 or config.people < len(ROLES):
        msg = f"--rounds must be at least 1 and --people at least {len(ROLES)} (one per role)"
        raise BenchError(msg)
    with (
        tempfile.TemporaryDirectory(prefix="guanxi-bench-pages-") as workdir,
        scratch_database(config.database_url, Path(workdir)) as url,
    ):
        settings = _settings(url, Path(workdir) / "data")
        data = fill_demo_database(
            url, settings=settings, people=config.people, volume=config.volume, progress=progress
        )
        return measure_pages(settings, data, config=config, progress=progress)


def _settings(url: str, data_dir: Path) -> Settings:
    """The app's settings as ``guanxi bench web`` runs it: the Weibo app known, so an
    editor's draft passes its checks and goes to review."""
    return Settings(
        database_url=url,
        data_dir=data_dir,
        smtp_host="",
        secret_key=SECRET_KEY,
        weibo_app_key=DEMO_APP_KEY,
        weibo_app_secret=DEMO_APP_SECRET,
        weibo_safe_domain=DEMO_SAFE_DOMAIN,
    )


def read_pages(data: BenchData, round_: int) -> dict[str, tuple[str, bool]]:
    """The pages ``guanxi bench web``'s people read (``web_people.Browser.page``) and the
    bell's badge (the fixed cost of a workspace page), with the ids varied by round; each
    with whether htmx asks for it."""
    w = f"/w/{data.slug}"
    return {
        "healthz": ("/healthz", False),
        "badge": (f"{w}/notifications/badge", True),
        "overview": (f"{w}/", False),
        "inbox": (f"{w}/inbox", False),
        "inbox-poll": (f"{w}/inbox/poll?after={max(data.item_ids)}", True),
        "inbox-thread": (
            f"{w}/inbox/items/{data.item_ids[round_ * 37 % len(data.item_ids)]}",
            False,
        ),
        "dashboard": (f"{w}/listen/dashboard", False),
        "chart-api": (f"/api/v1{w}/listen/dashboard/{CHART_PANELS[round_ % 6]}", False),
        "dashboard-posts": (f"{w}/listen/dashboard/posts", True),
        "calendar": (f"{w}/calendar", False),
        "posts": (f"{w}/publish", False),
        "post": (f"{w}/posts/{data.post_ids[round_ * 13 % len(data.post_ids)]}", False),
        "market": (f"{w}/market", False),
    }


def measure_pages(
    settings: Settings,
    data: BenchData,
    *,
    config: PagesConfig,
    progress: Progress = no_progress,
) -> PagesResult:
    """Each page's CPU time and statements per request, over ``config.rounds`` rounds of the
    four roles, after warm-up rounds that are not counted. The app runs on an event loop in a
    thread of its own, so the caller's thread may already run one (Playwright's does)."""
    return in_own_thread(lambda: _measure_pages(settings, data, config, progress))


def _measure_pages(
    settings: Settings, data: BenchData, config: PagesConfig, progress: Progress
) -> PagesResult:
    app = create_app(settings)
    engine: Engine = app.state.session_factory.kw["bind"]
    statements: list[str] = []

    def seen(_c: Any, _cu: Any, statement: str, *_a: Any, **_k: Any) -> None:
        statements.append(" ".join(statement.split())[:160])

    event.listen(engine, "after_cursor_execute", seen)
    server = _ServerProcesses(engine)
    costs: dict[str, PageCost] = {}
    profiler = _Profiler(config.profile)
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    try:
        clients = {role: _signed_in(app, loop, data, role) for role in ROLES}
        in_review: list[str] = []  # the editor's submitted posts, for the manager to approve
        total = WARM_UP_ROUNDS + config.rounds
        for round_ in range(total):
            counted = round_ >= WARM_UP_ROUNDS
            if round_ == WARM_UP_ROUNDS:
                profiler.start()
            for role, client in clients.items():
                for kind, method, given, form, htmx in _requests(data, role, round_):
                    wanted = not config.only or kind in config.only
                    if not wanted and not _needed(kind, config.only):
                        continue  # a submission needs its draft, an approval its submission
                    path = _decision(client, in_review) if kind == "approval" else given
                    if kind == "approval" and not path:
                        continue  # nothing in review yet (the first round)
                    statements.clear()
                    server_before = server.cpu_ns()
                    started = time.process_time()
                    status, body, location = client.request(method, path, form=form, htmx=htmx)
                    cpu_ms = (time.process_time() - started) * 1000
                    server_after = server.cpu_ns()
                    if status >= 400 or (method == "POST" and status != 303):
                        msg = f"{kind} ({role.value}) {method} {path}: {status} {_alert(body)}"
                        raise BenchError(msg)
                    client.last_location = location
                    if kind == "draft-submit":
                        in_review.append(location)
                    if counted and wanted:
                        database_ns = (
                            None
                            if server_before is None or server_after is None
                            else server_after - server_before
                        )
                        costs.setdefault(kind, PageCost(kind)).add(cpu_ms, statements, database_ns)
            progress("rounds", round_ + 1, total)
    finally:
        profiler.stop()
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()
        event.remove(engine, "after_cursor_execute", seen)
        server.stop()
        engine.dispose()
    return PagesResult(costs=costs, profile=profiler.report())


Request = tuple[str, str, str, str, bool]  # kind, method, path, form, htmx


class _ServerProcesses:
    """The CPU time of the PostgreSQL processes behind the app's pooled connections, when the
    server runs on this machine (their ``/proc/<pid>/schedstat``: nanoseconds on a CPU)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pids: set[int] = set()
        self.local = engine.dialect.name == "postgresql" and Path("/proc/self/schedstat").exists()
        if self.local:
            event.listen(engine, "checkout", self._note)

    def _note(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self.pids.add(dbapi_connection.info.backend_pid)

    def cpu_ns(self) -> int | None:
        """The processes' CPU time so far; None when it cannot be read (another machine's
        server, SQLite)."""
        if not self.local:
            return None
        total = 0
        for pid in self.pids:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                return None  # a process of another machine's server, or one that ended
        return total

    def stop(self) -> None:
        """Stop noting the processes."""
        if self.local:
            event.remove(self.engine, "checkout", self._note)


def _requests(data: BenchData, role: Role, round_: int) -> list[Request]:
    """One round of one person: every read page, then the writes of the role as
    ``guanxi bench web``'s people send them: notes and assignments on inbox items, an
    editor's reply, draft and its submission for review, a manager's approval."""
    requests: list[Request] = [
        (kind, "GET", path, "", htmx) for kind, (path, htmx) in read_pages(data, round_).items()
    ]
    item = f"/w/{data.slug}/inbox/items/{data.item_ids[(round_ * 41 + 7) % len(data.item_ids)]}"
    assignees = [p.user_id for p in data.people if p.role is not Role.ANALYST]
    for kind in WRITES[role]:
        if kind == "note":
            form = {"text": f"bench note {round_}"}
            requests.append((kind, "POST", f"{item}/note", urlencode(form), False))
        elif kind == "assign":
            assignee = assignees[round_ % len(assignees)]
            form = {"action": "assign", "value": str(assignee)}
            requests.append((kind, "POST", f"{item}/update", urlencode(form), False))
        elif kind == "reply":  # recorded as posted by hand: the bench's items are not live
            form = {"text": f"谢谢您的留言 {round_}", "manual": "1"}
            requests.append((kind, "POST", f"{item}/reply", urlencode(form), False))
        elif kind == "approval":
            form = {"decision": "approve", "comment": "好"}
            requests.append((kind, "POST", "", urlencode(form), False))  # see _decision
        elif data.draft_channel_ids and kind == "draft":
            draft = {
                "title": f"bench draft {round_}",
                "body": f"普罗旺斯桃红葡萄酒，夏日的清爽之选。详情 https://{DEMO_SAFE_DOMAIN}/bench",
                "channels": str(data.draft_channel_ids[round_ % len(data.draft_channel_ids)]),
            }
            requests.append((kind, "POST", f"/w/{data.slug}/publish/new", urlencode(draft), False))
        elif data.draft_channel_ids and kind == "draft-submit":
            requests.append((kind, "POST", "", "", False))  # the new post's address
    return requests


def _needed(kind: str, only: tuple[str, ...]) -> bool:
    """Whether ``kind``, not asked for, must run for a kind that is: a submission needs its
    draft, an approval a submitted draft."""
    if kind == "draft":
        return bool({"draft-submit", "approval"} & set(only))
    return kind == "draft-submit" and "approval" in only


def _decision(client: _AsgiClient, in_review: list[str]) -> str:
    """The address that approves the oldest post in review, read from its page as an
    approver sees it (not counted), or "" when none is in review."""
    while in_review:
        page = in_review.pop(0)
        status, body, _location = client.request("GET", page)
        found = _DECIDE.search(body)
        if status != 200 or found is None:
            msg = f"GET {page}: no approval form on a post in review ({_alert(body)})"
            raise BenchError(msg)
        return f"{found.group(1)}/decide"
    return ""


def _signed_in(
    app: Any, loop: asyncio.AbstractEventLoop, data: BenchData, role: Role
) -> _AsgiClient:
    """A client signed in as the first person of ``role``, through the real form."""
    person = next((p for p in data.people if p.role is role), None)
    if person is None:
        msg = f"no person with the role {role.value}: use more --people"
        raise BenchError(msg)
    client = _AsgiClient(app, loop)
    client.request("GET", "/login")
    form = {"email": person.email, "password": PERSON_PASSWORD, "next": "/"}
    status, body, _location = client.request("POST", "/login", form=urlencode(form))
    if status != 303:
        msg = f"the sign-in of {person.email} failed: {status} {body[:300]}"
        raise BenchError(msg)
    client.request("GET", f"/w/{data.slug}/")  # the signed-in session's CSRF token
    return client


class _AsgiClient:
    """Requests straight into the ASGI app on one event loop, cookies and the CSRF token
    kept as a browser keeps them (a test client would cost more than a small page)."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.last_location = ""

    def request(
        self, method: str, path: str, *, form: str = "", htmx: bool = False
    ) -> tuple[int, str, str]:
        """The status, body and ``Location`` of one request; a form gets the CSRF token. An
        empty POST address is the post the last redirect led to, plus ``/submit``."""
        if method == "POST":
            if not path:
                found = _POST_ID.search(self.last_location)
                if found is None:
                    msg = f"no post to submit: the draft led to {self.last_location!r}"
                    raise BenchError(msg)
                path = f"{self.last_location}/submit"
            form = f"{form}&{urlencode({'csrf_token': self.csrf})}".lstrip("&")
        status, body, location = self.loop.run_until_complete(
            self._request(method, path, form, htmx=htmx)
        )
        found = _CSRF.search(body)
        if found:
            self.csrf = found.group(1)
        return status, body, location

    async def _request(
        self, method: str, path: str, form: str, *, htmx: bool
    ) -> tuple[int, str, str]:
        raw_path, _, query = path.partition("?")
        headers = {"host": "testserver"}
        if htmx:
            headers["hx-request"] = "true"
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["content-type"] = "application/x-www-form-urlencoded"
            headers["content-length"] = str(len(form.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        body_sent = False
        status, location, chunks = 0, "", []

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if body_sent:  # the request is whole: wait as a connection that stays open
                await asyncio.Event().wait()
            body_sent = True
            return {"type": "http.request", "body": form.encode(), "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, location
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie":
                        key, _, cookie = value.decode().split(";", 1)[0].partition("=")
                        self.cookies[key] = cookie
                    elif name.lower() == b"location":
                        location = value.decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks).decode("utf-8", "replace"), location


class _Profiler:
    """yappi's CPU profile of the counted rounds, every thread (cProfile sees one thread
    only; FastAPI runs the dependencies and the endpoints in its thread pool)."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.yappi: Any = None

    def start(self) -> None:
        """Start profiling, when asked."""
        if not self.top:
            return
        try:  # a profiler only --profile needs, not a dependency
            yappi = importlib.import_module("yappi")
        except ImportError as exc:
            msg = "--profile needs yappi: install it in this environment (pip install yappi)"
            raise BenchError(msg) from exc
        self.yappi = yappi
        yappi.set_clock_type("cpu")
        yappi.start()

    def stop(self) -> None:
        """Stop profiling."""
        if self.yappi is not None:
            self.yappi.stop()

    def report(self) -> list[str]:
        """The ``top`` functions by own time, then by time with their callees."""
        if self.yappi is None:
            return []
        stats = self.yappi.get_func_stats()
        lines: list[str] = []
        for key, title in (("tsub", "own time"), ("ttot", "with callees")):
            lines.append(f"--- {title} (s): own, with callees, calls, function")
            stats.sort(key)
            for entry in list(stats)[: self.top]:
                where = f"{Path(entry.module).name}:{entry.lineno} {entry.name}"
                lines.append(f"{entry.tsub:8.3f} {entry.ttot:8.3f} {entry.ncall:8d}  {where}")
        return lines


def measure_filled(
    url: str, data: BenchData, *, config: PagesConfig, progress: Progress = no_progress
) -> PagesResult:
    """As ``run_pages_bench`` on a database already filled by ``fill_demo`` (development:
    measure again after a change without filling again)."""
    settings = _settings(url, Path(tempfile.gettempdir()) / "guanxi-bench-pages-data")
    return measure_pages(settings, data, config=config, progress=progress)


def _alert(body: str) -> str:
    """What an error page says (its alert), else the start of the body."""
    found = _ALERT.search(body)
    return " ".join(found.group(1).split())[:300] if found else body[:300]
