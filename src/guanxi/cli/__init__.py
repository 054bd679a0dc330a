"""The ``guanxi`` command: its own commands (database, people, workspaces, worker...), the
benchmarks, and every capability's, found through the capabilities' entry points."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from types import ModuleType
from typing import Annotated

import typer
from rich.table import Table

from guanxi import STARTED_BY, __version__
from guanxi.accounts import reset
from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role
from guanxi.analytics import migrations as analytics_migrations
from guanxi.analytics.client import shared_client
from guanxi.cli import (
    analytics_bench,
    analytics_migrate,
    convert_bench,
    db_prune,
    inbox_bench,
    listen_bench,
    market_bench,
    nlp_bench,
    report_bench,
    scale_bench,
    storage_bench,
    web_bench,
    workers_bench,
)
from guanxi.core import migrate
from guanxi.core.capability import capabilities
from guanxi.core.console import console, err_console, stage_progress, warn
from guanxi.core.console import fail as _fail
from guanxi.core.console import sessions as _sessions
from guanxi.core.db import session_scope
from guanxi.core.errors import UserError
from guanxi.core.maththreads import one_math_thread
from guanxi.core.schedule import load_schedule, run_schedule
from guanxi.core.security import SecretBox
from guanxi.core.settings import ConfigurationError, SentimentTier, get_settings
from guanxi.core.worker import size_pool

app = typer.Typer(
    help="guanxi: command center for brands on Chinese social media.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (one per brand).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(workspace_app, name="workspace")


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"guanxi {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """guanxi: command center for brands on Chinese social media."""
    # A wrong setting is the operator's to fix: say which, without a traceback.
    try:
        get_settings()
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None


db_app.command("prune")(db_prune.db_prune)


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Migrate the database schema to the latest version."""
    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url, revision)
    console.print(f"database at revision {revision}")
    if settings.analytics_url:
        ran = analytics_upgrade(settings.analytics_url)
        console.print(
            f"analytics store: {len(ran)} migration(s) run" + "".join(f"\n  {name}" for name in ran)
        )


def analytics_upgrade(url: str) -> list[str]:
    """Run every capability's ClickHouse migrations not run yet on ``url``."""
    packages = [package for cap in capabilities() for package in cap.analytics_migrations]
    return analytics_migrations.upgrade(shared_client(url), packages)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Web processes; each serves any request (see docs).")
    ] = 1,
) -> None:
    """Serve the web application, in WORKERS processes sharing the database."""
    one_math_thread()
    import uvicorn  # noqa: PLC0415 - uvicorn (and multiprocessing): ~12 ms only a server needs

    if reload and workers > 1:
        raise _fail("--reload runs one process; leave out --workers or --reload")
    check_sentiment_tier()
    # Made (and kept on disk, outside production) before the processes start, so all sign
    # sessions with the same key.
    get_settings().resolved_secret_key()
    # The app reads X-Forwarded-For itself, from GUANXI_TRUSTED_PROXIES only.
    uvicorn.run(
        "guanxi.shell.main:app",
        host=host,
        port=port,
        reload=reload,
        proxy_headers=False,
        workers=workers,
    )


def check_sentiment_tier() -> None:
    """Warn when the deployment chose the accurate sentiment tier but cannot run it: the
    server and worker still start, and inbox items keep the fast model's sentiment."""
    if get_settings().sentiment_tier is not SentimentTier.ACCURATE:
        return
    from guanxi.nlp.accurate import tier_problem  # noqa: PLC0415 - the accurate tier's module, only when it was chosen

    problem = tier_problem()
    if problem is not None:
        warn(
            f"GUANXI_SENTIMENT_TIER is accurate, but it cannot run: {problem} Until then the "
            "inbox keeps the fast model's sentiment."
        )


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address; signs in with it.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input instead of asking.",
        ),
    ] = False,
) -> None:
    """Create a user who can sign in. Asks for the password (hidden, typed twice): a password
    is never an argument, where other users and the shell history could read it."""
    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = typer.prompt(
            "Password (at least 10 characters)", hide_input=True, confirmation_prompt=True
        )
    try:
        data = accounts.parse_user_create(email=email, name=name, password=password)
        with session_scope(_sessions()) as db:
            user = accounts.create_user(db, data=data)
            console.print(f"created user {user.email}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@user_app.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(help="The e-mail address the person signs in with.")],
) -> None:
    """Print a link that sets a new password for EMAIL (for servers that send no e-mail):
    it works once, within an hour, and ends every session of theirs."""
    settings = get_settings()
    with session_scope(_sessions()) as db:
        user = accounts.get_user_by_email(db, email=email)
        if user is None or not user.is_active:
            raise _fail(f"no active user {email}; see `guanxi user create`")
        link = reset.issue_link(
            db,
            user=user,
            actor=None,
            secret_key=settings.resolved_secret_key(),
            base_url=settings.base_url,
            ip=None,
        )
    console.print(f"give this link to {user.email}; it works once, within an hour:")
    console.print(link, soft_wrap=True, highlight=False)


