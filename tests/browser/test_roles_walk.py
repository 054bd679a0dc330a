"""Every page as each role: nothing shown leads to a 403, and nothing scrolls sideways on a phone.

The walk (``walk_support``) follows the pages' own links from the front page, so pages added
by any capability are checked as soon as something links to them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ViewportSize

from guanxi.accounts.models import ROLE_PERMISSIONS, Permission, Role
from guanxi.devtools.demo.workspace import DEMO_PEOPLE, DEMO_WORKSPACE
from guanxi.shell.app import create_app
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, LiveServer, sign_in
from tests.browser.walk_support import Refusal, RouteRule, Walk, checked_controls, route_rules, walk

pytestmark = pytest.mark.browser

STARTS = ("/", f"/w/{DEMO_WORKSPACE.slug}/", "/me", "/catalog")
PHONE: ViewportSize = {"width": 390, "height": 844}
ROLES = {person.role: person.email for person in DEMO_PEOPLE}


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> FastAPI:
    """The app's routes, as the live server serves them (built, not run)."""
    return create_app(live_server.settings, live_server.sessions)


@pytest.fixture(scope="module")
def rules(app: FastAPI) -> list[RouteRule]:
    return route_rules(app)


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server: LiveServer) -> Iterator[dict[Role, BrowserContext]]:
    """A browser context per role, signed in as the demo person in that role, phone-sized."""
    contexts: dict[Role, BrowserContext] = {}
    for role, email in ROLES.items():
        context = browser.new_context(base_url=live_server.base_url, locale="en-US", viewport=PHONE)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, live_server, email)
        page.close()
        contexts[role] = context
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture(scope="module")
def walks(
    signed_in: dict[Role, BrowserContext], live_server: LiveServer, rules: list[RouteRule]
) -> dict[Role, Walk]:
    """Each role's walk through the app, over HTTP with that person's session."""

    def walk_as(context: BrowserContext, may: frozenset[Permission]) -> Walk:
        def get(url: str) -> tuple[int, str, str]:
            response = context.request.get(url, timeout=DEFAULT_TIMEOUT_MS)
            content_type = response.headers.get("content-type", "")
            body = response.text() if "html" in content_type else ""
            return response.status, content_type, body

        return walk(origin=live_server.base_url, starts=STARTS, rules=rules, may=may, get=get)

    return {role: walk_as(context, ROLE_PERMISSIONS[role]) for role, context in signed_in.items()}


def report(refusals: list[Refusal]) -> str:
    """One line per route refused (a control on every page is named once, with its first page)."""
    lines: dict[tuple[str, str], str] = {}
    for refusal in refusals:
        lines.setdefault((refusal.control.method, refusal.route), str(refusal))
    return "\n".join(sorted(lines.values()))


@pytest.mark.parametrize("role", list(Role))
def test_no_page_shows_a_role_what_it_may_not_do(role: Role, walks: dict[Role, Walk]) -> None:
    """Given the demo person in each role, signed in,
    when the walk follows every link from the front page,
    then every page answers, and no link, form or htmx control on any page leads to a route
    that refuses that role (403)."""
    found = walks[role]

    assert len(found.pages) > 20, found.pages
    assert not found.refusals, f"{role} is shown what answers 403:\n{report(found.refusals)}"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST])
def test_no_page_scrolls_sideways_on_a_phone(
    role: Role,
    walks: dict[Role, Walk],
    signed_in: dict[Role, BrowserContext],
    live_server: LiveServer,
    rules: list[RouteRule],
) -> None:
    """Given the owner (who sees every page) and the analyst (who sees the fewest controls)
    on a 390-pixel-wide phone,
    when each page of their walk is opened in the browser,
    then no page is wider than the screen, and no control that scripts add leads to a 403."""
    page = signed_in[role].new_page()
    too_wide: list[str] = []
    refused: list[Refusal] = []
    may = ROLE_PERMISSIONS[role]
    try:
        for url in walks[role].pages:
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
