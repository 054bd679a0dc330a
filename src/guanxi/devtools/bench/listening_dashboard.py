"""``guanxi bench dashboard``: every dashboard API call against a million mentions.

One run:

1. creates a scratch database (a SQLite file, or a database on the PostgreSQL server given
   with ``--database-url``, dropped at the end: ``common.scratch_database``);
2. fills it with synthetic but realistic listening data: authors with a long-tailed
   follower count, mentions over a year with a weekly rhythm and a few crises, each
   enriched (sentiment, source kind, journey stage, keywords in realistic proportions) and
   matched against a dozen topic queries by the real matcher; rows go in with bulk
   inserts (``COPY`` on PostgreSQL); the daily rollup is built once at the end;
3. times every dashboard API endpoint through the real app with an API token, ``runs``
   times each with varied filters, and reports p50 / p95 / max per endpoint.

It also times the query matcher with 10 and with 1,000 queries over the same texts.
"""

from __future__ import annotations

import json
import math
import random
import secrets
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, insert, text
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import Progress, Timing, analyze, no_progress, scratch_database
from guanxi.devtools.bench.listening_store import copy_facts, scratch_store, serving_from
from guanxi.listening.insight.service import PANELS
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.topics.models import MentionFacet, TopicMatch, TopicQuery
from guanxi.listening.topics.queries import MentionFacts, QueryMatcher, compile_queries
from guanxi.listening.topics.service import refresh_rollup
from guanxi.shell.app import create_app

TOPICS = (
    ("Starbucks", "brand", "星巴克 OR starbucks"),
    ("Latte", "product", "拿铁 OR latte"),
    ("Frappuccino", "product", '星冰乐 OR "frappuccino"'),
    ("Luckin", "competitor", "瑞幸 OR luckin"),
    ("Costa", "competitor", "costa OR 咖世家"),
    ("Manner", "competitor", "manner"),
    ("Food safety", "theme", "食品安全 OR (过期 NOT 优惠)"),
    ("Pollution", "theme", "污染 OR 雾霾"),
    ("Price", "theme", "涨价 OR (价格 NEAR/4 贵)"),
    ("Service", "theme", "(服务 NEAR/3 态度) OR (出餐 NEAR/2 慢)"),
    ("Delivery", "theme", "外卖 OR 配送"),
    ("Weibo only", "theme", "platform:weibo 咖啡"),
)
SUBJECTS = (
    "星巴克",
    "瑞幸",
    "Costa",
    "Manner",
    "Starbucks",
    "luckin",
    "咖世家",
    "这家店",
    "楼下咖啡店",
    "公司旁边的店",
)
PRODUCTS = ("拿铁", "美式", "星冰乐", "燕麦拿铁", "生椰拿铁", "latte", "冷萃", "蛋糕")
COMMENTS = (
    "味道还不错",
    "价格真的太贵",
    "服务态度很差",
    "出餐太慢了",
    "性价比很高",
    "包装好看",
    "又涨价了",
    "食品安全问题让人担心",
    "外卖配送很快",
    "杯子有污染",
    "过期的牛奶",
    "强烈推荐",
    "有点失望",
    "以后不买了",
    "想试试新品",
    "哪家更好喝",
    "刚下单",
    "第二杯半价",
    "空气雾霾好重，喝杯咖啡",
    "和朋友一起去的",
)
KEYWORDS = (
    "咖啡",
    "拿铁",
    "价格",
    "服务",
    "新品",
    "外卖",
    "食品安全",
    "口味",
    "优惠",
    "门店",
    "包装",
    "排队",
    "会员",
    "早餐",
    "环境",
    "杯子",
    "奶茶",
    "甜品",
    "茶饮",
    "早高峰",
)
PLATFORMS = (("weibo", 0.68), ("douyin", 0.14), ("xiaohongshu", 0.12), ("wechat", 0.06))
SENTIMENTS = (("positive", 0.44), ("neutral", 0.31), ("negative", 0.25))
KINDS = (("personal", 0.72), ("public", 0.18), ("marketer", 0.10))
STAGES = (
    ("none", 0.52),
    ("need_recognition", 0.07),
    ("information_search", 0.13),
    ("evaluation", 0.13),
    ("purchase", 0.08),
    ("post_purchase", 0.07),
)
PROBABILITY = {"positive": 0.85, "neutral": 0.5, "negative": 0.12}
CHUNK = 20_000


