"""``guanxi bench workers``: publishing and inbox ingest with 1, 2 and 4 worker processes.

Each worker count is a round of its own, on a fresh scratch database (created on the
PostgreSQL server given, dropped afterwards), a fresh sandbox and an empty Redis queue:

1. the sandbox (in a thread of this process) gets N Weibo accounts with long-lived tokens;
   the workspace connects them as N channels and writes P posts, one Weibo variant each;
2. W ``guanxi worker`` processes start as W machines would: each in a process group of
   its own, with its own data and temporary directories; they share only the database and
   the queue (and, as every machine of a deployment, the secret key and the platforms);
3. publish: every post is made due at once; the workers' dispatch claims them and their
   consumers publish them to the sandbox. Measured until every variant is final;
4. ingest: each account gets M new @-mentions on the sandbox, ``guanxi inbox sync --queue``
   (a separate process, as an operator or the schedule would) queues one sync job per
   channel, and the workers read them. Measured until every mention is in the inbox.

Then it checks what must hold whatever the number of workers: no post live twice on the
platform and none lost (``publishing.measure``), no mention stored twice and none missing,
and no error (a failed post, a sync error on a channel, a traceback in a worker's log).
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.queue import REDIS_SCHEMES, make_huey
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import BenchError, Progress, no_progress, scratch_database
from guanxi.devtools.bench.publishing import (
    FINAL,
    STOP_TIMEOUT_S,
    BenchConfig,
    add_sandbox_accounts,
    bench_limits,
    final_count,
    live_posts,
    measure,
    populate,
    read_variants,
    worker_env,
)
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.publishing.models import Variant
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.audience import Fan, FanMention, engagement_of
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxState
from guanxi.sandbox.weibo import DEMO_APP_KEY, DEMO_SAFE_DOMAIN, weibo_surface

READY_TIMEOUT_S = 120.0  # a worker prints its first line once its code is loaded
MENTIONS_PAGE = "/weibo/2/statuses/mentions.json"
FAN_BASE = 8_000_000_000  # sandbox Weibo uids of the fans who mention the accounts
FANS = 500  # distinct fans: the same people come back across accounts (one person each)
EXIT_WITH_US = "--exit-with-parent"  # a bench killed outright leaves no workers behind
ERROR_MARKERS = ("Traceback", " ERROR ", "Error:")


@dataclass(frozen=True)
class WorkersConfig:
    """What to run: the worker counts, the sizes, and where the shared services are."""

    database_url: str  # a PostgreSQL server: each round creates a database on it
    queue_url: str  # Redis: a database number no other guanxi uses during the run
    worker_counts: tuple[int, ...] = (1, 2, 4)
    posts: int = 600
    accounts: int = 60
    mentions: int = 100  # per account
    threads: int = 4  # consumer threads per worker process
    timeout_s: float = 300.0  # per phase of a round
    seed: int = 0

    def check(self) -> None:
        """Refuse what cannot run, before anything starts."""
        if not self.database_url.startswith("postgresql"):
            msg = (
                "--database-url must be a PostgreSQL server (postgresql+psycopg://…): "
                "workers on several machines share one; SQLite is for one machine"
            )
            raise BenchError(msg)
        if not self.queue_url.startswith(REDIS_SCHEMES):
            msg = "--queue-url must be a Redis URL such as redis://127.0.0.1:6379/12"
            raise BenchError(msg)
        if not self.worker_counts or min(self.worker_counts) < 1 or max(self.worker_counts) > 8:
            msg = "--workers must list counts from 1 to 8, such as 1,2,4"
            raise BenchError(msg)
        # Weibo lets an account post 30 times an hour and read 150 times: stay inside.
        if self.posts < 1 or self.accounts < 1 or self.posts > 10 * self.accounts:
            msg = "--posts must be from 1 to 10 × --accounts (Weibo's hourly limits per account)"
            raise BenchError(msg)
        if not 1 <= self.mentions <= 500:
            msg = "--mentions must be from 1 to 500 per account (what one sync reads at first)"
            raise BenchError(msg)


@dataclass(frozen=True)
class Cores:
    """Cores busy during a phase: the workers, this process (the sandbox), PostgreSQL's
    backends serving the round's database, and the machine's load average at the end."""

    workers: float = 0.0
    sandbox: float = 0.0
    database: float = 0.0
    load: float = 0.0
    wall_s: float = 0.0  # how long the phase was watched

    def worker_ms_per(self, count: int) -> float:
        """The workers' CPU milliseconds per post or item of the phase."""
        return self.workers * self.wall_s * 1000 / count if count else 0.0

    def __str__(self) -> str:
        return f"{self.workers:.2f} / {self.sandbox:.2f} / {self.database:.2f}"


