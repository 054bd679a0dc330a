"""The inbox in a real browser, end to end through the sandbox: a fan comments on the
brand's Weibo post, a sync reads it, it appears in the open inbox without a reload, the
community manager assigns it to herself and answers, and the answer is on Weibo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from guanxi.channels.models import Channel
from guanxi.connectors.base import Connector
from guanxi.connectors.registry import build_connector
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.inbox.intake.service import sync_all
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxPost
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from tests import http_support as local
from tests.browser.conftest import EDITOR, LiveServer, serve_demo, sign_in
from tests.http_support import local_client

pytestmark = pytest.mark.browser

REPLY = "感谢您的支持！我们会继续努力 🍷"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The platform sandbox with its demo accounts (its audience ticks only on demand)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUANXI_SANDBOX_AUDIENCE_PACE_S", "0")
        with run_in_thread() as running:
            yield running


@pytest.fixture(scope="module")
def stack(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """guanxi with the demo data, its connectors pointed at the sandbox."""
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    overrides = {
        name.removeprefix("GUANXI_").lower(): value
        for name, value in sandbox_environment(port).items()
    }
    with serve_demo(Path(tmp_path_factory.mktemp("inbox")), **overrides) as server:
        yield server


def run_a_sync(stack: LiveServer) -> None:
    """What the worker's periodic inbox sync does."""
    with local_client() as http:

        def connector_for(channel: Channel) -> Connector:
            return build_connector(channel.connector, stack.settings, http)

        sync_all(
            stack.sessions,
            connector_for=connector_for,
            box=SecretBox.from_settings(stack.settings),
            owner="browser-test",
        )


def a_fan_comments(sandbox: RunningSandbox) -> str:
    """The brand has a post on Weibo; the sandbox audience comments on it. The comment's text."""
    state = sandbox.sandbox.state
    state.add_post(
        SandboxPost(
            platform="weibo",
            account_id=DEMO_WEIBO_UID,
            post_id=state.next_id(),
            text="桃红葡萄酒上市啦 #普罗旺斯之夏#",
            created_at=utcnow(),
        )
    )
    answer = local.post(f"{sandbox.base_url}/_sandbox/audience/tick", params={"comments": 1})
    assert answer.status_code == 200
    assert answer.json()["comments"] == 1
    with state.lock:
        return engagement_of(state).comments[-1].text


def test_a_comment_arrives_live_is_assigned_answered_and_shown_on_weibo(
    page: Page, stack: LiveServer, sandbox: RunningSandbox
) -> None:
    """Given the inbox open in the browser, when a fan comments and a sync runs, the comment
    appears without a reload with an unread count; assigned and answered from its thread,
    the answer is on the sandbox's Weibo account page."""
    slug = DEMO_WORKSPACE.slug
    run_a_sync(stack)  # whatever the demo already had is in before the page opens
    sign_in(page, stack, EDITOR)
    page.goto(stack.url(f"/w/{slug}/inbox"))
    expect(page.locator("h1")).to_have_text("Inbox")
    page.evaluate("window.__loaded = true")  # a reload would drop this marker

    comment = a_fan_comments(sandbox)
    run_a_sync(stack)

    row = page.locator("#inbox-rows .inbox-row", has_text=comment[:20]).first
    expect(row).to_be_visible(timeout=15_000)
    expect(page.locator("#inbox-poll .unread-badge")).not_to_have_text("0")
    assert page.evaluate("window.__loaded") is True

    row.locator("a").first.click()
    page.locator("#assign-me button").click()
    expect(page.locator("#assignee option[selected]")).to_have_text("Li Na 李娜")
    page.locator("#reply-text").fill(REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".reply-ours").last).to_contain_text(REPLY)
    expect(page.locator(".reply-ours").last).to_contain_text("Sent")

    page.goto(f"{sandbox.base_url}/accounts/weibo/{DEMO_WEIBO_UID}")
    expect(page.locator("body")).to_contain_text(REPLY)