@workspace_app.command("create")
def workspace_create(
    slug: Annotated[str, typer.Option(help="Short address, e.g. provence-wines.")],
    name: Annotated[str, typer.Option(help="The brand's name.")],
    owner: Annotated[str, typer.Option(help="E-mail address of the owner (an existing user).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Asia/Shanghai",
) -> None:
    """Create a workspace for a brand, owned by an existing user."""
    try:
        data = accounts.parse_workspace_create(slug=slug, name=name, timezone=timezone)
        with session_scope(_sessions()) as db:
            user = accounts.get_user_by_email(db, email=owner)
            if user is None:
                raise _fail(f"no user {owner}; create one with `guanxi user create` first")
            workspace = accounts.create_workspace(db, data=data, owner=user)
            console.print(f"created workspace {workspace.slug}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@workspace_app.command("add-member")
def workspace_add_member(
    slug: Annotated[str, typer.Option(help="The workspace.")],
    email: Annotated[str, typer.Option(help="The user's e-mail address.")],
    role: Annotated[Role, typer.Option(help="owner, manager, editor or analyst.")],
) -> None:
    """Give a user a role in a workspace."""
    try:
        with session_scope(_sessions()) as db:
            user = accounts.get_user_by_email(db, email=email)
            if user is None:
                raise _fail(f"no user {email}; create one with `guanxi user create` first")
            workspace = accounts.get_workspace_by_slug(db, slug=slug)
            if workspace is None:
                raise _fail(f"no workspace {slug}; see `guanxi workspace create`")
            accounts.add_member(db, workspace=workspace, user=user, role=role, actor=None)
            console.print(f"{email} is {role.value} of {slug}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def demo() -> None:
    """Load the demo workspace (a Provence wine brand entering China); safe to repeat."""
    from guanxi.devtools.demo.report import make_demo_report_files  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.demo.stack import load_demo_channels  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.demo.workspace import DEMO_PASSWORD, DEMO_PEOPLE, load_demo  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    with session_scope(_sessions()) as db:
        workspace = load_demo(db)
        channels = load_demo_channels(
            db, workspace=workspace, box=SecretBox.from_settings(get_settings())
        )
        make_demo_report_files(db, workspace=workspace, settings=get_settings())
    console.print(f"demo workspace [bold]{workspace.name}[/] ready")
    console.print("  connected sandbox accounts: " + ", ".join(c.name for c in channels))
    for person in DEMO_PEOPLE:
        console.print(f"  {person.role.value:8} {person.email}  password: {DEMO_PASSWORD}")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    seed: Annotated[int, typer.Option(help="Seed of the fault injection's randomness.")] = 0,
) -> None:
    """Serve the local sandbox of the Weibo, WeChat Official Account and Douyin APIs."""
    import uvicorn  # noqa: PLC0415 - uvicorn (and multiprocessing): ~12 ms only a server needs

    from guanxi.sandbox.app import create_sandbox_app  # noqa: PLC0415 - the sandbox, a development tool: ~130 ms, FastAPI

    console.print(f"sandbox on http://{host}:{port}/ (accounts and what they published)")
    uvicorn.run(create_sandbox_app(seed=seed), host=host, port=port, log_level="warning")


publish_app = typer.Typer(help="The publishing engine, one run at a time.", no_args_is_help=True)
app.add_typer(publish_app, name="publish")


def _tasks() -> ModuleType:
    # The queue is built on import: a wrong GUANXI_QUEUE_URL is reported, not a traceback.
    try:
        from guanxi.publishing import tasks  # noqa: PLC0415 - builds the task queue (huey, ~200 ms) from the settings
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    return tasks


@app.command()
def worker(
    workers: Annotated[int, typer.Option(min=1, help="Jobs run at the same time.")] = 4,
    worker_type: Annotated[str, typer.Option(help="thread or process.")] = "thread",
    schedule: Annotated[
        bool, typer.Option(help="Also run the schedule (dispatch, sweep) in this process.")
    ] = True,
    exit_with_parent: Annotated[
        bool, typer.Option(help="Stop when the process that started this one dies.")
    ] = False,
) -> None:
    """Run the task queue's consumer: publishes, status checks, and the schedule."""
    one_math_thread()
    if exit_with_parent:  # first: a parent that dies while the worker loads is noticed too
        _stop_when_orphaned()
    check_sentiment_tier()
    size_pool(workers)  # a connection pool for that many jobs at once, before any is used
    tasks = _tasks()
    # Load the engine before the schedule thread and the workers need it (one import, here).
    tasks.preload()
    if worker_type not in {"thread", "process"}:
        raise _fail("--worker-type must be thread or process")
    stop = threading.Event()
    jobs = load_schedule()  # also registers every capability's queue tasks
    ticker = threading.Thread(target=run_schedule, args=(stop, jobs), daemon=True)
    if schedule:
        ticker.start()
    console.print(f"worker: {workers} {worker_type}(s); schedule {'on' if schedule else 'off'}")
    try:
        tasks.huey.create_consumer(workers=workers, worker_type=worker_type, periodic=False).run()
    finally:
        stop.set()


INIT_PID = 1


def _stop_when_orphaned() -> None:
    """SIGTERM this process (a graceful consumer stop) once its parent is gone."""
    parent = STARTED_BY
    # An orphan is handed to init (pid 1): a parent already gone when `guanxi` was first
    # imported (the interpreter's own start-up, before any of our code) left pid 1 here.
    if parent == INIT_PID or os.getppid() != parent:  # it died while this command loaded
        os.kill(os.getpid(), signal.SIGTERM)
        return
    if sys.platform == "linux":  # the kernel sends SIGTERM the moment the parent dies
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # it died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@publish_app.command("dispatch")
def publish_dispatch(
    limit: Annotated[int, typer.Option(min=1, help="Claim at most this many variants.")] = 200,
) -> None:
    """Claim the due variants and queue them for the workers (what the schedule does)."""
    tasks = _tasks()
    claimed = tasks.run_dispatch(limit)
    console.print(f"claimed {len(claimed)} variant(s) for publishing")


@publish_app.command("sweep")
def publish_sweep() -> None:
    """Take back expired claims, judge missed posts, queue due status checks (once)."""
    tasks = _tasks()
    report = tasks.run_sweep()
    console.print(
        f"requeued={len(report.requeued)} reconciling={len(report.reconciling)} "
        f"late={len(report.late)} held={len(report.held)} reminded={len(report.reminded)} "
        f"status_checks={len(report.status_due)}"
    )


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the platform sandbox.")] = 8100,
    workers: Annotated[int, typer.Option(min=1, help="Publishing jobs run at once.")] = 2,
    web_workers: Annotated[int, typer.Option(min=1, help="Web processes.")] = 1,
) -> None:
    """Run the demo on one machine: the platform sandbox, a worker and the web app."""
    one_math_thread()  # before the children start: they inherit it
    from guanxi.devtools.demo.stack import run_stack  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    run_stack(
        port=port,
        sandbox_port=sandbox_port,
        workers=workers,
        console=console,
        web_workers=web_workers,
    )


bench_app = typer.Typer(help="Measure guanxi under load, on scratch data.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("publish")
def bench_publish(
    posts: Annotated[
        int, typer.Option(min=1, help="Posts to publish (one Weibo variant each).")
    ] = 10_000,
    accounts_: Annotated[
        int, typer.Option("--accounts", min=1, help="Sandbox Weibo accounts (channels).")
    ] = 1_000,
    database_url: Annotated[
        str,
        typer.Option(
            help="A PostgreSQL server URL to create a scratch database on; default SQLite."
        ),
    ] = "",
    queue_url: Annotated[
        str, typer.Option(help="A Redis URL; default a scratch SQLite queue.")
    ] = "",
    workers: Annotated[int, typer.Option(min=1, help="`guanxi worker` processes.")] = 3,
    threads: Annotated[int, typer.Option(min=1, help="Consumer threads per worker.")] = 4,
    kill_worker: Annotated[
        bool, typer.Option(help="SIGKILL a worker mid-run and start a replacement.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the schedule's randomness.")] = 0,
    window: Annotated[float, typer.Option(min=1, help="Seconds the posts are spread over.")] = 90.0,
    lead: Annotated[float, typer.Option(min=0, help="Seconds before the first post is due.")] = 5.0,
    timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for every post; 0: derived.")
    ] = 0.0,
) -> None:
    """Publish POSTS posts to ACCOUNTS sandbox Weibo accounts with a real worker pool, then
    report duplicates, lost posts, lateness and throughput (the last line, for scripts)."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.publishing import BenchConfig, run_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = BenchConfig(
        posts=posts,
        accounts=accounts_,
        database_url=database_url,
        queue_url=queue_url,
        workers=workers,
        threads=threads,
        kill_worker=kill_worker,
        seed=seed,
        window_s=window,
        lead_s=lead,
        timeout_s=timeout,
    )
    backend = "PostgreSQL" if database_url else "SQLite"
    console.print(
        f"bench publish: {posts} posts, {accounts_} accounts, {backend}, {workers} worker(s) "
        f"x {threads} thread(s), window {window:.0f} s{', kill a worker' if kill_worker else ''}"
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            progress("final variants", 0, posts)
            result = run_bench(config, progress=progress)
    except BenchError as exc:
        raise _fail(str(exc)) from exc
    table = Table("figure", "value", title="publishing benchmark")
    for state, count in sorted(result.by_state.items()):
        table.add_row(f"variants {state}", str(count))
    table.add_row("duplicates (extra live posts)", str(result.duplicates))
    table.add_row("lost", str(result.lost))
    table.add_row("live but not recorded as published", str(result.live_unrecorded))
    table.add_row("reconciled with the platform (find)", str(result.reconciled))
    table.add_row(
        "lateness p50 / p99 / max (s)",
        f"{result.p50_lateness_s:.2f} / {result.p99_lateness_s:.2f} / {result.max_lateness_s:.2f}",
    )
    table.add_row("throughput (published/s)", f"{result.throughput_per_s:.2f}")
    table.add_row("wall clock (s)", f"{result.elapsed_s:.1f}")
    if result.killed:
        table.add_row("killed worker pids", ", ".join(map(str, result.killed)))
        table.add_row("variants it held when killed", str(len(result.held_by_killed)))
    console.print(table)
    if result.timed_out:
        err_console.print("[bold yellow]warning:[/] timed out before every variant was final")
    if result.lost_ids:
        err_console.print(f"lost variant ids: {result.lost_ids[:20]}")
    typer.echo(result.last_line())
    if result.duplicates or result.lost:
        raise typer.Exit(code=1)


# Each benchmark command is in a module of this package; each capability's commands in its own.
for benchmarks in (
    listen_bench,
    nlp_bench,
    inbox_bench,
    market_bench,
    web_bench,
    analytics_bench,
    convert_bench,
    report_bench,
    workers_bench,
    storage_bench,
    scale_bench,
):
    benchmarks.register_bench(bench_app)
for capability in capabilities():
    if capability.cli is not None:
        capability.cli(app)
# After the capabilities': ``guanxi analytics`` may be a capability's group already.
analytics_migrate.register(app)
