"""The catalog and the planner in a real browser, as a community manager uses them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from tests.browser.conftest import ANALYST, EDITOR, LiveServer, sign_in

pytestmark = pytest.mark.browser


def test_browse_the_catalog_filter_and_open_a_platform(page: Page, live_server: LiveServer) -> None:
    """Given the analyst on the catalog,
    when she keeps only platforms reachable from mainland China,
    then Facebook disappears (blocked since 2009) while Weibo stays;
    and Weibo's page shows its dated figures with a drawn chart."""
    sign_in(page, live_server, ANALYST)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform catalog")
    results = page.locator("#catalog-results")
    expect(results.get_by_role("link", name="Facebook", exact=True)).to_be_visible()

    page.get_by_label("Reachable from").select_option("mainland")

    expect(results.get_by_role("link", name="Facebook", exact=True)).to_have_count(0)
    expect(results.get_by_role("link", name="Sina Weibo", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"region=mainland"))

    results.get_by_role("link", name="Sina Weibo", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Sina Weibo")
    expect(page.get_by_text("新浪微博").first).to_be_visible()
    expect(page.locator("#figures-chart canvas")).to_have_count(1)
    expect(page.get_by_text("500 m").first).to_be_visible()


def test_build_a_plan_and_see_the_ranking(page: Page, live_server: LiveServer) -> None:
    """Given the community manager on the planner,
    when she describes young, university-educated mainland city dwellers, aims at awareness
    and can write Simplified Chinese,
    then the saved plan ranks a Chinese platform first, shows Facebook as blocked at the
    bottom with a warning, and draws the score chart."""
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{DEMO_WORKSPACE.slug}/plan"))

    form = page.locator("form.brief-form")
    form.locator("input[name=name]").fill("Tier-1 launch, browser test")
    form.locator("input[name=age_min]").fill("18")
    form.locator("input[name=age_max]").fill("30")
    form.locator("select[name=region]").select_option("mainland")
    form.locator("select[name=education]").select_option("university")
    form.locator("input[name=city_tiers][value='1']").check()
    form.locator("input[name=goals][value=awareness]").check()
    form.locator("input[name=languages][value=zh_Hans]").check()
    form.get_by_role("button", name="Rank the platforms and save").click()

    expect(page).to_have_url(re.compile(rf"/w/{DEMO_WORKSPACE.slug}/plans/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tier-1 launch, browser test")
    rows = page.locator(".ranking tbody tr")
    first = rows.first.locator("td").nth(1).locator("a")
    expect(first).to_have_attribute("href", re.compile(r"^/catalog/"))
    first_slug = (first.get_attribute("href") or "").removeprefix("/catalog/")
    assert first_slug not in {"facebook", "twitter", "youtube", "whatsapp", "line"}
    facebook = page.locator("#platform-facebook")
    expect(facebook).to_have_class(re.compile("closed"))
    facebook.locator("details.why summary").click()  # the reasons sit behind a toggle
    expect(facebook.locator(".warnings li").first).to_be_visible()
    expect(page.locator("#plan-chart canvas")).to_have_count(1)
    expect(page.locator("#language-advice")).to_contain_text("Simplified")
