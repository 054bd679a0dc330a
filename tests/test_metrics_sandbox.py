"""The sandbox's controls for figures: its clock, an account made to differ, older posts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.douyin import DEMO_DOUYIN_OPEN_ID
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from tests.metrics_support import NOW, TODAY


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The whole sandbox (every platform, the demo accounts), called in-process."""
    with TestClient(create_sandbox_app(seed=3)) as test_client:
        yield test_client


def test_the_clock_is_set_moved_and_reset_over_http(client: TestClient) -> None:
    """PUT fixes "now" (or moves it), DELETE goes back to the real time."""
    answer = client.put("/_sandbox/clock", json={"now": NOW.isoformat()})
    assert answer.json()["now"] == NOW.isoformat()
    moved = client.put("/_sandbox/clock", json={"offset_s": 86400}).json()
    assert moved["fixed"] is None
    assert moved["offset_s"] == 86400
    assert client.delete("/_sandbox/clock").json()["offset_s"] == 0
    assert client.put("/_sandbox/clock", json={"now": "yesterday"}).status_code == 422


def test_an_accounts_figures_and_how_to_change_them(client: TestClient) -> None:
    """The figures of a day are shown; an account's profile can be changed, within limits."""
    client.put("/_sandbox/clock", json={"now": NOW.isoformat()})
    path = f"/_sandbox/metrics/accounts/douyin/{DEMO_DOUYIN_OPEN_ID}"
    day = str(TODAY - timedelta(days=1))
    before = client.get(path, params={"day": day}).json()
    assert before["figures"]["followers"] > 100
    assert client.put(path, json={"initial_followers": 80, "daily_new_followers": 0}).is_success
    after = client.get(path, params={"day": day}).json()
    assert after["figures"]["followers"] <= 80
    assert client.put(path, json={"password": "x"}).status_code == 422
    assert client.get("/_sandbox/metrics/accounts/douyin/nobody").status_code == 404
    assert client.get(path, params={"day": "2026-13-01"}).status_code == 422
    ancient = client.get(path, params={"day": "2020-01-01"}).json()
    assert ancient["figures"] is None  # before the account's history starts


@pytest.mark.parametrize(
    "path",
    [
        f"/weibo/_sandbox/accounts/{DEMO_WEIBO_UID}/history",
        f"/wechat/_sandbox/accounts/{DEMO_WECHAT_APPID}/history",
        f"/douyin/_sandbox/accounts/{DEMO_DOUYIN_OPEN_ID}/history",
    ],
)
def test_older_posts_are_given_once(client: TestClient, path: str) -> None:
    """Each platform can give an account posts from before guanxi knew it; asking again for
    the same days adds nothing (the same posts, the same ids)."""
    client.put("/_sandbox/clock", json={"now": NOW.isoformat()})
    first = client.post(path, json={"days": 28, "per_week": 3}).json()["added"]
    assert 6 <= first <= 24
    again = client.post(path, json={"days": 28, "per_week": 3}).json()["added"]
    assert again == 0
    platform = path.split("/")[1]
    posts = client.get("/_sandbox/posts", params={"platform": platform}).json()
    assert len(posts) >= first
    assert client.post(path.replace("accounts/", "accounts/x"), json={}).status_code == 404
