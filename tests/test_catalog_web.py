"""The catalog pages and API as a signed-in user and an API client see them."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership
from tests.conftest import CSRF_RE

Client = tuple[TestClient, Membership]


def rows(page: str) -> list[str]:
    """The platform links of the catalog table, in order."""
    return re.findall(r'<td>\s*<a href="/catalog/([a-z0-9_-]+)">', page)


def switch_to_chinese(client: TestClient) -> None:
    page = client.get("/catalog")
    token = CSRF_RE.search(page.text)
    assert token, "the page carries the language form's CSRF token"
    response = client.post(
        "/language",
        data={"language": "zh_Hans", "next": "/catalog", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_the_catalog_needs_a_signed_in_user(client: TestClient) -> None:
    for path in ("/catalog", "/catalog/weibo"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/catalog")


def test_the_catalog_lists_every_platform(signed_in: Client) -> None:
    client, _ = signed_in
    page = client.get("/catalog")
    assert page.status_code == 200
    listed = rows(page.text)
    assert {"weibo", "wechat", "tudou", "facebook", "douyin"} <= set(listed)
    assert "Sina Weibo" in page.text
    assert "Internet users in China" in page.text


def test_filters_narrow_the_table(signed_in: Client) -> None:
    client, _ = signed_in
    everything = rows(client.get("/catalog").text)
    videos = rows(client.get("/catalog", params={"kind": "video"}).text)
    assert 0 < len(videos) < len(everything)
    assert {"youku", "tudou", "youtube"} <= set(videos)
    assert "weibo" not in videos
    mainland = rows(client.get("/catalog", params={"region": "mainland"}).text)
    assert "weibo" in mainland
    assert "facebook" not in mainland
    ftz = rows(client.get("/catalog", params={"region": "shanghai_ftz", "on": "2013-10-01"}).text)
    assert "facebook" in ftz
    assert rows(client.get("/catalog", params={"q": "微博"}).text)[0] == "weibo"
    foreign_merged = client.get("/catalog", params={"origin": "foreign", "status": "merged"})
    assert rows(foreign_merged.text) == []
    assert "No platform matches these filters" in foreign_merged.text


def test_htmx_gets_only_the_results(signed_in: Client) -> None:
    client, _ = signed_in
    fragment = client.get("/catalog", params={"kind": "video"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "youku" in rows(fragment.text)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "podcast"}, "is not a valid kind"),
        ({"region": "mars"}, "is not a valid region"),
        ({"on": "yesterday"}, "is not a date"),
    ],
)
def test_bad_filter_values_get_a_clear_message_not_an_error_page(
    signed_in: Client, params: dict[str, str], message: str
) -> None:
    client, _ = signed_in
    page = client.get("/catalog", params=params)
    assert page.status_code == 400
    assert message in page.text
    assert 'role="alert"' in page.text
    assert "weibo" in rows(page.text), "the list is still there, unfiltered"


def test_chinese_names_appear_in_chinese(signed_in: Client) -> None:
    client, _ = signed_in
    switch_to_chinese(client)
    page = client.get("/catalog")
    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.text
    assert ">新浪微博</a>" in page.text
    assert ">微信</a>" in page.text
    detail = client.get("/catalog/tudou")
    assert "<h1>土豆网" in detail.text
    assert "2012 年 3 月与优酷合并" in detail.text
    assert ">优酷</a>" in detail.text


def test_the_detail_page_shows_figures_chart_and_sources(signed_in: Client) -> None:
    client, _ = signed_in
    page = client.get("/catalog/weibo")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Sina Weibo" in text
    assert 'id="figures-chart"' in text
    assert '<script src="/static/vendor/echarts.min.js"></script>' in text
    assert "500 m" in text
    assert "598 m" in text
    assert "2013-06-30" in text
    assert "2023-12-31" in text
    assert "Weibo Announces Fourth Quarter and Fiscal Year 2023" in text
    data = re.search(
        r'<script type="application/json" id="figures-data">(.*?)</script>', text, re.DOTALL
    )
    assert data
    chart = json.loads(data.group(1))
    names = [series["name"] for series in chart["series"]]
    assert len(names) == len(set(names)) == 3, "one series per metric"
    registered = next(s for s in chart["series"] if s["name"] == "Registered accounts")
    assert registered["data"] == [["2013-06-30", 500_000_000]]


def test_the_detail_page_shows_reach_over_time_and_apis(signed_in: Client) -> None:
    client, _ = signed_in
    text = client.get("/catalog/facebook").text
    assert "Shanghai Free-Trade Zone" in text
    assert "Reported reachable" in text
    assert "Blocked" in text
    assert "since 2013-09-24" in text
    assert "EXCLUSIVE: Facebook &amp; Twitter approved in China" in text
    assert "Official API" in text
    assert 'href="https://developers.facebook.com/docs/graph-api/"' in text


def test_a_platform_without_figures_has_no_chart(signed_in: Client) -> None:
    client, _ = signed_in
    page = client.get("/catalog/soku")
    assert page.status_code == 200
    assert 'id="figures-chart"' not in page.text
    assert "echarts.min.js" not in page.text
    assert "No user figure with a source yet" in page.text


def test_an_unknown_platform_is_a_translated_404(signed_in: Client) -> None:
    client, _ = signed_in
    page = client.get("/catalog/myspace")
    assert page.status_code == 404
    assert "The catalog has no platform “myspace”" in page.text
    switch_to_chinese(client)
    page = client.get("/catalog/myspace")
    assert page.status_code == 404
    assert 'lang="zh-Hans"' in page.text


@pytest.fixture
def api(signed_in: Client, db: Session) -> TestClient:
    """The signed-in client's workspace, with an API token sent on every request."""
    client, membership = signed_in
    _token, plain = accounts.create_api_token(
        db, membership=db.merge(membership), name="catalog tests"
    )
    db.commit()
    client.headers["Authorization"] = f"Bearer {plain}"
    return client


