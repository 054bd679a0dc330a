"""The inbox benchmark's data: made-up comments, the feed that serves them, the
sensitive-word list, and the bulk fill up to a million items (``inbox.py`` runs them)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from guanxi.channels.models import Channel
from guanxi.checks.script import Conversion, convert
from guanxi.checks.words import WordEntry, WordSeverity, default_entries, normalize
from guanxi.connectors.base import (
    ChannelContext,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
)
from guanxi.core.db import make_session_factory
from guanxi.devtools.bench.checks import COMMON_HAN
from guanxi.devtools.bench.common import Progress
from guanxi.inbox.items import search
from guanxi.inbox.items.models import InboxItem, SearchDocument

PAGE = 200  # comments per page of the feed
CHUNK = 10_000
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
NAMES = ("小王", "老李", "阿美", "大熊", "橙子", "木木", "Lily", "Kevin", "晴天", "小鱼")


def comment_text(rng: random.Random) -> str:
    """A made-up comment of one to three fragments, now and then with spam."""
    parts = rng.sample(FRAGMENTS, rng.randint(1, 3))
    if rng.random() < SPAM_SHARE:
        parts.append(rng.choice(SPAM_FRAGMENTS))
    return "，".join(parts) + rng.choice(("", "！", "。", "？"))


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
            text=comment_text(rng),
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
            "text": comment_text(rng),
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