@dataclass
class RoundResult:
    """What one worker count did."""

    workers: int
    posts: int
    published: int = 0
    publish_s: float = 0.0
    duplicate_posts: int = 0  # live on the platform more than once
    lost_posts: int = 0
    mentions: int = 0  # put on the platform
    ingested: int = 0  # of those, in the inbox
    ingest_s: float = 0.0
    duplicate_items: int = 0  # stored more than once
    mention_reads: int = 0  # mention-feed pages the platform served in the round (all syncs)
    publish_cores: Cores = field(default_factory=Cores)
    ingest_cores: Cores = field(default_factory=Cores)
    errors: list[str] = field(default_factory=list)

    @property
    def publish_per_s(self) -> float:
        """Posts published a second, from their due time to the last publish."""
        return self.published / self.publish_s if self.publish_s else 0.0

    @property
    def ingest_per_s(self) -> float:
        """Mentions stored a second, from the queued syncs to the last item stored."""
        return self.ingested / self.ingest_s if self.ingest_s else 0.0

    @property
    def duplicates(self) -> int:
        """Posts published twice and items stored twice."""
        return self.duplicate_posts + self.duplicate_items


def last_line(rounds: list[RoundResult]) -> str:
    """The machine-readable summary the command ends with."""

    def joined(values: list[float]) -> str:
        return ",".join(f"{v:.1f}" for v in values)

    lost = sum(r.lost_posts + (r.mentions - r.ingested) for r in rounds)
    return (
        f"workers={','.join(str(r.workers) for r in rounds)} "
        f"publish_per_s={joined([r.publish_per_s for r in rounds])} "
        f"ingest_per_s={joined([r.ingest_per_s for r in rounds])} "
        f"duplicates={sum(r.duplicates for r in rounds)} lost={lost} "
        f"errors={sum(len(r.errors) for r in rounds)}"
    )


# --- Machines -----------------------------------------------------------------------------


@dataclass
class Machine:
    """One ``guanxi worker`` process, started as on a machine of its own."""

    root: Path
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        """What the worker printed."""
        return self.root / "worker.log"

    def ready(self) -> bool:
        """Whether the worker has loaded its code and started its consumer."""
        return self.log.exists() and "worker:" in self.log.read_text(errors="replace")


def machine_env(base: dict[str, str], root: Path) -> dict[str, str]:
    """``base`` with this machine's own data and temporary directories."""
    for name in ("data", "tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return base | {
        "GUANXI_DATA_DIR": str(root / "data"),
        "TMPDIR": str(root / "tmp"),
        "PYTHONUNBUFFERED": "1",  # its log shows when it is ready
    }


