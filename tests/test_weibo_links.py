"""Weibo's "open on the platform" links: weibo.com for Weibo's API, the sandbox's own post
page for a sandbox channel, which shows the post's text and picture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guanxi.connectors.base import (
    ChannelContext,
    FetchedKind,
    MediaFile,
    MediaKind,
    PublishRequest,
    Token,
    VariantDraft,
)
from guanxi.connectors.weibo_links import status_url
from guanxi.sandbox.weibo import DEMO_SAFE_DOMAIN, DEMO_WEIBO_TOKEN, DEMO_WEIBO_UID
from tests.inbox_ingest_support import BASE, make_stack
from tests.metrics_support import MemoryTokens

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("base", "uid", "expected"),
    [
        ("https://api.weibo.com", "5821937460", "https://weibo.com/5821937460/4800000000000001"),
        ("https://api.weibo.com/", "", "https://m.weibo.cn/status/4800000000000001"),
        (
            "http://127.0.0.1:8310/weibo",
            "5821937460",
            "http://127.0.0.1:8310/weibo/status/4800000000000001",
        ),
    ],
)
def test_a_post_opens_on_weibo_or_on_the_stand_in_serving_the_api(
    base: str, uid: str, expected: str
) -> None:
    assert status_url(base, "4800000000000001", uid) == expected


def test_a_sandbox_channels_links_open_the_sandbox_post_page_with_its_picture(
    tmp_path: Path,
) -> None:
    """Given the Weibo connector on the sandbox, when it publishes a post with a picture
    and reads a comment on it, then both links point to the sandbox's post page, which
    shows the text and the picture (served as the uploaded bytes)."""
    stack = make_stack()
    connector = stack.connector("weibo")
    channel = ChannelContext(1, DEMO_WEIBO_UID, {}, MemoryTokens(Token(DEMO_WEIBO_TOKEN, None)))
    text = f"普罗旺斯桃红，夏日首选 https://{DEMO_SAFE_DOMAIN}/rose"
    path = tmp_path / "rose.png"
    path.write_bytes(PNG)
    image = MediaFile(
        path=path, kind=MediaKind.IMAGE, content_type="image/png", size=len(PNG), sha256="0"
    )
    result = connector.publish(
        channel,
        PublishRequest(variant=VariantDraft(text=text, media=(image,)), idempotency_key="k1"),
    )
    assert result.url == f"{BASE}/weibo/status/{result.external_id}"
    stack.tick(comments=2)
    comments = connector.fetch_comments(channel).items
    assert comments
    assert all(c.kind is FetchedKind.COMMENT for c in comments)
    assert {c.url for c in comments} == {result.url}

    page = stack.http.get(result.url)
    assert page.status_code == 200
    assert "普罗旺斯桃红，夏日首选" in page.text
    pictures = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(pictures) == 1
    picture = stack.http.get(pictures[0])
    assert picture.status_code == 200
    assert picture.content == PNG
    assert picture.headers["content-type"] == "image/png"
    assert comments[0].text in page.text
    account = stack.http.get(f"/accounts/weibo/{DEMO_WEIBO_UID}")
    assert pictures[0] in account.text  # the account page shows the picture too


def test_an_unknown_post_is_a_404_page() -> None:
    stack = make_stack()
    assert stack.http.get("/weibo/status/1").status_code == 404
    assert stack.http.get("/_sandbox/media/nope").status_code == 404
