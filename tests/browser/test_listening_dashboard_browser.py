"""The listening dashboard in a real browser: the charts render from the JSON API, and a
drill-down shows the posts with the matched words highlighted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.listening.topics.service import TopicForm, create_topic
from tests.browser.conftest import OWNER, LiveServer, serve_demo, sign_in
from tests.listening_topics_support import add_author, add_mention

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    """A live guanxi whose demo workspace has a topic and three enriched mentions."""
    with serve_demo(tmp_path_factory.mktemp("listening-dashboard")) as live:
        with live.sessions() as db:
            workspace = get_workspace_by_slug(db, slug=DEMO_WORKSPACE.slug)
            assert workspace is not None
            topic = create_topic(
                db,
                workspace_id=workspace.id,
                form=TopicForm(name="Rosé watch", query="桃红 OR rosé", category="brand"),
            )
            critic = add_author(
                db, workspace_id=workspace.id, name="葡萄酒评论家", followers=880_000, kind="public"
            )
            now = datetime.now(UTC) - timedelta(hours=2)
            add_mention(
                db,
                workspace_id=workspace.id,
                text="这款桃红葡萄酒很清爽",
                posted_at=now,
                author=critic,
                sentiment="positive",
                stage="evaluation",
                keywords=("桃红", "清爽"),
            )
            add_mention(
                db,
                workspace_id=workspace.id,
                text="普罗旺斯的桃红太贵了",
                posted_at=now - timedelta(days=1),
                sentiment="negative",
                keywords=("价格",),
            )
            add_mention(db, workspace_id=workspace.id, text="周末喝什么酒", posted_at=now)
            db.commit()
            topic_id = topic.id
        yield live, topic_id


@pytest.fixture
def dashboard(browser: Browser, server: tuple[LiveServer, int]) -> Iterator[Page]:
    """A signed-in page of the owner."""
    live, _topic_id = server
    context = browser.new_context(
        base_url=live.base_url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, live, OWNER)
    yield page
    context.close()


def _panel(name: str) -> str:
    """A panel, filled from the API (data-panel) or drawn from the page (data-drawn-panel)."""
    return f'[data-panel="{name}"], [data-drawn-panel="{name}"]'


def test_dashboard_renders_charts_and_drills_down_to_highlighted_posts(
    dashboard: Page, server: tuple[LiveServer, int]
) -> None:
    live, topic_id = server
    slug = DEMO_WORKSPACE.slug
    dashboard.goto(live.url(f"/w/{slug}/listen/dashboard"))

    panels = ("volume", "sentiment", "share-of-voice", "source-kinds", "stages", "authors")
    for panel in (*panels, "keywords"):
        chart = dashboard.locator(_panel(panel))
        expect(chart).to_have_attribute("data-ready", "true")
        expect(chart.locator("canvas").first).to_be_visible()

    dashboard.goto(live.url(f"/w/{slug}/listen/dashboard?topic={topic_id}&sentiment=negative"))
    posts = dashboard.locator("#drill-down")
    # The demo's own wine mentions match the topic too: the planted one is among them, once.
    planted = posts.locator("li.mention", has_text="普罗旺斯的桃红太贵了")
    expect(planted).to_have_count(1)
    expect(planted.locator("mark").first).to_have_text("桃红")
    expect(posts).not_to_contain_text("这款桃红葡萄酒很清爽")  # positive: filtered out

    # Filters nothing matches: each count panel says so instead of drawing zeros.
    dashboard.goto(live.url(f"/w/{slug}/listen/dashboard?platform=no-such-platform"))
    for panel in ("share-of-voice", "source-kinds", "stages", "platforms", "keywords"):
        chart = dashboard.locator(_panel(panel))
        expect(chart).to_have_attribute("data-ready", "true")
        expect(chart).to_have_attribute("data-empty", "true")


# How many strongly coloured pixels the chart drew around its first non-zero point: the
# axes and grid lines are grey, so only the series (its line or its symbol) counts.
COLOURED_AROUND_POINT = """(element) => {
  const chart = echarts.getInstanceByDom(element);
  if (!chart) { return 0; }
  const series = chart.getOption().series[0];
  const index = series.data.findIndex((value) => value > 0);
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, [index, series.data[index]]);
  const canvas = element.querySelector("canvas");
  const ratio = canvas.width / canvas.clientWidth;
  const box = canvas.getContext("2d").getImageData(
    (x - 6) * ratio, (y - 6) * ratio, 12 * ratio, 12 * ratio).data;
  let coloured = 0;
  for (let p = 0; p < box.length; p += 4) {
    const [r, g, b, a] = [box[p], box[p + 1], box[p + 2], box[p + 3]];
    if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) { coloured += 1; }
  }
  return coloured;
}"""


def test_a_day_with_mentions_alone_on_the_axis_draws_a_visible_point(
    dashboard: Page, server: tuple[LiveServer, int]
) -> None:
    """Given a filter of one day with mentions, the volume chart has one day on its axis and
    draws that day's point (a line needs two points; a symbol shows one)."""
    live, topic_id = server
    day = (datetime.now(UTC) - timedelta(hours=2)).date().isoformat()
    dashboard.goto(
        live.url(
            f"/w/{DEMO_WORKSPACE.slug}/listen/dashboard?topic={topic_id}&start={day}&end={day}"
        )
    )
    volume = dashboard.locator('[data-panel="volume"]')
    expect(volume).to_have_attribute("data-ready", "true")
    days = dashboard.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-panel=volume]'))"
        ".getOption().xAxis[0].data"
    )
    assert days == [day]
    dashboard.wait_for_function(
        f"(element) => ({COLOURED_AROUND_POINT})(element) > 10", arg=volume.element_handle()
    )


def test_share_of_voice_asks_for_a_competitor_and_the_funnel_has_numbers(
    dashboard: Page, server: tuple[LiveServer, int]
) -> None:
    """With one brand topic, share of voice says to add a competitor instead of drawing a 100%
    pie; the journey funnel labels each stage with its number; platforms carry their names."""
    live, topic_id = server
    dashboard.goto(live.url(f"/w/{DEMO_WORKSPACE.slug}/listen/dashboard?topic={topic_id}"))
    share = dashboard.locator('[data-panel="share-of-voice"]')
    expect(share).to_have_attribute("data-ready", "true")
    expect(share).to_contain_text("competitor")
    expect(share.get_by_role("link")).to_have_attribute(
        "href", f"/w/{DEMO_WORKSPACE.slug}/listen/topics"
    )
    expect(share.locator("canvas")).to_have_count(0)
    stages = dashboard.locator('[data-panel="stages"]')
    expect(stages).to_have_attribute("data-ready", "true")
    label = dashboard.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-panel=stages]'))"
        ".getOption().series[0].label.formatter({name: 'Evaluation', value: 12345})"
    )
    assert label == "Evaluation: 12,345"  # the figure grouped as the page's language writes it
    platforms = dashboard.locator('[data-panel="platforms"]')
    expect(platforms).to_have_attribute("data-ready", "true")
    names = dashboard.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-panel=platforms]'))"
        ".getOption().series[0].data.map((item) => item.name)"
    )
    assert names == ["Sina Weibo"]
