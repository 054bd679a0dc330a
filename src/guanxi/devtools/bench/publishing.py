"""``guanxi bench publish``: the publishing engine under load, against the sandbox.

One run sets up everything it needs and removes it afterwards:

1. a scratch database (a SQLite file in a temporary directory, or a database created on
   the PostgreSQL server given with ``--database-url`` and dropped at the end), migrated;
2. the platform sandbox in a thread of this process, with N Weibo accounts, each holding a
   long-lived token issued by the sandbox; Weibo's per-account limits stay as the sandbox
   documents them (``WeiboLimits``), the per-app hourly limit is raised to fit the run;
3. a workspace with N connected Weibo channels and P posts, one Weibo variant each,
   scheduled over a window that starts a few seconds ahead;
4. a pool of real ``guanxi worker`` processes (schedule and consumers, as in production)
   sharing the scratch database and a scratch queue; ``--kill-worker`` SIGKILLs one of
   them mid-run and starts a replacement.

It then waits until every variant is final (or the time is up) and measures, from the
database and the sandbox: duplicates, lost posts, lateness and throughput (``measure``).
"""

from __future__ import annotations

import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, and_, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from guanxi.accounts import service as accounts
from guanxi.channels.service import create_channel
from guanxi.connectors.base import Token
from guanxi.connectors.weibo import MARKER_PARAM, marker
from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    no_progress,
    percentile,
    scratch_database,
)
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.notifications.models import Notification
from guanxi.publishing.engine import QUEUED_LEASE
from guanxi.publishing.leases import PUBLISH_LEASE
from guanxi.publishing.models import (
    Post,
    PublishAttempt,
    Variant,
    VariantState,
)
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import IssuedToken, SandboxAccount, SandboxPost, SandboxState
from guanxi.sandbox.weibo import DEMO_APP_KEY, DEMO_SAFE_DOMAIN, WeiboLimits, weibo_surface

S = VariantState
FINAL = (S.PUBLISHED, S.FAILED, S.NEEDS_ATTENTION)
BENCH_UID_BASE = 7_000_000_000  # sandbox Weibo uids of the bench accounts
BENCH_SLUG = "bench"
BENCH_EMAIL = "bench@example.com"
_MARKER = re.compile(rf"[?&]{MARKER_PARAM}=([0-9a-f]+)")
# What a run's children may need after the deadline: a worker ends within this on SIGTERM.
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class BenchConfig:
    """What to run: sizes, where, how many workers, and the schedule's shape."""

    posts: int
    accounts: int
    database_url: str = ""  # empty: a temporary SQLite file; postgresql+...: a scratch DB
    queue_url: str = ""  # empty: a SQLite queue in the scratch directory; redis://...
    workers: int = 3  # worker processes
    threads: int = 4  # consumer threads per worker process
    kill_worker: bool = False
    seed: int = 0
    lead_s: float = 5.0  # the first post is due this long after the setup
    window_s: float = 90.0  # posts are spread over this window
    timeout_s: float = 0.0  # 0: derived from the window (and the lease, with kill_worker)

    def deadline_s(self) -> float:
        """How long to wait for every variant to be final after the setup."""
        if self.timeout_s > 0:
            return self.timeout_s
        # A killed worker's leases must expire (a claim it had taken off the queue waits for
        # the queued lease), then the sweep (every 60 s) takes the variant back.
        longest = max(PUBLISH_LEASE, QUEUED_LEASE).total_seconds()
        grace = longest + 180 if self.kill_worker else 300.0
        return self.lead_s + self.window_s + grace


@dataclass(frozen=True)
class VariantRow:
    """What the database says about one variant at the end."""

    id: int
    state: str
    idempotency_key: str
    scheduled_at: datetime
    published_at: datetime | None
    external_id: str
    notified: bool  # a notification points at its post


@dataclass(frozen=True)
class LivePost:
    """A post on the sandbox platform."""

    post_id: str
    account_id: str
    text: str
    deleted: bool = False


