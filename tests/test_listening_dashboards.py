"""Dashboards: the panels' numbers, the drill-down, exports, and the pages and JSON API."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, Workspace
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.core.report import Chart, ReportQuery
from guanxi.devtools.demo.listening_topics import DEMO_TOPICS, load_insight_demo
from guanxi.listening.alerts import scheduled as alert_jobs
from guanxi.listening.alerts.models import AlertRule
from guanxi.listening.insight import service as d
from guanxi.listening.insight.report_sections import mentions
from guanxi.listening.store import base as store_base
from guanxi.listening.topics.models import DailyRollup, TopicMatch, TopicQuery
from guanxi.listening.topics.service import (
    TopicForm,
    create_topic,
    delete_topic,
    match_mentions,
    refresh_rollup,
    update_topic,
)
from guanxi.web.charts import echarts_option
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.listening_topics_support import add_author, add_mention
from tests.test_i18n import choose_language

DAY1 = datetime(2026, 11, 20, 9, tzinfo=UTC)
DAY2 = datetime(2026, 11, 21, 9, tzinfo=UTC)


class World:
    """Workspace acme with a brand, a competitor and five mentions over two days."""

    def __init__(self, db: Session, workspace: Workspace) -> None:
        self.db, self.workspace = db, workspace
        ws = workspace.id
        self.star = create_topic(
            db,
            workspace_id=ws,
            form=TopicForm(name="Starbucks", query="星巴克 OR starbucks", category="brand"),
        )
        self.luckin = create_topic(
            db, workspace_id=ws, form=TopicForm(name="Luckin", query="瑞幸", category="competitor")
        )
        media = add_author(db, workspace_id=ws, name="财经媒体", followers=5_000_000, kind="public")
        fan = add_author(db, workspace_id=ws, name="小王", followers=120, kind="personal")
        add_mention(
            db,
            workspace_id=ws,
            text="星巴克的拿铁太贵了",
            posted_at=DAY1,
            author=fan,
            sentiment="negative",
            stage="evaluation",
            keywords=("拿铁", "贵"),
        )
        add_mention(
            db,
            workspace_id=ws,
            text="瑞幸比星巴克便宜",
            posted_at=DAY1,
            author=media,
            source_kind="public",
            stage="evaluation",
            keywords=("便宜",),
        )
        add_mention(
            db,
            workspace_id=ws,
            text="今天买了瑞幸",
            posted_at=DAY2,
            author=fan,
            sentiment="positive",
            stage="purchase",
            keywords=("瑞幸",),
        )
        add_mention(
            db,
            workspace_id=ws,
            text="Starbucks new cup",
            posted_at=DAY2,
            platform="douyin",
            sentiment="positive",
            keywords=("cup",),
        )
        add_mention(db, workspace_id=ws, text="天气不错", posted_at=DAY2, keywords=("天气",))

    def panel(self, name: str, **filters: object) -> dict[str, object]:
        compute = d.PANELS[name]
        return compute(
            self.db, workspace_id=self.workspace.id, filters=d.DashboardFilters(**filters)
        )  # type: ignore[arg-type]


@pytest.fixture
def world(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> World:
    """The acme world, owned by owner@acme.example."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example", name="Owner"))
    world = World(db, workspace)
    db.commit()
    return world


def test_volume_by_topic_per_day(world: World) -> None:
    volume = world.panel("volume")
    assert volume["days"] == ["2026-11-20", "2026-11-21"]
    series = {s["name"]: s["data"] for s in volume["series"]}  # type: ignore[attr-defined]
    assert series == {"Starbucks": [2, 1], "Luckin": [1, 1]}


