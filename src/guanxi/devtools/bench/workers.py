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

import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from huey import Huey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.queue import REDIS_SCHEMES, make_huey
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import BenchError, Progress, no_progress, scratch_database
from guanxi.devtools.bench.machines import (
    Cores,
    CpuClock,
    Machine,
    check_alive,
    log_errors,
    machine_env,
    start_machine,
    stop_machines,
    wait_ready,
    wait_settled,
)
from guanxi.devtools.bench.publishing import (
    FINAL,
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

MENTIONS_PAGE = "/weibo/2/statuses/mentions.json"
FAN_BASE = 8_000_000_000  # sandbox Weibo uids of the fans who mention the accounts
FANS = 500  # distinct fans: the same people come back across accounts (one person each)


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
                        huey,
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
    queue: Huey,
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
        wait_settled(machines, queue, progress)
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
