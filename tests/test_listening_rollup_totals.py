"""The listening dashboard's totals without a filter come from ``RollupTotal``, the daily
rollup summed over its history: they must equal the mentions, whatever changed them and
however many writers changed them at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory, session_scope
from guanxi.listening.insight import service as dashboards
from guanxi.listening.mentions.models import Mention, MentionEnrichment
from guanxi.listening.store import mention_store
from guanxi.listening.store.base import DashboardFilters, MentionFact
from guanxi.listening.topics.models import ALL_MENTIONS, DailyRollup, RollupTotal
from guanxi.listening.topics.service import (
    TopicForm,
    create_topic,
    delete_topic,
    refresh_rollup,
)
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_topics_support import add_mention
from tests.race_support import writes_meet

KINDS = ("personal", "public", "marketer")
SENTIMENT_OF = ("positive", "neutral", "negative", "neutral")
FIRST_DAY = datetime(2026, 11, 1, 9, tzinfo=UTC)
# A range holding every mention: the panels then sum the daily rollup, not the totals.
EVERY_DAY = DashboardFilters(start=date(2026, 10, 1), end=date(2026, 12, 31))


def _workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def _add(db: Session, workspace_id: int, index: int, *, text_: str = "星巴克的拿铁") -> Mention:
    """Mention ``index``: its day, kind and sentiment vary with it."""
    return add_mention(
        db,
        workspace_id=workspace_id,
        text=text_,
        posted_at=FIRST_DAY + timedelta(days=index % 5, minutes=index),
        source_kind=KINDS[index % 3],
        sentiment=SENTIMENT_OF[index % 4],
    )


def _rollup_sums(db: Session, workspace_id: int) -> dict[tuple[int, str], tuple[int, int, int]]:
    """The daily rollup summed per topic and kind: what the totals must hold."""
    rows = db.execute(
        select(
            DailyRollup.topic_id,
            DailyRollup.source_kind,
            func.sum(DailyRollup.positive),
            func.sum(DailyRollup.neutral),
            func.sum(DailyRollup.negative),
        )
        .where(DailyRollup.workspace_id == workspace_id)
        .group_by(DailyRollup.topic_id, DailyRollup.source_kind)
    )
    return {(int(t), str(k)): (int(p), int(n), int(g)) for t, k, p, n, g in rows}


def _totals(db: Session, workspace_id: int) -> dict[tuple[int, str], tuple[int, int, int]]:
    rows = db.scalars(select(RollupTotal).where(RollupTotal.workspace_id == workspace_id))
    return {
        (row.topic_id, row.source_kind): (row.positive, row.neutral, row.negative)
        for row in rows
        if row.positive or row.neutral or row.negative
    }


def _enriched_by_kind(db: Session, workspace_id: int) -> dict[str, int]:
    """The truth: the workspace's enriched mentions counted by kind of source."""
    rows = db.execute(
        select(MentionEnrichment.source_kind, func.count())
        .where(MentionEnrichment.workspace_id == workspace_id)
        .group_by(MentionEnrichment.source_kind)
    )
    return {str(kind): int(count) for kind, count in rows}


def _dashboard_figures(
    db: Session, workspace_id: int, filters: DashboardFilters
) -> tuple[dict[str, int], int]:
    mix, total = dashboards.source_kinds_and_total(db, workspace_id=workspace_id, filters=filters)
    return {item["key"]: item["mentions"] for item in mix["items"] if item["mentions"]}, total


def _assert_totals_agree(db: Session, workspace_id: int) -> None:
    """The totals equal the rollup's sums, and the dashboard without a filter shows the
    enriched mentions' counts, as it does with a range over every day (from the rollup)."""
    db.expire_all()
    assert _totals(db, workspace_id) == _rollup_sums(db, workspace_id)
    truth = _enriched_by_kind(db, workspace_id)
    shown = _dashboard_figures(db, workspace_id, DashboardFilters())
    assert shown == (truth, sum(truth.values()))
    assert shown == _dashboard_figures(db, workspace_id, EVERY_DAY)