def test_volume_and_sentiment_run_over_every_day_of_the_range(world: World) -> None:
    """Given mentions on two days, when the filter spans four days, then the axis has all four
    days in order and the days without mentions count 0 (not skipped, not evenly spaced)."""
    filters = {"start": date(2026, 11, 19), "end": date(2026, 11, 22)}
    volume = world.panel("volume", **filters)
    assert volume["days"] == ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"]
    series = {s["name"]: s["data"] for s in volume["series"]}  # type: ignore[attr-defined]
    assert series == {"Starbucks": [0, 2, 1, 0], "Luckin": [0, 1, 1, 0]}
    trend = world.panel("sentiment", **filters)
    assert trend["days"] == volume["days"]
    assert trend["series"] == {  # type: ignore[comparator-overlap]
        "positive": [0, 0, 2, 0],
        "neutral": [0, 1, 1, 0],
        "negative": [0, 1, 0, 0],
    }
    later = DAY2 + timedelta(days=3)
    add_mention(world.db, workspace_id=world.workspace.id, text="星巴克", posted_at=later)
    refresh_rollup(world.db, workspace_id=world.workspace.id, days={later.date()})
    gap = world.panel("volume")
    assert gap["days"] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]


def test_share_of_voice_of_one_topic_asks_for_a_competitor(world: World) -> None:
    """One topic's share is always 100%: the panel says a competitor is needed instead."""
    assert world.panel("share-of-voice")["needs_competitor"] is False
    alone = world.panel("share-of-voice", topic_ids=(world.star.id,))
    assert alone["needs_competitor"] is True


def test_sentiment_trend_and_its_filter(world: World) -> None:
    trend = world.panel("sentiment")
    assert trend["series"] == {"positive": [0, 2], "neutral": [1, 1], "negative": [1, 0]}
    only_negative = world.panel("sentiment", sentiments=("negative",))
    assert only_negative["series"] == {"positive": [0, 0], "neutral": [0, 0], "negative": [1, 0]}


def test_share_of_voice_between_brand_and_competitor(world: World) -> None:
    share = world.panel("share-of-voice")
    assert share["total"] == 5
    items = {i["name"]: (i["mentions"], i["share"]) for i in share["items"]}  # type: ignore[attr-defined]
    assert items == {"Starbucks": (3, 0.6), "Luckin": (2, 0.4)}


def test_mixes_funnel_and_filters(world: World) -> None:
    kinds = {i["key"]: i["mentions"] for i in world.panel("source-kinds")["items"]}  # type: ignore[attr-defined]
    assert kinds == {"personal": 4, "public": 1, "marketer": 0}
    stages = [i["key"] for i in world.panel("stages")["items"]]  # type: ignore[attr-defined]
    assert stages[:5] == [
        "need_recognition",
        "information_search",
        "evaluation",
        "purchase",
        "post_purchase",
    ]
    funnel = {i["key"]: i["mentions"] for i in world.panel("stages")["items"]}  # type: ignore[attr-defined]
    assert funnel["evaluation"] == 2
    assert funnel["purchase"] == 1
    platforms = world.panel("platforms", start=date(2026, 11, 21), end=date(2026, 11, 21))
    assert platforms["items"] == [
        {"key": "weibo", "name": "Sina Weibo", "mentions": 2},
        {"key": "douyin", "name": "Douyin", "mentions": 1},
    ]
    luckin = world.panel("platforms", topic_ids=(world.luckin.id,))
    assert luckin["items"] == [{"key": "weibo", "name": "Sina Weibo", "mentions": 2}]
    i18n.set_language("zh_Hans")
    try:
        chinese = world.panel("platforms", topic_ids=(world.luckin.id,))
    finally:
        i18n.set_language("en")
    assert chinese["items"] == [{"key": "weibo", "name": "新浪微博", "mentions": 2}]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"sentiments": ("positive",)},
        {"start": date(2026, 11, 21), "end": date(2026, 11, 21)},
        {"platforms": ("douyin",)},
        {"kinds": ("public",)},
    ],
)
def test_the_kinds_of_source_add_up_to_the_mentions_in_the_filters(
    world: World, filters: dict[str, object]
) -> None:
    """The dashboard takes its total from the kinds-of-source counts: the same figure as
    counting the mentions in the filters, with the topics' matches too."""
    for scope in ({}, {"topic_ids": (world.luckin.id,)}):
        chosen = d.DashboardFilters(**scope, **filters)  # type: ignore[arg-type]
        wid = world.workspace.id
        mix, total = d.source_kinds_and_total(world.db, workspace_id=wid, filters=chosen)
        assert total == d.total_mentions(world.db, workspace_id=wid, filters=chosen)
        assert mix == d.source_kind_mix(world.db, workspace_id=wid, filters=chosen)
    everything = d.source_kinds_and_total(
        world.db, workspace_id=world.workspace.id, filters=d.DashboardFilters()
    )
    assert everything[1] == 5


