"""Tracked links from the composer: every web address of a variant becomes a short link when
the variant is saved (made by conversions through the hook in ``channels.tracking``), the
same address on the same variant keeps its link, the author may leave an address or a whole
variant untracked, the platform's own links stay as typed, and a post's page shows the
revenue its links brought in."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.channels import tracking
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.connectors.weibo import WeiboConnector
from guanxi.convert import links as convert_links
from guanxi.convert.models import LinkClick, TrackedLink
from guanxi.convert.tracking import ShortLinkTracker
from guanxi.publishing import link_tracking
from guanxi.publishing.models import Post, Variant
from tests.composer_support import (
    ArticleConnector,
    Team,
    make_team,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token, sign_in
from tests.test_publishing_api import bearer

pytestmark = pytest.mark.usefixtures("test_connectors")

SHOP = "https://shop.provence.example/rose?id=7"
SHORT = "http://127.0.0.1:8000/l/"  # the test settings' base_url, /l


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object, app: FastAPI) -> Team:
    """A workspace with a member per role, a microblog and an article account, and the app
    built (it registers conversions' tracker)."""
    return make_team(db, make_user, make_workspace)


def compose(client: TestClient, team: Team, body: str, **fields: object) -> Post:
    sign_in(client, team.editor.email)
    data = {
        "csrf_token": csrf_token(client),
        "title": "桃红上新",
        "body": body,
        "campaign": "",
        "channels": [str(team.micro.id)],
        "links_shown": "1",
        "track_links": "1",
        **fields,
    }
    response = client.post("/w/acme/publish/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    post_id = int(response.headers["location"].rsplit("/", 1)[1])
    return Post(id=post_id)


def variant_of(db: Session, post_id: int) -> Variant:
    db.expire_all()
    found = db.scalar(select(Variant).where(Variant.post_id == post_id))
    assert found is not None
    return found


def save(client: TestClient, variant: Variant, text: str, **fields: object) -> None:
    response = client.post(
        f"/w/acme/posts/{variant.post_id}/variants/{variant.id}",
        data={"csrf_token": csrf_token(client), "text": text, **fields},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def links_of(db: Session, variant: Variant) -> list[TrackedLink]:
    return list(db.scalars(select(TrackedLink).where(TrackedLink.variant_id == variant.id)))


def test_conversions_registers_its_tracker_when_the_app_is_built(team: Team) -> None:
    """Given the app built with conversions installed, Then the composer's hook answers with
    conversions' tracker on the short-link address of the settings."""
    found = tracking.link_tracker()
    assert isinstance(found, ShortLinkTracker)
    assert found.is_short_link(SHORT + "Ab3dE5gH")
    assert not found.is_short_link(SHOP)


def test_an_address_in_a_new_post_becomes_a_tracked_link_for_its_variant(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given a post written with a shop address in its text, When it is created, Then its
    variant's text holds a short link instead, made for the post, the variant and the
    account's platform, leading to the address with UTM parameters, and the post page lists
    it under the text."""
    post = compose(client, team, f"新酒到店：{SHOP}。欢迎来尝！")
    variant = variant_of(db, post.id)
    [link] = links_of(db, variant)
    assert variant.text == f"新酒到店：{SHORT}{link.key}。欢迎来尝！"
    assert (link.original_url, link.post_id, link.workspace_id) == (
        SHOP,
        post.id,
        team.workspace.id,
    )
    query = parse_qs(urlsplit(link.destination).query)
    assert query["id"] == ["7"]
    assert query["utm_source"] == ["weibo"]
    assert query["utm_content"] == [f"post-{post.id}"]
    page = client.get(f"/w/acme/posts/{post.id}")
    assert f"{SHORT}{link.key}" in page.text
    assert 'name="link_tracked"' in page.text


def test_saving_again_reuses_the_variants_link(client: TestClient, db: Session, team: Team) -> None:
    """Given a variant whose address was tracked, When it is saved as it is, and then with
    the original address typed again, Then the text is the same and no second link is made."""
    post = compose(client, team, f"看这里 {SHOP}")
    variant = variant_of(db, post.id)
    first_text = variant.text
    save(client, variant, first_text)
    assert variant_of(db, post.id).text == first_text
    save(client, variant, f"看这里 {SHOP}")
    assert variant_of(db, post.id).text == first_text
    assert len(links_of(db, variant)) == 1


def test_an_unticked_address_is_left_as_typed(client: TestClient, db: Session, team: Team) -> None:
    """Given a variant with two tracked addresses, When the author unticks one in the list
    under the text and saves, Then that address is back as typed and stays so on the next
    save, while the other keeps its short link."""
    other = "https://www.provence.example/story"
    post = compose(client, team, f"{SHOP} 与 {other}")
    variant = variant_of(db, post.id)
    listed = {"links_shown": "1", "track_links": "1", "link_listed": [SHOP, other]}
    save(client, variant, variant.text, **listed, link_tracked=[other])
    saved = variant_of(db, post.id)
    assert saved.text.startswith(f"{SHOP} 与 {SHORT}")
    assert saved.untracked_urls == [SHOP]
    save(client, saved, saved.text)
    assert variant_of(db, post.id).text.startswith(f"{SHOP} 与 {SHORT}")
    # Ticked again, it is tracked again, with its first link.
    first = next(link for link in links_of(db, saved) if link.original_url == SHOP)
    save(client, saved, saved.text, **listed, link_tracked=[SHOP, other])
    assert variant_of(db, post.id).text.startswith(f"{SHORT}{first.key} 与 {SHORT}")


def test_tracking_off_for_a_variant_restores_every_address(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given a tracked variant, When the author unticks "Track links" and saves, Then its text
    has the addresses as typed; a post created with tracking off makes no link at all."""
    post = compose(client, team, f"店铺 {SHOP}")
    variant = variant_of(db, post.id)
    save(client, variant, variant.text, links_shown="1", link_listed=[SHOP], link_tracked=[SHOP])
    save(client, variant, variant_of(db, post.id).text, links_shown="1")
    saved = variant_of(db, post.id)
    assert (saved.text, saved.track_links) == (f"店铺 {SHOP}", False)
    untracked = compose(client, team, f"店铺 {SHOP}", track_links="")
    assert variant_of(db, untracked.id).text == f"店铺 {SHOP}"
    assert links_of(db, variant_of(db, untracked.id)) == []


def test_the_platforms_own_links_stay_as_typed(
    client: TestClient, db: Session, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an article account whose connector lists WeChat's own domains (as the WeChat
    connector does), When a post links a WeChat article and a shop, Then only the shop
    becomes a short link."""
    monkeypatch.setattr(
        ArticleConnector,
        "own_link_domains",
        WechatOaConnector.own_link_domains,
        raising=False,
    )
    article = "https://mp.weixin.qq.com/s/AbCdEf"
    post = compose(client, team, f"上期回顾 {article} 购买 {SHOP}", channels=[str(team.article.id)])
    text = variant_of(db, post.id).text
    assert text.startswith(f"上期回顾 {article} 购买 {SHORT}")
    assert "weibo.com" in WeiboConnector.own_link_domains


def test_addresses_end_where_chinese_text_or_punctuation_begins() -> None:
    """Given addresses run into Chinese text, closed by punctuation or in brackets, Then each
    is read whole and without what follows it."""
    text = (
        "详情https://a.example/x?y=1，或（https://b.example/p）。"
        "Also https://c.example/wiki/Rose_(wine). And (see http://d.example/)."
    )
    assert link_tracking.addresses(text) == [
        "https://a.example/x?y=1",
        "https://b.example/p",
        "https://c.example/wiki/Rose_(wine)",
        "http://d.example/",
    ]


def test_without_a_tracker_addresses_stay_as_typed(
    client: TestClient, db: Session, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no capability that makes tracked links, When a post with an address is created,
    Then its variant keeps the address and the page offers no tracking choices."""
    monkeypatch.setattr(tracking, "_trackers", [])
    post = compose(client, team, f"店铺 {SHOP}")
    assert variant_of(db, post.id).text == f"店铺 {SHOP}"
    assert 'name="link_tracked"' not in client.get(f"/w/acme/posts/{post.id}").text


def test_too_many_untracked_addresses_are_refused(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given a variant, When a form leaves more addresses untracked than allowed, Then the
    save is refused with the limit and nothing changes."""
    post = compose(client, team, f"店铺 {SHOP}")
    variant = variant_of(db, post.id)
    many = [f"https://x.example/{n}" for n in range(link_tracking.UNTRACKED_MAX + 1)]
    response = client.post(
        f"/w/acme/posts/{post.id}/variants/{variant.id}",
        data={
            "csrf_token": csrf_token(client),
            "text": variant.text,
            "links_shown": "1",
            "track_links": "1",
            "link_listed": many,
        },
    )
    assert response.status_code == 400
    assert "at most 50 addresses" in response.text
    assert variant_of(db, post.id).untracked_urls == []


def test_the_post_page_shows_the_revenue_its_links_brought_in(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given a post whose short link was clicked, When an order carrying that click's id
    arrives through the conversion API, Then the post's page shows its revenue, attributed
    by last touch over a 30-day window."""
    post = compose(client, team, f"店铺 {SHOP}")
    [link] = links_of(db, variant_of(db, post.id))
    clicked = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    convert_links.store_clicks(
        db,
        [
            {
                "click_id": "c" * 32,
                "link_id": link.id,
                "workspace_id": team.workspace.id,
                "clicked_at": clicked,
                "hour": int(clicked.timestamp() // 3600),
                "visitor": "v1",
                "bot": False,
            }
        ],
    )
    assert db.scalar(select(func.count()).select_from(LinkClick)) == 1
    sign_in(client, team.owner.email)
    response = client.post(
        "/api/v1/w/acme/conversions",
        json={
            "order_id": "T-1",
            "ordered_at": "2026-11-02T10:00:00+08:00",
            "amount": 388.5,
            "click_id": "c" * 32,
        },
        headers=bearer(db, team, team.owner),
    )
    assert response.status_code == 200, response.text
    page = client.get(f"/w/acme/posts/{post.id}")
    assert "Revenue from its links" in page.text
    assert "¥388.50" in page.text


def test_a_short_link_the_platform_would_refuse_is_not_made(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given a microblog text that fits its 140 characters only with the short address as
    typed (as Weibo refuses links off its app's safe domain), When the post is created, Then
    the address stays as typed, no link is made, and the page says why."""
    body = "字" * 116 + " https://a.cn/x"
    post = compose(client, team, body)
    variant = variant_of(db, post.id)
    assert variant.text == body
    assert links_of(db, variant) == []
    assert "rules refuse the short link" in client.get(f"/w/acme/posts/{post.id}").text