@dataclass
class BenchResult:
    """The figures of a run."""

    posts: int
    by_state: dict[str, int]
    duplicates: int
    lost: int
    live_unrecorded: int  # live on the platform while the database says it is not published
    p50_lateness_s: float
    p99_lateness_s: float
    max_lateness_s: float
    throughput_per_s: float
    elapsed_s: float = 0.0
    timed_out: bool = False
    killed: list[int] = field(default_factory=list)
    held_by_killed: list[int] = field(default_factory=list)  # variants it held when killed
    reconciled: int = 0  # variants looked up on the platform (find) before any resend
    lost_ids: list[int] = field(default_factory=list)

    def last_line(self) -> str:
        """The line the command ends with."""
        return (
            f"duplicates={self.duplicates} lost={self.lost} "
            f"p99_lateness_s={self.p99_lateness_s:.2f} "
            f"throughput_per_s={self.throughput_per_s:.2f}"
        )


def measure(variants: list[VariantRow], live: list[LivePost], *, elapsed_s: float) -> BenchResult:
    """Duplicates, lost posts, lateness and throughput from the end state of a run.

    - a duplicate is a live post beyond the first carrying the same idempotency marker;
    - a variant is lost when it is not final, when it failed or needs attention without a
      notification telling someone, or when the database says published but the platform
      has no post with its marker;
    - lateness is ``published_at - scheduled_at`` of published variants; throughput is the
      published count over the span from the first scheduled time to the last publish.
    """
    per_marker: Counter[str] = Counter()
    post_ids: set[str] = set()
    for post in live:
        if post.deleted:
            continue
        post_ids.add(post.post_id)
        found = _MARKER.search(post.text)
        if found:
            per_marker[found.group(1)] += 1
    duplicates = sum(count - 1 for count in per_marker.values() if count > 1)
    lost_ids: list[int] = []
    live_unrecorded = 0
    lateness: list[float] = []
    for variant in variants:
        on_platform = per_marker[marker(variant.idempotency_key)] > 0
        if variant.state == S.PUBLISHED:
            if not on_platform or variant.external_id not in post_ids:
                lost_ids.append(variant.id)
            elif variant.published_at is not None:
                lateness.append((variant.published_at - variant.scheduled_at).total_seconds())
        elif variant.state in (S.FAILED, S.NEEDS_ATTENTION):
            live_unrecorded += on_platform
            if not variant.notified:
                lost_ids.append(variant.id)
        else:
            live_unrecorded += on_platform
            lost_ids.append(variant.id)
    published = [t for t in variants if t.state == S.PUBLISHED and t.published_at is not None]
    throughput = 0.0
    if published:
        start = min(t.scheduled_at for t in variants)
        end = max(t.published_at for t in published if t.published_at is not None)
        span = max((end - start).total_seconds(), 1e-3)
        throughput = len(published) / span
    return BenchResult(
        posts=len(variants),
        by_state=dict(Counter(t.state for t in variants)),
        duplicates=duplicates,
        lost=len(lost_ids),
        live_unrecorded=live_unrecorded,
        p50_lateness_s=percentile(lateness, 50),
        p99_lateness_s=percentile(lateness, 99),
        max_lateness_s=max(lateness, default=0.0),
        throughput_per_s=throughput,
        elapsed_s=elapsed_s,
        lost_ids=sorted(lost_ids),
    )


# --- Setup --------------------------------------------------------------------------------


def bench_limits(config: BenchConfig) -> WeiboLimits:
    """Weibo's documented per-account limits; the per-app hourly limit raised for the run
    (each post costs a share, and a reconcile a timeline read or three)."""
    return WeiboLimits(
        ip_requests_per_hour=max(WeiboLimits().ip_requests_per_hour, 10 * config.posts)
    )