def start_machine(base: dict[str, str], root: Path, *, threads: int) -> Machine:
    """A ``guanxi worker`` in a new session (its own process group) with its own dirs."""
    env = machine_env(base, root)
    with (root / "worker.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "guanxi", "worker", "--workers", str(threads), EXIT_WITH_US],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Machine(root=root, proc=proc)


def stop_machines(machines: list[Machine]) -> None:
    """SIGTERM each machine's process group, then SIGKILL what is left after a while."""
    for machine in machines:
        if machine.proc.poll() is None:
            os.killpg(machine.proc.pid, signal.SIGTERM)
    for machine in machines:
        try:
            machine.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(machine.proc.pid, signal.SIGKILL)
            machine.proc.wait()


def wait_ready(machines: list[Machine]) -> None:
    """Wait until every worker is running; fail when one dies or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not all(m.ready() for m in machines):
        check_alive(machines)
        if time.monotonic() > deadline:
            msg = f"the workers did not start within {READY_TIMEOUT_S:.0f} s"
            raise BenchError(msg)
        time.sleep(0.2)


def check_alive(machines: list[Machine]) -> None:
    """Fail the round when a worker exited on its own (its log says why)."""
    for machine in machines:
        if machine.proc.poll() is not None:
            tail = machine.log.read_text(errors="replace")[-2000:]
            msg = f"worker {machine.proc.pid} exited with {machine.proc.returncode}:\n{tail}"
            raise BenchError(msg)


def log_errors(machines: list[Machine]) -> list[str]:
    """The lines of the workers' logs that report an error."""
    return [
        f"worker {n}: {line.strip()[:200]}"
        for n, machine in enumerate(machines)
        for line in machine.log.read_text(errors="replace").splitlines()
        if any(marker in line for marker in ERROR_MARKERS)
    ]


def process_cpu_s(pid: int) -> float:
    """CPU seconds process ``pid`` used so far (user and system, its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone, or not Linux
        return 0.0
    # utime and stime are the 12th and 13th fields after the command's name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """Reads the CPU seconds of the workers, this process and the database's backends."""

    def __init__(self, machines: list[Machine], sessions: sessionmaker[Session]) -> None:
        self.machines, self.sessions = machines, sessions
        self.began = time.monotonic()
        self.start = self._sample()

    def _backends(self) -> dict[int, float]:
        with self.sessions() as db:
            query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            return {pid: process_cpu_s(pid) for pid in db.scalars(query)}

    def _sample(self) -> tuple[float, float, dict[int, float]]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        workers = sum(process_cpu_s(m.proc.pid) for m in self.machines)
        return workers, own.ru_utime + own.ru_stime, self._backends()

    def cores(self) -> Cores:
        """Each part's CPU seconds since the start, over the wall-clock seconds."""
        workers, own, backends = self._sample()
        wall = max(time.monotonic() - self.began, 1e-3)
        database = sum(cpu - self.start[2].get(pid, 0.0) for pid, cpu in backends.items())
        return Cores(
            workers=(workers - self.start[0]) / wall,
            sandbox=(own - self.start[1]) / wall,
            database=database / wall,
            load=os.getloadavg()[0],
            wall_s=wall,
        )


# --- A round ------------------------------------------------------------------------------


def wait_for(
    done: Callable[[], int],
    total: int,
    *,
    label: str,
    machines: list[Machine],
    timeout_s: float,
    progress: Progress,
) -> bool:
    """Poll ``done()`` until it reaches ``total``; False when the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        count = done()
        progress(label, count, total)
        if count >= total:
            return True
        if time.monotonic() > deadline:
            return False
        check_alive(machines)
        time.sleep(0.25)


def publish_phase(
    sessions: sessionmaker[Session],
    state: SandboxState,
    result: RoundResult,
    *,
    machines: list[Machine],
    config: WorkersConfig,
    progress: Progress,
) -> None:
    """Make every post due now and wait until each is final; count, check, time."""
    due = utcnow()
    with session_scope(sessions) as db:
        db.execute(update(Variant).values(scheduled_at=due, next_attempt_at=due))
    clock = CpuClock(machines, sessions)
    began = time.monotonic()
    finished = wait_for(
        lambda: final_count(sessions),
        config.posts,
        label=f"{result.workers} worker(s): posts",
        machines=machines,
        timeout_s=config.timeout_s,
        progress=progress,
    )
    result.publish_cores = clock.cores()
    measured = measure(
        read_variants(sessions), live_posts(state), elapsed_s=time.monotonic() - began
    )
    result.published = measured.by_state.get("published", 0)
    if measured.throughput_per_s:  # published over the span from the due time to the last
        result.publish_s = result.published / measured.throughput_per_s
    result.duplicate_posts, result.lost_posts = measured.duplicates, measured.lost
    if not finished:
        result.errors.append(f"{config.posts - final_count(sessions)} posts not final in time")
    failed = sum(n for s, n in measured.by_state.items() if s in FINAL and s != "published")
    if failed:
        result.errors.append(f"{failed} posts failed or need attention")


def add_mentions(state: SandboxState, account_ids: list[str], per_account: int) -> int:
    """``per_account`` new @-mentions of each account by the bench's fans; how many."""
    engagement = engagement_of(state)
    now = utcnow()
    added = 0
    with state.lock:
        for n in range(per_account):
            for account_id in account_ids:
                number = FAN_BASE + (added * 7919) % FANS
                fan = Fan(str(number), f"葡萄酒爱好者{number % FANS:03d}", 50 + number % 900, -1)
                text = f"@基准测试账号 第{added}条：桃红到货了，物流很快，包装也好，下次还买"
                at = now - timedelta(seconds=per_account - n)
                engagement.mentions.append(
                    FanMention("weibo", account_id, state.next_id(), fan, text, at)
                )
                added += 1
    return added


def queue_syncs(env: dict[str, str], root: Path) -> None:
    """``guanxi inbox sync --queue`` run as an operator would, on a machine of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "guanxi", "inbox", "sync", "--queue"],
        env=machine_env(env, root),
        cwd=root,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        said = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        msg = f"guanxi inbox sync --queue failed:\n{said}"
        raise BenchError(msg)


def mention_count(sessions: sessionmaker[Session]) -> int:
    """Mentions stored in the inbox."""
    with sessions() as db:
        found = (
            select(func.count()).select_from(InboxItem).where(InboxItem.kind == ItemKind.MENTION)
        )
        return int(db.scalar(found) or 0)


def ingest_phase(
    sessions: sessionmaker[Session],
    state: SandboxState,
    result: RoundResult,
    *,
    machines: list[Machine],
    config: WorkersConfig,
    account_ids: list[str],
    env: dict[str, str],
    root: Path,
    progress: Progress,
) -> None:
    """Put mentions on the platform, queue the syncs, wait until all are stored; check.

    A first mention of each account is read untimed: a worker loads the sentiment model
    and its connectors on its first items, which a running worker did long ago."""
    label = f"{result.workers} worker(s): mentions"
    warm = add_mentions(state, account_ids, 1)
    queue_syncs(env, root)
    wait_for(
        lambda: mention_count(sessions),
        warm,
        label=label,
        machines=machines,
        timeout_s=config.timeout_s,
        progress=progress,
    )
    result.mentions = add_mentions(state, account_ids, config.mentions)
    clock = CpuClock(machines, sessions)
    mark = utcnow()
    queue_syncs(env, root)
    queued_at = utcnow()
    finished = wait_for(
        lambda: mention_count(sessions) - warm,
        result.mentions,
        label=label,
        machines=machines,
        timeout_s=config.timeout_s,
        progress=progress,
    )
    done_at = utcnow()  # within a poll (0.25 s) of the last mention stored
    result.ingest_cores = clock.cores()
    with sessions() as db:
        mentions = InboxItem.kind == ItemKind.MENTION
        total, distinct = db.execute(
            select(func.count(), func.count(func.distinct(InboxItem.external_id))).where(mentions)
        ).one()
        # When the first sync of the timed batch began (possibly before the command exited).
        first_sync = db.scalar(
            select(func.min(InboxItem.fetched_at)).where(mentions, InboxItem.fetched_at >= mark)
        )
        sync_errors = list(
            db.scalars(select(SyncCursor.last_error).where(SyncCursor.last_error != ""))
        )
    result.ingested = int(distinct) - warm
    result.duplicate_items = int(total) - int(distinct)
    began = queued_at if first_sync is None else min(first_sync, queued_at)
    result.ingest_s = max((done_at - began).total_seconds(), 1e-3)
    if not finished:
        result.errors.append(f"{result.mentions - result.ingested} mentions not stored in time")
    result.errors += [f"sync: {error}" for error in sync_errors]


def run_round(
    config: WorkersConfig, workers: int, *, progress: Progress = no_progress
) -> RoundResult:
    """One worker count, set up and cleaned up; see the module's docstring."""
    with tempfile.TemporaryDirectory(prefix="guanxi-bench-workers-") as tmp:
        workdir = Path(tmp)
        settings = Settings(
            data_dir=workdir / "bench",
            secret_key=secrets.token_urlsafe(48),
            smtp_host="",
            weibo_app_key=DEMO_APP_KEY,
            weibo_safe_domain=DEMO_SAFE_DOMAIN,
        )
        limits = bench_limits(BenchConfig(posts=config.posts * 2, accounts=config.accounts))
        app = create_sandbox_app(seed=config.seed, platform_surfaces=[weibo_surface(limits)])
        huey = make_huey(Settings(data_dir=workdir, queue_url=config.queue_url))
        pending = huey.pending_count()
        if pending:
            msg = (
                f"the queue at {config.queue_url} holds {pending} jobs: another guanxi uses it. "
                "Give --queue-url a Redis database of its own, e.g. redis://127.0.0.1:6379/12"
            )
            raise BenchError(msg)
        try:
            with (
                scratch_database(config.database_url, workdir) as url,
                run_in_thread(app) as sandbox,
            ):
                engine = make_engine(url)
                try:
                    return _round(
                        config,
                        workers,
                        settings,
                        url,
                        sandbox,
                        make_session_factory(engine),
                        workdir,
                        progress,
                    )
                finally:
                    engine.dispose()
        finally:
            huey.flush()  # jobs of this round's database must not reach the next one


def _round(
    config: WorkersConfig,
    workers: int,
    settings: Settings,
    url: str,
    sandbox: RunningSandbox,
    sessions: sessionmaker[Session],
    workdir: Path,
    progress: Progress,
) -> RoundResult:
    state = sandbox.sandbox.state
    made = add_sandbox_accounts(state, config.accounts)
    populate(
        sessions,
        settings=settings,
        config=BenchConfig(config.posts, config.accounts),
        sandbox_accounts=made,
    )
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    env = worker_env(
        settings=settings, database_url=url, queue_url=config.queue_url, sandbox_port=port
    )
    env.pop("GUANXI_DATA_DIR")  # each machine has its own
    result = RoundResult(workers=workers, posts=config.posts)
    machines: list[Machine] = []
    try:
        machines.extend(
            start_machine(env, workdir / f"machine-{n}", threads=config.threads)
            for n in range(workers)
        )
        wait_ready(machines)
        publish_phase(sessions, state, result, machines=machines, config=config, progress=progress)
        ingest_phase(
            sessions,
            state,
            result,
            machines=machines,
            config=config,
            account_ids=[uid for uid, _ in made],
            env=env,
            root=workdir / "operator",
            progress=progress,
        )
        result.mention_reads = _mention_reads(state)
    finally:
        stop_machines(machines)
    result.errors += log_errors(machines)
    return result


def _mention_reads(state: SandboxState) -> int:
    with state.lock:
        return sum(1 for _, path in state.requests if path == MENTIONS_PAGE)


def run_workers_bench(
    config: WorkersConfig, *, progress: Progress = no_progress
) -> list[RoundResult]:
    """Every round of ``config.worker_counts``, in order."""
    config.check()
    return [run_round(config, workers, progress=progress) for workers in config.worker_counts]
