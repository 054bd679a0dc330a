"""`guanxi bench analytics`: the analytics pages' queries on a large history, and the
collector refreshing many posts against the sandbox.

A scratch database (SQLite, or a PostgreSQL server's) gets one workspace with ``accounts``
accounts × ``days`` days of figures and ``posts`` posts × ``snapshots`` snapshots, written in
bulk, with fresh planner statistics; then each service function the pages call is timed
``repeats`` times (a session each, so nothing is served from the session's memory). Last,
``collect_posts`` posts of sandbox Weibo accounts (1,000 each), all due, are snapshotted by
the collector's own runs against the sandbox (in a thread), which counts the calls.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, Workspace, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.connectors.base import Token
from guanxi.connectors.registry import connector_for
from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import (
    Progress,
    Timing,
    analyze,
    no_progress,
    scratch_database,
)
from guanxi.devtools.bench.listening_store import serving_from
from guanxi.devtools.bench.measure_store import copy_facts, scratch_store
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.measure import listing, service, status
from guanxi.measure.analysis import service as analysis
from guanxi.measure.collect import collect_channel_id
from guanxi.measure.models import (
    AccountDay,
    CollectionState,
    FoundBy,
    MeasuredPost,
    PostFormat,
    PostSnapshot,
    SnapshotPlan,
)
from guanxi.sandbox import weibo
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxAccount, SandboxPost

PASSWORD = "bench-password-0"  # noqa: S105 - a scratch user in a scratch database
SECRET_KEY = "analytics-bench-secret-key-0123456789abcdef"  # noqa: S105 - scratch data only
ROWS_PER_INSERT = 5_000
SNAPSHOT_HOURS = (1, 6, 24, 72, 168, 720, 1440, 2160, 2880, 3600)  # the collector's ages
FORMATS = tuple(PostFormat)
# A sandbox Weibo account's posts for the collector: 1,000 take 20 calls (counts and reads,
# 100 posts a call), within Weibo's 150 calls per account an hour.
POSTS_PER_ACCOUNT = 1_000
BENCH_UID_BASE = 7_000_000_000
MAX_COLLECT_RUNS = 1_000  # a bound on the collector's runs, not a target
ANALYSIS_DAYS = 180  # the analysis pages' longest usual period


@dataclass(frozen=True)
class AnalyticsBenchConfig:
    """What to generate and how often to time each query."""

    accounts: int = 1_000
    days: int = 3 * 365
    posts: int = 100_000
    snapshots: int = 10
    repeats: int = 20
    collect_posts: int = 10_000
    seed: int = 0
    database_url: str = ""  # empty: a scratch SQLite file
    analytics_url: str = ""  # a ClickHouse to copy the facts to and time the pages on


@dataclass
class AnalyticsBenchResult:
    """The rows written, each query's timings, and the collector's run."""

    backend: str = "SQLite"
    rows: dict[str, int] = field(default_factory=dict)
    load_s: float = 0.0
    copy_s: float = 0.0  # copying the facts to ClickHouse, when asked
    timings: list[Timing] = field(default_factory=list)
    collected_posts: int = 0
    collect_s: float = 0.0
    api_calls: int = 0
    collect_runs: int = 0
    collect_error: str = ""  # the collector's error that ended the runs early, if any
    calls_by_path: dict[str, int] = field(default_factory=dict)

    @property
    def page_p95_ms(self) -> float:
        """The slowest query's p95: every page's queries are within it."""
        return max((timing.percentile(0.95) for timing in self.timings), default=0.0)

    @property
    def collect_posts_per_s(self) -> float:
        """Posts snapshotted per second of the collector's runs."""
        return self.collected_posts / self.collect_s if self.collect_s else 0.0

    def last_line(self) -> str:
        """The line a script reads."""
        return (
            f"page_p95_ms={self.page_p95_ms:.1f} "
            f"collect_posts_per_s={self.collect_posts_per_s:.1f} api_calls={self.api_calls}"
        )