@dataclass
class DashboardBenchResult:
    """What one run measured."""

    backend: str
    mentions: int
    topic_matches: int
    rollup_rows: int
    fill_s: float
    rollup_s: float
    matcher_texts_per_s: dict[int, float]
    timings: list[Timing]
    store_fill_s: float = 0.0  # copying the facts to ClickHouse, when it serves

    @property
    def worst_p95_ms(self) -> float:
        """The slowest endpoint's p95."""
        return max(timing.percentile(0.95) for timing in self.timings)

    def last_line(self) -> str:
        """One line for scripts."""
        return (
            f"dashboard_mentions={self.mentions} backend={self.backend} "
            f"worst_p95_ms={self.worst_p95_ms:.1f}"
        )


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def _text(rng: random.Random) -> str:
    parts = [rng.choice(SUBJECTS), "的", rng.choice(PRODUCTS), "，", rng.choice(COMMENTS)]
    if rng.random() < 0.4:
        parts += ["。", rng.choice(COMMENTS)]
    if rng.random() < 0.2:
        parts += [" #", rng.choice(KEYWORDS), "#"]
    return "".join(parts)


def _posted_at(rng: random.Random, now: datetime, days: int, crises: Sequence[int]) -> datetime:
    """A time in the last ``days`` days: busier evenings and weekends, and a few crises."""
    # Recent days are a little busier than old ones.
    day = rng.choice(crises) if rng.random() < 0.04 else int(days * rng.random() ** 0.8)
    hour = min(23, max(0, int(rng.gauss(18, 5))))
    return now - timedelta(days=day, hours=hour, minutes=rng.randrange(60))


def _bulk(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``; COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            connection.execute(insert(table), rows)
        return

    columns = list(rows[0])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                        for v in row.values()
                    ]
                )
        raw.commit()
    finally:
        raw.close()


def setup_workspace(db: Session) -> tuple[int, str]:
    """The bench workspace with its topics; its id and an API token."""
    user = accounts.create_user(
        db,
        data=UserCreate(
            email="bench@guanxi.example", name="Bench", password=secrets.token_urlsafe(16)
        ),
    )
    workspace = accounts.create_workspace(
        db, data=WorkspaceCreate(slug="bench", name="Bench"), owner=user
    )
    _token, plain = accounts.create_api_token(db, membership=workspace.memberships[0], name="bench")
    for name, category, query in TOPICS:
        db.add(TopicQuery(workspace_id=workspace.id, name=name, category=category, query=query))
    db.commit()
    return workspace.id, plain


