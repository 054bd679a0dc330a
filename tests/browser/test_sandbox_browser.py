"""The sandbox's Weibo post page in a real browser: what "open on the platform" shows for a
sandbox channel is the post's text and its picture, drawn, with the audience's comments."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from guanxi.connectors.weibo_links import status_url
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.weibo import DEMO_SAFE_DOMAIN, DEMO_WEIBO_TOKEN
from tests import http_support as local
from tests.http_support import local_client

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The platform sandbox with its demo accounts (its audience plays only on demand)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUANXI_SANDBOX_AUDIENCE_PACE_S", "0")
        with run_in_thread() as running:
            yield running


def _rose_png() -> bytes:
    """A 120 x 80 pink picture."""
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (233, 150, 170)).save(out, format="PNG")
    return out.getvalue()


def test_the_post_page_shows_the_text_the_picture_and_the_comments(
    browser: Browser, sandbox: RunningSandbox
) -> None:
    """Given a post shared with a picture and a round of the audience, when its page (the
    connector's link) is opened, then the text, the drawn picture and a comment show."""
    with local_client(base_url=sandbox.api_base("/weibo")) as api:
        shared = api.post(
            "/2/statuses/share.json",
            data={
                "access_token": DEMO_WEIBO_TOKEN,
                "status": f"普罗旺斯桃红配小龙虾 https://{DEMO_SAFE_DOMAIN}/rose",
            },
            files={"pic": ("rose.png", _rose_png(), "image/png")},
        )
    assert shared.status_code == 200, shared.text
    local.post(sandbox.base_url + "/_sandbox/audience/round", params={"rounds": 2})
    link = status_url(sandbox.api_base("/weibo"), shared.json()["idstr"])

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.get_by_text("普罗旺斯桃红配小龙虾")).to_be_visible()
        picture = page.locator(".pics img")
        expect(picture).to_have_count(1)
        picture.scroll_into_view_if_needed()
        assert picture.evaluate("img => img.complete && img.naturalWidth") == 120
        expect(page.locator(".comment").first).to_be_visible()
    finally:
        context.close()