def run_analytics_bench(
    config: AnalyticsBenchConfig, *, progress: Progress = no_progress
) -> AnalyticsBenchResult:
    """Load the history into a scratch database, time the pages' queries, run the collector."""
    backend = "PostgreSQL" if config.database_url else "SQLite"
    if config.analytics_url:
        backend += " + ClickHouse"
    result = AnalyticsBenchResult(backend=backend)
    with (
        tempfile.TemporaryDirectory(prefix="guanxi-bench-analytics-") as workdir,
        scratch_database(config.database_url, Path(workdir)) as url,
    ):
        engine = make_engine(url)
        try:
            sessions = make_session_factory(engine)
            started = time.perf_counter()
            workspace_id, channel_ids = load_history(sessions, config, result, progress)
            analyze(engine)
            result.load_s = time.perf_counter() - started
            if config.analytics_url:
                with scratch_store(config.analytics_url) as (client, named):
                    started = time.perf_counter()
                    copy_facts(sessions, client, progress=progress)
                    result.copy_s = time.perf_counter() - started
                    with serving_from(named):
                        result.timings = time_queries(
                            sessions, workspace_id, channel_ids, config, progress
                        )
            else:
                result.timings = time_queries(sessions, workspace_id, channel_ids, config, progress)
            settings = Settings(
                database_url=url,
                data_dir=Path(workdir) / "data",
                secret_key=SECRET_KEY,
            )
            run_collector(sessions, workspace_id, settings, config, result, progress)
        finally:
            engine.dispose()
    return result


# --- The history ---------------------------------------------------------------------------


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == ROWS_PER_INSERT:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bulk(
    sessions: sessionmaker[Session],
    table: Any,
    rows: Iterator[dict[str, Any]],
    *,
    stage: str,
    total: int,
    progress: Progress,
) -> int:
    """Insert ``rows`` a chunk per statement and transaction; how many were written."""
    written = 0
    progress(stage, 0, total)
    for chunk in _chunks(rows):
        with session_scope(sessions) as db:
            db.execute(insert(table), chunk)
        written += len(chunk)
        progress(stage, written, total)
    return written


def load_history(
    sessions: sessionmaker[Session],
    config: AnalyticsBenchConfig,
    result: AnalyticsBenchResult,
    progress: Progress,
) -> tuple[int, list[int]]:
    """The workspace, its accounts, their days, posts and snapshots; its id and the
    accounts' ids."""
    with session_scope(sessions) as db:
        owner = accounts.create_user(
            db, data=UserCreate(email="owner@bench.example", name="Bench", password=PASSWORD)
        )
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="bench", name="Bench"), owner=owner
        )
        workspace_id = workspace.id
    platforms = ("weibo", "wechat", "douyin")
    channel_rows = (
        {
            "workspace_id": workspace_id,
            "connector": "manual",
            "platform": platforms[n % 3],
            "external_id": f"bench-{n}",
            "name": f"Account {n}",
        }
        for n in range(config.accounts)
    )
    result.rows["accounts"] = _bulk(
        sessions,
        Channel.__table__,
        channel_rows,
        stage="accounts",
        total=config.accounts,
        progress=progress,
    )
    with sessions() as db:
        channel_ids = list(
            db.scalars(select(Channel.id).where(Channel.workspace_id == workspace_id))
        )
    today = utcnow().date()
    first_day = today - timedelta(days=config.days)
    result.rows["account days"] = _bulk(
        sessions,
        AccountDay.__table__,
        _days(channel_ids, first_day, config),
        stage="account days",
        total=len(channel_ids) * config.days,
        progress=progress,
    )
    posts = list(_posts(workspace_id, channel_ids, first_day, config))
    result.rows["posts"] = _bulk(
        sessions,
        MeasuredPost.__table__,
        iter(posts),
        stage="posts",
        total=len(posts),
        progress=progress,
    )
    with sessions() as db:
        post_rows = db.execute(
            select(MeasuredPost.id, MeasuredPost.published_at, MeasuredPost.views).where(
                MeasuredPost.workspace_id == workspace_id
            )
        ).all()
    result.rows["snapshots"] = _bulk(
        sessions,
        PostSnapshot.__table__,
        _snapshots(post_rows, config),
        stage="snapshots",
        total=len(post_rows) * config.snapshots,
        progress=progress,
    )
    return workspace_id, channel_ids


def _days(
    channel_ids: list[int], first_day: date, config: AnalyticsBenchConfig
) -> Iterator[dict[str, Any]]:
    rng = random.Random(config.seed)  # noqa: S311 - reproducible figures, not secrets
    collected_at = utcnow()
    for channel_id in channel_ids:
        followers = rng.randint(1_000, 200_000)
        for offset in range(config.days):
            new, lost = rng.randint(0, 80), rng.randint(0, 30)
            followers += new - lost
            views = rng.randint(100, 20_000)
            yield {
                "channel_id": channel_id,
                "day": first_day + timedelta(days=offset),
                "collected_at": collected_at,
                "followers": followers,
                "new_followers": new,
                "lost_followers": lost,
                "views": views,
                "likes": views // 40,
                "comments": views // 300,
                "shares": views // 200,
            }