def add_sandbox_accounts(state: SandboxState, count: int) -> list[tuple[str, str]]:
    """``count`` Weibo accounts with a long-lived token each: [(uid, token)]."""
    made = []
    expires = utcnow() + timedelta(days=3650)
    with state.lock:
        for i in range(count):
            uid = str(BENCH_UID_BASE + i)
            token = f"2.00bench{secrets.token_hex(12)}"
            state.accounts[("weibo", uid)] = SandboxAccount("weibo", uid, f"基准测试账号{i:04d}")
            state.tokens[token] = IssuedToken(
                platform="weibo",
                token=token,
                account_id=uid,
                client_id=DEMO_APP_KEY,
                expires_at=expires,
            )
            made.append((uid, token))
    return made


def post_text(number: int) -> str:
    """A unique Weibo text (Weibo refuses a repeated one) with the app's safe-domain link."""
    return f"普罗旺斯桃红葡萄酒第{number}号，欢迎品尝！详情 https://{DEMO_SAFE_DOMAIN}/b/{number}"


def populate(
    sessions: sessionmaker[Session],
    *,
    settings: Settings,
    config: BenchConfig,
    sandbox_accounts: list[tuple[str, str]],
) -> None:
    """The workspace, its channels (one per sandbox account) and the posts, scheduled a day
    ahead for now (``schedule`` gives them their times once everything is written)."""
    start = utcnow() + timedelta(days=1)
    box = SecretBox.from_settings(settings)
    with session_scope(sessions) as db:
        owner = accounts.create_user(
            db,
            data=accounts.parse_user_create(
                email=BENCH_EMAIL, name="Bench", password=secrets.token_urlsafe(16)
            ),
        )
        workspace = accounts.create_workspace(
            db,
            data=accounts.parse_workspace_create(
                slug=BENCH_SLUG, name="Benchmark", timezone="Asia/Shanghai"
            ),
            owner=owner,
        )
        channel_ids = [
            create_channel(
                db,
                workspace=workspace,
                connector="weibo",
                platform="weibo",
                external_id=uid,
                name=f"基准测试账号{i:04d}",
                credentials={},
                box=box,
                actor=None,
                token=Token(token, None),
            ).id
            for i, (uid, token) in enumerate(sandbox_accounts)
        ]
        workspace_id, owner_id = workspace.id, owner.id
    # Posts in batches: the same rows the composer writes once a variant is scheduled.
    batch = 1000
    for first in range(0, config.posts, batch):
        with session_scope(sessions) as db:
            for number in range(first, min(first + batch, config.posts)):
                at = start + timedelta(seconds=number)
                body = post_text(number)
                post = Post(
                    workspace_id=workspace_id,
                    title=f"bench {number}",
                    body=body,
                    created_by_id=owner_id,
                )
                post.variants.append(
                    Variant(
                        workspace_id=workspace_id,
                        channel_id=channel_ids[number % len(channel_ids)],
                        text=body,
                        idempotency_key=uuid.uuid4().hex,
                        state=S.SCHEDULED,
                        scheduled_at=at,
                        next_attempt_at=at,
                        media_ids=[],
                        checks=[],
                        overrides=[],
                    )
                )
                db.add(post)


def schedule(sessions: sessionmaker[Session], *, config: BenchConfig) -> datetime:
    """Spread the variants at random over the window starting ``lead_s`` from now (setting
    up 10,000 posts takes longer than the lead); returns the window's start."""
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible schedule, not a secret
    table = cast("Table", Variant.__table__)
    with session_scope(sessions) as db:
        ids = list(db.scalars(select(Variant.id).order_by(Variant.id)))
        start = utcnow() + timedelta(seconds=config.lead_s)
        rows = []
        for variant_id in ids:
            at = start + timedelta(seconds=rng.uniform(0, config.window_s))
            rows.append({"tid": variant_id, "at": at})
        db.execute(
            table.update()
            .where(table.c.id == bindparam("tid"))
            .values(scheduled_at=bindparam("at"), next_attempt_at=bindparam("at")),
            rows,
        )
    return start


# --- Workers ------------------------------------------------------------------------------


