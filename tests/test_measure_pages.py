"""The analytics pages and their API: the overview across platforms (and the front page's
headline), an account with its growth, sources and collection status, the posts list and a
post's curve against its account's median post; what each says before there are figures."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import NotFoundError, UserError
from guanxi.core.report import Chart, ReportQuery
from guanxi.measure import curves, headline, listing, overview, report_sections, service, sources
from guanxi.measure.listing import PostOrder
from guanxi.measure.models import (
    AccountDay,
    AccountDayBreakdown,
    CollectionState,
    FiguresKind,
    MeasuredPost,
    MissingFigures,
    PostSnapshot,
)
from guanxi.measure.overview import Headline
from guanxi.web.charts import echarts_option
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_i18n import choose_language
from tests.test_measure_service import add_channel, add_days, add_post

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 2026-04-01, 10:00 in Shanghai: the presets end on 2026-03-31.
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)


def at(day: date, hour: int = 12) -> datetime:
    """A moment of a Shanghai day, in UTC."""
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


# --- The period --------------------------------------------------------------------------


def test_a_preset_ends_yesterday_and_a_custom_range_is_bounded(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """The last 7 days end on the last complete day; a custom range is kept (cut at today),
    and one longer than a year, reversed, or in the future is refused with what to do."""
    workspace = make_workspace("brand", owner=make_user("o@brand.example"))
    week = overview.resolve_period(workspace, now=NOW, days=7)
    assert (week.start, week.end, week.preset, week.days) == (
        date(2026, 3, 25),
        date(2026, 3, 31),
        7,
        7,
    )
    assert week.previous == (date(2026, 3, 18), date(2026, 3, 24))
    assert overview.resolve_period(workspace, now=NOW, days=13).preset == 28
    custom = overview.resolve_period(
        workspace, now=NOW, start=date(2026, 3, 10), end=date(2026, 5, 1)
    )
    assert (custom.start, custom.end, custom.preset) == (date(2026, 3, 10), date(2026, 4, 1), None)
    assert custom.query() == "start=2026-03-10&end=2026-04-01"
    for start, end in [
        (date(2024, 1, 1), date(2026, 1, 1)),
        (date(2026, 3, 2), date(2026, 3, 1)),
        (date(2026, 5, 1), date(2026, 5, 2)),
    ]:
        with pytest.raises(UserError):
            overview.resolve_period(workspace, now=NOW, start=start, end=end)
    with pytest.raises(UserError, match="2026-03-01"):
        overview.period_from_query(workspace, {"start": "1 March", "end": "x"}, now=NOW)


# --- The overview ------------------------------------------------------------------------


@pytest.fixture
def brand(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    """A brand with a WeChat account (views) and a Douyin account, measured over March."""
    workspace = make_workspace("brand", owner=make_user("owner@brand.example"))
    wechat = add_channel(db, workspace, "Brand WeChat", platform="wechat")
    douyin = add_channel(db, workspace, "Brand Douyin", platform="douyin")
    march = [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]
    add_days(
        db,
        wechat,
        march[0],
        [
            {Metric.FOLLOWERS: 1000 + 10 * n, Metric.NEW_FOLLOWERS: 12, Metric.LOST_FOLLOWERS: 2}
            for n in range(31)
        ],
    )
    # Douyin reports its followers every other day: the trend carries the last count over.
    add_days(
        db, douyin, march[0], [{Metric.FOLLOWERS: 500} if n % 2 == 0 else {} for n in range(31)]
    )
    add_post(db, wechat, "w-old", at(date(2026, 3, 20)), {Metric.VIEWS: 400, Metric.LIKES: 20})
    add_post(db, wechat, "w-1", at(date(2026, 3, 26)), {Metric.VIEWS: 1000, Metric.LIKES: 50})
    add_post(
        db,
        wechat,
        "w-2",
        at(date(2026, 3, 30)),
        {Metric.VIEWS: 3000, Metric.LIKES: 60, Metric.COMMENTS: 30},
    )
    add_post(db, douyin, "d-1", at(date(2026, 3, 30)), {Metric.VIEWS: 6000, Metric.LIKES: 360})
    db.commit()
    return workspace


def test_the_overview_compares_the_period_with_the_one_before(
    db: Session, brand: Workspace
) -> None:
    """Given a brand measured through March,
    when its last 7 days are asked for (25–31 March),
    then each headline figure has its value, the previous week's, the change and a trend of
    7 days; the rows are per platform and per account."""
    period = overview.resolve_period(brand, now=NOW, days=7)
    found = overview.overview(db, workspace=brand, period=period)
    figures = {figure.key: figure for figure in found.figures}
    assert figures[Headline.VIEWS].value == 10_000
    assert figures[Headline.VIEWS].previous == 400
    assert figures[Headline.VIEWS].change == pytest.approx(24.0)
    assert figures[Headline.ENGAGEMENTS].value == 500
    assert figures[Headline.ENGAGEMENT_RATE].value == pytest.approx(0.05)
    assert figures[Headline.ENGAGEMENT_RATE].basis == "views"
    assert figures[Headline.FOLLOWERS].value == 1300 + 500
    assert len(figures[Headline.VIEWS].trend) == 7
    assert found.trend.views == [None, 1000, None, None, None, 9000, None]
    # Douyin's missing days do not dip the followers' trend.
    assert found.trend.followers == [
        1240 + 500,
        1250 + 500,
        1260 + 500,
        1270 + 500,
        1280 + 500,
        1290 + 500,
        1300 + 500,
    ]
    assert [row.label for row in found.platforms] == ["douyin", "wechat"]
    assert [row.label for row in found.accounts] == ["Brand Douyin", "Brand WeChat"]
    wechat = found.accounts[1]
    assert (wechat.current.views, wechat.previous.views) == (4000, 400)
    assert wechat.change_of("views") == pytest.approx(9.0)
    assert found.measured


# --- An account --------------------------------------------------------------------------


def test_an_accounts_sources_are_summed_over_the_period_largest_first(
    db: Session, brand: Workspace
) -> None:
    """WeChat's follower sources of the period add up, with each source's share."""
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    for day, search, qr in [(date(2026, 3, 30), 3, 9), (date(2026, 3, 31), 1, 2)]:
        db.add_all(
            [
                AccountDayBreakdown(
                    channel_id=wechat.id,
                    day=day,
                    breakdown="follower_source",
                    key="search",
                    value=search,
                ),
                AccountDayBreakdown(
                    channel_id=wechat.id,
                    day=day,
                    breakdown="follower_source",
                    key="qr_code",
                    value=qr,
                ),
            ]
        )
    db.commit()
    found = sources.breakdowns(
        db, workspace=brand, channel_id=wechat.id, start=date(2026, 3, 25), end=date(2026, 3, 31)
    )
    assert [(s.key, s.value) for s in found[0].sources] == [("qr_code", 11), ("search", 4)]
    assert found[0].total == 15
    assert found[0].sources[0].share == pytest.approx(11 / 15)


# --- Posts -------------------------------------------------------------------------------


def test_a_posts_curve_is_set_against_the_median_of_the_accounts_other_posts(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given three earlier posts measured at 1, 2 and 3 hours (100, 200, 300 views an hour
    each: medians 200, 400, 600) and one measured only at 1 hour,
    when the new post's curve is read (snapshots at 1, 2 and 3 hours),
    then each age has the median of the posts measured that old, and how many they are."""
    workspace = make_workspace("brand", owner=make_user("o@brand.example"))
    channel = add_channel(db, workspace, "Brand Weibo")
    start = at(date(2026, 3, 1))
    for n, rate in enumerate([100, 200, 300]):
        add_post(
            db,
            channel,
            f"old-{n}",
            start + timedelta(days=n),
            *({Metric.VIEWS: rate * h, Metric.LIKES: h} for h in (1, 2, 3)),
        )
    add_post(db, channel, "young", start + timedelta(days=5), {Metric.VIEWS: 5000})
    snapshots = [{Metric.VIEWS: 1000 * h, Metric.LIKES: 2 * h} for h in (1, 2, 3)]
    post = add_post(db, channel, "new", start + timedelta(days=6), *snapshots)
    for measured in db.query(type(post)).all():
        measured.snapshot_count = 3  # as the collector counts them
    db.commit()
    curve = curves.post_curve(db, workspace=workspace, post_id=post.id)
    assert [p.hours for p in curve.points] == [1.0, 2.0, 3.0]
    assert [p.views for p in curve.points] == [1000, 2000, 3000]
    assert [m.views for m in curve.median] == [250.0, 400.0, 600.0]
    assert [m.views_posts for m in curve.median] == [4, 3, 3]
    assert [m.engagements for m in curve.median] == [1.0, 2.0, 3.0]
    assert curve.compared_posts == 4


