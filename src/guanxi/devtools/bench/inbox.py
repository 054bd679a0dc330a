"""``guanxi bench inbox``: the inbox at a million items, on SQLite or PostgreSQL.

1. Ingest: a fake in-process comment feed is read through the real path
   (``guanxi.inbox.intake.service.sync_channel`` → store → ``moderate_new``: search index,
   relationship book, sentiment, priority, four moderation rules against 10,000 sensitive
   terms, round-robin assignment). Its rate is ``ingest_per_s``. With ``ingest_workers``
   > 1, that many processes ingest at once, each on its own channel of the workspace
   (Weibo, Douyin, WeChat), as the task queue's workers sync channels side by side; the
   rate is all their items over the time from their common start to the last one's end.
2. Fill: the rest of the items are written in bulk (same tables, same search tokens),
   because a million items through the ingest path would only measure it longer.
3. Query: the list (newest first), eight filters and eight searches, each timed ``runs``
   times through ``guanxi.inbox.items.service.list_items`` on a fresh session (p50, p95).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, UserCreate, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.checks.models import SensitiveWord
from guanxi.connectors.base import (
    ChannelContext,
    Token,
)
from guanxi.core.db import make_engine, make_session_factory
from guanxi.devtools.bench.common import Progress, Timing, no_progress, scratch_database
from guanxi.devtools.bench.inbox_data import BenchFeed, fill, word_list
from guanxi.inbox.intake.service import sync_channel
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.inbox.items.service import ItemFilters, list_items
from guanxi.inbox.triage.models import AssignmentRule, ModerationRule

WORKER_START_TIMEOUT_S = 120.0
WORKER_TIMEOUT_S = 3600.0
BENCH_PASSWORD = "bench password 1"  # noqa: S105 - a scratch database, dropped after the run
LIST_FILTERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("newest", {}),
    ("status=open", {"status": "open"}),
    ("status=done", {"status": "done"}),
    ("platform=douyin", {"platform": "douyin"}),
    ("sentiment=negative", {"sentiment": "negative"}),
    ("priority=2", {"priority": 2}),
    ("unassigned", {"unassigned": True}),
    ("tag=flagged", {"tag": "flagged"}),
    ("assignee", {"assignee_id": 0}),  # filled with the editor's id
)
SEARCHES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("退款", {}),
    ("物流太慢", {}),
    ("售后电话", {}),
    ("赞", {}),
    ("iphone", {}),
    ("質量", {}),  # Traditional query, Simplified texts
    ("客服 回复", {}),
    ("优惠券", {"status": "open"}),
    ("没有这个词组", {}),
)


def p95(timings: Sequence[Timing]) -> float:
    """The p95 over every sample of ``timings`` together."""
    return Timing("all", [s for t in timings for s in t.samples_ms]).percentile(0.95)


@dataclass
class InboxBenchResult:
    """What one run measured."""

    backend: str
    items: int
    ingested: int
    ingest_s: float
    ingest_workers: int
    ingested_by_channel: list[int]  # items each worker's channel got, in order
    fill_s: float
    list_timings: list[Timing]
    search_timings: list[Timing]
    moderation_actions: int

    @property
    def ingest_per_s(self) -> float:
        """Items per second through ingest with moderation."""
        return self.ingested / self.ingest_s if self.ingest_s else 0.0

    def last_line(self) -> str:
        """The machine-readable summary."""
        return (
            f"list_p95_ms={p95(self.list_timings):.1f} "
            f"search_p95_ms={p95(self.search_timings):.1f} "
            f"ingest_per_s={self.ingest_per_s:.0f}"
        )


class _NoTokens:
    def current(self) -> Token | None:
        return None

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        del stale  # the feed needs no token
        return fetch()


def _setup(db: Session, *, terms: int) -> tuple[int, int, list[int]]:
    """A workspace with an editor, three channels, ``terms`` sensitive words and rules."""
    owner = accounts.create_user(
        db, data=UserCreate(email="bench@guanxi.example", name="Bench", password=BENCH_PASSWORD)
    )
    editor = accounts.create_user(
        db,
        data=UserCreate(email="editor@guanxi.example", name="Editor", password=BENCH_PASSWORD),
    )
    workspace = accounts.create_workspace(
        db, data=WorkspaceCreate(slug="bench", name="Bench"), owner=owner
    )
    accounts.add_member(db, workspace=workspace, user=editor, role=Role.EDITOR, actor=None)
    channels = [
        Channel(
            workspace_id=workspace.id,
            connector=platform,
            platform=platform,
            external_id=f"brand-{platform}",
            name=f"{platform} brand",
        )
        for platform in ("weibo", "douyin", "wechat")
    ]
    db.add_all(channels)
    # Exactly TERMS words: the bench's list replaces the one a new workspace starts with.
    db.execute(delete(SensitiveWord).where(SensitiveWord.workspace_id == workspace.id))
    for entry in word_list(terms):
        db.add(
            SensitiveWord(
                workspace_id=workspace.id,
                term=entry.term,
                category=entry.category,
                severity=entry.severity.value,
            )
        )
    rules = [
        (
            "words",
            [{"kind": "sensitive_word", "value": "generated"}],
            [{"kind": "set_priority", "value": "2"}],
        ),
        (
            "spam",
            [{"kind": "advertising"}, {"kind": "link"}, {"kind": "repeated_text"}],
            [{"kind": "flag"}],
        ),
        (
            "abuse",
            [{"kind": "abuse"}],
            [{"kind": "flag"}, {"kind": "assign", "value": str(editor.id)}],
        ),
        (
            "negative kol",
            [{"kind": "negative"}, {"kind": "author_kind", "value": "kol"}],
            [{"kind": "set_priority", "value": "3"}],
        ),
    ]
    for position, (name, conditions, actions) in enumerate(rules):
        db.add(
            ModerationRule(
                workspace_id=workspace.id,
                name=name,
                position=position,
                conditions=conditions,
                actions=actions,
                match_all=name == "negative kol",
            )
        )
    db.add(
        AssignmentRule(
            workspace_id=workspace.id,
            name="weibo",
            platform="weibo",
            assignee_ids=[owner.id, editor.id],
        )
    )
    db.commit()
    return workspace.id, editor.id, [channel.id for channel in channels]


def ingest(
    engine: Engine,
    *,
    channel_id: int,
    count: int,
    seed: int,
    progress: Progress,
    ready: Callable[[], None] = lambda: None,
) -> float:
    """Read ``count`` comments on one channel through the real ingest path; the seconds it
    took. ``ready`` is called once the feed is built, just before the clock starts."""
    feed = BenchFeed(count, seed)
    sessions = make_session_factory(engine)
    ready()
    started = time.perf_counter()
    with sessions() as db:
        channel = db.get_one(Channel, channel_id)
        context = ChannelContext(
            channel_id=channel.id,
            external_id=channel.external_id,
            credentials={},
            tokens=_NoTokens(),
        )
        done = 0
        while done < count:
            sync_channel(
                db,
                channel=channel,
                connector=feed,  # type: ignore[arg-type]  # reads comments only
                context=context,
                kinds=[ItemKind.COMMENT],
            )
            done = int(
                db.scalar(
                    select(func.count(InboxItem.id)).where(InboxItem.channel_id == channel_id)
                )
                or 0
            )
            progress("ingest", done, count)
    return time.perf_counter() - started


def ingest_in_workers(
    url: str, *, channel_ids: Sequence[int], count: int, seed: int, progress: Progress
) -> float:
    """Read ``count`` comments split over one process per channel of ``channel_ids``, all
    through the real ingest path at once, as the task queue's workers sync channels side by
    side; the seconds from the common start to the last one done."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(channel_ids) + 1)
    finished = context.Queue()
    shares = [
        count // len(channel_ids) + (i < count % len(channel_ids)) for i in range(len(channel_ids))
    ]
    workers = [
        context.Process(
            target=_ingest_worker,
            args=(url, channel_id, share, seed + number, start, finished),
        )
        for number, (channel_id, share) in enumerate(zip(channel_ids, shares, strict=True))
    ]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=WORKER_START_TIMEOUT_S)
        started = time.monotonic()
        ends = []
        for done in range(len(workers)):
            ends.append(float(finished.get(timeout=WORKER_TIMEOUT_S)))
            progress("ingest workers done", done + 1, len(workers))
    finally:
        for worker in workers:
            worker.join(timeout=WORKER_TIMEOUT_S)
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed or any(end < 0 for end in ends):
        msg = f"an ingest worker failed (exit codes {failed}); see its traceback above"
        raise RuntimeError(msg)
    return max(ends) - started