def _posts(
    workspace_id: int, channel_ids: list[int], first_day: date, config: AnalyticsBenchConfig
) -> Iterator[dict[str, Any]]:
    rng = random.Random(config.seed + 1)  # noqa: S311 - reproducible figures, not secrets
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    span_s = config.days * 86_400
    found_at = utcnow()
    for number in range(config.posts):
        published = start + timedelta(seconds=rng.randrange(span_s))
        views = int(rng.lognormvariate(8, 1.2))
        yield {
            "workspace_id": workspace_id,
            "channel_id": channel_ids[number % len(channel_ids)],
            "external_id": f"post-{number}",
            "published_at": published,
            "format": FORMATS[number % len(FORMATS)],
            "text_excerpt": "新品上市",
            "found_by": FoundBy.TIMELINE,
            "found_at": found_at,
            "plan": SnapshotPlan.FINISHED,
            "last_observed_at": found_at,
            "snapshot_count": config.snapshots,
            "views": views,
            "likes": views // 30,
            "comments": views // 250,
            "shares": views // 150,
        }


def _snapshots(posts: Sequence[Any], config: AnalyticsBenchConfig) -> Iterator[dict[str, Any]]:
    for post_id, published_at, views in posts:
        for step, hours in enumerate(SNAPSHOT_HOURS[: config.snapshots], start=1):
            share = step / config.snapshots
            seen = int((views or 0) * share)
            yield {
                "post_id": post_id,
                "observed_at": published_at + timedelta(hours=hours),
                "views": seen,
                "likes": seen // 30,
                "comments": seen // 250,
            }


# --- The pages' queries --------------------------------------------------------------------


def time_queries(
    sessions: sessionmaker[Session],
    workspace_id: int,
    channel_ids: list[int],
    config: AnalyticsBenchConfig,
    progress: Progress,
) -> list[Timing]:
    """Each query the analytics pages make, ``repeats`` times, a session each."""
    today = utcnow().date()
    month, year = today - timedelta(days=29), today - timedelta(days=364)
    half_year = today - timedelta(days=ANALYSIS_DAYS - 1)
    rng = random.Random(config.seed + 2)  # noqa: S311 - which account, not a secret

    def account() -> int:
        return rng.choice(channel_ids)

    queries: dict[str, Callable[[Session, Workspace], object]] = {
        "period_totals (30 days)": lambda db, ws: service.period_totals(
            db, workspace=ws, start=month, end=today
        ),
        "period_totals (365 days)": lambda db, ws: service.period_totals(
            db, workspace=ws, start=year, end=today
        ),
        "period_totals (one account, 365 days)": lambda db, ws: service.period_totals(
            db, workspace=ws, start=year, end=today, channel_ids=[account()]
        ),
        "daily_series (one account, 365 days)": lambda db, ws: service.daily_series(
            db, workspace=ws, channel_id=account(), start=year, end=today
        ),
        "posts_page (30 days, newest)": lambda db, ws: listing.posts_page(
            db, workspace=ws, start=month, end=today
        ),
        "posts_page (30 days, by views, page 10)": lambda db, ws: listing.posts_page(
            db, workspace=ws, start=month, end=today, order=listing.PostOrder.VIEWS, page=10
        ),
        "posts_page (30 days, by engagement rate)": lambda db, ws: listing.posts_page(
            db, workspace=ws, start=month, end=today, order=listing.PostOrder.RATE
        ),
        "post_figures (one account, 365 days)": lambda db, ws: listing.post_figures(
            db, workspace=ws, start=year, end=today, channel_ids=[account()]
        ),
        # The analysis pages: content analysis, top and bottom posts, best time to post.
        "content_analysis (180 days)": lambda db, ws: analysis.content_analysis(
            db, workspace=ws, start=half_year, end=today
        ),
        "content_analysis (30 days)": lambda db, ws: analysis.content_analysis(
            db, workspace=ws, start=month, end=today
        ),
        "top_posts (180 days)": lambda db, ws: analysis.top_posts(
            db, workspace=ws, start=half_year, end=today
        ),
        "best_time (one account, 180 days)": lambda db, ws: analysis.best_time(
            db, workspace=ws, channel_id=account(), start=half_year, end=today
        ),
        "collection_status (one account)": lambda db, ws: status.account_status(
            db, workspace=ws, channel_id=account()
        ),
        "collection_status (every account)": lambda db, ws: status.collection_status(
            db, workspace=ws
        ),
    }
    timings = []
    total = len(queries) * config.repeats
    progress("queries", 0, total)
    for number, (name, query) in enumerate(queries.items()):
        timing = Timing(name)
        for repeat in range(config.repeats):
            with sessions() as db:
                workspace = db.get_one(Workspace, workspace_id)
                started = time.perf_counter()
                query(db, workspace)
                timing.samples_ms.append((time.perf_counter() - started) * 1000)
            progress("queries", number * config.repeats + repeat + 1, total)
        timings.append(timing)
    return timings


