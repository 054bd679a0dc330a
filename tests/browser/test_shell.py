"""The shell in a real browser: sign in, switch language, the workspace switcher, the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import DEMO_WORKSPACE, SECOND_WORKSPACE
from tests.browser.conftest import ANALYST, EDITOR, MANAGER, OWNER, LiveServer, sign_in

pytestmark = pytest.mark.browser

OVERVIEW = re.compile(rf"/w/{DEMO_WORKSPACE.slug}/$")


def test_manager_signs_in_and_sees_the_workspace(page: Page, live_server: LiveServer) -> None:
    """Given the demo manager on the sign-in page,
    when she signs in through the form,
    then she lands on the demo workspace's overview with the section navigation."""
    sign_in(page, live_server, MANAGER)

    expect(page).to_have_url(OVERVIEW)
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_WORKSPACE.name)
    nav = page.get_by_role("navigation", name="Sections")
    for label in ("Overview", "Catalog", "Plan", "Publish", "Inbox", "Listen", "Market"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_switch_to_chinese_and_back(page: Page, live_server: LiveServer) -> None:
    """Given the community manager signed in and reading English,
    when she presses 简体中文 in the language switch,
    then the same page is in Chinese (navigation, html lang), and English brings it back."""
    sign_in(page, live_server, EDITOR)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="简体中文").click()

    expect(page).to_have_url(OVERVIEW)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    nav = page.get_by_role("navigation", name="栏目")
    for label in ("概览", "平台目录", "渠道规划", "发布", "互动收件箱", "舆情监测", "市场洞察"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(page.get_by_text("您的角色：编辑")).to_be_visible()
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Sections")).to_contain_text("Catalog")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_wrong_password_shows_the_error(page: Page, live_server: LiveServer) -> None:
    """Given the sign-in form, when the password is wrong,
    then the form says so, keeps the e-mail address, and nobody is signed in."""
    sign_in(page, live_server, ANALYST, password="not-the-password")

    expect(page.get_by_role("alert")).to_have_text(
        "Wrong e-mail address or password. Check both and try again."
    )
    expect(page.locator("input[name=email]")).to_have_value(ANALYST)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(live_server.url("/"))
    expect(page).to_have_url(re.compile(r"/login"))


def test_workspace_switcher_opens_the_other_workspace(page: Page, live_server: LiveServer) -> None:
    """Given the owner, who runs two brands and is looking at one,
    when she picks the other in the workspace switcher,
    then that workspace's overview opens and the switcher names it."""
    sign_in(page, live_server, OWNER)
    page.goto(live_server.url(f"/w/{SECOND_WORKSPACE.slug}/"))
    expect(page.locator(".switcher-current")).to_have_text(SECOND_WORKSPACE.name)

    page.get_by_label("Switch workspace").click()
    page.get_by_role("link", name=DEMO_WORKSPACE.name).click()

    expect(page).to_have_url(OVERVIEW)
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_WORKSPACE.name)
    expect(page.locator(".switcher-current")).to_have_text(DEMO_WORKSPACE.name)


def test_navigation_works_from_the_keyboard(page: Page, live_server: LiveServer) -> None:
    """Given the owner signed in, using only the keyboard:
    the first Tab reaches "Skip to content"; the workspace menu opens with Enter and closes
    with Escape; Enter on a navigation link opens that section."""
    sign_in(page, live_server, OWNER)
    page.goto(live_server.url(f"/w/{DEMO_WORKSPACE.slug}/"))

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    switcher = page.locator("details.switcher")
    page.locator("details.switcher summary").focus()
    page.keyboard.press("Enter")
    expect(switcher).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(switcher).not_to_have_attribute("open", "")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Inbox").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/w/{DEMO_WORKSPACE.slug}/inbox$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
