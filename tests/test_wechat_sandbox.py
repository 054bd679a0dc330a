"""The sandbox's WeChat Official Account surface behaves as WeChat documents it.

Fixtures here (a sandbox with the demo account, a client on its API) are shared with the
other tests/test_wechat_*.py modules.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from guanxi.core.db import utcnow
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.faults import FaultKind, FaultRule
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    WechatLimits,
    WechatSandbox,
    surface_of,
)
from tests import http_support as local
from tests.http_support import local_client

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PUBLISH_DELAY_S = 0.3


@pytest.fixture
def wechat() -> WechatSandbox:
    """The WeChat platform's state, with short publish jobs."""
    return WechatSandbox(limits=WechatLimits(publish_delay_s=PUBLISH_DELAY_S))


@pytest.fixture
def sandbox(wechat: WechatSandbox) -> Iterator[RunningSandbox]:
    """A sandbox serving only WeChat, with the demo Official Account."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running:
        yield running


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """A client on the sandbox's api.weixin.qq.com."""
    with local_client(base_url=sandbox.api_base("/wechat")) as client:
        yield client


def get_token(api: httpx.Client) -> str:
    answer = api.get(
        "/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": DEMO_WECHAT_APPID,
            "secret": DEMO_WECHAT_SECRET,
        },
    ).json()
    return str(answer["access_token"])


def call(api: httpx.Client, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.post(path, params={"access_token": token}, json=body).json()
    return result


def errcode(answer: dict[str, Any]) -> int:
    return int(answer.get("errcode", 0))


def cover_id(api: httpx.Client, token: str) -> str:
    answer = api.post(
        "/cgi-bin/material/add_material",
        params={"access_token": token, "type": "thumb"},
        files={"media": ("cover.jpg", JPEG, "image/jpeg")},
    ).json()
    return str(answer["media_id"])


def article(thumb: str, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "新品上市",
        "digest": "摘要",
        "content": "<p>正文</p>",
        "thumb_media_id": thumb,
        **overrides,
    }


def test_a_new_token_invalidates_the_previous_one(api: httpx.Client) -> None:
    first = get_token(api)
    second = get_token(api)

    assert first != second
    assert errcode(call(api, "/cgi-bin/freepublish/batchget", first, {"count": 1})) == 40001
    assert errcode(call(api, "/cgi-bin/freepublish/batchget", second, {"count": 1})) == 0


def test_token_answers_expires_in_7200(api: httpx.Client) -> None:
    answer = api.get(
        "/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": DEMO_WECHAT_APPID,
            "secret": DEMO_WECHAT_SECRET,
        },
    ).json()

    assert answer["expires_in"] == 7200
    assert answer["access_token"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"grant_type": "client_credential", "appid": DEMO_WECHAT_APPID, "secret": "wrong"}, 40125),
        ({"grant_type": "client_credential", "appid": "wx0000000000000000", "secret": "x"}, 40013),
        ({"grant_type": "password", "appid": DEMO_WECHAT_APPID, "secret": "x"}, 40002),
        ({"grant_type": "client_credential", "secret": "x"}, 41002),
    ],
)
def test_token_refuses_wrong_credentials(
    api: httpx.Client, params: dict[str, str], code: int
) -> None:
    answer = api.get("/cgi-bin/token", params=params)

    assert answer.status_code == 200  # WeChat errors come with HTTP 200
    assert answer.json()["errcode"] == code
    assert "rid:" in answer.json()["errmsg"]


def test_stable_token_is_the_same_while_valid_unless_forced(api: httpx.Client) -> None:
    body = {
        "grant_type": "client_credential",
        "appid": DEMO_WECHAT_APPID,
        "secret": DEMO_WECHAT_SECRET,
    }
    first = api.post("/cgi-bin/stable_token", json=body).json()["access_token"]
    again = api.post("/cgi-bin/stable_token", json=body).json()["access_token"]
    normal = get_token(api)  # the two kinds of token do not invalidate each other
    forced = api.post("/cgi-bin/stable_token", json={**body, "force_refresh": True}).json()

    assert again == first
    assert forced["access_token"] != first
    assert errcode(call(api, "/cgi-bin/freepublish/batchget", first, {"count": 1})) == 40001
    assert errcode(call(api, "/cgi-bin/freepublish/batchget", normal, {"count": 1})) == 0


