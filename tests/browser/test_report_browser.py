"""A report in a real browser: made from a template, given its title, previewed, and its PDF
downloaded (the file read back with Debian's pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from tests.browser.conftest import EDITOR, LiveServer, sign_in

pytestmark = pytest.mark.browser

TITLE = "Campaign wrap-up for Lyon"
# A PDF of every demo section is made on the server: allow it more than a click's 10 s.
PDF_TIMEOUT_MS = 90_000


def test_a_report_from_a_template_is_previewed_and_downloaded_as_a_pdf(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    """Given the community manager on the reports page,
    when she creates a report from the monthly template, titles it and saves it,
    then its preview shows the title and its PDF download is a PDF carrying the title."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (Debian's poppler-utils) reads the PDF back")
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{DEMO_WORKSPACE.slug}/reports"))
    template = page.locator(".report-templates form", has=page.locator("input[value=monthly]"))
    template.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report settings")

    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Save and preview").click()

    expect(page.get_by_role("heading", level=1).first).to_have_text("Report preview")
    expect(page.locator("article.report h1")).to_have_text(TITLE)
    with page.expect_download(timeout=PDF_TIMEOUT_MS) as download_info:
        page.locator(".report-actions a", has_text="PDF").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    assert path.suffix == ".pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert TITLE in " ".join(text.split())
