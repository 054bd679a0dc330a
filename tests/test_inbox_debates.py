"""Debates: topic campaigns, linked posts, participation per day, the team report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core.db import utcnow
from guanxi.core.report import Chart, ReportQuery
from guanxi.inbox.debates import service as debates
from guanxi.inbox.items.models import ItemKind
from guanxi.inbox.triage.moderation import moderate_new
from guanxi.inbox.triage.report_sections import team
from guanxi.inbox.triage.team_report import percentile, team_report
from guanxi.web.charts import echarts_option
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.inbox_ui_support import FakePlatform, make_channel, make_item
from tests.test_i18n import choose_language
from tests.test_measure_pages import chart_options


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The owner of workspace acme (Asia/Shanghai)."""
    return make_workspace("acme", owner=make_user("owner@acme.example")).memberships[0]


def test_participation_per_local_day(db: Session, owner: Membership) -> None:
    """Comments on a linked post and items carrying the hashtag count, per Shanghai day,
    with unique participants and negative ones; a day without any shows as zero."""
    debate = debates.create_debate(db, membership=owner, hashtag="#春季新品#", title="春季上新")
    assert debate.hashtag == "春季新品"
    debates.link_post(db, membership=owner, debate_id=debate.id, post_external_id="P1")
    channel = make_channel(db, owner.workspace)
    day1 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 01:00 on the 21st in Shanghai
    items = [
        make_item(db, channel, "好看", post="P1", author="a", created_at=day1),
        make_item(db, channel, "太贵了", post="P1", author="b", created_at=day1),
        make_item(
            db, channel, "又来了", post="P1", author="a", created_at=day1 + timedelta(minutes=5)
        ),
        make_item(
            db,
            channel,
            "我也参加 #春季新品#",
            post="OTHER",
            author="c",
            created_at=day1 + timedelta(days=2),
        ),
        make_item(db, channel, "无关", post="OTHER", author="d", created_at=day1),
    ]
    moderate_new(
        db,
        workspace_id=owner.workspace_id,
        items=items,
        platform=FakePlatform(),
        sentiment_of=lambda texts: ["positive", "negative", "neutral", "positive", "neutral"],
    )
    result = debates.participation(db, debate=debate, timezone="Asia/Shanghai")
    assert (result.items, result.participants) == (4, 3)
    assert [(d.day.isoformat(), d.items, d.participants, d.negative) for d in result.days] == [
        ("2026-11-21", 3, 2, 1),
        ("2026-11-22", 0, 0, 0),
        ("2026-11-23", 1, 1, 0),
    ]
    option = debates.chart_option(
        result, labels={"items": "I", "participants": "P", "negative": "N"}
    )
    assert option["xAxis"] == {
        "type": "category",
        "data": ["2026-11-21", "2026-11-22", "2026-11-23"],
    }


def test_debates_are_validated(db: Session, owner: Membership) -> None:
    """An empty or repeated topic is refused."""
    with pytest.raises(debates.InvalidDebateError):
        debates.create_debate(db, membership=owner, hashtag="##")
    debates.create_debate(db, membership=owner, hashtag="新品")
    with pytest.raises(debates.InvalidDebateError, match="already"):
        debates.create_debate(db, membership=owner, hashtag="#新品#")


def test_team_report_percentiles_per_person(db: Session, owner: Membership) -> None:
    """Response times p50/p90 and resolution for the team and each assignee."""
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.5) == 5
    channel = make_channel(db, owner.workspace)
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    for minutes in (10, 20, 30):
        item = make_item(db, channel, "x", created_at=start)
        item.assignee_id = owner.user_id
        item.first_response_at = start + timedelta(minutes=minutes)
        item.resolved_at = start + timedelta(minutes=minutes * 2)
    make_item(db, channel, "unassigned", created_at=start)
    db.flush()
    report = team_report(
        db,
        workspace_id=owner.workspace_id,
        since=start - timedelta(days=1),
        until=start + timedelta(days=1),
    )
    assert report.total.volume == 4
    mine = report.by_person[owner.user_id]
    assert (mine.volume, mine.done, mine.first_response_p50, mine.first_response_p90) == (
        3,
        3,
        20,
        30,
    )
    assert mine.resolution_p50 == 40
    assert report.by_person[None].first_response_p50 is None


def test_the_team_report_page_draws_the_reports_chart(
    client: TestClient, db: Session, owner: Membership
) -> None:
    """The team report page's "Received per platform" is the report's inbox section chart,
    drawn by the one function the report's preview uses, in English and in Chinese."""
    weibo, douyin = (
        make_channel(db, owner.workspace),
        make_channel(db, owner.workspace, platform="douyin"),
    )
    two_days_ago = utcnow() - timedelta(days=2)
    for channel, kind in [
        (weibo, ItemKind.COMMENT),
        (weibo, ItemKind.MENTION),
        (douyin, ItemKind.COMMENT),
    ]:
        make_item(db, channel, "好看", kind=kind, created_at=two_days_ago)
    db.commit()
    today = utcnow().date()
    query = ReportQuery(owner.workspace_id, today - timedelta(days=5), today + timedelta(days=1))
    chart = next(b for b in team(db, query).blocks if isinstance(b, Chart))
    assert [s.values for s in chart.series] == [(1.0, 1.0), (1.0, 0.0)]  # Weibo, then Douyin
    sign_in(client, "owner@acme.example")
    for language in ("en", "zh_Hans"):
        choose_language(client, language, "/w/acme/inbox/report")
        page = client.get("/w/acme/inbox/report?days=30")
        assert page.status_code == 200, page.text
        assert chart_options(page.text) == [echarts_option(chart, language)]
    assert "新浪微博" in page.text
