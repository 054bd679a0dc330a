"""Publishing in a real browser, end to end through the sandbox: the community manager
writes in Chinese, a check fires, a manager approves and publishes, the post is on Weibo."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import Connector
from guanxi.connectors.registry import build_connector
from guanxi.connectors.weibo import weibo_text_length
from guanxi.core.db import utcnow
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.publishing.engine import dispatch_due, execute_variant
from guanxi.publishing.models import Variant, VariantState
from guanxi.publishing.policy import get_policy
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.wechat import DEMO_WECHAT_NAME
from guanxi.sandbox.weibo import DEMO_SAFE_DOMAIN, DEMO_WEIBO_NAME, DEMO_WEIBO_UID
from tests.browser.conftest import EDITOR, MANAGER, LiveServer, serve_demo, sign_in
from tests.composer_support import png_bytes
from tests.http_support import local_client

pytestmark = pytest.mark.browser

BODY = f"普罗旺斯今年最受期待的桃红葡萄酒上市，欢迎品尝！详情 https://{DEMO_SAFE_DOMAIN}/rose"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The platform sandbox, with its demo accounts."""
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
    with serve_demo(Path(tmp_path_factory.mktemp("publish")), **overrides) as server:
        yield server


def run_the_engine(stack: LiveServer) -> None:
    """What the worker does on its next tick: claim what is due and publish it."""
    http = local_client()

    def connector_for(channel: Channel) -> Connector:
        return build_connector(channel.connector, stack.settings, http)

    claimed = dispatch_due(stack.sessions, now=utcnow(), limit=10, worker_id="browser-test")
    assert claimed, "the scheduled variant was due"
    for variant_id in claimed:
        execute_variant(
            stack.sessions,
            variant_id,
            connector_for=connector_for,
            now=utcnow(),
            worker_id="browser-test",
            settings=stack.settings,
        )
    http.close()


def test_compose_check_approve_publish_and_see_it_on_weibo(
    page: Page, stack: LiveServer, sandbox: RunningSandbox
) -> None:
    """Given the community manager composing a Weibo post in Chinese with a superlative
    (最, to avoid under the Advertising Law), the checks flag it; a manager approves it,
    overrides the warning with a reason and publishes now; the engine sends it through the
    real Weibo connector, and the post is on the sandbox's Weibo account page."""
    sign_in(page, stack, EDITOR)
    page.goto(stack.url(f"/w/{DEMO_WORKSPACE.slug}/publish/new"))
    page.locator("input[name=title]").fill("桃红葡萄酒上市")
    page.locator("textarea[name=body]").fill(BODY)
    page.get_by_label(re.compile(DEMO_WEIBO_NAME)).check()
    page.get_by_role("button", name="Create the variants").click()

    expect(page).to_have_url(re.compile(rf"/w/{DEMO_WORKSPACE.slug}/posts/\d+$"))
    post_url = page.url
    finding = page.locator("li.finding-warning[data-code^='words.']").first
    expect(finding).to_be_visible()
    expect(finding).to_contain_text("最")
    page.get_by_role("button", name="Submit the drafts for review").click()
    expect(
        page.get_by_text("You wrote or edited this variant, so another approver must approve it.")
    ).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, stack, MANAGER)
    page.goto(post_url)
    page.get_by_role("button", name="Approve step 1").click()
    override = page.locator("li.finding-warning[data-code^='words.'] form").first
    override.locator("input[name=reason]").fill("“最受期待”引自经销商预订量统计，已存档。")
    override.get_by_role("button", name="Override warning").click()
    expect(page.locator(".badge.ok", has_text="Overridden by").first).to_be_visible()
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator("#main, main")).to_contain_text("Scheduled")

    run_the_engine(stack)

    page.reload()
    expect(page.locator("main")).to_contain_text("Published at")
    page.goto(f"{sandbox.base_url}/accounts/weibo/{DEMO_WEIBO_UID}")
    expect(page.locator("article.post").first).to_contain_text(
        "普罗旺斯今年最受期待的桃红葡萄酒上市"
    )


def test_the_checks_hits_are_marked_inside_the_textarea_while_typing(
    page: Page, stack: LiveServer, sandbox: RunningSandbox
) -> None:
    """Given a saved variant with nothing to flag, When the writer types a superlative,
    Then the inline check marks it in the backdrop right under the typed characters."""
    sign_in(page, stack, EDITOR)
    page.goto(stack.url(f"/w/{DEMO_WORKSPACE.slug}/publish/new"))
    page.locator("input[name=title]").fill("春季上新")
    page.locator("textarea[name=body]").fill("春季新品上市，欢迎品尝。")
    page.get_by_label(re.compile(DEMO_WEIBO_NAME)).check()
    page.get_by_role("button", name="Create the variants").click()
    expect(page).to_have_url(re.compile(rf"/w/{DEMO_WORKSPACE.slug}/posts/\d+$"))
    # The URL changes before htmx has bound the form's input trigger: typing earlier would
    # send no check (this raced on a loaded CI machine).
    page.wait_for_load_state("load")

    area = page.locator("textarea[data-backdrop]").first
    backdrop = page.locator(f"#{area.get_attribute('data-backdrop')}")
    expect(backdrop.locator("mark")).to_have_count(0)
    area.fill("春季新品上市，全城最受期待的桃红葡萄酒。")

    mark = backdrop.locator("mark.mark-warning").first
    expect(mark).to_contain_text("最")
    expect(backdrop).to_have_text("春季新品上市，全城最受期待的桃红葡萄酒。")
    mark_box, area_box = mark.bounding_box(), area.bounding_box()
    assert mark_box is not None
    assert area_box is not None
    assert area_box["x"] <= mark_box["x"] <= area_box["x"] + area_box["width"]
    assert area_box["y"] <= mark_box["y"] <= area_box["y"] + area_box["height"]

    area.press("End")
    area.type("！")  # typed after the check answered: plain text until the next answer
    expect(backdrop).to_have_text("春季新品上市，全城最受期待的桃红葡萄酒。！")
    expect(backdrop.locator("mark.mark-warning").first).to_contain_text("最")


