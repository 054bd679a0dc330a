"""The sandbox's Weibo surface, spoken to over HTTP as a client of api.weibo.com would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.weibo import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_SAFE_DOMAIN,
    DEMO_WEIBO_NAME,
    DEMO_WEIBO_TOKEN,
    DEMO_WEIBO_UID,
    SECOND_WEIBO_UID,
    WeiboLimits,
    WeiboSandbox,
    share_text_length,
)
from tests import http_support as local
from tests.http_support import local_client

LINK = f"https://{DEMO_SAFE_DOMAIN}/rose"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REDIRECT = "http://127.0.0.1:8000/channels/oauth/weibo/callback"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox with the Weibo surface and its demo data, small limits for the limit tests."""
    weibo = WeiboSandbox(limits=WeiboLimits(user_shares_per_hour=3))
    app = create_sandbox_app(platform_surfaces=[weibo.surface()])
    with run_in_thread(app) as running:
        yield running


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client rooted at the sandbox's Weibo base URL."""
    with local_client(base_url=sandbox.api_base("/weibo")) as client:
        yield client


def share(
    api: httpx.Client, text: str, token: str = DEMO_WEIBO_TOKEN, **extra: object
) -> httpx.Response:
    """POST statuses/share with the text URL-encoded, as the documentation requires."""
    data = {"access_token": token, "status": quote(text, safe=""), **extra}
    return api.post("/2/statuses/share.json", data=data)


def test_share_posts_the_decoded_text_on_the_account(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    """Given the demo token, When a status linking to the safe domain is shared, Then it
    comes back as a Weibo status and shows on the sandbox account."""
    response = share(api, f"夏天的桃红 {LINK}")
    assert response.status_code == 200
    status = response.json()
    assert status["text"] == f"夏天的桃红 {LINK}"
    assert status["idstr"] == str(status["id"]) == status["mid"]
    assert status["user"]["screen_name"] == DEMO_WEIBO_NAME
    assert status["created_at"].endswith("+0800 " + status["created_at"][-4:])
    posts = local.get(f"{sandbox.base_url}/_sandbox/posts", params={"platform": "weibo"}).json()
    assert [p["post_id"] for p in posts] == [status["idstr"]]
    page = local.get(f"{sandbox.base_url}/accounts/weibo/{DEMO_WEIBO_UID}")
    assert "夏天的桃红" in page.text


def test_share_with_one_picture(api: httpx.Client, sandbox: RunningSandbox) -> None:
    """A multipart share with one PNG is kept with its picture."""
    data = {"access_token": DEMO_WEIBO_TOKEN, "status": quote(f"看图 {LINK}", safe="")}
    response = api.post(
        "/2/statuses/share.json", data=data, files={"pic": ("a.png", PNG, "image/png")}
    )
    assert response.status_code == 200, response.text
    assert response.json()["original_pic"].startswith("https://")
    [post] = sandbox.sandbox.state.posts
    assert post.media == ["a.png"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("没有链接的文字", 10017),
        ("链接不在安全域名 https://elsewhere.example/x", 10017),
        (f"#葡萄酒# 话题 {LINK}", 10017),
        ("长" * 141 + f" {LINK}", 20012),
        ("", 10016),
    ],
)
def test_share_refuses_what_the_documentation_forbids(
    api: httpx.Client, text: str, code: int
) -> None:
    """No safe-domain link, a #topic#, over 140 characters, or no text: Weibo's error JSON."""
    response = share(api, text)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == code
    assert body["request"] == "/2/statuses/share.json"
    assert body["error"]


def test_a_subdomain_of_the_safe_domain_is_accepted(api: httpx.Client) -> None:
    """The safe domain covers its subdomains."""
    assert share(api, f"好 https://shop.{DEMO_SAFE_DOMAIN}/a").status_code == 200