def fill(
    engine: Engine,
    *,
    workspace_id: int,
    mentions: int,
    seed: int,
    progress: Progress,
    first_id: int = 1,
    model_version: str = "bench",
) -> tuple[int, QueryMatcher]:
    """Write ``mentions`` enriched, matched mentions; return the number of topic matches.

    Mention and author ids start at ``first_id`` (above those already in the database). The
    enrichments are stamped ``model_version``: a running worker re-enriches the mentions
    whose version is not its pipeline's.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with make_session_factory(engine)() as db:
        topics = db.execute(text("SELECT id, query FROM listening_topic_queries")).all()
    matcher = compile_queries([(row.id, row.query) for row in topics])
    authors = max(100, mentions // 20)
    author_rows = []
    for index in range(authors):
        followers = int(math.exp(rng.gauss(6.0, 2.2)))
        kind = _pick(rng, KINDS)
        verified = {"personal": -1, "public": rng.choice((3, 0, 200)), "marketer": 2}[kind]
        author_rows.append(
            {
                "id": first_id + index,
                "workspace_id": workspace_id,
                "platform": "weibo",
                "external_id": f"a{index}",
                "name": f"用户{index}",
                "verified_type": verified,
                "verified_reason": "",
                "followers": followers,
                "kind": kind,
                "url": "",
                "updated_at": now,
            }
        )
    _bulk(engine, Author.__table__, author_rows)  # type: ignore[arg-type]
    crises = [rng.randrange(365) for _ in range(4)]
    matches = 0
    for start in range(0, mentions, CHUNK):
        size = min(CHUNK, mentions - start)
        mention_rows: list[dict[str, Any]] = []
        enrichment_rows: list[dict[str, Any]] = []
        facet_rows: list[dict[str, Any]] = []
        match_rows: list[dict[str, Any]] = []
        for offset in range(size):
            mention_id = first_id + start + offset
            posted = _posted_at(rng, now, 365, crises)
            platform = _pick(rng, PLATFORMS)
            body = _text(rng)
            mention_rows.append(
                {
                    "id": mention_id,
                    "workspace_id": workspace_id,
                    "platform": platform,
                    "external_id": str(4_900_000_000_000_000 + mention_id),
                    "kind": "post",
                    "url": f"https://weibo.com/{mention_id}",
                    "author_id": first_id + rng.randrange(authors),
                    "text": body,
                    "posted_at": posted,
                    "likes": int(rng.paretovariate(1.2)) - 1,
                    "comments": rng.randrange(20),
                    "reposts": rng.randrange(10),
                    "reply_to_external_id": "",
                    "repost_of_external_id": "",
                    "raw": {},
                    "source_id": None,
                    "imported_at": now,
                }
            )
            facets = {
                "workspace_id": workspace_id,
                "posted_at": posted,
                "platform": platform,
                "sentiment": _pick(rng, SENTIMENTS),
                "source_kind": _pick(rng, KINDS),
                "stage": _pick(rng, STAGES),
            }
            enrichment_rows.append(
                {
                    "mention_id": mention_id,
                    "workspace_id": workspace_id,
                    "posted_at": posted,
                    "language": "zh",
                    "script": "simplified",
                    "normalized_text": body,
                    "sentiment": facets["sentiment"],
                    "positive_probability": PROBABILITY[str(facets["sentiment"])],
                    "source_kind": facets["source_kind"],
                    "source_reason": "",
                    "stage": facets["stage"],
                    "stage_cue": "",
                    "keywords": rng.sample(KEYWORDS, 4),
                    "features": {},
                    "model_version": model_version,
                    "enriched_at": now,
                }
            )
            facet_rows.append(
                {"mention_id": mention_id, "author_id": mention_rows[-1]["author_id"], **facets}
            )
            match_rows.extend(
                {
                    "mention_id": mention_id,
                    "topic_id": found.query_id,
                    **facets,
                    "terms": list(found.terms),
                    "spans": [list(span) for span in found.spans],
                }
                for found in matcher.match(
                    MentionFacts(text=body, platform=platform, language="zh")
                )
            )
        _bulk(engine, Mention.__table__, mention_rows)  # type: ignore[arg-type]
        _bulk(engine, MentionEnrichment.__table__, enrichment_rows)  # type: ignore[arg-type]
        _bulk(engine, MentionFacet.__table__, facet_rows)  # type: ignore[arg-type]
        _bulk(engine, TopicMatch.__table__, match_rows)  # type: ignore[arg-type]
        matches += len(match_rows)
        progress("mentions", start + size, mentions)
    return matches, matcher


def matcher_speed(queries: int, texts: Sequence[str]) -> float:
    """Texts per second matched against ``queries`` queries (the workspace's and made-up)."""
    sources = [(index, f"品牌{index} OR brand{index} AND NOT 广告") for index in range(queries)]
    sources[: len(TOPICS)] = [(index, query) for index, (_n, _c, query) in enumerate(TOPICS)]
    matcher = compile_queries(sources)
    started = time.perf_counter()
    for body in texts:
        matcher.match(MentionFacts(text=body))
    return len(texts) / (time.perf_counter() - started)


def filter_variants(today: date, topic_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Query strings for the timed calls: ranges from a week to a year, alone and combined."""
    week, month, quarter = (today - timedelta(days=n) for n in (7, 30, 90))
    year = today - timedelta(days=365)
    brand, competitor, theme = topic_ids[0], topic_ids[3], topic_ids[6]
    return [
        {"start": month},
        {"start": year},
        {},
        {"start": week},
        {"start": quarter, "topic": [brand]},
        {"start": year, "topic": [brand, competitor]},
        {"start": month, "sentiment": ["negative"]},
        {"start": quarter, "platform": ["douyin"]},
        {"start": year, "kind": ["public"]},
        {"start": month, "stage": ["purchase"]},
        {"start": quarter, "topic": [theme], "sentiment": ["negative"]},
        {"start": year, "platform": ["weibo"], "sentiment": ["positive"], "kind": ["personal"]},
        {"start": week, "topic": [competitor], "stage": ["evaluation"]},
        {"start": month, "end": today - timedelta(days=20)},
        {"start": year, "topic": [theme]},
        {"start": quarter, "stage": ["post_purchase"], "platform": ["xiaohongshu"]},
        {"start": year, "sentiment": ["negative"], "stage": ["purchase"]},
        {"start": month, "topic": [brand], "platform": ["weibo"]},
        {"start": week, "kind": ["marketer"]},
        {"start": year, "topic": [competitor], "kind": ["public"], "sentiment": ["negative"]},
    ]


def _params(variant: dict[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    return [
        (name, item.isoformat() if isinstance(item, date) else str(item))
        for name, value in variant.items()
        for item in (value if isinstance(value, list) else [value])
    ]


def time_endpoints(
    settings: Settings, *, token: str, topic_ids: Sequence[int], runs: int, progress: Progress
) -> list[Timing]:
    """Call every dashboard endpoint ``runs`` times through the app; latencies per endpoint."""
    endpoints = [f"/api/v1/w/bench/listen/dashboard/{panel}" for panel in PANELS]
    endpoints.append("/api/v1/w/bench/listen/posts")
    variants = filter_variants(datetime.now(UTC).date(), topic_ids)
    headers = {"Authorization": f"Bearer {token}"}
    timings = [Timing(path.rsplit("/", 1)[-1]) for path in endpoints]
    with TestClient(create_app(settings)) as client:
        for path in endpoints:  # warm the caches and the connection pool once
            client.get(path, headers=headers).raise_for_status()
        done = 0
        for timing, path in zip(timings, endpoints, strict=True):
            for run in range(runs):
                params = _params(variants[run % len(variants)])
                started = time.perf_counter()
                client.get(path, params=params, headers=headers).raise_for_status()
                timing.samples_ms.append((time.perf_counter() - started) * 1000)
                done += 1
                progress("calls", done, runs * len(endpoints))
    return timings


def run_dashboard_bench(
    *,
    mentions: int,
    database_url: str = "",
    runs: int = 20,
    seed: int = 0,
    progress: Progress = no_progress,
    analytics_url: str = "",
) -> DashboardBenchResult:
    """Fill a scratch database with ``mentions`` mentions and time every dashboard call
    (served by the ClickHouse store at ``analytics_url`` when given)."""

    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(database_url, Path(workdir)) as url,
    ):
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as db:
                workspace_id, token = setup_workspace(db)
            started = time.perf_counter()
            matches, _matcher = fill(
                engine, workspace_id=workspace_id, mentions=mentions, seed=seed, progress=progress
            )
            fill_s = time.perf_counter() - started
            started = time.perf_counter()
            progress("rollup", 0, 1)
            with make_session_factory(engine)() as db:
                rollup_rows = refresh_rollup(db, workspace_id=workspace_id)
                db.commit()
                topic_ids = list(
                    db.scalars(text("SELECT id FROM listening_topic_queries ORDER BY id"))
                )
            analyze(engine)
            rollup_s = time.perf_counter() - started
            progress("rollup", 1, 1)
            texts = [_text(random.Random(seed + index)) for index in range(20_000)]  # noqa: S311
            speeds = {count: matcher_speed(count, texts) for count in (10, 1000)}
            settings = Settings(
                database_url=url,
                data_dir=Path(workdir) / "data",
                smtp_host="",
                secret_key=secrets.token_urlsafe(48),
            )
            store_fill_s = 0.0
            with ExitStack() as serving:
                if analytics_url:
                    client, named = serving.enter_context(scratch_store(analytics_url))
                    started = time.perf_counter()
                    copy_facts(engine, client, progress=progress)
                    store_fill_s = time.perf_counter() - started
                    serving.enter_context(serving_from(named))
                timings = time_endpoints(
                    settings, token=token, topic_ids=topic_ids, runs=runs, progress=progress
                )
        finally:
            engine.dispose()
    return DashboardBenchResult(
        backend=engine.dialect.name + ("+clickhouse" if analytics_url else ""),
        mentions=mentions,
        topic_matches=matches,
        rollup_rows=rollup_rows,
        fill_s=fill_s,
        rollup_s=rollup_s,
        matcher_texts_per_s=speeds,
        timings=timings,
        store_fill_s=store_fill_s,
    )
