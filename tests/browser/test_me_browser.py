"""The personal settings page in a real browser: the time zone a person chooses changes the
times every page shows, server-side, each with its offset."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.web.zones import offset_label
from tests.browser.conftest import ANALYST, LiveServer, sign_in

pytestmark = pytest.mark.browser

SHOWN_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d) (UTC[+-]\d+(?::\d\d)?)")


def signed_in_at(page: Page, live_server: LiveServer) -> tuple[datetime, str]:
    """The sign-in time of this session as the settings page shows it, and its offset."""
    page.goto(live_server.url(f"/w/{DEMO_WORKSPACE.slug}/settings"))
    row = page.locator("#sessions tbody tr", has_text="this device")
    cell = row.locator("td").nth(2).inner_text()
    found = SHOWN_TIME.search(cell)
    assert found, cell
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M"), found.group(2)


def choose_zone(page: Page, zone: str) -> None:
    """Open the personal settings from the top bar's name and save ``zone``."""
    page.locator("a.who").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your settings")
    page.get_by_label("Time zone").fill(zone)
    page.locator("#profile button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("Your settings are saved.")


def test_the_chosen_time_zone_changes_the_times_shown(page: Page, live_server: LiveServer) -> None:
    """Given the analyst, whose times are in the workspace's zone (Shanghai, UTC+8),
    when she chooses Europe/Paris on her settings page,
    then the settings page shows her sign-in 7 hours earlier, labelled UTC+1 (in winter)."""
    sign_in(page, live_server, ANALYST)
    before, offset = signed_in_at(page, live_server)
    assert offset == "UTC+8"
    try:
        choose_zone(page, "Europe/Paris")
        expect(page.locator("#zone-help")).to_contain_text("Europe/Paris")

        after, offset = signed_in_at(page, live_server)
        paris = datetime.now(ZoneInfo("Europe/Paris"))
        assert offset == offset_label(paris)  # UTC+1, or UTC+2 in summer
        hours = 8 - (paris.utcoffset() or timedelta(0)).total_seconds() / 3600
        assert (before - after).total_seconds() == hours * 3600
    finally:
        choose_zone(page, "")  # the demo's other tests read the workspace's zone
