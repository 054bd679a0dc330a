"""Every page as each role: nothing shown leads to a 403, and nothing scrolls sideways on a phone.

The walk (``walk_support``) follows the pages' own links from the front page, so pages added
by any capability are checked as soon as something links to them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ViewportSize

from guanxi.accounts.models import ROLE_PERMISSIONS, Role
from guanxi.devtools.demo.workspace import DEMO_PEOPLE, DEMO_WORKSPACE
from guanxi.shell.app import create_app
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, LiveServer, sign_in
from tests.browser.walk_support import Refusal, RouteRule, Walk, checked_controls, route_rules, walk

pytestmark = pytest.mark.browser

STARTS = ("/", f"/w/{DEMO_WORKSPACE.slug}/", "/me", "/catalog")
PHONE: ViewportSize = {"width": 390, "height": 844}
ROLES = {person.role: person.email for person in DEMO_PEOPLE}
# A walk makes hundreds of requests: on a busy shared machine one page can take longer than
# the other tests' 10 seconds to answer, which is slowness, not a failure of what is checked.
WALK_TIMEOUT_MS = 3 * DEFAULT_TIMEOUT_MS


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> FastAPI:
    """The app's routes, as the live server serves them (built, not run)."""
    return create_app(live_server.settings, live_server.sessions)


@pytest.fixture(scope="module")
def rules(app: FastAPI) -> list[RouteRule]:
    return route_rules(app)


class RoleWalks:
    """Each role's browser context (signed in as the demo person in that role, phone-sized)
    and walk through the app, made when a test first asks, so a worker that runs only some
    roles' tests walks only as those roles."""

    def __init__(self, browser: Browser, live_server: LiveServer, rules: list[RouteRule]) -> None:
        self.browser, self.live_server, self.rules = browser, live_server, rules
        self.contexts: dict[Role, BrowserContext] = {}
        self.walks: dict[Role, Walk] = {}

    def context(self, role: Role) -> BrowserContext:
        if role not in self.contexts:
            context = self.browser.new_context(
                base_url=self.live_server.base_url, locale="en-US", viewport=PHONE
            )
            context.set_default_timeout(WALK_TIMEOUT_MS)
            page = context.new_page()
            sign_in(page, self.live_server, ROLES[role])
            page.close()
            self.contexts[role] = context
        return self.contexts[role]

    def walk(self, role: Role) -> Walk:
        """The role's walk, over HTTP with that person's session."""
        if role not in self.walks:
            context = self.context(role)

            def get(url: str) -> tuple[int, str, str]:
                response = context.request.get(url, timeout=WALK_TIMEOUT_MS)
                content_type = response.headers.get("content-type", "")
                body = response.text() if "html" in content_type else ""
                return response.status, content_type, body

            self.walks[role] = walk(
                origin=self.live_server.base_url,
                starts=STARTS,
                rules=self.rules,
                may=ROLE_PERMISSIONS[role],
                get=get,
            )
        return self.walks[role]

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def walks(browser: Browser, live_server: LiveServer, rules: list[RouteRule]) -> Iterator[RoleWalks]:
    found = RoleWalks(browser, live_server, rules)
    yield found
    found.close()


def report(refusals: list[Refusal]) -> str:
    """One line per route refused (a control on every page is named once, with its first page)."""
    lines: dict[tuple[str, str], str] = {}
    for refusal in refusals:
        lines.setdefault((refusal.control.method, refusal.route), str(refusal))
    return "\n".join(sorted(lines.values()))


@pytest.mark.parametrize("role", list(Role))
def test_no_page_shows_a_role_what_it_may_not_do(role: Role, walks: RoleWalks) -> None:
    """Given the demo person in each role, signed in,
    when the walk follows every link from the front page,
    then every page answers, and no link, form or htmx control on any page leads to a route
    that refuses that role (403)."""
    found = walks.walk(role)

    assert len(found.pages) > 20, found.pages
    assert not found.refusals, f"{role} is shown what answers 403:\n{report(found.refusals)}"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST])
def test_no_page_scrolls_sideways_on_a_phone(
    role: Role,
    walks: RoleWalks,
    live_server: LiveServer,
    rules: list[RouteRule],
) -> None:
    """Given the owner (who sees every page) and the analyst (who sees the fewest controls)
    on a 390-pixel-wide phone,
    when each page of their walk is opened in the browser,
    then no page is wider than the screen, and no control that scripts add leads to a 403."""
    page = walks.context(role).new_page()
    too_wide: list[str] = []
    refused: list[Refusal] = []
    may = ROLE_PERMISSIONS[role]
    try:
        for url in walks.walk(role).pages:
            page.goto(url, wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                widest = page.evaluate(WIDEST_ELEMENT, PHONE["width"])
                too_wide.append(f"{url}: {width} px, widest {widest}")
            refused += checked_controls(
                page.content(), url, origin=live_server.base_url, rules=rules, may=may
            )[0]
    finally:
        page.close()

    assert not too_wide, "Pages wider than a 390 px phone:\n" + "\n".join(too_wide)
    assert not refused, report(refused)


# The element that reaches furthest past the screen, outside any box that scrolls or clips
# it, named for the failure message.
WIDEST_ELEMENT = """(limit) => {
  const clipped = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  let worst = null, right = limit;
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > right + 0.5 && !clipped(element)) {
      worst = element; right = box.right;
    }
  }
  if (!worst) return 'none';
  const name = worst.tagName.toLowerCase() + (worst.id ? '#' + worst.id : '')
    + (worst.className && typeof worst.className === 'string'
       ? '.' + worst.className.trim().split(/\\s+/).join('.') : '');
  return name + ' (' + Math.round(right) + ' px)';
}"""