# --- The collector against the sandbox -----------------------------------------------------


def run_collector(
    sessions: sessionmaker[Session],
    workspace_id: int,
    settings: Settings,
    config: AnalyticsBenchConfig,
    result: AnalyticsBenchResult,
    progress: Progress,
) -> None:
    """Snapshot ``collect_posts`` posts, all due, of sandbox Weibo accounts (POSTS_PER_ACCOUNT
    each, so each stays within Weibo's calls per account an hour) with the collector's runs
    until none is due; the sandbox counts the calls."""
    if config.collect_posts <= 0:
        return
    box = SecretBox(SECRET_KEY)
    with run_in_thread() as running, httpx.Client(timeout=30.0) as http:
        port = urlsplit(running.base_url).port or 0
        configured = settings.model_copy(
            update={
                name.removeprefix("GUANXI_").lower(): value
                for name, value in sandbox_environment(port).items()
            }
        )
        channel_ids = _collector_accounts(sessions, workspace_id, running, box, config, progress)
        build = partial(connector_for, settings=configured, http=http)
        state = running.sandbox.state
        calls_before = len(state.requests)
        started = time.perf_counter()
        progress("collector", 0, config.collect_posts)
        due = list(channel_ids)
        while due and result.collect_runs < MAX_COLLECT_RUNS:
            for channel_id in list(due):
                report = collect_channel_id(
                    sessions, channel_id, connector_for=build, box=box, owner="bench"
                )
                result.collect_runs += 1
                if report is not None and report.error:
                    result.collect_error = report.error % report.error_params
                if report is None or report.error or not report.snapshots:
                    due.remove(channel_id)
                    continue
                result.collected_posts += report.snapshots
                progress("collector", result.collected_posts, config.collect_posts)
        result.collect_s = time.perf_counter() - started
        made = state.requests[calls_before:]
        result.api_calls = len(made)
        for _method, path in made:
            result.calls_by_path[path] = result.calls_by_path.get(path, 0) + 1


def _collector_accounts(
    sessions: sessionmaker[Session],
    workspace_id: int,
    running: RunningSandbox,
    box: SecretBox,
    config: AnalyticsBenchConfig,
    progress: Progress,
) -> list[int]:
    """Sandbox Weibo accounts at the commercial data level (reads), connected, each with its
    posts published two hours ago and due; their channels' ids."""
    state = running.sandbox.state
    now = utcnow()
    accounts_needed = -(-config.collect_posts // POSTS_PER_ACCOUNT)
    channel_ids = []
    rows = []
    for number in range(accounts_needed):
        uid = str(BENCH_UID_BASE + number)
        state.add_account(SandboxAccount("weibo", uid, f"Bench {number}"))
        token = state.issue_token(
            platform="weibo",
            account_id=uid,
            client_id=weibo.DEMO_APP_KEY,
            lifetime=timedelta(days=1),
        )
        httpx.put(
            f"{running.base_url}/weibo/_sandbox/accounts/{uid}/biz",
            json={"biz": True},
            timeout=10.0,
        ).raise_for_status()
        with session_scope(sessions) as db:
            workspace = db.get_one(Workspace, workspace_id)
            channel = create_channel(
                db,
                workspace=workspace,
                connector="weibo",
                platform="weibo",
                external_id=uid,
                name=f"Bench {number}",
                credentials={},
                box=box,
                actor=None,
                token=Token(token.token, token.expires_at),
            )
            db.flush()
            channel_ids.append(channel.id)
            # Only the snapshots are measured: the timeline and the days count as read now.
            db.add(
                CollectionState(
                    channel_id=channel.id,
                    posts_read_at=now,
                    days_through=now.date(),
                    days_collected_at=now,
                    history_from=now.date(),
                    backfill_done_at=now,
                )
            )
        first = number * POSTS_PER_ACCOUNT
        for index in range(first, min(config.collect_posts, first + POSTS_PER_ACCOUNT)):
            moment = now - timedelta(hours=2, seconds=index)
            post_id = state.next_id()
            state.add_post(SandboxPost("weibo", uid, post_id, "新品上市", moment))
            rows.append(
                {
                    "workspace_id": workspace_id,
                    "channel_id": channel.id,
                    "external_id": post_id,
                    "published_at": moment,
                    "found_by": FoundBy.TIMELINE,
                    "found_at": now,
                    "plan": SnapshotPlan.ACTIVE,
                    "next_snapshot_at": moment + timedelta(hours=1),
                }
            )
    _bulk(
        sessions,
        MeasuredPost.__table__,
        iter(rows),
        stage="collector's posts",
        total=len(rows),
        progress=progress,
    )
    return channel_ids