def test_top_authors_by_reach_and_keywords(world: World) -> None:
    authors = world.panel("authors")["items"]
    assert [(a["name"], a["kind"], a["mentions"]) for a in authors] == [  # type: ignore[attr-defined]
        ("财经媒体", "public", 1),
        ("小王", "personal", 2),
    ]
    negative = world.panel("authors", sentiments=("negative",))["items"]
    assert [a["name"] for a in negative] == ["小王"]  # type: ignore[attr-defined]
    keywords = world.panel("keywords", topic_ids=(world.star.id,))
    assert {i["keyword"] for i in keywords["items"]} == {"拿铁", "贵", "便宜", "cup"}  # type: ignore[attr-defined]


def test_top_authors_walks_authors_by_followers_when_many_mentions_match(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author-first path (used above a threshold) gives the same ranking and counts."""
    by_mentions = world.panel("authors", topic_ids=(world.star.id,))
    monkeypatch.setattr(store_base, "AUTHORS_FROM_MENTIONS_BELOW", 0)
    assert world.panel("authors", topic_ids=(world.star.id,)) == by_mentions
    assert world.panel("authors", sentiments=("negative",))["items"][0]["name"] == "小王"  # type: ignore[index]


def test_demo_topics_load_once(world: World) -> None:
    """The demo's topics and alert rule are added once; a second load changes nothing."""
    load_insight_demo(world.db, workspace=world.workspace)
    load_insight_demo(world.db, workspace=world.workspace)
    names = set(world.db.scalars(select(TopicQuery.name)))
    assert {form.name for form in DEMO_TOPICS} <= names
    assert world.db.scalar(select(func.count()).select_from(AlertRule)) == 1


def test_drill_down_highlights_the_matched_words(world: World) -> None:
    page = d.drill_down(
        world.db,
        workspace_id=world.workspace.id,
        filters=d.DashboardFilters(topic_ids=(world.star.id,)),
    )
    texts = [row.text for row in page["rows"]]
    assert texts == ["Starbucks new cup", "瑞幸比星巴克便宜", "星巴克的拿铁太贵了"]
    assert page["rows"][1].segments() == [("瑞幸比", False), ("星巴克", True), ("便宜", False)]
    assert page["rows"][1].topics == ["Starbucks"]


def test_editing_and_deleting_a_topic_redo_its_matches_and_rollup(world: World) -> None:
    ws = world.workspace.id
    update_topic(
        world.db,
        workspace_id=ws,
        topic_id=world.star.id,
        form=TopicForm(name="Starbucks", query="starbucks", category="brand"),
    )
    assert world.panel("share-of-voice")["total"] == 3
    delete_topic(world.db, workspace_id=ws, topic_id=world.luckin.id)
    left = world.db.scalar(select(func.count()).select_from(TopicMatch))
    assert left == 1
    rollup_topics = set(world.db.scalars(select(DailyRollup.topic_id)))
    assert rollup_topics == {0, world.star.id}
    with pytest.raises(UserError, match="exists already"):
        create_topic(world.db, workspace_id=ws, form=TopicForm(name="Starbucks", query="x"))


def test_a_bulk_import_can_refresh_the_rollup_once_at_the_end(world: World) -> None:
    """With ``pending_days``, matching collects the days and the counts move only when the
    rollup is refreshed for them."""
    ws = world.workspace.id
    later = DAY2 + timedelta(days=3)
    mention = add_mention(world.db, workspace_id=ws, text="星巴克", posted_at=later, match=False)
    pending: set[date] = set()
    assert match_mentions(world.db, workspace_id=ws, mentions=[mention], pending_days=pending) == 1
    assert pending == {later.date()}
    assert world.panel("share-of-voice")["total"] == 5
    refresh_rollup(world.db, workspace_id=ws, days=pending)
    assert world.panel("share-of-voice")["total"] == 6


def test_bad_filters_are_refused_with_a_reason() -> None:
    with pytest.raises(UserError, match="after the end date"):
        d.DashboardFilters(start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(UserError, match="Unknown filter value"):
        d.DashboardFilters(sentiments=("angry",))
    with pytest.raises(UserError, match="at most 3660 days"):
        d.DashboardFilters(start=date(2000, 1, 1), end=date(2026, 1, 1))


# --- Web -------------------------------------------------------------------------------


@pytest.fixture
def web(client: TestClient, world: World) -> TestClient:
    """The owner of acme, signed in."""
    sign_in(client, "owner@acme.example")
    return client


def test_every_panel_answers_json_and_posts_carry_highlights(web: TestClient, world: World) -> None:
    for panel in d.PANELS:
        response = web.get(f"/api/v1/w/acme/listen/dashboard/{panel}?start=2026-11-01")
        assert response.status_code == 200, (panel, response.text)
    posts = web.get(f"/api/v1/w/acme/listen/posts?topic={world.star.id}").json()
    assert posts["rows"][0]["highlights"] == [[0, 9]]
    bad = web.get("/api/v1/w/acme/listen/dashboard/volume?start=yesterday")
    assert bad.status_code == 400
    assert "not a date" in bad.json()["detail"]
    assert web.get("/api/v1/w/acme/listen/dashboard/nope").status_code == 404


def test_dashboard_page_renders_filters_charts_and_highlighted_posts(web: TestClient) -> None:
    page = web.get("/w/acme/listen/dashboard?sentiment=negative")
    assert page.status_code == 200
    assert 'data-panel="share-of-voice"' in page.text
    assert "<mark>星巴克</mark>的拿铁太贵了" in page.text
    assert "瑞幸比" not in page.text  # filtered out: neutral
    fragment = web.get("/w/acme/listen/dashboard/posts?page=1")
    assert fragment.status_code == 200
    assert 'id="drill-down"' in fragment.text


def test_exports_in_csv_and_xlsx(web: TestClient, world: World) -> None:
    """Times are in the viewer's zone (the workspace's, Shanghai) as ISO 8601 with the
    offset, under a header naming the zone."""
    response = web.get(f"/w/acme/listen/dashboard/export.csv?topic={world.luckin.id}")
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["posted_at (Asia/Shanghai)", "platform", "author"]
    assert all(row[0].endswith("T17:00:00+08:00") for row in rows[1:])  # 09:00 UTC
    assert [row[5] for row in rows[1:]] == ["今天买了瑞幸", "瑞幸比星巴克便宜"]
    xlsx = web.get("/w/acme/listen/dashboard/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row == 6


def test_topics_are_validated_live_and_saved(web: TestClient, db: Session) -> None:
    token = csrf_token(web)
    live = web.post(
        "/w/acme/listen/topics-validate", data={"query": "(咖啡 OR 茶", "csrf_token": token}
    )
    assert "never closed" in live.text
    assert "^" in live.text
    ok = web.post("/w/acme/listen/topics-validate", data={"query": "咖啡", "csrf_token": token})
    assert "Valid query" in ok.text
    bad = web.post(
        "/w/acme/listen/topics",
        data={"name": "Tea", "query": "茶 AND", "category": "theme", "csrf_token": token},
    )
    assert bad.status_code == 400
    assert "Column 6" in bad.text
    saved = web.post(
        "/w/acme/listen/topics",
        follow_redirects=False,
        data={
            "name": "Tea",
            "query": "茶 OR tea",
            "category": "theme",
            "active": "on",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    assert db.scalar(select(TopicQuery.query).where(TopicQuery.name == "Tea")) == "茶 OR tea"
    assert "Tea" in web.get("/w/acme/listen/topics").text


def test_alert_rules_page(web: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[int | None] = []
    monkeypatch.setattr(alert_jobs, "enqueue_alert_checks", queued.append)
    token = csrf_token(web)
    created = web.post(
        "/w/acme/listen/alerts/rules",
        follow_redirects=False,
        data={
            "topic_id": str(world.star.id),
            "metric": "volume",
            "window_hours": "6",
            "baseline_days": "7",
            "factor": "2",
            "min_mentions": "5",
            "cooldown_hours": "24",
            "notify_in_app": "on",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    page = web.get("/w/acme/listen/alerts")
    assert "Starbucks" in page.text
    assert "No alerts so far." in page.text
    # "Check now" queues the check for the worker: webhooks never hold a web request.
    checking = web.post("/w/acme/listen/alerts/check", data={"csrf_token": token})
    assert checking.status_code == 200
    assert queued == [world.workspace.id]
    assert "being checked in the background" in checking.text

    refused = web.post(
        "/w/acme/listen/alerts/rules",
        data={
            "topic_id": str(world.star.id),
            "metric": "volume",
            "csrf_token": token,
            "webhook_url": "http://admin:pw@hooks.example/x",
        },
    )
    assert refused.status_code == 400
    assert "Remove the user name and password" in refused.text


def test_another_workspace_gets_404(
    client: TestClient, world: World, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """A member of another workspace sees none of acme's pages, API or exports."""
    stranger = make_user("eve@other.example")
    make_workspace("other", owner=stranger)
    sign_in(client, stranger.email)
    for path in (
        "/w/acme/listen/dashboard",
        "/w/acme/listen/topics",
        "/w/acme/listen/alerts",
        f"/w/acme/listen/topics/{world.star.id}",
        "/w/acme/listen/dashboard/export.csv",
        "/api/v1/w/acme/listen/dashboard/volume",
        "/api/v1/w/acme/listen/posts",
    ):
        assert client.get(path).status_code == 404, path
    # Their own workspace cannot reach acme's topic by number either.
    assert client.get(f"/w/other/listen/topics/{world.star.id}").status_code == 404


def test_api_needs_a_session_or_a_token(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/w/acme/listen/dashboard/volume").status_code == 401
    wrong = client.get(
        "/api/v1/w/acme/listen/dashboard/volume", headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401


def test_an_analyst_reads_but_cannot_change_topics(
    client: TestClient, world: World, make_user: UserFactory, db: Session
) -> None:
    analyst = make_user("ana@acme.example")
    accounts.add_member(db, workspace=world.workspace, user=analyst, role=Role.ANALYST, actor=None)
    db.commit()
    sign_in(client, analyst.email)
    assert client.get("/w/acme/listen/dashboard").status_code == 200
    refused = client.post(
        "/w/acme/listen/topics", data={"name": "x", "query": "x", "csrf_token": csrf_token(client)}
    )
    assert refused.status_code == 403


def test_the_kinds_of_source_panel_is_the_reports_chart(
    web: TestClient, db: Session, world: World
) -> None:
    """The dashboard's kinds of source, for a period, is the chart of the report's listening
    section for that period, drawn by the one function the report's preview uses, in English
    and in Chinese; each slice carries the kind it filters the posts by."""
    section = mentions(db, ReportQuery(world.workspace.id, date(2026, 11, 20), date(2026, 11, 21)))
    chart = next(b for b in section.blocks if isinstance(b, Chart) and b.key == "source_kinds")
    assert sum(chart.series[0].values) > 0
    for language in ("en", "zh_Hans"):
        choose_language(web, language, "/w/acme/listen/dashboard")
        page = web.get("/w/acme/listen/dashboard?start=2026-11-20&end=2026-11-21")
        assert page.status_code == 200, page.text
        drawn = re.search(r"data-option='([^']*)' data-keys='([^']*)'", page.text)
        assert drawn is not None
        assert json.loads(unescape(drawn[1])) == echarts_option(chart, language)
        assert json.loads(unescape(drawn[2])) == list(d.SOURCE_KINDS)