def test_the_unfiltered_dashboard_counts_every_change_to_the_mentions(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given mentions of every kind over five days and two topics, when mentions are
    added, re-enriched as another kind, deleted, a topic is rematched and another deleted,
    then after each change the dashboard without a filter shows the total and kinds of
    source of the mentions as they are, the same as over a range of every day, and each
    topic's count (share of voice) is its matches'."""
    workspace_id = _workspace(make_user, make_workspace).id
    brand = create_topic(db, workspace_id=workspace_id, form=TopicForm(name="品牌", query="星巴克"))
    mentions = [_add(db, workspace_id, index) for index in range(12)]
    db.commit()
    _assert_totals_agree(db, workspace_id)
    assert _dashboard_figures(db, workspace_id, DashboardFilters())[1] == 12

    store = mention_store(db)
    changed = mentions[0]  # personal, positive: re-enriched as marketer, negative
    store.write(
        [
            MentionFact(
                mention_id=changed.id,
                workspace_id=workspace_id,
                posted_at=changed.posted_at,
                platform="weibo",
                sentiment="negative",
                source_kind="marketer",
                stage="none",
                author_id=None,
            )
        ]
    )
    assert changed.enrichment is not None
    changed.enrichment.source_kind, changed.enrichment.sentiment = "marketer", "negative"
    db.commit()
    _assert_totals_agree(db, workspace_id)
    negative = DashboardFilters(sentiments=("negative",))
    assert _dashboard_figures(db, workspace_id, negative) == _dashboard_figures(
        db, workspace_id, DashboardFilters(start=EVERY_DAY.start, sentiments=("negative",))
    )

    gone = mentions[1:4]
    store.delete(workspace_id=workspace_id, mention_ids=[m.id for m in gone])
    for mention in gone:
        db.delete(mention)
    db.commit()
    _assert_totals_agree(db, workspace_id)

    other = create_topic(db, workspace_id=workspace_id, form=TopicForm(name="拿铁", query="拿铁"))
    db.commit()
    _assert_totals_agree(db, workspace_id)
    by_topic = store.count_by_topic(
        workspace_id=workspace_id, filters=DashboardFilters(), topic_ids=[brand.id, other.id]
    )
    assert by_topic == {brand.id: 9, other.id: 9}
    assert by_topic == store.count_by_topic(
        workspace_id=workspace_id, filters=EVERY_DAY, topic_ids=[brand.id, other.id]
    )
    assert store.count(workspace_id=workspace_id, filters=DashboardFilters(topic_ids=(other.id,)))
    delete_topic(db, workspace_id=workspace_id, topic_id=other.id)
    db.commit()
    _assert_totals_agree(db, workspace_id)
    assert {topic for topic, _kind in _totals(db, workspace_id)} == {ALL_MENTIONS, brand.id}

    refresh_rollup(db, workspace_id=workspace_id)  # a full recount changes nothing
    db.commit()
    _assert_totals_agree(db, workspace_id)


def test_writers_at_once_leave_the_totals_exact(
    db: Session,
    session_factory: sessionmaker[Session],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given a workspace with a topic and 15 mentions, when four writers at once add
    mentions on the same days, re-enrich some as another kind, delete others and recount
    every day, each in its own transaction, their recounts held until all have begun, then
    the totals equal the rollup's sums and the dashboard shows the mentions' counts."""
    workspace_id = _workspace(make_user, make_workspace).id
    create_topic(db, workspace_id=workspace_id, form=TopicForm(name="品牌", query="星巴克"))
    existing = [_add(db, workspace_id, index).id for index in range(15)]
    db.commit()

    def add_some(offset: int) -> Callable[[Session], None]:
        def add(session: Session) -> None:
            for index in range(offset, offset + 6):
                _add(session, workspace_id, index)

        return add

    def delete_some(session: Session) -> None:
        ids = existing[:4]
        mention_store(session).delete(workspace_id=workspace_id, mention_ids=ids)
        for mention_id in ids:
            session.delete(session.get_one(Mention, mention_id))

    def re_enrich(session: Session) -> None:
        for mention_id in existing[6:10]:
            mention = session.get_one(Mention, mention_id)
            assert mention.enrichment is not None
            mention.enrichment.source_kind = "public"
            mention_store(session).write(
                [
                    MentionFact(
                        mention_id=mention.id,
                        workspace_id=workspace_id,
                        posted_at=mention.posted_at,
                        platform="weibo",
                        sentiment=mention.enrichment.sentiment,
                        source_kind="public",
                        stage="none",
                        author_id=None,
                    )
                ]
            )

    def recount(session: Session) -> None:
        refresh_rollup(session, workspace_id=workspace_id)

    writers = [add_some(100), add_some(200), delete_some, re_enrich, recount]
    errors: list[BaseException] = []
    start = threading.Barrier(len(writers))

    def run(write: Callable[[Session], None]) -> None:
        try:
            with session_factory() as session:
                start.wait()
                write(session)
                session.commit()
        except BaseException as error:  # raised by the test below
            errors.append(error)

    engine = session_factory.kw["bind"]
    # Each writer's first recount waits for the others to reach theirs (or 1 s: on
    # PostgreSQL a workspace's recounts take turns, on SQLite writers do).
    with writes_meet(
        engine, "DELETE FROM listening_daily_rollups", len(writers), serialized_after=1.0
    ):
        threads = [threading.Thread(target=run, args=(write,)) for write in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    _assert_totals_agree(db, workspace_id)
    assert sum(_enriched_by_kind(db, workspace_id).values()) == 15 + 12 - 4


def test_the_upgrade_sums_the_existing_rollup(empty_url: str) -> None:
    """Given a database before the totals with a workspace's daily rollup (two days, two
    kinds, a topic), when it is upgraded, then the totals hold the rollup's sums."""
    migrate.upgrade(empty_url, "0032")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO workspaces (name, slug, timezone, created_at, updated_at)"
                    " VALUES ('Acme', 'acme', 'Asia/Shanghai', :at, :at)"
                ),
                {"at": FIRST_DAY},
            )
            workspace_id = connection.execute(text("SELECT id FROM workspaces")).scalar_one()
            rows = [
                (ALL_MENTIONS, FIRST_DAY.date(), "personal", 2, 1, 0),
                (ALL_MENTIONS, FIRST_DAY.date() + timedelta(days=1), "personal", 3, 0, 4),
                (ALL_MENTIONS, FIRST_DAY.date(), "public", 0, 5, 0),
                (7, FIRST_DAY.date(), "personal", 1, 1, 1),
            ]
            for topic_id, day, kind, positive, neutral, negative in rows:
                connection.execute(
                    text(
                        "INSERT INTO listening_daily_rollups (workspace_id, topic_id, day,"
                        " platform, source_kind, stage, positive, neutral, negative) VALUES"
                        " (:w, :t, :d, 'weibo', :k, 'none', :p, :n, :g)"
                    ),
                    {
                        "w": workspace_id,
                        "t": topic_id,
                        "d": day,
                        "k": kind,
                        "p": positive,
                        "n": neutral,
                        "g": negative,
                    },
                )
        migrate.upgrade(empty_url)
        with session_scope(make_session_factory(engine)) as session:
            assert _totals(session, workspace_id) == {
                (ALL_MENTIONS, "personal"): (5, 1, 4),
                (ALL_MENTIONS, "public"): (0, 5, 0),
                (7, "personal"): (1, 1, 1),
            }
            figures = _dashboard_figures(session, workspace_id, DashboardFilters())
            assert figures == ({"personal": 10, "public": 5}, 15)
    finally:
        engine.dispose()
