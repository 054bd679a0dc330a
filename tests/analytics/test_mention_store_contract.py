"""The mention store's contract: the SQL store and the ClickHouse store give the same
answer to every question, on the same mentions, after every kind of write.

Given golden mentions written through listening's real write path (enrichment matched
against the topics), each test asks every query of the store under a set of filters, on the
SQL database (SQLite, and PostgreSQL with ``GUANXI_TEST_DATABASE_URL``) and on ClickHouse
(embedded chDB, and a server with ``GUANXI_TEST_CLICKHOUSE_URL``), and expects the same
answers, some of which it also states outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.analytics.client import AnalyticsClient
from guanxi.listening.mentions.models import Author, MentionEnrichment, OfficialRelation
from guanxi.listening.mentions.service import track_account
from guanxi.listening.store.base import DashboardFilters, MentionStore
from guanxi.listening.store.clickhouse import ClickHouseMentionStore
from guanxi.listening.store.sql import SqlMentionStore
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import TopicCategory, TopicQuery
from tests.analytics.conftest import use_store
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_topics_support import add_author, add_mention

BEIJING = timezone(timedelta(hours=8))
NEW_YORK = timezone(timedelta(hours=-5))


@dataclass
class Golden:
    """The golden mentions of one workspace, written to both stores."""

    db: Session
    workspace: Workspace
    sql: SqlMentionStore
    clickhouse: ClickHouseMentionStore
    monkeypatch: pytest.MonkeyPatch
    client: AnalyticsClient
    topics: dict[str, TopicQuery] = field(default_factory=dict)
    authors: dict[str, Author] = field(default_factory=dict)
    mention_ids: list[int] = field(default_factory=list)

    def replay(self, mention_ids: list[int] | None = None) -> None:
        """Write these mentions (all by default) through the write path to each store."""
        ids = self.mention_ids if mention_ids is None else mention_ids
        for client in (None, self.client):
            use_store(self.monkeypatch, client)
            topics.match_mention_ids(self.db, workspace_id=self.workspace.id, mention_ids=ids)
        use_store(self.monkeypatch, None)

    def rematch(self, topic: TopicQuery, query: str) -> None:
        """Change a topic's query, as a person editing it does, and tell each store."""
        form = topics.TopicForm(name=topic.name, query=query, category=topic.category)
        topics.update_topic(self.db, workspace_id=self.workspace.id, topic_id=topic.id, form=form)
        use_store(self.monkeypatch, self.client)
        topics.rematch_topic(self.db, topic=topic)
        use_store(self.monkeypatch, None)

    def answers(self, store: MentionStore, filter_names: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every query's answer under each filter of ``FILTERS`` (or those named)."""
        ws = self.workspace.id
        t = self.topics
        all_topics = [0, *(topic.id for topic in t.values())]
        found: dict[str, Any] = {}
        for name, make in FILTERS.items():
            if filter_names and name not in filter_names:
                continue
            filters = make(self)
            found[name] = {
                "count": store.count(workspace_id=ws, filters=filters),
                **{
                    f"by_{dim}": _nonzero(
                        store.count_by(workspace_id=ws, filters=filters, dimension=dim)
                    )
                    for dim in ("platform", "source_kind", "stage")
                },
                "per_day_by_topic": store.per_day_by_topic(
                    workspace_id=ws, filters=filters, topic_ids=all_topics
                ),
                "per_day_by_sentiment": store.per_day_by_sentiment(
                    workspace_id=ws, filters=filters
                ),
                "by_topic": _nonzero(
                    store.count_by_topic(workspace_id=ws, filters=filters, topic_ids=all_topics)
                ),
                "newest": store.newest_ids(workspace_id=ws, filters=filters, limit=50),
                "page_2": store.newest_ids(workspace_id=ws, filters=filters, limit=2, offset=2),
                "keywords": sorted(store.keyword_lists(workspace_id=ws, filters=filters, sample=3)),
                "authors": [
                    (author.name, count)
                    for author, count in store.top_authors(
                        workspace_id=ws, filters=filters, limit=2
                    )
                ],
            }
            newest = found[name]["newest"]
            if len(newest) > 2:
                posted = self.posted(newest[1])
                found[name]["after_second"] = store.newest_ids(
                    workspace_id=ws, filters=filters, limit=50, before=(posted, newest[1])
                )
        windows = {
            "all": (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
            "beijing_day": (
                datetime(2026, 3, 2, tzinfo=BEIJING),
                datetime(2026, 3, 3, tzinfo=BEIJING),
            ),
            "empty": (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
        }
        for label, (start, end) in windows.items():
            for topic_id in (None, *(topic.id for topic in t.values())):
                found[f"window_{label}_{topic_id}"] = store.window_counts(
                    workspace_id=ws, start=start, end=end, topic_id=topic_id
                )
        return found

    def posted(self, mention_id: int) -> datetime:
        """When a mention was posted (from its enrichment)."""
        value = self.db.scalar(
            select(MentionEnrichment.posted_at).where(MentionEnrichment.mention_id == mention_id)
        )
        assert value is not None
        return value

    def assert_same(self, filter_names: tuple[str, ...] = ()) -> dict[str, Any]:
        """Both stores answer every query alike; returns the answers."""
        expected = self.answers(self.sql, filter_names)
        assert self.answers(self.clickhouse, filter_names) == expected
        return expected


def _nonzero(counts: dict[Any, int]) -> dict[Any, int]:
    # A SQL rollup row left at 0 by a sentiment filter and a key never counted are the same
    # answer to every panel (each reads a missing key as 0).
    return {key: value for key, value in counts.items() if value}


FILTERS = {
    "everything": lambda g: DashboardFilters(),
    "march_1": lambda g: DashboardFilters(start=date(2026, 3, 1), end=date(2026, 3, 1)),
    "march_2_empty": lambda g: DashboardFilters(start=date(2026, 3, 2), end=date(2026, 3, 2)),
    "last_year_empty": lambda g: DashboardFilters(start=date(2025, 1, 1), end=date(2025, 1, 31)),
    "weibo": lambda g: DashboardFilters(platforms=("weibo",)),
    "negative": lambda g: DashboardFilters(sentiments=("negative",)),
    "personal_evaluation": lambda g: DashboardFilters(kinds=("personal",), stages=("evaluation",)),
    "brand": lambda g: DashboardFilters(topic_ids=(g.topics["brand"].id,)),
    "brand_and_rival": lambda g: DashboardFilters(
        topic_ids=(g.topics["brand"].id, g.topics["rival"].id)
    ),
    "brand_positive_from_march_2": lambda g: DashboardFilters(
        start=date(2026, 3, 2), topic_ids=(g.topics["brand"].id,), sentiments=("positive",)
    ),
}


@pytest.fixture
def golden(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> Golden:
    """Six mentions across days, offsets, platforms and topics, plus another workspace's."""
    owner = make_user("owner@example.com")
    workspace = make_workspace("cafe", owner=owner)
    other = make_workspace("other", owner=owner)
    use_store(monkeypatch, None)
    g = Golden(
        db,
        workspace,
        SqlMentionStore(db),
        ClickHouseMentionStore(db, clickhouse),
        monkeypatch,
        clickhouse,
    )
    for key, name, query, category in (
        ("brand", "星巴克", "星巴克", TopicCategory.BRAND),
        ("rival", "瑞幸", "瑞幸", TopicCategory.COMPETITOR),
        ("price", "价格", "贵 OR 便宜", TopicCategory.THEME),
    ):
        g.topics[key] = topics.create_topic(
            db, workspace_id=workspace.id, form=topics.TopicForm(name, query, category)
        )
    topics.create_topic(db, workspace_id=other.id, form=topics.TopicForm("星巴克", "星巴克"))
    ws = workspace.id
    g.authors = {
        "阿明": add_author(db, workspace_id=ws, name="阿明", followers=1000),
        "小王": add_author(db, workspace_id=ws, name="小王", followers=50),
        "无名": add_author(db, workspace_id=ws, name="无名", followers=None),  # type: ignore[arg-type]
    }
    a = g.authors
    rows = [
        (
            "星巴克 拿铁 好喝",
            datetime(2026, 3, 1, 10, tzinfo=UTC),
            "weibo",
            a["阿明"],
            "positive",
            "personal",
            "none",
            ("拿铁", "好喝"),
        ),
        # 23:30 in Beijing is 15:30 UTC: a March 1 mention.
        (
            "瑞幸 便宜",
            datetime(2026, 3, 1, 23, 30, tzinfo=BEIJING),
            "douyin",
            a["小王"],
            "neutral",
            "public",
            "information_search",
            ("便宜",),
        ),
        # March 2 in Beijing, still March 1 in UTC.
        (
            "星巴克 太贵 瑞幸 便宜",
            datetime(2026, 3, 2, 0, 30, tzinfo=BEIJING),
            "weibo",
            a["无名"],
            "negative",
            "personal",
            "evaluation",
            ("贵", "便宜"),
        ),
        # March 2 in New York, March 3 in UTC.
        (
            "星巴克 新品",
            datetime(2026, 3, 2, 23, 59, 59, tzinfo=NEW_YORK),
            "xiaohongshu",
            None,
            "positive",
            "marketer",
            "none",
            ("新品",),
        ),
        (
            "今天 下雨",
            datetime(2026, 3, 5, 8, tzinfo=UTC),
            "weibo",
            a["阿明"],
            "neutral",
            "personal",
            "none",
            ("下雨",),
        ),
        # Posted at the same instant as the one above: the higher id comes first.
        (
            "星巴克 排队 太久",
            datetime(2026, 3, 5, 8, tzinfo=UTC),
            "weibo",
            a["小王"],
            "negative",
            "personal",
            "post_purchase",
            ("排队",),
        ),
    ]
    for text, posted, platform, author, sentiment, kind, stage, keywords in rows:
        mention = add_mention(
            db,
            workspace_id=ws,
            text=text,
            posted_at=posted,
            platform=platform,
            author=author,
            sentiment=sentiment,
            source_kind=kind,
            stage=stage,
            keywords=keywords,
        )
        g.mention_ids.append(mention.id)
    add_mention(db, workspace_id=other.id, text="星巴克 别家的", sentiment="negative")
    g.replay()
    return g


def test_every_query_agrees_and_days_are_utc(golden: Golden) -> None:
    """Given the golden mentions, every query answers alike on both stores; a mention is
    counted on its UTC day whatever the offset it was given in, and ties go by id."""
    answers = golden.assert_same()
    ids = golden.mention_ids
    everything = answers["everything"]
    assert everything["count"] == 6
    assert everything["per_day_by_topic"][0] == {
        date(2026, 3, 1): 3,
        date(2026, 3, 3): 1,
        date(2026, 3, 5): 2,
    }
    assert everything["newest"] == [ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]
    assert answers["march_2_empty"]["count"] == 0
    assert answers["march_2_empty"]["newest"] == []
    assert answers["last_year_empty"]["per_day_by_sentiment"] == {}
    brand = golden.topics["brand"].id
    assert answers["brand_and_rival"]["count"] == 6  # matches: 4 of the brand, 2 of the rival
    assert everything["by_topic"][brand] == 4
    assert everything["authors"] == [("阿明", 2), ("小王", 2)]
    assert answers["window_beijing_day_None"] == (1, 1)


def test_a_resent_batch_counts_once(golden: Golden) -> None:
    """Given the golden mentions, when the same batch is written again, nothing changes,
    and ClickHouse is not even written to (the stored facts are read first)."""
    before = golden.assert_same()
    rows = (
        "SELECT (SELECT count() FROM listening_mentions), "
        "(SELECT count() FROM listening_topic_matches)"
    )
    stored = golden.client.rows(rows)
    golden.replay()
    assert golden.assert_same() == before
    assert golden.client.rows(rows) == stored


def test_a_reenriched_mention_moves_between_counts(golden: Golden) -> None:
    """When a mention's sentiment and stage change on re-enrichment, it leaves its old
    counts and joins the new ones on both stores."""
    first = golden.mention_ids[0]
    golden.db.execute(
        update(MentionEnrichment)
        .where(MentionEnrichment.mention_id == first)
        .values(sentiment="negative", stage="purchase")
    )
    golden.replay([first])
    answers = golden.assert_same()
    assert answers["negative"]["count"] == 3
    assert answers["everything"]["by_stage"]["purchase"] == 1
    assert answers["everything"]["count"] == 6


def test_deleted_mentions_leave_every_answer(golden: Golden) -> None:
    """When two mentions are deleted, they leave every count and list of both stores."""
    gone = golden.mention_ids[:2]
    for store in (golden.sql, golden.clickhouse):
        store.delete(workspace_id=golden.workspace.id, mention_ids=gone)
    answers = golden.assert_same()
    assert answers["everything"]["count"] == 4
    assert not set(gone) & set(answers["everything"]["newest"])


def test_retention_keeps_the_daily_counts(golden: Golden) -> None:
    """When the facts before March 3 are deleted for retention, the counting panels keep
    them, and the lists (drill-down, keywords, authors, alerts) no longer show them."""
    cutoff = datetime(2026, 3, 3, tzinfo=UTC)
    for store in (golden.sql, golden.clickhouse):
        store.delete_before(workspace_id=golden.workspace.id, cutoff=cutoff)
    answers = golden.assert_same()
    assert answers["everything"]["count"] == 6
    assert len(answers["everything"]["newest"]) == 3
    assert answers["window_all_None"] == (3, 1)


def test_a_changed_topic_query_rematches_on_both(golden: Golden) -> None:
    """When the price topic's query changes, its matches and counts follow on both stores."""
    golden.rematch(golden.topics["price"], "太贵 OR 太久")
    answers = golden.assert_same()
    price = golden.topics["price"].id
    assert answers["everything"]["by_topic"][price] == 2


def test_a_deleted_topic_leaves_the_counts(golden: Golden) -> None:
    """When a topic is deleted, neither store counts its matches any more."""
    rival = golden.topics.pop("rival")
    use_store(golden.monkeypatch, golden.client)
    topics.delete_topic(golden.db, workspace_id=golden.workspace.id, topic_id=rival.id)
    golden.sql.forget_topic(workspace_id=golden.workspace.id, topic_id=rival.id)
    still = tuple(name for name in FILTERS if "rival" not in name)
    answers = golden.assert_same(still)
    assert rival.id not in answers["everything"]["by_topic"]
    everything = DashboardFilters()
    for store in (golden.sql, golden.clickhouse):
        by_topic = store.count_by_topic(
            workspace_id=golden.workspace.id, filters=everything, topic_ids=[rival.id]
        )
        assert _nonzero(by_topic) == {}


def test_chinese_words_use_the_workspace_dictionary_and_text_is_searchable(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a tracked account named 小红书, a mention "小红书上的评价" is stored on
    ClickHouse with the word 小红书 (not 小红 / 书上), found by its words' index, and by a
    substring of its text through the 2-gram index."""
    workspace = make_workspace("cafe", owner=make_user("owner@example.com"))
    track_account(
        db,
        workspace_id=workspace.id,
        platform="xiaohongshu",
        external_id="xhs1",
        name="小红书",
        relation=OfficialRelation.COMPETITOR,
    )
    use_store(monkeypatch, clickhouse)
    mention = add_mention(db, workspace_id=workspace.id, text="小红书上的评价")
    (tokens,) = clickhouse.rows(
        "SELECT tokens FROM listening_mentions FINAL WHERE id = {id:UInt64}", {"id": mention.id}
    )[0]
    assert "小红书" in tokens
    assert "书上" not in tokens
    by_word = "SELECT id FROM listening_mentions FINAL WHERE has(tokens, {w:String})"
    assert clickhouse.rows(by_word, {"w": "小红书"}) == [(mention.id,)]
    by_text = "SELECT id FROM listening_mentions FINAL WHERE text LIKE {p:String}"
    assert clickhouse.rows(by_text, {"p": "%书上的%"}) == [(mention.id,)]
