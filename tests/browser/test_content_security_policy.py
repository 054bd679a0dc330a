"""Every main page works under the strict Content-Security-Policy: Chromium reports no
policy violation, no console error and no script error while it loads and runs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.core.db import utcnow
from guanxi.devtools.demo.stack import sandbox_environment
from guanxi.devtools.demo.workspace import APP_PUBLISHER_WORKSPACE, DEMO_WORKSPACE
from guanxi.publishing.models import Post, Variant, VariantState
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, MANAGER, LiveServer, serve_demo, sign_in
from tests.inbox_ui_support import make_channel, make_item

pytestmark = pytest.mark.browser

W = f"/w/{DEMO_WORKSPACE.slug}"
APPS = f"/w/{APP_PUBLISHER_WORKSPACE.slug}"  # the market demo is the app publisher's
PAGES = [
    f"{W}/",
    f"{W}/publish",
    f"{W}/publish/new",
    f"{W}/calendar",
    f"{W}/campaigns",
    f"{W}/inbox",
    f"{W}/inbox/people",
    f"{W}/inbox/debates",
    f"{W}/inbox/report",
    f"{W}/listen",
    f"{W}/listen/dashboard",
    f"{W}/listen/topics",
    f"{W}/analytics",
    f"{W}/analytics/posts",
    f"{APPS}/market",
    f"{APPS}/market/history",
    f"{APPS}/market/compare",
    f"{APPS}/market/campaigns",
    f"{W}/settings",
    f"{W}/channels",
    f"{W}/checks/words",
    f"{W}/plan",
    "/catalog",
    "/catalog/weibo",
    "/api/docs",
]
# Detail pages reached by following the first link of a list page.
FOLLOWED = [
    (f"{W}/publish", f"a[href^='{W}/posts/']"),
    (f"{W}/inbox", f"a[href^='{W}/inbox/items/']"),
    (f"{W}/plan", f"a[href^='{W}/plans/']"),
    (f"{APPS}/market/campaigns", f"a[href^='{APPS}/market/campaigns/']"),
]
# Recorded before any page script runs (Playwright's init scripts are not subject to the CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} ${event.sample}`
  );
});
"""


@dataclass
class Problems:
    """What went wrong on the page since the last check."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console: {message.text}")

    def script(self, error: Error) -> None:
        self.messages.append(f"script error: {error.message}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The platform sandbox: its consent pages are on another origin than guanxi."""
    with run_in_thread() as running:
        yield running


@pytest.fixture(scope="module")
def live_server(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The demo, its connectors pointed at the sandbox, with a post scheduled tomorrow
    (calendar, post page) and an inbox comment."""
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    overrides = {
        name.removeprefix("GUANXI_").lower(): value
        for name, value in sandbox_environment(port).items()
    }
    with serve_demo(tmp_path_factory.mktemp("csp"), **overrides) as live:
        with live.sessions() as db:
            workspace = get_workspace_by_slug(db, slug=DEMO_WORKSPACE.slug)
            assert workspace is not None
            channel = make_channel(db, workspace)
            make_item(db, channel, "这款桃红葡萄酒在哪里能买到？")
            post = Post(workspace_id=workspace.id, title="桃红葡萄酒季", body="正文")
            db.add(post)
            db.flush()
            when = utcnow() + timedelta(days=1)
            db.add(
                Variant(
                    workspace_id=workspace.id,
                    post_id=post.id,
                    channel_id=channel.id,
                    state=VariantState.SCHEDULED,
                    scheduled_at=when,
                    next_attempt_at=when,
                    idempotency_key=uuid.uuid4().hex,
                )
            )
            db.commit()
        yield live


@pytest.fixture(scope="module")
def watched(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, Problems]]:
    """The demo manager's signed-in page, with its violations and errors recorded."""
    context = browser.new_context(
        base_url=live_server.base_url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems = Problems()
    page.on("console", problems.console)
    page.on("pageerror", problems.script)
    sign_in(page, live_server, MANAGER)
    yield page, problems
    context.close()


def load_and_check(page: Page, problems: Problems, url: str) -> None:
    """Open ``url``, let its scripts and requests finish, hover its charts, then fail on
    any violation or error."""
    problems.messages.clear()
    response = page.goto(url, wait_until="networkidle")
    assert response is not None, url
    assert response.status == 200, url
    # Chart tooltips are HTML written by ECharts: show one on each chart too.
    for chart in page.locator("canvas").all()[:8]:
        if chart.is_visible():
            chart.hover()
    page.wait_for_timeout(100)
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"{url}: {violations}"
    assert problems.messages == [], f"{url}: {problems.messages}"


@pytest.mark.parametrize("path", PAGES)
def test_page_runs_under_the_policy(
    watched: tuple[Page, Problems], live_server: LiveServer, path: str
) -> None:
    page, problems = watched
    load_and_check(page, problems, live_server.url(path))


@pytest.mark.parametrize(("path", "link"), FOLLOWED)
def test_detail_page_runs_under_the_policy(
    watched: tuple[Page, Problems], live_server: LiveServer, path: str, link: str
) -> None:
    page, problems = watched
    page.goto(live_server.url(path))
    href = page.locator(link).first.get_attribute("href")
    assert href, f"no {link} on {path}"
    load_and_check(page, problems, live_server.url(href))


def test_api_docs_show_the_operations_without_a_cdn(
    watched: tuple[Page, Problems], live_server: LiveServer
) -> None:
    """Swagger UI, vendored and served by the app, lists the API's operations."""
    page, problems = watched
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(live_server.base_url)
            and not request.url.startswith("data:")
            else None
        ),
    )
    load_and_check(page, problems, live_server.url("/api/docs"))

    expect(page.locator(".info .title")).to_contain_text("guanxi")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert outside == []


def test_connecting_an_account_may_leave_for_the_platform_consent_page(
    watched: tuple[Page, Problems], live_server: LiveServer, sandbox: RunningSandbox
) -> None:
    """Given the channels page, when the manager presses "Connect Weibo",
    then the form's redirect to Weibo's own sign-in page is allowed by the policy."""
    page, problems = watched
    load_and_check(page, problems, live_server.url(f"{W}/channels"))

    page.locator(f"form[action='{W}/channels/connect/weibo'] button[type=submit]").click()

    expect(page).to_have_url(re.compile(re.escape(sandbox.base_url) + "/weibo/oauth2/authorize"))
