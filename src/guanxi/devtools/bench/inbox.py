"""``guanxi bench inbox``: the inbox at a million items, on SQLite or PostgreSQL.

1. Ingest: a fake in-process comment feed is read through the real path
   (``guanxi.inbox.ingest.sync_channel`` → store → ``moderate_new``: search index,
   relationship book, sentiment, priority, four moderation rules against 10,000 sensitive
   terms, round-robin assignment). Its rate is ``ingest_per_s``. With ``ingest_workers``
   > 1, that many processes ingest at once, each on its own channel of the workspace
   (Weibo, Douyin, WeChat), as the task queue's workers sync channels side by side; the
   rate is all their items over the time from their common start to the last one's end.
2. Fill: the rest of the items are written in bulk (same tables, same search tokens),
   because a million items through the ingest path would only measure it longer.
3. Query: the list (newest first), eight filters and eight searches, each timed ``runs``
   times through ``guanxi.inbox.service.list_items`` on a fresh session (p50, p95).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, UserCreate, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.checks.models import SensitiveWord
from guanxi.checks.script import Conversion, convert
from guanxi.checks.words import WordEntry, WordSeverity, default_entries, normalize
from guanxi.connectors.base import (
    ChannelContext,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
    Token,
)
from guanxi.core.db import make_engine, make_session_factory
from guanxi.devtools.bench.checks import COMMON_HAN
from guanxi.devtools.bench.common import Progress, no_progress, percentile, scratch_database
from guanxi.inbox import search
from guanxi.inbox.models import InboxItem, ItemKind
from guanxi.inbox.people_models import AssignmentRule, ModerationRule, SearchDocument
from guanxi.inbox.service import ItemFilters, list_items

WORKER_START_TIMEOUT_S = 120.0
WORKER_TIMEOUT_S = 3600.0
CHUNK = 10_000
PAGE = 200
FRAGMENTS = (
    "退款太慢了",
    "客服一直不回复",
    "物流太慢",
    "质量问题很严重",
    "包装很精美",
    "颜色很好看",
    "性价比很高",
    "已经回购三次了",
    "什么时候补货",
    "有没有优惠券",
    "尺码偏大",
    "味道很好",
    "赞",
    "支持国货",
    "iPhone 版本闪退",
    "售后电话打不通",
    "发票怎么开",
    "快递还没到",
    "新品什么时候上市",
    "门店在哪里",
    "会员积分怎么用",
    "想要同款",
    "太贵了",
    "真心推荐",
    "第一次买",
    "朋友推荐的",
    "和图片不一样",
    "做工一般",
    "直播间买的",
    "下次还来",
    "#春季新品#",
)
# What moderation rules are for; about one item in twenty carries one.
SPAM_FRAGMENTS = ("加微信领优惠券", "你们就是垃圾", "http://t.cn/abc", "好评好评好评好评")
SPAM_SHARE = 0.05
BENCH_PASSWORD = "bench password 1"  # noqa: S105 - a scratch database, dropped after the run
NAMES = ("小王", "老李", "阿美", "大熊", "橙子", "木木", "Lily", "Kevin", "晴天", "小鱼")
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


@dataclass
class Timing:
    """The samples of one timed call, in milliseconds."""

    name: str
    samples_ms: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of the samples (0 < fraction ≤ 1)."""
        return percentile(self.samples_ms, fraction * 100)


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


def _text(rng: random.Random) -> str:
    parts = rng.sample(FRAGMENTS, rng.randint(1, 3))
    if rng.random() < SPAM_SHARE:
        parts.append(rng.choice(SPAM_FRAGMENTS))
    return "，".join(parts) + rng.choice(("", "！", "。", "？"))


class _NoTokens:
    def current(self) -> Token | None:
        return None

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        del stale  # the feed needs no token
        return fetch()


