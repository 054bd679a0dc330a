"""CPU time and queries per request of the pages ``guanxi bench web`` opens most, in-process.

Latency on a shared machine is noise; CPU time per request and queries per page are stable.
This fills a database as ``guanxi bench web`` does (once: ``--fill`` writes it and a JSON file
of its ids, later runs reuse them), builds the app as ``guanxi serve`` does, signs in one
person per role and requests each page ``--rounds`` times, then prints per page:

- ``cpu_ms``: this process's CPU time per request (requests go straight into the ASGI app:
  no HTTP client's share), median over the rounds;
- ``pg_ms``: CPU time of the PostgreSQL backends serving this database, per request (from
  ``/proc``, PostgreSQL on this machine only);
- ``queries``: statements per request.

    .venv/bin/python scripts/page_costs.py --fill --ids /tmp/page-costs.json \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/guanxi_page_costs
    .venv/bin/python scripts/page_costs.py --ids /tmp/page-costs.json --rounds 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from guanxi.accounts.models import Role
from guanxi.core import migrate
from guanxi.core.db import make_engine
from guanxi.core.settings import Settings
from guanxi.devtools.bench.web_data import PERSON_PASSWORD, BenchData, Person, Volume, fill_demo
from guanxi.shell.app import create_app

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "page-costs-secret-key-that-is-long-enough-0123456789"
CSRF_MARK = 'name="csrf_token" value="'


def _fill(url: str, ids: Path, people: int) -> None:
    """A fresh database at ``url`` (created on PostgreSQL) with the benchmark's data."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = _settings(url)
    data = fill_demo(
        engine,
        settings=settings,
        people=people,
        volume=Volume(),
        progress=lambda what, done, total: print(f"\r{what} {done}/{total}", end="", flush=True),
    )
    engine.dispose()
    print()
    ids.write_text(json.dumps({"url": url, "data": asdict(data)}), encoding="utf-8")


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        data_dir=Path(tempfile.gettempdir()) / "page-costs-data",
        secret_key=SECRET,  # type: ignore[arg-type]
        smtp_host="",
    )


def _load(ids: Path) -> tuple[str, BenchData]:
    raw = json.loads(ids.read_text(encoding="utf-8"))
    data = raw["data"]
    people = [
        Person(email=p["email"], role=Role(p["role"]), user_id=p["user_id"]) for p in data["people"]
    ]
    return raw["url"], BenchData(
        slug=data["slug"],
        people=people,
        item_ids=data["item_ids"],
        post_ids=data["post_ids"],
        channel_ids=data["channel_ids"],
        draft_channel_ids=data.get("draft_channel_ids", []),
    )


def _pages(data: BenchData, round_: int) -> dict[str, tuple[str, bool]]:
    """The bench's read pages (``web_load.Browser.page``), varied by round."""
    w = f"/w/{data.slug}"
    panels = ("volume", "sentiment", "share-of-voice", "source-kinds", "stages", "platforms")
    return {
        "healthz": ("/healthz", False),
        "badge": (f"{w}/notifications/badge", True),  # the fixed costs of a workspace page
        "overview": (f"{w}/", False),
        "inbox": (f"{w}/inbox", False),
        "inbox-poll": (f"{w}/inbox/poll?after={max(data.item_ids)}", True),
        "inbox-thread": (
            f"{w}/inbox/items/{data.item_ids[round_ * 37 % len(data.item_ids)]}",
            False,
        ),
        "dashboard": (f"{w}/listen/dashboard", False),
        "chart-api": (f"/api/v1{w}/listen/dashboard/{panels[round_ % len(panels)]}", False),
        "dashboard-posts": (f"{w}/listen/dashboard/posts", True),
        "calendar": (f"{w}/calendar", False),
        "posts": (f"{w}/publish", False),
        "post": (f"{w}/posts/{data.post_ids[round_ * 13 % len(data.post_ids)]}", False),
        "market": (f"{w}/market", False),
    }


class Counters:
    """Statements run by the app's engine, and the PostgreSQL backends' CPU."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: Counter[str] = Counter()
        self.count = 0
        event.listen(engine, "after_cursor_execute", self._seen)
        self.postgres = engine.dialect.name == "postgresql"
        self.database = engine.url.database

    def _seen(self, _c: Any, _cu: Any, statement: str, *_a: Any, **_k: Any) -> None:
        self.count += 1
        self.statements[" ".join(statement.split())[:160]] += 1

    def backend_ticks(self) -> int:
        """utime + stime of every backend connected to this database, in clock ticks."""
        if not self.postgres:
            return 0
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if f" {self.database} ".encode() not in cmdline.replace(b"\0", b" ") + b" ":
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total


class AsgiClient:
    """Requests straight into the ASGI app on this thread's event loop, cookies kept: no HTTP
    client's CPU in the figures (a test client costs more than a small page)."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, form: str = ""
    ) -> tuple[int, str]:
        """The status and body of one request."""
        return self.loop.run_until_complete(self._request(method, path, headers or {}, form))

    async def _request(
        self, method: str, path: str, headers: dict[str, str], form: str
    ) -> tuple[int, str]:
        raw_path, _, query = path.partition("?")
        sent = {"host": "testserver", **headers}
        if self.cookies:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form:
            sent["content-type"] = "application/x-www-form-urlencoded"
            sent["content-length"] = str(len(form.encode()))
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
            "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        body_sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if body_sent:
                await asyncio.sleep(3600)
            body_sent = True
            return {"type": "http.request", "body": form.encode(), "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie":
                        pair = value.decode().split(";", 1)[0]
                        key, _, cookie = pair.partition("=")
                        self.cookies[key] = cookie
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks).decode("utf-8", "replace")