def test_text_length_counts_two_ascii_characters_as_one() -> None:
    """Weibo's count: 140 Chinese characters, or 280 Latin letters."""
    assert share_text_length("长" * 140) == 140
    assert share_text_length("a" * 280) == 140
    assert share_text_length("a" * 281) == 141


def test_repeated_text_is_refused_with_20019(api: httpx.Client) -> None:
    """The same text twice in a short time is refused."""
    assert share(api, f"一次 {LINK}").status_code == 200
    again = share(api, f"一次 {LINK}")
    assert again.status_code == 400
    assert again.json()["error_code"] == 20019


def test_pictures_must_be_one_image_under_the_limit(api: httpx.Client) -> None:
    """Not an image: 20005; two pictures: 10017."""
    data = {"access_token": DEMO_WEIBO_TOKEN, "status": quote(f"图 {LINK}", safe="")}
    bad = api.post(
        "/2/statuses/share.json", data=data, files={"pic": ("a.txt", b"hello", "text/plain")}
    )
    assert bad.json()["error_code"] == 20005
    two = api.post(
        "/2/statuses/share.json",
        data=data,
        files=[("pic", ("a.png", PNG, "image/png")), ("pic", ("b.png", PNG, "image/png"))],
    )
    assert two.json()["error_code"] == 10017


@pytest.mark.parametrize(("token", "code"), [("", 21301), ("2.00nonsense", 21332)])
def test_missing_or_unknown_tokens_are_refused(api: httpx.Client, token: str, code: int) -> None:
    """No token or an unknown one: a token error code with HTTP 401."""
    response = share(api, f"x {LINK}", token=token)
    assert response.status_code == 401
    assert response.json()["error_code"] == code


def test_expired_and_revoked_tokens(api: httpx.Client, sandbox: RunningSandbox) -> None:
    """An expired token answers 21327 expired_token; a revoked one 21332."""
    state = sandbox.sandbox.state
    old = state.issue_token(
        platform="weibo",
        account_id=DEMO_WEIBO_UID,
        client_id=DEMO_APP_KEY,
        lifetime=timedelta(seconds=-1),
    )
    assert share(api, f"x {LINK}", token=old.token).json()["error_code"] == 21327
    local.post(f"{sandbox.base_url}/_sandbox/revoke", params={"platform": "weibo"})
    assert share(api, f"x {LINK}").json()["error_code"] == 21332


def test_hourly_share_limit_answers_10024(api: httpx.Client) -> None:
    """Given a limit of 3 shares an hour, the fourth is refused with HTTP 403 and 10024."""
    for n in range(3):
        assert share(api, f"第{n}条 {LINK}").status_code == 200
    refused = share(api, f"第四条 {LINK}")
    assert refused.status_code == 403
    assert refused.json()["error_code"] == 10024


def test_user_and_app_request_limits() -> None:
    """Per user per app (10023) and per app server (10022), both HTTP 403."""
    weibo = WeiboSandbox(limits=WeiboLimits(user_requests_per_hour=2, ip_requests_per_hour=3))
    with run_in_thread(create_sandbox_app(platform_surfaces=[weibo.surface()])) as running:
        api = running.api_base("/weibo")
        show = {"uid": DEMO_WEIBO_UID, "access_token": DEMO_WEIBO_TOKEN}
        assert local.get(f"{api}/2/users/show.json", params=show).status_code == 200
        assert local.get(f"{api}/2/users/show.json", params=show).status_code == 200
        user_limited = local.get(f"{api}/2/users/show.json", params=show)
        assert (user_limited.status_code, user_limited.json()["error_code"]) == (403, 10023)
        app_limited = local.get(f"{api}/2/users/show.json", params=show)
        assert (app_limited.status_code, app_limited.json()["error_code"]) == (403, 10022)