class BenchFeed:
    """An in-process comment feed: ``total`` comments in pages, newest cursor as offset.

    The comments are made up front, so that the ingest rate does not count the making of
    synthetic data (a platform's feed costs the ingest nothing but the wait for it).
    """

    def __init__(self, total: int, seed: int) -> None:
        self.total = total
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.now = datetime.now(UTC)
        self.comments = [self._comment(number) for number in range(total)]

    def fetch_comments(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """The next page of comments after offset ``since``."""
        del channel
        start = int(since or 0)
        end = min(self.total, start + PAGE)
        items = tuple(self.comments[start:end])
        return FetchPage(items=items, cursor=str(end), has_more=end < self.total)

    def _comment(self, number: int) -> FetchedItem:
        rng = self.rng
        author = rng.randrange(max(10, self.total // 5))
        return FetchedItem(
            kind=FetchedKind.COMMENT,
            external_id=f"ingest-{number}",
            text=_text(rng),
            author=FetchedAuthor(
                external_id=f"u{author}",
                name=f"{rng.choice(NAMES)}{author}",
                followers=int(rng.paretovariate(0.8) * 10),
                verified_type=rng.choice((-1, -1, -1, 0, 3, 200)),
            ),
            created_at=self.now - timedelta(seconds=self.total - number),
            post_external_id=f"post-{number % 50}",
        )


def word_list(count: int, *, seed: int = 20261126) -> list[WordEntry]:
    """``count`` distinct terms: the default list, then 3 or 4 common characters each, every
    other one written in Traditional characters (the automaton matches both scripts)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    entries = list(default_entries())[:count]
    seen = {normalize(entry.term) for entry in entries}
    while len(entries) < count:
        term = "".join(rng.choice(COMMON_HAN) for _ in range(rng.randint(3, 4)))
        if normalize(term) in seen:
            continue
        seen.add(normalize(term))
        shown = convert(term, Conversion.S2T) if len(entries) % 2 else term
        entries.append(WordEntry(term=shown, category="generated", severity=WordSeverity.WARN))
    return entries


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
    from guanxi.inbox.ingest import sync_channel

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
    import multiprocessing

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
        ingest(engine, channel_id=channel_id, count=count, seed=seed,
               progress=no_progress,
               ready=lambda: start.wait(timeout=WORKER_START_TIMEOUT_S))  # fmt: skip
        finished.put(time.monotonic())
    except BaseException:
        finished.put(-1.0)
        raise
    finally:
        engine.dispose()


def _rows(
    rng: random.Random,
    *,
    first_id: int,
    size: int,
    workspace_id: int,
    channels: Sequence[tuple[int, str]],
    users: Sequence[int],
    now: datetime,
) -> Iterator[dict[str, Any]]:
    for offset in range(size):
        item_id = first_id + offset
        channel_id, platform = rng.choice(channels)
        status = rng.choices(("open", "pending", "done"), weights=(3, 1, 6))[0]
        created = now - timedelta(minutes=item_id % 525_600, seconds=rng.randrange(60))
        yield {
            "id": item_id,
            "workspace_id": workspace_id,
            "channel_id": channel_id,
            "platform": platform,
            "kind": rng.choice(("comment", "comment", "mention", "message")),
            "external_id": f"fill-{item_id}",
            "post_external_id": f"post-{item_id % 500}",
            "parent_external_id": "",
            "text": _text(rng),
            "url": "",
            "author_external_id": f"f{rng.randrange(200_000)}",
            "author_name": rng.choice(NAMES),
            "author_followers": rng.randrange(100_000),
            "author_verified_type": -1,
            "author_url": "",
            "author_avatar_url": "",
            "created_at": created,
            "fetched_at": created,
            "status": status,
            "assignee_id": rng.choice([None, *users]),
            "priority": rng.choices((0, 1, 2, 3), (6, 2, 1, 1))[0],
            "sentiment": rng.choice(("positive", "neutral", "negative")),
            "hidden_on_platform": False,
            "metrics": {},
            "raw": {},
            "first_response_at": None,
            "resolved_at": created + timedelta(hours=2) if status == "done" else None,
        }


def fill(
    engine: Engine,
    *,
    workspace_id: int,
    total: int,
    users: Sequence[int],
    seed: int,
    progress: Progress,
) -> None:
    """Write items up to ``total`` in bulk, with their search tokens."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db:
        channels = [(c.id, c.platform) for c in db.scalars(select(Channel).order_by(Channel.id))]
        start = int(db.scalar(select(func.max(InboxItem.id))) or 0) + 1
        have = int(db.scalar(select(func.count(InboxItem.id))) or 0)
        search.ensure_index(db)
        db.commit()
    postgres = engine.dialect.name == "postgresql"
    if postgres:  # a GIN index is built much faster at once than row by row
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX IF EXISTS ix_inbox_search_documents_document"))
    remaining = total - have
    for chunk_start in range(0, remaining, CHUNK):
        size = min(CHUNK, remaining - chunk_start)
        rows = list(
            _rows(
                rng,
                first_id=start + chunk_start,
                size=size,
                workspace_id=workspace_id,
                channels=channels,
                users=users,
                now=now,
            )
        )
        with engine.begin() as connection:
            connection.execute(insert(InboxItem), rows)
            if postgres:
                documents = [
                    {"item_id": r["id"], "document": search.tsvector_literal(r["text"])}
                    for r in rows
                ]
                connection.execute(insert(SearchDocument), documents)
            else:
                connection.execute(
                    text(search.INSERT_FTS),
                    [
                        {"rowid": r["id"], "tokens": " ".join(search.tokens(r["text"]))}
                        for r in rows
                    ],
                )
        progress("fill", have + chunk_start + size, total)
    with engine.begin() as connection:
        if postgres:
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('inbox_items', 'id'), "
                    "(SELECT max(id) FROM inbox_items))"
                )
            )
            connection.execute(
                text(
                    "CREATE INDEX ix_inbox_search_documents_document "
                    "ON inbox_search_documents USING gin (document)"
                )
            )
        connection.execute(text("ANALYZE"))


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
                    url, channel_ids=channel_ids[:ingest_workers], count=ingest_items,
                    seed=seed, progress=progress,
                )  # fmt: skip
            else:
                ingest_s = ingest(
                    engine, channel_id=channel_ids[0], count=ingest_items, seed=seed,
                    progress=progress,
                )  # fmt: skip
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