@dataclass
class WorkerPool:
    """``guanxi worker`` child processes sharing the scratch database and queue."""

    env: dict[str, str]
    threads: int
    logdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)

    def start_one(self) -> subprocess.Popen[bytes]:
        """Start one more worker process (schedule and consumers)."""
        log = (self.logdir / f"worker-{len(self.procs) + len(self.killed)}.log").open("wb")
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            # --exit-with-parent: a bench killed outright leaves no workers behind.
            [
                sys.executable,
                "-m",
                "guanxi",
                "worker",
                "--workers",
                str(self.threads),
                "--exit-with-parent",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child holds its own descriptor
        self.procs.append(proc)
        return proc

    def kill_one(self, *, before_kill: Callable[[int], None] = lambda _pid: None) -> int:
        """SIGKILL the oldest worker (no chance to clean up) and start a replacement;
        ``before_kill(pid)`` runs first (to wait until the victim is mid-publish)."""
        victim = self.procs.pop(0)
        before_kill(victim.pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.killed.append(victim.pid)
        self.start_one()
        return victim.pid

    def check_alive(self) -> None:
        """Fail the run when a worker died on its own (its log says why)."""
        for proc in self.procs:
            if proc.poll() is not None:
                logs = sorted(self.logdir.glob("worker-*.log"))
                tail = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs)
                msg = f"worker {proc.pid} exited with {proc.returncode}:\n{tail}"
                raise BenchError(msg)

    def stop(self) -> None:
        """SIGTERM every worker, then SIGKILL those still there after ``STOP_TIMEOUT_S``."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def worker_env(
    *, settings: Settings, database_url: str, queue_url: str, sandbox_port: int
) -> dict[str, str]:
    """The environment of a worker: the scratch database, queue, key and sandbox URLs, and
    the inbox's sentiment tier the bench was run with (GUANXI_SENTIMENT_TIER)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env.update(sandbox_environment(sandbox_port))
    env.update(
        GUANXI_DATABASE_URL=database_url,
        GUANXI_DATA_DIR=str(settings.data_dir),
        GUANXI_QUEUE_URL=queue_url,
        GUANXI_SECRET_KEY=settings.secret_key.get_secret_value(),
        GUANXI_MODE="development",
        GUANXI_SENTIMENT_TIER=settings.sentiment_tier.value,
    )
    return env


# --- The run ------------------------------------------------------------------------------


def final_count(sessions: sessionmaker[Session]) -> int:
    """How many variants are final."""
    with sessions() as db:
        count = db.scalar(select(func.count()).select_from(Variant).where(Variant.state.in_(FINAL)))
    return int(count or 0)


def read_variants(sessions: sessionmaker[Session]) -> list[VariantRow]:
    """Every variant and whether someone was notified about its post."""
    with sessions() as db:
        links = set(db.scalars(select(Notification.link).distinct()))
        rows = db.execute(
            select(
                Variant.id,
                Variant.state,
                Variant.idempotency_key,
                Variant.scheduled_at,
                Variant.published_at,
                Variant.external_id,
                Variant.post_id,
            ).order_by(Variant.id)
        ).all()
    return [
        VariantRow(
            id=r.id,
            state=str(r.state),
            idempotency_key=r.idempotency_key,
            scheduled_at=r.scheduled_at,
            published_at=r.published_at,
            external_id=r.external_id,
            notified=f"/w/{BENCH_SLUG}/posts/{r.post_id}" in links,
        )
        for r in rows
    ]


def live_posts(state: SandboxState) -> list[LivePost]:
    """The sandbox's Weibo posts of the bench accounts."""
    with state.lock:
        posts: list[SandboxPost] = list(state.posts)
    return [
        LivePost(post_id=p.post_id, account_id=p.account_id, text=p.text, deleted=p.deleted)
        for p in posts
        if p.platform == "weibo" and int(p.account_id) >= BENCH_UID_BASE
    ]


def _owned_by(pid: int) -> ColumnElement[bool]:
    # Lease owners are "host:pid:thread" (core.worker.worker_id), "queued:" + that for claims.
    return and_(Variant.state == S.PUBLISHING, Variant.lease_owner.like(f"%:{pid}:%"))


def leases_of(sessions: sessionmaker[Session], pid: int) -> list[int]:
    """The variants the worker process ``pid`` holds (claimed or publishing)."""
    with sessions() as db:
        return list(db.scalars(select(Variant.id).where(_owned_by(pid))))


def wait_until_publishing(sessions: sessionmaker[Session], pid: int, limit_s: float = 30) -> None:
    """Wait (up to ``limit_s``) until worker ``pid`` is publishing a variant, so a kill
    leaves a request in flight for the sweep and the reconciliation to deal with."""
    deadline = time.monotonic() + limit_s
    publishing = and_(_owned_by(pid), Variant.lease_owner.not_like("queued:%"))
    while time.monotonic() < deadline:
        with sessions() as db:
            if db.scalar(select(Variant.id).where(publishing).limit(1)) is not None:
                return
        time.sleep(0.02)


def run_bench(config: BenchConfig, *, progress: Progress = no_progress) -> BenchResult:
    """Set up, run the worker pool until every variant is final or time is up, measure,
    clean up. ``progress("final variants", final, total)`` is called about once a second
    while waiting."""
    if config.posts < 1 or config.accounts < 1:
        msg = "--posts and --accounts must be at least 1"
        raise BenchError(msg)
    with tempfile.TemporaryDirectory(prefix="guanxi-bench-") as tmp:
        workdir = Path(tmp)
        settings = Settings(
            data_dir=workdir,
            secret_key=secrets.token_urlsafe(48),
            smtp_host="",
            weibo_app_key=DEMO_APP_KEY,
            weibo_safe_domain=DEMO_SAFE_DOMAIN,
        )
        app = create_sandbox_app(
            seed=config.seed, platform_surfaces=[weibo_surface(bench_limits(config))]
        )
        with scratch_database(config.database_url, workdir) as url, run_in_thread(app) as sandbox:
            engine = make_engine(url)
            try:
                return _run(config, settings, url, sandbox, make_session_factory(engine), progress)
            finally:
                engine.dispose()


def _run(
    config: BenchConfig,
    settings: Settings,
    url: str,
    sandbox: RunningSandbox,
    sessions: sessionmaker[Session],
    progress: Progress,
) -> BenchResult:
    made = add_sandbox_accounts(sandbox.sandbox.state, config.accounts)
    populate(sessions, settings=settings, config=config, sandbox_accounts=made)
    schedule(sessions, config=config)
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    pool = WorkerPool(
        env=worker_env(
            settings=settings, database_url=url, queue_url=config.queue_url, sandbox_port=port
        ),
        threads=config.threads,
        logdir=settings.data_dir,
    )
    began = time.monotonic()
    deadline = began + config.deadline_s()
    # Mid-window: the pool is busiest, so the victim most likely holds leases.
    kill_at = began + config.lead_s + config.window_s / 2 if config.kill_worker else None
    timed_out = False
    held: list[int] = []
    try:
        for _ in range(config.workers):
            pool.start_one()
        while True:
            done = final_count(sessions)
            progress("final variants", done, config.posts)
            if done >= config.posts:
                break
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if kill_at is not None and now >= kill_at:
                pool.kill_one(before_kill=lambda pid: wait_until_publishing(sessions, pid))
                held = leases_of(sessions, pool.killed[-1])
                kill_at = None
            pool.check_alive()
            time.sleep(1.0)
    finally:
        pool.stop()
    elapsed = time.monotonic() - began
    result = measure(read_variants(sessions), live_posts(sandbox.sandbox.state), elapsed_s=elapsed)
    result.timed_out = timed_out
    result.killed = list(pool.killed)
    result.held_by_killed = held
    with sessions() as db:
        found = select(func.count(func.distinct(PublishAttempt.variant_id))).where(
            PublishAttempt.action == "find"
        )
        result.reconciled = int(db.scalar(found) or 0)
    return result