def _ingest_worker(
    url: str, channel_id: int, count: int, seed: int, start: Any, finished: Any
) -> None:
    """One worker process of ``ingest_in_workers``: its end on the shared monotonic clock,
    or -1 when it failed."""
    engine = make_engine(url)
    try:
        ingest(
            engine,
            channel_id=channel_id,
            count=count,
            seed=seed,
            progress=no_progress,
            ready=lambda: start.wait(timeout=WORKER_START_TIMEOUT_S),
        )
        finished.put(time.monotonic())
    except BaseException:
        finished.put(-1.0)
        raise
    finally:
        engine.dispose()


def time_queries(
    engine: Engine, *, workspace_id: int, editor_id: int, runs: int, progress: Progress
) -> tuple[list[Timing], list[Timing]]:
    """Time each list filter and each search ``runs`` times (after one warm-up call)."""
    sessions = make_session_factory(engine)

    def timed(name: str, filters: ItemFilters) -> Timing:
        timing = Timing(name)
        for run in range(runs + 1):
            with sessions() as db:
                started = time.perf_counter()
                found = list_items(db, workspace_id=workspace_id, filters=filters)
                elapsed = (time.perf_counter() - started) * 1000
                del found
            if run:  # the first call warms caches and is not counted
                timing.samples_ms.append(elapsed)
        return timing

    lists = []
    total = len(LIST_FILTERS) + len(SEARCHES)
    for index, (name, options) in enumerate(LIST_FILTERS):
        chosen = {**options, "assignee_id": editor_id} if "assignee_id" in options else options
        lists.append(timed(name, ItemFilters(**chosen)))
        progress("queries", index + 1, total)
    searches = []
    for index, (query, options) in enumerate(SEARCHES):
        searches.append(
            timed(
                f"search {query}" + (f" {options}" if options else ""),
                ItemFilters(query=query, **options),
            )
        )
        progress("queries", len(LIST_FILTERS) + index + 1, total)
    return lists, searches