def _account(page: Page, name: str, platform: str) -> Locator:
    """The composer's checkbox for the account ``name`` on ``platform`` (names repeat)."""
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} \({platform}"))


def test_compose_for_weibo_and_wechat_with_previews_counters_an_image_and_one_time(
    page: Page, stack: LiveServer, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Given a workspace publishing without approval, the community manager picks Weibo and
    WeChat, sees both previews and Weibo's counter follow the typing, attaches an image
    before any variant exists (both previews show it), creates the variants, reads the
    confirmation, gives the article its title in its tab, and schedules both at one time."""
    with stack.sessions() as db:
        workspace = db.scalar(select(Workspace).where(Workspace.slug == DEMO_WORKSPACE.slug))
        assert workspace is not None
        policy = get_policy(db, workspace=workspace)
        steps, policy.approval_steps = policy.approval_steps, 0
        db.commit()
    try:
        sign_in(page, stack, EDITOR)
        page.goto(stack.url(f"/w/{DEMO_WORKSPACE.slug}/publish/new"))
        _account(page, DEMO_WEIBO_NAME, "").check()
        _account(page, DEMO_WECHAT_NAME, "WeChat").check()
        card = page.locator("figure.preview-microblog:visible")
        article = page.locator("figure.preview-article:visible")
        expect(card).to_have_count(1)
        expect(article).to_have_count(1)

        page.locator("input[name=title]").fill("春季上新")
        text = f"春季新品上市，欢迎品尝！详情 https://{DEMO_SAFE_DOMAIN}/spring"
        page.locator("textarea[name=body]").fill(text)
        expect(card.locator("[data-slot=text]")).to_have_text(text)
        counter = card.locator("[data-counter][data-field=text]")
        expect(counter).to_have_text(f"{weibo_text_length(text)} / 140")
        page.locator("textarea[name=body]").fill("好" * 141)
        expect(counter).to_have_class(re.compile(r"\bover\b"))
        page.locator("textarea[name=body]").fill(text)

        image = tmp_path / "rose.png"
        image.write_bytes(png_bytes(40, 30, "pink"))
        page.locator("input[name=files]").set_input_files(image)
        expect(card.locator("[data-slot=images] img")).to_have_count(1)
        expect(article.locator("[data-slot=cover] img")).to_have_count(1)
        page.get_by_role("button", name="Create the variants").click()

        expect(page).to_have_url(re.compile(rf"/w/{DEMO_WORKSPACE.slug}/posts/\d+$"))
        expect(page.get_by_role("status").first).to_contain_text("Post created")
        expect(page.get_by_role("tab")).to_have_count(2)
        page.get_by_role("tab", name=re.compile(rf"^{re.escape(DEMO_WECHAT_NAME)} ")).click()
        panel = page.locator("[role=tabpanel]:visible")
        expect(panel).to_have_count(1)
        expect(panel.locator("figure.preview-article [data-slot=cover] img")).to_have_count(1)
        panel.locator("input[name=title]").fill("普罗旺斯的春天")
        expect(panel.locator("figure.preview-article [data-slot=title]")).to_have_text(
            "普罗旺斯的春天"
        )
        panel.get_by_role("button", name="Save the variant").click()
        expect(page.get_by_role("status").first).to_contain_text("Variant saved.")

        schedule = page.locator("form[data-schedule-all]")
        when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
        schedule.locator("input[name=when]").fill(when)
        schedule.get_by_role("button", name="Schedule all").click()
        expect(page.get_by_role("status").first).to_contain_text("Variants scheduled.")
        expect(page.locator("main")).to_contain_text("Scheduled for", timeout=10_000)
        with stack.sessions() as db:
            post_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
            states = db.scalars(select(Variant.state).where(Variant.post_id == post_id))
            assert set(states) == {VariantState.SCHEDULED}
    finally:
        with stack.sessions() as db:
            workspace = db.scalar(select(Workspace).where(Workspace.slug == DEMO_WORKSPACE.slug))
            assert workspace is not None
            get_policy(db, workspace=workspace).approval_steps = steps
            db.commit()