def test_the_api_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/catalog/platforms")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]


def test_the_api_lists_platforms_with_the_page_filters(api: TestClient) -> None:
    everything = api.get("/api/v1/catalog/platforms")
    assert everything.status_code == 200
    items = everything.json()
    assert {"weibo", "douyin", "facebook"} <= {item["slug"] for item in items}
    weibo = next(item for item in items if item["slug"] == "weibo")
    assert weibo["name_zh"] == "新浪微博"
    assert weibo["kind"] == "microblog"
    assert weibo["status"] == "active"
    assert {"region": "mainland", "access": "open"} in weibo["reach_now"]
    assert weibo["latest_figure"]["as_of"] == "2023-12-31"
    videos = api.get(
        "/api/v1/catalog/platforms", params={"kind": "video", "origin": "china"}
    ).json()
    assert {"youku", "tudou"} <= {item["slug"] for item in videos}
    assert all(item["kind"] == "video" and item["origin"] == "china" for item in videos)
    ftz = api.get(
        "/api/v1/catalog/platforms", params={"region": "shanghai_ftz", "on": "2013-10-01"}
    )
    facebook = next(item for item in ftz.json() if item["slug"] == "facebook")
    assert {"region": "shanghai_ftz", "access": "reported_open"} in facebook["reach_now"]


def test_the_api_refuses_bad_filter_values(api: TestClient) -> None:
    response = api.get("/api/v1/catalog/platforms", params={"kind": "podcast"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "kind"
    assert "microblog" in body["errors"][0]["message"]


def test_the_api_returns_one_platform_with_its_sources(api: TestClient) -> None:
    response = api.get("/api/v1/catalog/platforms/tudou")
    assert response.status_code == 200
    tudou = response.json()
    assert tudou["status"] == "merged"
    assert tudou["history"][0]["into"] == "youku"
    assert tudou["history"][0]["on"] == "2012-03-12"
    assert [source["id"] for source in tudou["sources"]] == ["seed-2013"]
    missing = api.get("/api/v1/catalog/platforms/myspace")
    assert missing.status_code == 404
    assert "myspace" in missing.json()["detail"]


def test_the_api_is_described_in_openapi(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    listing = spec["paths"]["/api/v1/catalog/platforms"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"kind", "status", "origin", "region"}
    assert "PlatformListItem" in json.dumps(listing["responses"]["200"])
    assert "PlatformDetail" in json.dumps(
        spec["paths"]["/api/v1/catalog/platforms/{platform_slug}"]["get"]
    )
