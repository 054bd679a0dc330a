"""The market section in a real browser: the seed's July 27 matrix and a rank history with
a campaign marked on it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import APP_PUBLISHER_WORKSPACE
from tests.browser.conftest import ANALYST, LiveServer, sign_in

pytestmark = pytest.mark.browser


def test_the_matrix_of_july_27_and_wechats_rank_history_with_messi(
    page: Page, live_server: LiveServer
) -> None:
    """Given the analyst on Market,
    then the matrix of July 27, 2013 shows WeChat #1 in Italy and Line #1 in Argentina,
    labelled as illustrative data;
    when she opens WeChat's rank history,
    then the chart is drawn with the rank axis inverted and the Messi campaign marked by a
    line at its start and a shaded band."""
    sign_in(page, live_server, ANALYST)
    page.goto(live_server.url(f"/w/{APP_PUBLISHER_WORKSPACE.slug}/"))
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Market").click()

    matrix = page.get_by_test_id("matrix")
    expect(page.locator("input[name=day]")).to_have_value("2013-07-27")
    expect(page.get_by_test_id("illustrative")).to_contain_text("Illustrative data.")
    expect(matrix.locator('tr[data-app="com.tencent.mm"] td[data-country="IT"]')).to_contain_text(
        "1"
    )
    expect(
        matrix.locator('tr[data-app="jp.naver.line.android"] td[data-country="AR"]')
    ).to_have_class("rank rank-1")

    matrix.locator('tr[data-app="com.tencent.mm"]').get_by_role("link", name="WeChat").click()

    chart = page.locator("#rank-history")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-ready", "true")
    option = page.evaluate(
        """() => {
            const o = document.getElementById("rank-history").chart.getOption();
            return {inverse: o.yAxis[0].inverse,
                    lines: o.series[0].markLine.data.map(d => d.name),
                    areas: o.series[0].markArea.data.length,
                    countries: o.series.map(s => s.name)};
        }"""
    )
    assert option["inverse"] is True
    assert "Lionel Messi signs to promote WeChat" in option["lines"]
    assert option["areas"] == len(option["lines"])
    assert "Italy" in option["countries"]
    expect(page.get_by_test_id("campaign-markers")).to_contain_text("Lionel Messi")
    assert page.url.startswith(live_server.url(f"/w/{APP_PUBLISHER_WORKSPACE.slug}/market/history"))
