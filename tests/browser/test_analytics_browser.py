"""The analytics pages in a real browser: the overview's figures and its chart, and a post's
curve against its account's median post, drawn from the figures the page carries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.measure.models import AccountDay, AccountDayBreakdown, MeasuredPost, PostSnapshot
from tests.browser.conftest import OWNER, LiveServer, serve_demo, sign_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tests.test_measure_service import add_days, add_post

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    """A live guanxi whose demo Weibo account has 60 days of followers and four posts, the
    all measured 1, 2 and 3 hours after publishing."""
    with serve_demo(tmp_path_factory.mktemp("analytics")) as live:
        with live.sessions() as db:
            workspace = get_workspace_by_slug(db, slug=DEMO_WORKSPACE.slug)
            assert workspace is not None
            weibo = db.scalars(
                select(Channel).where(
                    Channel.workspace_id == workspace.id, Channel.platform == "weibo"
                )
            ).first()
            assert weibo is not None
            # The demo's illustrative history goes: the figures below are all there is.
            channel_ids = select(Channel.id).where(Channel.workspace_id == workspace.id)
            post_ids = select(MeasuredPost.id).where(MeasuredPost.workspace_id == workspace.id)
            db.execute(delete(PostSnapshot).where(PostSnapshot.post_id.in_(post_ids)))
            db.execute(delete(MeasuredPost).where(MeasuredPost.workspace_id == workspace.id))
            for table in (AccountDayBreakdown, AccountDay):
                db.execute(delete(table).where(table.channel_id.in_(channel_ids)))
            today = datetime.now(ZoneInfo(workspace.timezone)).date()
            first = today - timedelta(days=60)  # through today: the presets end yesterday
            add_days(db, weibo, first, [{Metric.FOLLOWERS: 20_000 + 40 * n} for n in range(61)])
            published = datetime.now(UTC) - timedelta(days=3)
            for n, rate in enumerate((80, 100, 120)):
                older = [{Metric.VIEWS: rate * h, Metric.LIKES: h} for h in (1, 2, 3)]
                add_post(db, weibo, f"older-{n}", published - timedelta(days=n + 1), *older)
            launch = [{Metric.VIEWS: 300 * h, Metric.LIKES: 4 * h} for h in (1, 2, 3)]
            post = add_post(db, weibo, "launch", published, *launch)
            for measured in (post, *db.scalars(select(type(post)))):
                measured.snapshot_count = 3  # as the collector counts them
            db.commit()
            post_id = post.id
        yield live, post_id


@pytest.fixture
def analytics(browser: Browser, server: tuple[LiveServer, int]) -> Iterator[Page]:
    """A signed-in page of the owner."""
    live, _post_id = server
    context = browser.new_context(
        base_url=live.base_url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    sign_in(page, live, OWNER)
    yield page
    context.close()


def series_count(page: Page, selector: str) -> int:
    """How many series the ECharts chart in ``selector`` draws."""
    script = "el => echarts.getInstanceByDom(el).getOption().series.length"
    return int(page.locator(selector).evaluate(script))


def test_the_overview_shows_the_figures_and_draws_the_days(
    analytics: Page, server: tuple[LiveServer, int]
) -> None:
    """Given the demo brand's Weibo account measured for 60 days,
    when the owner opens Analytics from the front page's headline,
    then the four figures are there with their trend lines, the day-by-day chart is drawn,
    and its table view lists the days; the followers per account chart (the report's) too,
    its counts on the axis written compactly."""
    live, _post_id = server
    slug = DEMO_WORKSPACE.slug
    analytics.goto(live.url(f"/w/{slug}/"))
    analytics.locator(".headline a.tile").filter(has_text="Followers").click()
    expect(analytics).to_have_url(f"{live.base_url}/w/{slug}/analytics?days=28#figure-followers")
    followers = analytics.locator("#figure-followers")
    expect(followers.locator(".tile-value")).to_have_text("22,360")
    expect(followers.locator("svg.spark")).to_be_visible()
    chart = analytics.locator(".chart").first
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart.locator("canvas").first).to_be_visible()
    assert series_count(analytics, ".chart >> nth=0") == 2
    analytics.get_by_text("Table view").first.click()
    days = analytics.locator("details.table-view").first.locator("tbody tr")
    expect(days.first).to_be_visible()
    expect(days).to_have_count(28)
    followers = analytics.locator("#followers-per-account .chart")
    expect(followers).to_have_attribute("data-ready", "true")
    assert series_count(analytics, "#followers-per-account .chart") == 4  # one a connected account
    label = "el => echarts.getInstanceByDom(el).getOption().yAxis[0].axisLabel.formatter(22360)"
    assert followers.evaluate(label) == "22.4K"
    expect(analytics.locator("#followers-per-account tbody tr")).to_have_count(28)
    assert analytics.evaluate("window.__cspViolations") == []


def test_a_posts_curve_is_drawn_against_the_account_median(
    analytics: Page, server: tuple[LiveServer, int]
) -> None:
    """The post's page draws its views and engagements and the account's medians, and its
    table has the medians of the three older posts at the same ages."""
    live, post_id = server
    analytics.goto(live.url(f"/w/{DEMO_WORKSPACE.slug}/analytics/posts/{post_id}"))
    chart = analytics.locator(".curve .chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart.locator("canvas").first).to_be_visible()
    assert series_count(analytics, ".curve .chart") == 4
    expect(analytics.locator(".curve")).to_contain_text("3 other measured posts")
    analytics.get_by_text("Table view").click()
    rows = analytics.locator(".curve details tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("600")  # its views at 2 hours
    expect(rows.nth(1)).to_contain_text("200")  # the median post's views at 2 hours
    assert analytics.evaluate("window.__cspViolations") == []