def run_inbox_bench(
    *,
    items: int,
    ingest_items: int,
    database_url: str = "",
    ingest_workers: int = 1,
    runs: int = 20,
    terms: int = 10_000,
    seed: int = 0,
    progress: Progress = no_progress,
) -> InboxBenchResult:
    """Build a scratch database of ``items`` items and measure (see the module docstring)."""

    ingest_items = min(ingest_items, items)
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(database_url, Path(workdir)) as url,
    ):
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as db:
                workspace_id, editor_id, channel_ids = _setup(db, terms=terms)
            if ingest_workers > 1:
                ingest_s = ingest_in_workers(
                    url,
                    channel_ids=channel_ids[:ingest_workers],
                    count=ingest_items,
                    seed=seed,
                    progress=progress,
                )
            else:
                ingest_s = ingest(
                    engine,
                    channel_id=channel_ids[0],
                    count=ingest_items,
                    seed=seed,
                    progress=progress,
                )
            with make_session_factory(engine)() as db:
                actions = int(db.scalar(text("SELECT count(*) FROM inbox_moderation_actions")) or 0)
                per_channel = dict(
                    db.execute(
                        select(InboxItem.channel_id, func.count()).group_by(InboxItem.channel_id)
                    ).all()
                )
                by_channel = [int(per_channel.get(c, 0)) for c in channel_ids[:ingest_workers]]
                owner_id = int(db.scalar(text("SELECT min(id) FROM users")) or 0)
            started = time.perf_counter()
            fill(
                engine,
                workspace_id=workspace_id,
                total=items,
                users=[owner_id, editor_id],
                seed=seed,
                progress=progress,
            )
            fill_s = time.perf_counter() - started
            lists, searches = time_queries(
                engine, workspace_id=workspace_id, editor_id=editor_id, runs=runs, progress=progress
            )
            backend = engine.dialect.name
        finally:
            engine.dispose()
    return InboxBenchResult(
        backend=backend,
        items=items,
        ingested=ingest_items,
        ingest_s=ingest_s,
        ingest_workers=ingest_workers,
        ingested_by_channel=by_channel,
        fill_s=fill_s,
        list_timings=lists,
        search_timings=searches,
        moderation_actions=actions,
    )
