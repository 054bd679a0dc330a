"""The measure store's contract: the SQL store and the ClickHouse store give the same answer
to every question, on the same facts, after every kind of write.

Given golden account days (with breakdowns) and post snapshots written through measure's
real write paths (the collector's ``store_days``, the imports' ``store_posts``), each test
asks every query of the store, and the services the pages, the API, the report and the
custom metrics call, on the SQL database (SQLite, and PostgreSQL with
``GUANXI_TEST_DATABASE_URL``) and on ClickHouse (embedded chDB, and a server with
``GUANXI_TEST_CLICKHOUSE_URL``), and expects the same answers, some of which it also states
outright.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import AccountDay as ReportedDay
from guanxi.connectors.metrics import Metric
from guanxi.convert.flows import account_new_followers
from guanxi.measure import curves, custom_metrics, listing, overview, service, sources, status
from guanxi.measure.days import store_days
from guanxi.measure.imports.reading import PostRow
from guanxi.measure.imports.service import store_posts
from guanxi.measure.models import MeasuredPost
from guanxi.measure.retention import count_snapshots, prune_snapshots
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import SnapshotFact
from tests.analytics.conftest import use_measure_store
from tests.conftest import UserFactory, WorkspaceFactory
from tests.measure_support import NOW as COLLECTED_AT
from tests.measure_support import (
    TODAY,
    Collector,
    FakeMetrics,
    PlantedPost,
    daily_figures,
    make_channel,
)

BEIJING = timezone(timedelta(hours=8))
NEW_YORK = timezone(timedelta(hours=-5))
FIRST_DAY = date(2026, 12, 20)
LAST_DAY = date(2027, 1, 15)
NOW = datetime(2027, 1, 16, 2, 0, tzinfo=UTC)
# Each post: (external id, published at, figures of each snapshot, in snapshot order).
POSTS: list[tuple[str, datetime, list[dict[Metric, int]]]] = [
    # Just before and just after midnight in Beijing, and in New York (UTC−5).
    (
        "bj-before",
        datetime(2027, 1, 9, 23, 30, tzinfo=BEIJING),
        [{Metric.VIEWS: 100, Metric.LIKES: 5}, {Metric.VIEWS: 900, Metric.LIKES: 40}],
    ),
    (
        "bj-after",
        datetime(2027, 1, 10, 0, 30, tzinfo=BEIJING),
        [{Metric.VIEWS: 50, Metric.COMMENTS: 2}, {Metric.VIEWS: 400, Metric.COMMENTS: 9}],
    ),
    (
        "ny-before",
        datetime(2027, 1, 9, 23, 30, tzinfo=NEW_YORK),
        [{Metric.LIKES: 7}, {Metric.LIKES: 30, Metric.SHARES: 4}],  # no views: per follower
    ),
    (
        "ny-after",
        datetime(2027, 1, 10, 0, 30, tzinfo=NEW_YORK),
        [{Metric.VIEWS: 0, Metric.LIKES: 1}, {Metric.VIEWS: 10, Metric.LIKES: 3}],
    ),
    (
        "old",
        datetime(2026, 12, 21, 12, 0, tzinfo=UTC),
        [{Metric.VIEWS: 2000, Metric.SAVES: 11}, {Metric.VIEWS: 3000, Metric.SAVES: 20}],
    ),
]
SNAPSHOT_AGES = (timedelta(hours=2), timedelta(days=3))
RANGES = {
    "all": (FIRST_DAY - timedelta(days=40), LAST_DAY + timedelta(days=5)),
    "one day": (date(2027, 1, 10), date(2027, 1, 10)),
    "new year": (date(2026, 12, 31), date(2027, 1, 1)),
    "empty": (date(2000, 1, 1), date(2000, 1, 31)),
}
ZONES = ("Asia/Shanghai", "America/New_York")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class Golden:
    """One workspace's golden facts, written to both stores through the write paths."""

    db: Session
    workspace: Workspace
    channels: list[Channel]
    monkeypatch: pytest.MonkeyPatch
    client: AnalyticsClient

    def on_each(self, write: Callable[[], None]) -> None:
        """Run ``write`` once with each store configured."""
        for client in (None, self.client):
            use_measure_store(self.monkeypatch, client)
            write()
            self.db.commit()
        use_measure_store(self.monkeypatch, None)

    def post_ids(self) -> list[int]:
        """The measured posts' ids, in published order."""
        return [
            post.id
            for post in sorted(
                self.db.query(MeasuredPost).filter_by(workspace_id=self.workspace.id),
                key=lambda post: post.published_at,
            )
        ]

    def answers(self, client: AnalyticsClient | None) -> dict[str, Any]:
        """Every query's answer, on the SQL store (None) or ClickHouse."""
        use_measure_store(self.monkeypatch, client)
        try:
            return self._answers()
        finally:
            use_measure_store(self.monkeypatch, None)
            self.db.rollback()

    def _answers(self) -> dict[str, Any]:
        store = measure_store(self.db)
        ids = [channel.id for channel in self.channels]
        posts = self.post_ids()
        found: dict[str, Any] = {
            "snapshots": {
                post_id: [(s.observed_at, s.as_of, dict(s.figures)) for s in snapshots]
                for post_id, snapshots in store.snapshots(self.workspace.id, posts).items()
            },
            "spans": store.spans(ids),
            "has days": store.has_days(ids),
            "has illustrative days": store.has_days(ids, illustrative=True),
        }
        for cutoff in (NOW - timedelta(days=3), NOW, NOW - timedelta(days=400)):
            found[f"snapshots before {cutoff}"] = store.count_snapshots_before(
                workspace_id=self.workspace.id, before=cutoff
            )
        for name, (first, last) in RANGES.items():
            found[name] = {
                "days": [
                    (d.channel_id, d.day, dict(d.figures)) for d in store.days(ids, first, last)
                ],
                "followers": store.followers(ids, first, last),
                "followers up to": store.last_followers(ids, upto=last),
                "followers before": store.last_followers(ids, before=first),
                "flows": store.flows(ids, first, last),
                "has days": store.has_days(ids, first=first, last=last),
                "breakdowns": [sorted(store.breakdown_sums(c, first, last)) for c in ids],
                "new followers": account_new_followers(self.db, self.workspace.id, first, last),
            }
        found["services"] = {zone: self._services(zone) for zone in ZONES}
        return found

    def _services(self, zone: str) -> dict[str, Any]:
        """What the pages, the API and the report read, with the workspace in ``zone``."""
        db, workspace = self.db, self.workspace
        workspace.timezone = zone
        db.flush()
        found: dict[str, Any] = {}
        for name, (first, last) in RANGES.items():
            period = overview.Period(first, last, None)
            found[name] = {
                "totals": service.period_totals(db, workspace=workspace, start=first, end=last),
                "overview": overview.overview(db, workspace=workspace, period=period),
                "illustrative": service.includes_illustrative(
                    db, workspace=workspace, start=first, end=last
                ),
                "posts": {
                    order: listing.posts_page(
                        db, workspace=workspace, start=first, end=last, order=order
                    )
                    for order in listing.PostOrder
                },
                "sources": [
                    sources.breakdowns(
                        db, workspace=workspace, channel_id=c.id, start=first, end=last
                    )
                    for c in self.channels
                ],
            }
            if name != "all":  # a daily series is at most three years
                found[name]["days"] = [
                    service.daily_series(
                        db, workspace=workspace, channel_id=c.id, start=first, end=last
                    )
                    for c in self.channels
                ]
        found["curves"] = [
            (curve.points, curve.median, curve.compared_posts)
            for post_id in self.post_ids()
            for curve in [curves.post_curve(db, workspace=workspace, post_id=post_id)]
        ]
        found["status"] = [
            (row.channel.id, row.first_day, row.last_day)
            for row in status.collection_status(db, workspace=workspace)
        ]
        found["measured"] = overview.is_measured(db, channel_ids=[c.id for c in self.channels])
        found["metric preview"] = custom_metrics.preview(
            db, workspace=workspace, formula="new_followers / followers * 100", today=LAST_DAY
        )
        return found