def test_the_median_reads_between_snapshots_and_never_beyond_the_last() -> None:
    """A curve's value between two snapshots is interpolated; after its last, unknown."""
    ages, values = [1.0, 6.0, 24.0], [100, 600, None]
    assert curves._at(ages, values, 1.0) == 100
    assert curves._at(ages, values, 3.5) == pytest.approx(350)
    assert curves._at(ages, values, 12.0) is None  # the 24-hour snapshot reported nothing
    assert curves._at(ages, values, 48.0) is None
    assert curves._at([], [], 1.0) is None


def test_another_workspaces_post_is_not_found(
    db: Session, brand: Workspace, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other", owner=make_user("o@other.example"))
    post_id = db.query(PostSnapshot).first().post_id  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        curves.post_curve(db, workspace=other, post_id=post_id)


def test_the_posts_list_sorts_by_a_figure_and_pages(db: Session, brand: Workspace) -> None:
    """Sorted by views, the highest first; by date, the newest; 2 to a page."""
    march = (date(2026, 3, 1), date(2026, 3, 31))
    by_views = listing.posts_page(
        db, workspace=brand, start=march[0], end=march[1], order=PostOrder.VIEWS, size=2
    )
    assert [p.views for p in by_views.rows] == [6000, 3000]
    assert (by_views.pages, by_views.total) == (2, 4)
    last = listing.posts_page(
        db, workspace=brand, start=march[0], end=march[1], order=PostOrder.PUBLISHED, size=2, page=9
    )
    assert last.page == 2
    assert [p.external_id for p in last.rows] == ["w-1", "w-old"]
    by_rate = listing.posts_page(
        db, workspace=brand, start=march[0], end=march[1], order=PostOrder.RATE
    )
    assert by_rate.rows[0].external_id == "d-1"


# --- The pages ---------------------------------------------------------------------------


@pytest.fixture
def member(client: TestClient, db: Session, brand: Workspace, make_user: UserFactory) -> Workspace:
    """The brand's analyst, signed in (reading is all analytics asks)."""
    analyst = make_user("analyst@brand.example")
    accounts.add_member(db, workspace=brand, user=analyst, role=Role.ANALYST, actor=None)
    db.commit()
    sign_in(client, analyst.email)
    return brand


def test_the_overview_page_shows_the_figures_their_definitions_and_exports(
    client: TestClient, member: Workspace
) -> None:
    """The analyst sees the custom period's figures, says what each counts, and downloads
    the accounts' table as CSV and XLSX and the daily trend as CSV."""
    query = "start=2026-03-25&end=2026-03-31"
    page = client.get(f"/w/brand/analytics?{query}")
    assert page.status_code == 200, page.text
    assert "Engagement rate" in page.text
    assert "per view" in page.text
    assert "reads of a WeChat article" in page.text  # what views means per platform
    assert "Brand WeChat" in page.text
    assert "data-chart=" in page.text
    assert 'href="/w/brand/analytics/accounts/' in page.text
    csv = client.get(f"/w/brand/analytics/export.csv?{query}")
    assert csv.status_code == 200
    assert csv.headers["content-disposition"].endswith('2026-03-25-2026-03-31.csv"')
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("platform,account,posts,followers")
    assert any(line.startswith("wechat,Brand WeChat,2,1300,") for line in lines)
    trend = client.get(f"/w/brand/analytics/export.csv?{query}&table=trend")
    assert trend.content.decode("utf-8-sig").splitlines()[2].startswith("2026-03-26,1750,1000,50")
    xlsx = client.get(f"/w/brand/analytics/export.xlsx?{query}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["B2"].value in {"Brand Douyin", "Brand WeChat"}
    assert client.get(f"/w/brand/analytics/export.pdf?{query}").status_code == 404


def test_a_bad_period_says_what_to_do(client: TestClient, member: Workspace) -> None:
    page = client.get("/w/brand/analytics?start=2026-03-31&end=2026-03-01")
    assert page.status_code == 400
    assert "swap the two dates" in page.text


def test_the_account_page_shows_growth_sources_series_and_collection(
    client: TestClient, db: Session, member: Workspace
) -> None:
    """The account's page has its growth, its sources, every day and what is missing."""
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    db.add(
        AccountDayBreakdown(
            channel_id=wechat.id,
            day=date(2026, 3, 30),
            breakdown="follower_source",
            key="qr_code",
            value=7,
        )
    )
    db.add(
        CollectionState(
            channel_id=wechat.id,
            days_through=date(2026, 3, 31),
            days_collected_at=NOW,
            history_from=date(2026, 3, 1),
            backfill_done_at=NOW,
        )
    )
    db.add(
        MissingFigures(
            channel_id=wechat.id,
            kind=FiguresKind.ACCOUNT,
            first_day=date(2026, 2, 1),
            last_day=date(2026, 2, 28),
            reason="The platform gives no figures before {day}.",
            reason_params={"day": "2026-03-01"},
        )
    )
    db.commit()
    page = client.get(f"/w/brand/analytics/accounts/{wechat.id}?start=2026-03-25&end=2026-03-31")
    assert page.status_code == 200, page.text
    for text in (
        "New followers by source",
        "QR code",
        "Daily figures",
        "2026-03-31",
        "Collection status",
        "The platform gives no figures before 2026-03-01.",
        "back to 2026-03-01",
    ):
        assert text in page.text, text
    xlsx = client.get(f"/w/brand/analytics/accounts/{wechat.id}/export.xlsx?days=7")
    assert xlsx.status_code == 200
    assert client.get("/w/brand/analytics/accounts/999999").status_code == 404


def test_the_posts_and_a_posts_curve_pages(
    client: TestClient, db: Session, member: Workspace
) -> None:
    page = client.get("/w/brand/analytics/posts?start=2026-03-01&end=2026-03-31&sort=views")
    assert page.status_code == 200, page.text
    assert page.text.index("post d-1") < page.text.index("post w-old")
    post_id = db.query(PostSnapshot).order_by(PostSnapshot.id.desc()).first().post_id  # type: ignore[union-attr]
    curve = client.get(f"/w/brand/analytics/posts/{post_id}")
    assert curve.status_code == 200, curve.text
    assert "Published outside guanxi" in curve.text
    assert "post d-1" in curve.text
    assert "Account median views" in curve.text
    export = client.get(f"/w/brand/analytics/posts/{post_id}/export.csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("hours_since_publishing,observed_at (Asia/Shanghai),")
    assert lines[1].split(",")[1].endswith("+08:00")


def test_the_api_gives_the_same_figures(client: TestClient, db: Session, member: Workspace) -> None:
    """The overview, an account's days, the posts and a post's curve, as JSON."""
    found = client.get("/api/v1/w/brand/analytics/overview?start=2026-03-25&end=2026-03-31")
    assert found.status_code == 200, found.text
    body = found.json()
    views = next(f for f in body["figures"] if f["key"] == "views")
    assert (views["value"], views["previous"]) == (10_000, 400)
    assert body["previous_start"] == "2026-03-18"
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    days = client.get(
        f"/api/v1/w/brand/analytics/accounts/{wechat.id}/days?start=2026-03-30&end=2026-03-31"
    ).json()
    assert days[-1]["figures"]["followers"] == 1300
    assert days[-1]["net_follower_growth"] == 10
    posts = client.get(
        "/api/v1/w/brand/analytics/posts?start=2026-03-01&end=2026-03-31&sort=engagements"
    ).json()
    assert posts["total"] == 4
    assert posts["rows"][0]["engagements"] == 360
    curve = client.get(f"/api/v1/w/brand/analytics/posts/{posts['rows'][0]['post_id']}/curve")
    assert curve.json()["points"][0]["views"] == 6000


def test_the_front_page_leads_with_the_figures(
    client: TestClient, db: Session, member: Workspace
) -> None:
    """The front page's first section is the last 28 days' figures, each a link to the
    overview, above the capabilities' cards (an Analytics card among them)."""
    page = client.get("/w/brand/")
    assert page.status_code == 200
    headline = page.text.index("How are we doing")
    assert headline < page.text.index('class="grid"')
    assert 'href="/w/brand/analytics?days=28#figure-views"' in page.text
    assert 'href="/w/brand/analytics"' in page.text  # the nav and the card


def test_in_chinese(client: TestClient, member: Workspace) -> None:
    choose_language(client, "zh_Hans", "/w/brand/analytics")
    page = client.get("/w/brand/analytics?days=7")
    assert "数据分析" in page.text


# --- Before there are figures ------------------------------------------------------------


def test_a_workspace_without_accounts_is_told_to_connect_one(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _membership = signed_in
    for path in ("/w/acme/analytics", "/w/acme/"):
        page = client.get(path)
        assert page.status_code == 200
        assert "Connect an account" in page.text
        assert 'href="/w/acme/channels"' in page.text
    posts = client.get("/w/acme/analytics/posts")
    assert "No post of the workspace" in posts.text


def test_an_account_without_figures_yet_is_told_to_wait_or_import(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, membership = signed_in
    channel = add_channel(db, membership.workspace, "New Weibo")
    db.commit()
    page = client.get("/w/acme/analytics")
    assert "No figures yet" in page.text
    assert "import the creator centre" in page.text
    account = client.get(f"/w/acme/analytics/accounts/{channel.id}")
    assert account.status_code == 200
    assert "not run yet" in account.text


# --- Another workspace's figures ---------------------------------------------------------


def test_another_workspaces_accounts_and_posts_are_404s_on_every_analytics_route(
    client: TestClient,
    db: Session,
    member: Workspace,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given the brand's analyst and a rival with its own measured account and post,
    when the analyst asks for the rival's account, post, exports or API by their ids, under
    the brand's address or the rival's, then every answer is a 404 that names nothing of it."""
    rival = make_workspace("rival", owner=make_user("owner@rival.example"))
    channel = add_channel(db, rival, "Rival Secret Weibo")
    post = add_post(db, channel, "r-1", at(date(2026, 3, 30)), {Metric.VIEWS: 77})
    post.text_excerpt = "Rival secret launch"
    db.commit()
    paths = [
        f"/w/brand/analytics/accounts/{channel.id}",
        f"/w/brand/analytics/accounts/{channel.id}/export.csv",
        f"/w/brand/analytics/posts/{post.id}",
        f"/w/brand/analytics/posts/{post.id}/export.xlsx",
        f"/api/v1/w/brand/analytics/accounts/{channel.id}/days",
        f"/api/v1/w/brand/analytics/posts/{post.id}/curve",
        "/w/rival/analytics",
        "/w/rival/analytics/posts?days=90",
        f"/w/rival/analytics/accounts/{channel.id}",
        "/api/v1/w/rival/analytics/overview",
    ]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Rival Secret" not in answer.text
        assert "Rival secret launch" not in answer.text
    listed = client.get("/w/brand/analytics/posts?days=90").text
    assert "Rival" not in listed


def test_the_front_page_keeps_its_headline_a_minute(
    client: TestClient, db: Session, member: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the front page just computed its figures, when it is asked again within the
    minute, then it reads none of them again; a minute later it does."""
    clock = [1_000.0]
    monkeypatch.setattr(headline.time, "monotonic", lambda: clock[0])
    computed: list[int] = []
    real = headline.overview

    def counting(db: Session, **kwargs: Any) -> Any:
        computed.append(1)
        return real(db, **kwargs)

    monkeypatch.setattr(headline, "overview", counting)
    for _ in range(3):
        assert client.get("/w/brand/").status_code == 200
    assert len(computed) == 1
    clock[0] += headline.HEADLINE_TTL_S + 1
    assert client.get("/w/brand/").status_code == 200
    assert len(computed) == 2


# --- The demo's illustrative figures, and the one sub-navigation -------------------------


def _make_illustrative(db: Session, channel_name: str) -> None:
    """Flag an account's days and posts as the demo's made-up history."""
    channel = db.query(Channel).filter_by(name=channel_name).one()
    for day in db.query(AccountDay).filter_by(channel_id=channel.id):
        day.illustrative = True
    for post in db.query(MeasuredPost).filter_by(channel_id=channel.id):
        post.illustrative = True
    db.commit()


def test_a_period_includes_illustrative_figures_only_when_it_has_such_rows(
    db: Session, brand: Workspace
) -> None:
    """Given a brand whose Douyin history is the demo's (illustrative) and WeChat's is real,
    then the period says it includes illustrative figures for all accounts or Douyin's, not
    for WeChat's alone, nor for a period before any illustrative row."""
    march = (date(2026, 3, 1), date(2026, 3, 31))
    assert not service.includes_illustrative(db, workspace=brand, start=march[0], end=march[1])
    _make_illustrative(db, "Brand Douyin")
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    douyin = db.query(Channel).filter_by(name="Brand Douyin").one()
    assert service.includes_illustrative(db, workspace=brand, start=march[0], end=march[1])
    assert service.includes_illustrative(
        db, workspace=brand, start=march[0], end=march[1], channel_ids=[douyin.id]
    )
    assert not service.includes_illustrative(
        db, workspace=brand, start=march[0], end=march[1], channel_ids=[wechat.id]
    )
    february = (date(2026, 2, 1), date(2026, 2, 28))
    assert not service.includes_illustrative(
        db, workspace=brand, start=february[0], end=february[1]
    )
    period = overview.resolve_period(brand, now=NOW, days=7)
    assert overview.overview(db, workspace=brand, period=period).illustrative


def test_the_pages_label_illustrative_figures_and_only_them(
    client: TestClient, db: Session, member: Workspace
) -> None:
    """Without illustrative rows no page carries the note; once Douyin's history is the
    demo's, the overview, Douyin's page, the posts list (that post marked) and that post's
    page say so, and WeChat's page and post do not."""
    march = "start=2026-03-01&end=2026-03-31"
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    douyin = db.query(Channel).filter_by(name="Brand Douyin").one()
    d1 = db.query(MeasuredPost).filter_by(external_id="d-1").one()
    w1 = db.query(MeasuredPost).filter_by(external_id="w-1").one()
    pages = {
        "overview": f"/w/brand/analytics?{march}",
        "douyin": f"/w/brand/analytics/accounts/{douyin.id}?{march}",
        "wechat": f"/w/brand/analytics/accounts/{wechat.id}?{march}",
        "posts": f"/w/brand/analytics/posts?{march}",
        "d-1": f"/w/brand/analytics/posts/{d1.id}",
        "w-1": f"/w/brand/analytics/posts/{w1.id}",
    }
    note = "Includes illustrative figures"
    for name, address in pages.items():
        page = client.get(address)
        assert page.status_code == 200, (name, page.text)
        assert note not in page.text, name
    _make_illustrative(db, "Brand Douyin")
    labelled = {name: note in client.get(address).text for name, address in pages.items()}
    assert labelled == {
        "overview": True,
        "douyin": True,
        "wechat": False,
        "posts": True,
        "d-1": True,
        "w-1": False,
    }
    posts = client.get(pages["posts"]).text
    row = posts[posts.index("post d-1") : posts.index("</tr>", posts.index("post d-1"))]
    assert ">illustrative</span>" in row
    assert posts.count(">illustrative</span>") == 1
    choose_language(client, "zh_Hans", "/w/brand/analytics")
    assert "含示例数据" in client.get(pages["overview"]).text


def test_every_analytics_page_has_the_one_sub_navigation(
    client: TestClient, db: Session, member: Workspace
) -> None:
    """Each analytics page shows the same sub-navigation with its own link marked current
    (a page below a link, as an account below the overview, marks that link)."""
    wechat = db.query(Channel).filter_by(name="Brand WeChat").one()
    post = db.query(MeasuredPost).filter_by(external_id="w-1").one()
    current = {
        "/w/brand/analytics": ("/w/brand/analytics?", "page"),
        "/w/brand/analytics/posts": ("/w/brand/analytics/posts?", "page"),
        f"/w/brand/analytics/accounts/{wechat.id}": ("/w/brand/analytics?", "true"),
        f"/w/brand/analytics/posts/{post.id}": ("/w/brand/analytics/posts?", "true"),
        "/w/brand/analytics/content": ("/w/brand/analytics/content", "page"),
        "/w/brand/analytics/best-time": ("/w/brand/analytics/best-time", "page"),
        "/w/brand/analytics/top": ("/w/brand/analytics/top", "page"),
        "/w/brand/analytics/campaigns": ("/w/brand/analytics/campaigns", "page"),
        "/w/brand/analytics/benchmark": ("/w/brand/analytics/benchmark", "page"),
        "/w/brand/analytics/imports": ("/w/brand/analytics/imports", "page"),
        "/w/brand/analytics/figures": ("/w/brand/analytics/figures", "page"),
        "/w/brand/analytics/metrics": ("/w/brand/analytics/metrics", "page"),
    }
    for address, (link, mark) in current.items():
        page = client.get(address)
        assert page.status_code == 200, (address, page.text)
        assert page.text.count('class="analytics-nav"') == 1, address
        nav = page.text[
            page.text.index('class="analytics-nav"') : page.text.index(
                "</nav>", page.text.index('class="analytics-nav"')
            )
        ]
        assert nav.count('href="/w/brand/analytics') == 10, address
        assert nav.count("aria-current=") == 1, address
        marked = nav[: nav.index("aria-current=")]
        assert marked[marked.rindex('href="') + 6 :].startswith(link), address
        assert f'aria-current="{mark}"' in nav, address
        assert "analysis-nav" not in page.text
        assert "imports-nav" not in page.text


def chart_options(html: str) -> list[dict[str, Any]]:
    """The ECharts options a page carries whole (data-chart-option)."""
    found = re.findall(r"data-chart-option='([^']*)'", html)
    return [json.loads(unescape(option)) for option in found]


def test_the_followers_chart_is_the_reports_in_both_languages(
    client: TestClient, db: Session, member: Workspace
) -> None:
    """The overview's followers per account is the report section's chart, drawn by the one
    function the report's preview uses: the same days, accounts and counts, in English and
    in Chinese."""
    query = ReportQuery(workspace_id=member.id, start=date(2026, 3, 25), end=date(2026, 3, 31))
    section = report_sections.accounts(db, query)
    chart = next(b for b in section.blocks if isinstance(b, Chart) and b.key == "followers")
    assert any(value is not None for series in chart.series for value in series.values)
    for language in ("en", "zh_Hans"):
        choose_language(client, language, "/w/brand/analytics")
        page = client.get("/w/brand/analytics?start=2026-03-25&end=2026-03-31")
        assert page.status_code == 200, page.text
        assert chart_options(page.text) == [echarts_option(chart, language)]
    assert "3月25日" in page.text  # the last page read, in Chinese
