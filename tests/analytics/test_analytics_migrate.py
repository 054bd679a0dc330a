"""Moving listening's analytics from the SQL store to ClickHouse: the dashboards answer the
same, a copy stopped midway resumes to exact counts, a rerun copies nothing, and a month
that differs is reported (``guanxi analytics migrate --to clickhouse``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.analytics import copy as analytics_copy
from guanxi.analytics.client import AnalyticsClient, connect
from guanxi.core.settings import get_settings
from guanxi.devtools.demo.listening import load_demo
from guanxi.listening.store.base import MentionFact
from guanxi.listening.store.clickhouse import ClickHouseMentionStore
from guanxi.listening.store.copy import DailyCountsCopy, MentionCopy
from guanxi.listening.store.sql import SqlMentionStore
from guanxi.listening.topics.models import MentionFacet, TopicMatch, TopicQuery
from tests.analytics.conftest import use_store
from tests.analytics.test_dashboard_on_both_stores import _figures
from tests.cli import PREFIX, run, said
from tests.conftest import UserFactory, WorkspaceFactory, sign_in


class CrashAfter(MentionCopy):
    """A copy whose process dies after ``batches`` batches reached ClickHouse, before the
    copy state records the last one (the worst moment)."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.left = batches

    def write_rows(self, client: AnalyticsClient, rows: Sequence[MentionFact], token: str) -> None:
        super().write_rows(client, rows, token)
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


