"""``guanxi bench web`` end to end on small volumes, and ``guanxi serve --workers``."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from guanxi.accounts.models import Workspace
from guanxi.accounts.service import create_user, parse_user_create
from guanxi.cli import app
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory, session_scope
from guanxi.core.settings import Settings
from guanxi.devtools.bench.web_data import Volume, fill_demo
from guanxi.devtools.bench.web_load import run_in_own_loop
from guanxi.devtools.bench.web_people import READS
from guanxi.devtools.bench.web_stack import free_port
from guanxi.devtools.demo.stack import wait_for
from guanxi.listening.mentions.flows import pipeline_for, stale_mention_ids
from guanxi.listening.mentions.models import Mention
from tests.conftest import POSTGRES_URL
from tests.http_support import local_client

LAST_LINE = re.compile(r"^people=4 rps=\d+\.\d errors=0$".replace("errors", r"p95_ms=\d+ errors"))
ROLES_LINE = re.compile(
    r"requests by role: owner (\d+), manager (\d+), editor (\d+), analyst (\d+)"
)
STORED_LINE = re.compile(r"stored: (\d+) notes, (\d+) drafts, (\d+) approvals, (\d+) replies")


def test_four_people_of_every_role_browse_and_write_without_an_error() -> None:
    """Given a scratch demo with small volumes, when four people (one per role) work for a
    few seconds through the real sign-in form, then every role made requests, their notes
    are in the database, no request failed, and the last line has the documented shape."""
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "web",
            "--people",
            "4",
            "--seconds",
            "5",
            "--think-s",
            "0.2",
            "--mentions",
            "500",
            "--inbox-items",
            "200",
            "--posts",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert LAST_LINE.match(lines[-1]), lines[-1]
    roles = ROLES_LINE.search(result.output)
    assert roles, result.output
    assert all(int(count) > 0 for count in roles.groups()), roles.group(0)
    stored = STORED_LINE.search(result.output)
    assert stored, result.output
    assert int(stored.group(1)) > 0, "the people's notes are stored"
    assert "error" not in "\n".join(lines[:-1]).lower().replace("errors=", "")
    cpu = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if "│" in line and len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 4
    }
    for part in ("web app (every process)", "bench client (this process)", "the stack in all"):
        assert float(cpu[part][0]) > 0, (part, cpu)  # every part that served used the CPU
    assert float(cpu["the stack in all"][0]) >= float(cpu["web app (every process)"][0])


PAGES_LAST_LINE = re.compile(r"^pages=(\d+) mix_cpu_ms=(\d+\.\d)$")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def test_bench_pages_prints_every_page_of_the_mix_with_its_cpu_and_queries(backend: str) -> None:
    """Given a scratch demo with small volumes, when ``guanxi bench pages`` runs one round,
    then every page the simulated people read and their writes (notes, assignments, a
    reply, a draft, its submission and its approval) are listed with their CPU time and
    queries (on a PostgreSQL server of this machine, its processes' CPU time too), and the
    last line has the documented shape."""
    args = ["bench", "pages", "--rounds", "1", "--mentions", "200", "--inbox-items", "50"]
    args += ["--posts", "10"]
    if backend == "postgresql":
        args += ["--database-url", POSTGRES_URL]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    last = PAGES_LAST_LINE.match(result.output.strip().splitlines()[-1])
    assert last, result.output
    # Per round: each role reads; notes by three roles, assignments by two, the editor's
    # reply, draft and submission, the manager's approval of an earlier round's submission.
    writes = {"note": 3, "assign": 2, "reply": 1, "draft": 1, "draft-submit": 1, "approval": 1}
    kinds = [name for name, _weight in READS] + ["badge", *writes]
    assert int(last.group(1)) == len(kinds) + 1  # and healthz
    assert float(last.group(2)) > 0
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    for kind in kinds:
        cells = [cell.strip() for cell in rows[kind].split("│")[1:-1]]
        assert cells[1] == str(writes.get(kind, 4)), rows[kind]
        assert float(cells[2]) > 0, rows[kind]
        if backend == "postgresql":
            assert float(cells[4]) > 0, rows[kind]  # the server's processes worked
        else:
            assert cells[4] == "—", rows[kind]
        assert float(cells[5]) > 0, rows[kind]  # each reads the database, at least the session


def test_several_web_processes_share_the_sign_in(tmp_path: Path) -> None:
    """Given ``guanxi serve --workers 2`` on a fresh data directory (no secret key yet),
    when a person signs in and then opens pages on new connections, then both processes
    run and every page sees the person signed in, whichever process answers."""
    data_dir = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'guanxi.db'}"
    migrate.upgrade(url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUANXI_")}
    env |= {"GUANXI_DATABASE_URL": url, "GUANXI_DATA_DIR": str(data_dir)}
    guanxi = [sys.executable, "-m", "guanxi"]
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as db:
        create_user(
            db,
            data=parse_user_create(
                email="li@example.com", name="Li", password="a long enough password"
            ),
        )
    engine.dispose()
    port = free_port()
    server = subprocess.Popen(
        [*guanxi, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", timeout_s=60.0)
        assert len(_web_processes(server.pid)) == 2, "two web processes serve"
        with local_client(base_url=base) as browser:
            page = browser.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            signed = browser.post(
                "/login",
                data={
                    "email": "li@example.com",
                    "password": "a long enough password",
                    "next": "/",
                    "csrf_token": token.group(1),
                },
            )
            assert signed.status_code == 303, signed.text
            assert signed.headers["location"] == "/"
            cookies = browser.cookies
        for _ in range(12):  # a new connection each time: either process may take it
            with local_client(base_url=base, cookies=cookies) as tab:
                answer = tab.get("/", follow_redirects=False)
                assert answer.status_code == 200, (answer.status_code, answer.headers)
                assert "Server-Timing" in answer.headers
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _web_processes(pid: int) -> list[int]:
    """The worker processes uvicorn started under ``pid`` (Linux /proc), not its helpers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def test_the_product_never_imports_the_development_tools() -> None:
    """The web app, the worker's tasks and the command line load without guanxi.devtools:
    only ``guanxi bench web`` imports it, when it runs."""
    probe = (
        "import sys, guanxi.shell.main, guanxi.cli, guanxi.publishing.tasks; "
        "print(sorted(m for m in sys.modules if m.startswith('guanxi.devtools')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GUANXI_DATA_DIR": tempfile.mkdtemp()},
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_the_load_runs_where_an_event_loop_is_already_running() -> None:
    """Given a thread whose event loop is running (a notebook, or the browser tests'
    Playwright in the same test process), the benchmark's load still runs."""

    async def answer() -> int:
        return 42

    async def caller() -> int:
        return run_in_own_loop(answer)

    # A thread of its own stands for the caller (this test process may run a loop itself).
    with ThreadPoolExecutor(max_workers=1) as caller_thread:
        assert caller_thread.submit(lambda: asyncio.run(caller())).result() == 42


def test_the_filled_mentions_leave_the_worker_nothing_to_enrich(tmp_path: Path) -> None:
    """Given the benchmark's scratch data, then every mention is enriched by the model the
    worker runs: otherwise the worker would spend the whole run enriching them again, and
    the web app's figures would measure that instead of the people's requests."""
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, data_dir=tmp_path / "data", smtp_host="")
    data = fill_demo(
        engine,
        settings=settings,
        people=1,
        volume=Volume(mentions=300, inbox_items=10, posts=2),
        progress=lambda _stage, _done, _total: None,
    )
    with make_session_factory(engine)() as db:
        workspace_id = db.scalars(select(Workspace.id).where(Workspace.slug == data.slug)).one()
        version = pipeline_for(db, workspace_id=workspace_id).model_version
        assert (db.scalar(select(func.count(Mention.id))) or 0) >= 300
        assert stale_mention_ids(db, model_version=version) == []
    engine.dispose()