def _days(channel: int) -> list[ReportedDay]:
    """Channel 0 reports every figure every day; channel 1 only followers, with gaps, and
    a follower-source split."""
    figures = daily_figures(FIRST_DAY, LAST_DAY, followers=1000 + 5000 * channel)
    if channel == 0:
        return [ReportedDay(day, values) for day, values in figures.items()]
    return [
        ReportedDay(
            day,
            {Metric.FOLLOWERS: values[Metric.FOLLOWERS]},
            {"follower_source": {"search": day.day, "article": 2 * day.day}},
        )
        for day, values in figures.items()
        if day.day % 3
    ]


@pytest.fixture
def golden(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> Golden:
    """Two accounts' days and five posts' snapshots, on both stores."""
    workspace = make_workspace("golden", owner=make_user("owner@golden.example"))
    channels = [
        make_channel(db, workspace, external_id="a", name="A"),
        make_channel(db, workspace, external_id="b", name="B"),
    ]
    found = Golden(db, workspace, channels, monkeypatch, clickhouse)
    for number, channel in enumerate(channels):
        found.on_each(
            lambda channel=channel, number=number: store_days(
                db,
                workspace_id=workspace.id,
                channel_id=channel.id,
                days=_days(number),
                now=NOW,
            )
        )
    for number, (external_id, published, figures) in enumerate(POSTS):
        channel = channels[number % 2]
        for age, values in zip(SNAPSHOT_AGES, figures, strict=True):
            row = PostRow(number + 2, external_id, "", external_id, published, values)
            found.on_each(
                lambda channel=channel, row=row, at=published + age: store_posts(
                    db, channel=channel, rows=[row], observed_at=at, now=NOW
                )
            )
    return found


def test_every_answer_is_the_same_on_both_stores(golden: Golden) -> None:
    """Given the golden facts on both stores, every query of the store and every service
    that reads it answer the same, under two workspace zones and the empty period."""
    on_sql = golden.answers(None)
    on_clickhouse = golden.answers(golden.client)
    assert on_clickhouse == on_sql
    # ClickHouse answered from its own tables, which hold what SQL holds.
    days = golden.client.rows("SELECT count() FROM measure_account_days FINAL")
    snapshots = golden.client.rows("SELECT count() FROM measure_post_snapshots FINAL")
    assert (days[0][0], snapshots[0][0]) == (27 + 18, 2 * len(POSTS))
    # The answers are about real figures: the comparison cannot pass on empty ones.
    assert len(on_sql["snapshots"]) == len(POSTS)
    assert all(len(points) == 2 for points in on_sql["snapshots"].values())
    assert on_sql["empty"]["days"] == []
    assert on_sql["one day"]["followers up to"][golden.channels[0].id] == 1000 + 10 * 22
    flows = on_sql["all"]["flows"]
    assert flows[golden.channels[0].id].new == 12 * 27
    assert flows[golden.channels[1].id].new_days == 0
    shanghai = on_sql["services"]["Asia/Shanghai"]["one day"]["posts"][listing.PostOrder.PUBLISHED]
    new_york = on_sql["services"]["America/New_York"]["one day"]["posts"][
        listing.PostOrder.PUBLISHED
    ]
    # The day of 10 January holds different posts in Beijing and in New York.
    assert {row.external_id for row in shanghai.rows} == {"bj-after", "ny-before", "ny-after"}
    assert {row.external_id for row in new_york.rows} == {"ny-after"}
    rated = on_sql["services"]["Asia/Shanghai"]["all"]["posts"][listing.PostOrder.RATE]
    per_follower = [row for row in rated.rows if row.engagement_rate_basis == "followers"]
    assert [row.external_id for row in per_follower] == ["ny-before"]


def test_a_resent_batch_is_counted_once(golden: Golden) -> None:
    """Given the golden facts, when the collector's last batch of snapshots and a day are
    sent again to each store, nothing is new and every answer stays as it was."""
    before = golden.answers(None)
    post_id = golden.post_ids()[0]
    stored = measure_store(golden.db).snapshots(golden.workspace.id, [post_id])[post_id][-1]
    resent = SnapshotFact(
        golden.workspace.id, post_id, stored.observed_at, {"views": 1}, stored.as_of
    )
    news: list[set[int]] = []
    golden.on_each(
        lambda: news.append(measure_store(golden.db).write_snapshots([resent], replace=False))
    )
    assert news == [set(), set()]
    channel = golden.channels[0]
    again = _days(0)[-3:]
    golden.on_each(
        lambda: store_days(
            golden.db, workspace_id=golden.workspace.id, channel_id=channel.id, days=again, now=NOW
        )
    )
    assert golden.answers(None) == before
    assert golden.answers(golden.client) == before


def test_a_recollected_day_takes_the_newer_figures(golden: Golden) -> None:
    """Given the golden facts, when a day is collected again with a new follower count and
    without its views, and a snapshot moment is imported again with new figures, the newer
    figures win, the views unreported keep their value, on both stores alike."""
    channel = golden.channels[0]
    day = date(2027, 1, 10)
    later = NOW + timedelta(hours=5)
    golden.on_each(
        lambda: store_days(
            golden.db,
            workspace_id=golden.workspace.id,
            channel_id=channel.id,
            days=[ReportedDay(day, {Metric.FOLLOWERS: 99_999, Metric.NEW_FOLLOWERS: 1})],
            now=later,
        )
    )
    external_id, published, _figures = POSTS[0]
    row = PostRow(2, external_id, "", external_id, published, {Metric.VIEWS: 5, Metric.LIKES: 1})
    golden.on_each(
        lambda: store_posts(
            golden.db,
            channel=channel,
            rows=[row],
            observed_at=published + SNAPSHOT_AGES[0],
            now=later,
        )
    )
    on_sql = golden.answers(None)
    assert golden.answers(golden.client) == on_sql
    (fact,) = [d for d in on_sql["one day"]["days"] if d[0] == channel.id]
    assert fact[2]["followers"] == 99_999
    assert fact[2]["new_followers"] == 1
    assert fact[2]["views"] == 500  # not reported again: kept
    bj_before = golden.post_ids()[1]  # in published order, after "old"
    _observed_at, _as_of, replaced = on_sql["snapshots"][bj_before][0]
    assert (replaced["views"], replaced["likes"]) == (5, 1)


def test_retention_deletes_the_same_snapshots(golden: Golden) -> None:
    """Given the golden facts, when retention prunes the snapshots taken before a cutoff in
    small batches on each store, both delete the same ones and then answer the same."""
    cutoff = datetime(2027, 1, 10, 0, 0, tzinfo=UTC)
    counted: list[int] = []
    deleted: list[int] = []

    def prune() -> None:
        ws = golden.workspace.id
        counted.append(count_snapshots(golden.db, workspace_id=ws, before=cutoff))
        total = 0
        while batch := prune_snapshots(golden.db, workspace_id=ws, before=cutoff, limit=2):
            total += batch
        deleted.append(total)

    golden.on_each(prune)
    assert counted == [4, 4]  # "old"'s two, and the first of each Beijing post
    assert deleted == counted
    on_sql = golden.answers(None)
    assert golden.answers(golden.client) == on_sql
    assert on_sql[f"snapshots before {NOW}"] == 2 * len(POSTS) - 4


def _collected(
    db: Session, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, client: Any
) -> dict[str, Any]:
    """Run the collector on a fresh account of ``workspace`` with the store of ``client``
    (None: SQL) four times, and read back what the pages show, without ids."""
    use_measure_store(monkeypatch, client)
    try:
        fake = FakeMetrics(
            posts=[
                PlantedPost("p1", COLLECTED_AT - 3 * HOUR),
                PlantedPost("p2", COLLECTED_AT - 2 * DAY),
            ],
            days=daily_figures(TODAY - 60 * DAY, TODAY - DAY),
        )
        fake.breakdowns[TODAY - DAY] = {"follower_source": {"search": 4, "article": 8}}
        run = Collector(db, make_channel(db, workspace), fake)
        reports = [
            (report.snapshots, report.days, report.backfilled, report.backfill_done)
            for at in (
                COLLECTED_AT,
                COLLECTED_AT + 2 * HOUR,
                COLLECTED_AT + DAY,
                COLLECTED_AT + DAY,
            )
            for report in [run.run(at)]
        ]
        posts = db.query(MeasuredPost).filter_by(channel_id=run.channel.id).all()
        return {
            "reports": reports,
            "counts": sorted((p.external_id, p.snapshot_count) for p in posts),
            "curves": {
                p.external_id: curves.post_curve(db, workspace=workspace, post_id=p.id).points
                for p in posts
            },
            "days": service.daily_series(
                db,
                workspace=workspace,
                channel_id=run.channel.id,
                start=TODAY - 40 * DAY,
                end=TODAY,
            ),
            "sources": sources.breakdowns(
                db,
                workspace=workspace,
                channel_id=run.channel.id,
                start=TODAY - 40 * DAY,
                end=TODAY,
            ),
            "status": [
                (row.first_day, row.last_day, row.posts)
                for row in status.collection_status(db, workspace=workspace)
            ],
        }
    finally:
        use_measure_store(monkeypatch, None)


def test_the_collector_writes_the_same_facts_to_both_stores(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the same account in two workspaces, when the collector runs on one with the SQL
    store and on the other with ClickHouse (at once, two hours later, a day later and again
    at that moment: a re-sent batch), then each run stores as much and the pages read the
    same days, curves, sources and collection status."""
    owner = make_user("owner@collected.example")
    on_sql = _collected(db, make_workspace("on-sql", owner=owner), monkeypatch, None)
    on_clickhouse = _collected(
        db, make_workspace("on-clickhouse", owner=owner), monkeypatch, clickhouse
    )
    assert on_clickhouse == on_sql
    assert on_sql["reports"][-1][0] == 0  # the last run had nothing new to snapshot
    assert on_sql["counts"] == [("p1", 2), ("p2", 2)]  # the decaying schedule's, as on SQL
    assert on_sql["sources"]