def _sign_in(client: AsgiClient, email: str) -> None:
    _status, page = client.request("GET", "/login")
    token = page.split(CSRF_MARK, 1)[1].split('"', 1)[0]
    form = urlencode(
        {"email": email, "password": PERSON_PASSWORD, "csrf_token": token, "next": "/"}
    )
    status, _body = client.request("POST", "/login", form=form)
    if status != 303:
        sys.exit(f"sign-in of {email} failed: {status}")


def measure(url: str, data: BenchData, *, rounds: int, only: list[str], show: bool) -> None:
    """Print each page's CPU ms, PostgreSQL ms and queries per request."""
    app = create_app(_settings(url))
    engine: Engine = app.state.session_factory.kw["bind"]
    counters = Counters(engine)
    results: dict[str, list[tuple[float, float, float, float]]] = {}
    statements: dict[str, Counter[str]] = {}
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    for role in (Role.OWNER, Role.MANAGER, Role.EDITOR, Role.ANALYST):
        person = next(p for p in data.people if p.role is role)
        client = AsgiClient(app, loop)
        _sign_in(client, person.email)
        for round_ in range(-3, rounds):  # three rounds to warm up
            for kind, (path, htmx) in _pages(data, max(round_, 0)).items():
                if only and kind not in only:
                    continue
                headers = {"HX-Request": "true"} if htmx else {}
                before_statements = counters.statements.copy()
                queries, ticks = counters.count, counters.backend_ticks()
                cpu, loop_cpu = time.process_time(), time.thread_time()
                status, body = client.request("GET", path, headers=headers)
                cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
                if status != 200:
                    sys.exit(f"{kind} {path}: {status} {body[:300]}")
                pg = (counters.backend_ticks() - ticks) * 1000 / CLOCK_TICKS
                if round_ >= 0:
                    results.setdefault(kind, []).append(
                        (cpu * 1000, pg, counters.count - queries, loop_cpu * 1000)
                    )
                    statements.setdefault(kind, Counter()).update(
                        counters.statements - before_statements
                    )
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    loop.close()
    print(f"{'page':16} {'cpu_ms':>7} {'mean':>6} {'loop_ms':>7} {'pg_ms':>6} {'queries':>7}")
    for kind, samples in results.items():
        cpu_ms = [s[0] for s in samples]
        print(
            f"{kind:16} {statistics.median(cpu_ms):7.1f} {statistics.fmean(cpu_ms):6.1f} "
            f"{statistics.median(s[3] for s in samples):7.1f} "
            f"{statistics.fmean(s[1] for s in samples):6.1f} "
            f"{statistics.fmean(s[2] for s in samples):7.1f}"
        )
        if show:
            for statement, count in statements[kind].most_common(12):
                print(f"    {count / len(samples):5.1f}× {statement}")


def main() -> None:
    """Parse the arguments; fill or measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--ids", type=Path, default=Path(tempfile.gettempdir()) / "page-costs.json")
    parser.add_argument("--fill", action="store_true", help="(re)create and fill the database")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--page", action="append", default=[], help="only these page kinds")
    parser.add_argument("--statements", action="store_true", help="each page's statements")
    parser.add_argument(
        "--profile", type=int, default=0, help="print the N costliest functions (needs yappi)"
    )
    arguments = parser.parse_args()
    if arguments.fill:
        if not arguments.database_url:
            sys.exit("--fill needs --database-url")
        _fill(arguments.database_url, arguments.ids, arguments.people)
    url, data = _load(arguments.ids)
    if not arguments.profile:
        measure(url, data, rounds=arguments.rounds, only=arguments.page, show=arguments.statements)
        return
    import yappi  # noqa: PLC0415 - a profiler only this option needs, not a dependency

    yappi.set_clock_type("cpu")
    yappi.start()
    measure(url, data, rounds=arguments.rounds, only=arguments.page, show=arguments.statements)
    yappi.stop()
    stats = yappi.get_func_stats()
    for key, title in (("tsub", "own time"), ("ttot", "with callees")):
        print(f"--- {title}")
        stats.sort(key)
        for entry in list(stats)[: arguments.profile]:
            where = f"{Path(entry.module).name}:{entry.lineno} {entry.name}"
            print(f"{entry.tsub:8.3f} {entry.ttot:8.3f} {entry.ncall:8d}  {where}")


if __name__ == "__main__":
    main()
