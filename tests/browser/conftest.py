"""Browser tests: a live guanxi with the demo data, driven through Debian's Chromium.

Fixtures for test modules in this folder:

- ``live_server``: the running app (``live_server.url("/catalog")``), session-wide, on a
  temporary SQLite database migrated to head and loaded with the demo workspace;
- ``page``: a fresh Playwright page in its own browser context (no cookies) per test;
- ``sign_in(page, live_server, email)``: sign in through the real form as a demo user.

Every test here is marked ``browser``. Under pytest-xdist each worker starts its own
server and browser (session fixtures are per worker), so tests may run on any worker and
must not depend on each other's changes to the demo data. Chromium is never downloaded:
without /usr/bin/chromium the tests are skipped, unless ``GUANXI_REQUIRE_BROWSER=1`` (CI)
makes that a failure.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.security import SecretBox
from guanxi.core.serving import serve_in_thread
from guanxi.core.settings import Settings
from guanxi.devtools.demo.stack import load_demo_channels
from guanxi.devtools.demo.workspace import DEMO_PASSWORD, DEMO_PEOPLE, load_demo
from guanxi.shell.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# Quiet, offline and reproducible: no updates, no sync, no GPU in a headless container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_DIR = Path(__file__).resolve().parent
OWNER, MANAGER, EDITOR, ANALYST = (person.email for person in DEMO_PEOPLE)
DEFAULT_TIMEOUT_MS = 10_000
SECRET_KEY = "browser-test-secret-key-0123456789abcdef"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)


@dataclass(frozen=True)
class LiveServer:
    """A guanxi serving the demo data on a local port."""

    base_url: str
    settings: Settings
    sessions: sessionmaker[Session]

    def url(self, path: str = "/") -> str:
        """The absolute address of ``path`` on this server."""
        return self.base_url + path


@cache
def demo_database() -> Path:
    """A SQLite file migrated to head with the demo workspace and its connected accounts,
    made once per test process (~15 s); each server starts from a copy of it."""
    path = Path(tempfile.mkdtemp(prefix="guanxi-demo-")) / "demo.db"
    atexit.register(shutil.rmtree, path.parent, ignore_errors=True)
    database_url = f"sqlite:///{path}"
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    box = SecretBox.from_settings(
        Settings(database_url=database_url, data_dir=path.parent, secret_key=SECRET_KEY)
    )
    with make_session_factory(engine)() as db:
        workspace = load_demo(db)
        load_demo_channels(db, workspace=workspace, box=box)
        db.commit()
    engine.dispose()
    return path


@contextmanager
def serve_demo(data_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
    """Run guanxi with the demo data in a background thread until the block ends.

    ``overrides`` are settings (e.g. the sandbox's base URLs); the demo's connected
    accounts are loaded too, so pages that list channels have the demo ones.
    """
    database_path = data_dir / "guanxi.db"
    shutil.copy(demo_database(), database_path)
    database_url = f"sqlite:///{database_path}"
    engine = make_engine(database_url)
    session_factory = make_session_factory(engine)
    settings = Settings(
        database_url=database_url, data_dir=data_dir, secret_key=SECRET_KEY, **overrides
    )
    app = create_app(settings, session_factory)
    try:
        with serve_in_thread(app) as base_url:
            yield LiveServer(base_url=base_url, settings=settings, sessions=session_factory)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; skip (or fail, when GUANXI_REQUIRE_BROWSER=1) without it."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
    if os.environ.get("GUANXI_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GUANXI_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """guanxi with the demo workspace, for the whole session."""
    with serve_demo(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance(chromium: Path) -> Iterator[Playwright]:
    """Playwright's driver (sync API)."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - heavy: playwright, ~150 ms; only the browser fixtures start it

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, chromium: Path) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    browser = playwright_instance.chromium.launch(
        executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh browser context: no cookies, English, a laptop-sized window."""
    context = browser.new_context(
        base_url=live_server.base_url,
        locale="en-US",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, live_server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in form as ``email`` (a demo user by default password)."""
    page.goto(live_server.url("/login"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()