@pytest.fixture
def demo(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    """The demo workspace's mentions, enriched and topic-matched on the SQL store."""
    use_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    load_demo(db, workspace=workspace)
    db.commit()
    return workspace


def _stored_rows(client: AnalyticsClient) -> tuple[int, int]:
    """Every row ClickHouse holds (not merged away: duplicates would show), mentions and
    topic matches."""
    mentions = client.rows("SELECT count() FROM listening_mentions")[0][0]
    matches = client.rows("SELECT count() FROM listening_topic_matches")[0][0]
    return int(mentions), int(matches)


def _sql_rows(db: Session) -> tuple[int, int]:
    return (
        int(db.scalar(select(func.count()).select_from(MentionFacet)) or 0),
        int(db.scalar(select(func.count()).select_from(TopicMatch)) or 0),
    )


def test_the_copied_dashboards_answer_as_on_sql(
    db: Session,
    client: TestClient,
    demo: Workspace,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo's analytics in the SQL store, when they are copied to ClickHouse in
    small batches, every month verifies and every panel and page of posts answers the same
    JSON from ClickHouse as from SQL."""
    topic_ids = list(db.scalars(select(TopicQuery.id).where(TopicQuery.workspace_id == demo.id)))
    sign_in(client, "owner@demo.example")
    queries = [
        "",
        "sentiment=negative",
        "platform=weibo&kind=personal",
        f"topic={topic_ids[0]}",
        f"topic={topic_ids[0]}&topic={topic_ids[1]}&sentiment=positive",
    ]
    on_sql = _figures(client, queries)
    copied = analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=40)
    assert copied == _sql_rows(db)[0] > 100
    checks = analytics_copy.verify(db, clickhouse, MentionCopy())
    assert checks
    assert all(check.matches and check.sql_count == check.store_count for check in checks)
    assert _stored_rows(clickhouse) == _sql_rows(db)
    use_store(monkeypatch, clickhouse)
    assert _figures(client, queries) == on_sql
    assert on_sql["volume?"]["series"]  # the comparison is over real figures


def test_a_copy_killed_midway_resumes_to_exact_counts(
    db: Session, demo: Workspace, clickhouse: AnalyticsClient
) -> None:
    """Given a copy killed after its third batch reached ClickHouse but before it was
    recorded, when the copy runs again, it continues from the second batch's end: the
    third is not stored twice, and every count and checksum matches."""
    with pytest.raises(KeyboardInterrupt):
        analytics_copy.copy_months(db, clickhouse, CrashAfter(3), batch=25)
    state = analytics_copy.read_state(clickhouse, MentionCopy.name)
    assert sum(month.copied for month in state.values()) == 50  # two batches recorded
    assert _stored_rows(clickhouse)[0] == 75  # three stored
    copied = analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=25)
    assert copied == _sql_rows(db)[0] - 50  # the third batch is walked again...
    assert _stored_rows(clickhouse) == _sql_rows(db)  # ...but stored once
    assert all(check.matches for check in analytics_copy.verify(db, clickhouse, MentionCopy()))
    rollup = clickhouse.rows(
        "SELECT sum(positive + neutral + negative) FROM listening_daily_rollup WHERE topic_id = 0"
    )
    assert rollup[0][0] == _sql_rows(db)[0]  # the daily counts, once each


def test_a_finished_copy_copies_nothing_when_run_again(
    db: Session, demo: Workspace, clickhouse: AnalyticsClient
) -> None:
    """Given a finished copy, a second run copies no row; after its state is forgotten
    (``--restart``) it walks every month again and still stores nothing twice."""
    analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=100)
    stored = _stored_rows(clickhouse)
    assert analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=100) == 0
    analytics_copy.forget_state(clickhouse, MentionCopy.name)
    assert analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=100) > 0
    assert _stored_rows(clickhouse) == stored
    assert all(check.matches for check in analytics_copy.verify(db, clickhouse, MentionCopy()))


def test_a_month_that_differs_is_reported(
    db: Session, demo: Workspace, clickhouse: AnalyticsClient
) -> None:
    """Given a finished copy, when one mention changes in ClickHouse (its sentiment) and
    another is deleted there, the months holding them are reported, the others match."""
    analytics_copy.copy_months(db, clickhouse, MentionCopy(), batch=100)
    facets = list(db.scalars(select(MentionFacet).order_by(MentionFacet.posted_at)))
    first, last = facets[0], facets[-1]
    store = ClickHouseMentionStore(db, clickhouse)
    store.delete(workspace_id=demo.id, mention_ids=[first.mention_id])
    moved = "negative" if last.sentiment != "negative" else "positive"
    store.write(
        [
            MentionFact(
                mention_id=last.mention_id,
                workspace_id=demo.id,
                posted_at=last.posted_at,
                platform=last.platform,
                sentiment=moved,
                source_kind=last.source_kind,
                stage=last.stage,
                author_id=last.author_id,
            )
        ]
    )
    checks = {check.month: check for check in analytics_copy.verify(db, clickhouse, MentionCopy())}
    differing = {month for month, check in checks.items() if not check.matches}
    first_month = first.posted_at.astimezone(UTC).strftime("%Y-%m")
    assert differing == {first_month, last.posted_at.astimezone(UTC).strftime("%Y-%m")}
    assert checks[first_month].store_count == checks[first_month].sql_count - 1


def test_the_command_copies_verifies_and_says_what_differs(
    database_url: str,
    db: Session,
    demo: Workspace,
    chdb_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Given the demo's analytics in SQL, ``guanxi analytics migrate --to clickhouse
    --dry-run`` lists the months to copy and copies nothing; the command then copies and
    verifies every month; a rerun copies nothing; a planted difference exits 1 with what
    to do."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    database = f"cli_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(PREFIX + "ANALYTICS_URL", f"{chdb_url}?database={database}")
    get_settings.cache_clear()
    try:
        dry = run("analytics", "migrate", "--to", "clickhouse", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "to copy" in said(dry)
        target = connect(chdb_url, database=database)
        assert _stored_rows(target) == (0, 0)
        first = run("analytics", "migrate", "--to", "clickhouse", "--batch", "50")
        assert first.exit_code == 0, first.output
        assert f"listening_mentions: {_sql_rows(db)[0]:,} rows copied by this run" in said(first)
        assert "every month matches" in said(first)
        again = run("analytics", "migrate", "--to", "clickhouse")
        assert "listening_mentions: 0 rows copied by this run" in said(again)
        target.command(
            "DELETE FROM listening_mentions WHERE id = {id:UInt64}",
            {"id": db.scalar(select(func.min(MentionFacet.mention_id)))},
        )
        broken = run("analytics", "migrate", "--to", "clickhouse")
        assert broken.exit_code == 1
        assert "1 month(s) differ" in said(broken)
        assert "--restart" in said(broken)
        wrong = run("analytics", "migrate", "--to", "bigquery")
        assert wrong.exit_code == 1
        assert "clickhouse only" in said(wrong)
        target.command(f"DROP DATABASE {database}")
    finally:
        get_settings.cache_clear()


def test_the_counts_retention_kept_are_carried_over(
    db: Session,
    client: TestClient,
    demo: Workspace,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the SQL store's retention removed the older half of the demo's mentions from
    the lists (their daily counts kept), when the facts and then the daily counts are
    copied, every month of both verifies, the panels answer as on SQL, and copying the
    counts again adds nothing."""
    posted = sorted(db.scalars(select(MentionFacet.posted_at)))
    SqlMentionStore(db).delete_before(workspace_id=demo.id, cutoff=posted[len(posted) // 2])
    db.commit()
    sign_in(client, "owner@demo.example")
    on_sql = _figures(client, ["", "sentiment=negative"])
    for copy in (MentionCopy(), DailyCountsCopy()):
        analytics_copy.copy_months(db, clickhouse, copy, batch=50)
        assert all(check.matches for check in analytics_copy.verify(db, clickhouse, copy))
    rollup_rows = clickhouse.rows("SELECT count() FROM listening_daily_rollup")[0][0]
    analytics_copy.forget_state(clickhouse, DailyCountsCopy.name)
    assert analytics_copy.copy_months(db, clickhouse, DailyCountsCopy(), batch=50) > 0
    assert clickhouse.rows("SELECT count() FROM listening_daily_rollup")[0][0] == rollup_rows
    use_store(monkeypatch, clickhouse)
    assert _figures(client, ["", "sentiment=negative"]) == on_sql
