"""The approval round in a real browser: the editor submits, the manager finds it in the
approvals queue (nav badge and a notification), approves it in place after a confirmation,
and the editor is told it was approved."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect

from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.sandbox.weibo import DEMO_SAFE_DOMAIN, DEMO_WEIBO_NAME
from tests.browser.conftest import EDITOR, MANAGER, LiveServer, serve_demo, sign_in

pytestmark = pytest.mark.browser

TITLE = "审批流程测试 rosé tasting"
SLUG = DEMO_WORKSPACE.slug
BODY = f"周六下午在上海门店品鉴桃红葡萄酒，欢迎预约 https://{DEMO_SAFE_DOMAIN}/tasting"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo with the platforms' settings (Weibo's safe domain), so the post passes its
    checks; nothing is published, so no sandbox runs."""
    overrides = {
        name.removeprefix("GUANXI_").lower(): value
        for name, value in sandbox_environment(9).items()
    }
    with serve_demo(tmp_path_factory.mktemp("approvals"), **overrides) as server:
        yield server


def test_submit_find_in_the_queue_approve_in_place_and_the_editor_is_told(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server, EDITOR)
    expect(page.locator("#nav-approvals")).to_have_count(0)  # an editor does not approve
    page.goto(live_server.url(f"/w/{SLUG}/publish/new"))
    page.locator("input[name=title]").fill(TITLE)
    page.locator("textarea[name=body]").fill(BODY)
    page.get_by_label(re.compile(DEMO_WEIBO_NAME)).check()
    page.get_by_role("button", name="Create the variants").click()
    expect(page).to_have_url(re.compile(rf"/w/{SLUG}/posts/\d+$"))
    page.get_by_role("button", name="Submit the drafts for review").click()
    page.wait_for_load_state()
    alerts = page.locator("p.error[role=alert]").all_inner_texts()
    assert alerts == []
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, MANAGER)
    page.goto(live_server.url(f"/w/{SLUG}/"))
    nav = page.locator("#nav-approvals")
    expect(nav).to_be_visible()
    expect(nav.locator(".nav-count")).to_be_visible()
    expect(page.locator("#notification-bell")).to_contain_text(re.compile(r"\(\d+\)"))
    page.goto(live_server.url(f"/w/{SLUG}/notifications"))
    expect(page.locator(".notification-list")).to_contain_text(f"“{TITLE}” waits for your approval")

    nav = page.locator("#nav-approvals")
    nav.click()
    row = page.locator("ul.queue > li", has_text=TITLE)
    expect(row).to_contain_text("Step 1 of 1")
    expect(row).to_contain_text("Written by Li Na 李娜")
    expect(row).to_contain_text("Waiting for you")
    messages: list[str] = []

    def accept(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text(f"Approved: “{TITLE}” is ready to schedule")
    assert messages
    assert messages[0].startswith(f"Approve “{TITLE}”")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{SLUG}/notifications"))
    expect(page.locator(".notification-list")).to_contain_text(
        f"“{TITLE}” on {DEMO_WEIBO_NAME} was approved by Wang Fang 王芳."
    )