def test_timeline_show_and_destroy(api: httpx.Client) -> None:
    """The account's own timeline lists its posts; destroy removes one; show then 20101."""
    first = share(api, f"第一条 {LINK}").json()
    second = share(api, f"第二条 {LINK}").json()
    timeline = api.get(
        "/2/statuses/user_timeline.json", params={"access_token": DEMO_WEIBO_TOKEN, "count": 1}
    )
    assert [s["idstr"] for s in timeline.json()["statuses"]] == [second["idstr"]]
    assert timeline.json()["total_number"] == 2
    page2 = api.get(
        "/2/statuses/user_timeline.json",
        params={"access_token": DEMO_WEIBO_TOKEN, "count": 1, "page": 2},
    )
    assert [s["idstr"] for s in page2.json()["statuses"]] == [first["idstr"]]
    shown = api.get(
        "/2/statuses/show.json", params={"access_token": DEMO_WEIBO_TOKEN, "id": first["idstr"]}
    )
    assert shown.json()["text"].startswith("第一条")
    destroyed = api.post(
        "/2/statuses/destroy.json", data={"access_token": DEMO_WEIBO_TOKEN, "id": first["idstr"]}
    )
    assert destroyed.status_code == 200
    gone = api.get(
        "/2/statuses/show.json", params={"access_token": DEMO_WEIBO_TOKEN, "id": first["idstr"]}
    )
    assert gone.json()["error_code"] == 20101


def test_oauth_code_flow(api: httpx.Client) -> None:
    """Consent as the second account, exchange the code once, read the token's info."""
    page = api.get(
        "/oauth2/authorize",
        params={"client_id": DEMO_APP_KEY, "redirect_uri": REDIRECT, "state": "s1"},
    )
    assert page.status_code == 200
    assert DEMO_WEIBO_NAME in page.text
    wrong = api.post(
        "/oauth2/authorize",
        data={
            "client_id": DEMO_APP_KEY,
            "redirect_uri": REDIRECT,
            "state": "s1",
            "account_id": SECOND_WEIBO_UID,
            "password": "nope",
            "action": "allow",
        },
    )
    assert wrong.status_code == 400
    allowed = api.post(
        "/oauth2/authorize",
        data={
            "client_id": DEMO_APP_KEY,
            "redirect_uri": REDIRECT,
            "state": "s1",
            "account_id": SECOND_WEIBO_UID,
            "password": "sandbox",
            "action": "allow",
        },
    )
    assert allowed.status_code == 302
    location = urlsplit(allowed.headers["location"])
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    exchange = {
        "client_id": DEMO_APP_KEY,
        "client_secret": DEMO_APP_SECRET,
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
    }
    mismatch = api.post(
        "/oauth2/access_token", data={**exchange, "redirect_uri": "http://other/cb"}
    )
    assert mismatch.json()["error_code"] == 21322
    token = api.post("/oauth2/access_token", data=exchange).json()
    assert token["uid"] == SECOND_WEIBO_UID
    assert token["expires_in"] > 0
    reused = api.post("/oauth2/access_token", data=exchange)
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    info = api.post("/oauth2/get_token_info", data={"access_token": token["access_token"]}).json()
    assert info["uid"] == int(SECOND_WEIBO_UID)
    assert info["appkey"] == DEMO_APP_KEY


def test_wrong_app_secret_is_invalid_client(api: httpx.Client) -> None:
    """A wrong client_secret answers 21324 invalid_client."""
    response = api.post(
        "/oauth2/access_token",
        data={
            "client_id": DEMO_APP_KEY,
            "client_secret": "wrong",
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": REDIRECT,
        },
    )
    assert response.json()["error_code"] == 21324


def test_injected_server_error_has_weibos_shape(api: httpx.Client, sandbox: RunningSandbox) -> None:
    """An injected 5xx looks like Weibo being busy; nothing is posted."""
    local.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"kind": "server_error", "platform": "weibo", "remaining": 1},
    )
    response = share(api, f"忙 {LINK}")
    assert response.status_code == 503
    assert response.json()["error_code"] == 10009
    assert sandbox.sandbox.state.posts == []