def test_token_errors_say_missing_invalid_or_expired(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    token = get_token(api)
    path, body = "/cgi-bin/freepublish/batchget", {"count": 1}

    assert errcode(api.post(path, json=body).json()) == 41001
    assert errcode(call(api, path, "not-a-token", body)) == 40014
    sandbox.sandbox.state.tokens[token].expires_at = utcnow() - timedelta(seconds=1)
    assert errcode(call(api, path, token, body)) == 42001


def test_daily_quota_and_minute_limit(sandbox: RunningSandbox, wechat: WechatSandbox) -> None:
    wechat.limits.daily_quota = 3
    with local_client(base_url=sandbox.api_base("/wechat")) as api:
        token = get_token(api)
        codes = [
            errcode(call(api, "/cgi-bin/freepublish/batchget", token, {"count": 1}))
            for _ in range(4)
        ]
        assert codes == [0, 0, 0, 45009]
        assert errcode(call(api, "/cgi-bin/clear_quota", token, {"appid": DEMO_WECHAT_APPID})) == 0
        assert errcode(call(api, "/cgi-bin/freepublish/batchget", token, {"count": 1})) == 0

        wechat.limits.daily_quota, wechat.limits.minute_quota = 1000, 2
        minute = [
            errcode(call(api, "/cgi-bin/freepublish/get", token, {"publish_id": "1"}))
            for _ in range(3)
        ]
        assert minute == [40007, 40007, 45011]


def test_an_api_the_account_may_not_use_is_48001(api: httpx.Client, wechat: WechatSandbox) -> None:
    wechat.accounts[DEMO_WECHAT_APPID].denied_apis = {"freepublish_submit"}
    token = get_token(api)

    assert errcode(call(api, "/cgi-bin/freepublish/submit", token, {"media_id": "x"})) == 48001


def test_an_injected_server_error_is_system_busy(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    token = get_token(api)
    sandbox.sandbox.faults.add(FaultRule(kind=FaultKind.SERVER_ERROR, platform="wechat"))

    answer = call(api, "/cgi-bin/freepublish/batchget", token, {"count": 1})

    assert answer["errcode"] == -1


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": "长" * 65}, 45003),
        ({"digest": "长" * 121}, 45004),
        ({"thumb_media_id": "unknown"}, 40007),
        ({"title": ""}, 44004),
        ({"author": "长" * 17}, 45110),
    ],
)
def test_draft_add_enforces_the_article_rules(
    api: httpx.Client, overrides: dict[str, Any], code: int
) -> None:
    token = get_token(api)
    body = {"articles": [article(cover_id(api, token), **overrides)]}

    assert errcode(call(api, "/cgi-bin/draft/add", token, body)) == code


def test_uploads_check_type_and_size(api: httpx.Client) -> None:
    token = get_token(api)

    def upload(path: str, data: bytes, kind: str = "") -> int:
        params = {"access_token": token, **({"type": kind} if kind else {})}
        files = {"media": ("f", data, "application/octet-stream")}
        return errcode(api.post(path, params=params, files=files).json())

    assert upload("/cgi-bin/material/add_material", PNG, "thumb") == 40005  # thumbs are JPG
    assert upload("/cgi-bin/material/add_material", JPEG + b"0" * 70_000, "thumb") == 40009
    assert upload("/cgi-bin/material/add_material", PNG, "image") == 0
    assert upload("/cgi-bin/material/add_material", PNG, "") == 40004
    assert upload("/cgi-bin/media/uploadimg", b"GIF89a....") == 40005
    assert upload("/cgi-bin/media/uploadimg", PNG) == 0


def test_a_publish_job_runs_then_succeeds_and_is_listed(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    """submit answers errcode 0 with a publish_id; the job is publishing (1), then 0."""
    token = get_token(api)
    image = api.post(
        "/cgi-bin/media/uploadimg",
        params={"access_token": token},
        files={"media": ("a.jpg", JPEG, "image/jpeg")},
    ).json()["url"]
    content = f'<p>正文</p><img src="{image}"><img src="https://example.com/x.jpg">'
    draft = call(
        api,
        "/cgi-bin/draft/add",
        token,
        {"articles": [article(cover_id(api, token), content=content)]},
    )
    submitted = call(api, "/cgi-bin/freepublish/submit", token, {"media_id": draft["media_id"]})
    publish_id = submitted["publish_id"]

    assert submitted["errcode"] == 0
    assert call(api, "/cgi-bin/freepublish/get", token, {"publish_id": publish_id}) == {
        "publish_id": publish_id,
        "publish_status": 1,
    }
    time.sleep(PUBLISH_DELAY_S + 0.1)
    done = call(api, "/cgi-bin/freepublish/get", token, {"publish_id": publish_id})
    assert done["publish_status"] == 0
    assert done["article_detail"]["count"] == 1
    listed = call(api, "/cgi-bin/freepublish/batchget", token, {"offset": 0, "count": 20})
    assert listed["total_count"] == 1
    kept = listed["item"][0]["content"]["news_item"][0]["content"]
    assert image in kept
    assert "example.com" not in kept  # images not uploaded to WeChat are filtered out
    page = local.get(sandbox.base_url + f"/accounts/wechat/{DEMO_WECHAT_APPID}")
    assert "新品上市" in page.text
    assert "published" in page.text

    deleted = call(api, "/cgi-bin/freepublish/delete", token, {"article_id": done["article_id"]})
    assert deleted["errcode"] == 0
    after = call(api, "/cgi-bin/freepublish/get", token, {"publish_id": publish_id})
    assert after["publish_status"] == 5
    assert call(api, "/cgi-bin/freepublish/batchget", token, {"count": 20})["total_count"] == 0


def test_a_job_can_end_in_failure(api: httpx.Client, wechat: WechatSandbox) -> None:
    wechat.accounts[DEMO_WECHAT_APPID].publish_outcome = 4
    token = get_token(api)
    draft = call(api, "/cgi-bin/draft/add", token, {"articles": [article(cover_id(api, token))]})
    publish_id = call(api, "/cgi-bin/freepublish/submit", token, {"media_id": draft["media_id"]})[
        "publish_id"
    ]

    time.sleep(PUBLISH_DELAY_S + 0.1)
    failed = call(api, "/cgi-bin/freepublish/get", token, {"publish_id": publish_id})

    assert failed["publish_status"] == 4
    assert failed["fail_idx"] == [1]
