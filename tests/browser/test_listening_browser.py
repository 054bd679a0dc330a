"""Listening in a real browser: upload a CSV, map its columns, read the report, see the
mentions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from tests.browser.conftest import EDITOR, LiveServer, serve_demo, sign_in
from tests.listening_data_support import FIXTURES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live guanxi of this module's own (the import changes its database)."""
    with serve_demo(tmp_path_factory.mktemp("listen-live")) as live:
        yield live


@pytest.fixture
def editor_page(page: Page, server: LiveServer) -> Page:
    sign_in(page, server, EDITOR)
    return page


def test_import_a_csv_through_the_mapping_step_and_see_the_mentions(
    editor_page: Page, server: LiveServer
) -> None:
    """Given the community manager on the import page, when she uploads a CSV, confirms the
    guessed columns and picks the author's, then the report shows 2 new mentions and the
    2 broken rows, and the mentions list shows the imported posts."""
    page = editor_page
    slug = DEMO_WORKSPACE.slug
    page.goto(server.url(f"/w/{slug}/listen"))
    page.get_by_role("link", name="Import posts").click()
    page.locator("input[type=file]").set_input_files(str(FIXTURES / "generic.csv"))
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Source").fill("Agency export")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Which column holds what?")
    expect(page.get_by_label("Post id *")).to_have_value("编号")
    expect(page.get_by_label("Text *")).to_have_value("内容")
    page.get_by_label("Author name").select_option("作者")
    page.get_by_role("button", name="Import with this mapping").click()

    expect(page.locator("[data-count=added]")).to_have_text("2")
    expect(page.locator("[data-count=failed]")).to_have_text("2")
    errors = page.locator("table.row-errors")
    expect(errors).to_contain_text("发布时间")
    expect(errors).to_contain_text("The time cannot be read.")

    page.get_by_role("link", name="See the mentions").click()
    expect(page.get_by_text("2 mentions")).to_be_visible()
    expect(page.get_by_text("第一次喝普罗旺斯的桃红，惊艳")).to_be_visible()
    page.get_by_role("link").filter(has_text=":").first.click()
    expect(page.get_by_role("heading", name="Raw record as imported")).to_be_visible()
    expect(page.locator("pre.raw")).to_contain_text("编号")
