"""Tracked links: making them (UTM parameters, checks), reading a click's request (app,
device, bot, network), and storing clicks (one counted per visitor, link and hour; a click
stored once however often its journal line is copied)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.convert import links
from guanxi.convert.models import LinkClick, TrackedLink
from guanxi.convert.visitors import network_of, read_user_agent, visitor_key
from guanxi.core.errors import UserError
from guanxi.core.settings import Settings
from guanxi.publishing.models import Campaign, Post
from tests.conftest import UserFactory, WorkspaceFactory

WECHAT_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)
WEIBO_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/108.0 Mobile Safari/537.36 Weibo (vivo-V2227A__weibo__13.11.3__android__android13)"
)
DOUYIN = (
    "Mozilla/5.0 (Linux; Android 12; PGT-AN10) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/91.0 Mobile Safari/537.36 aweme_280000 BytedanceWebview/d8a21c6"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
IPAD = "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
BAIDU = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
WECHAT_CRAWLER = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 mpcrawler"


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def test_a_link_gets_utm_parameters_from_its_campaign_and_post(
    db: Session, workspace: Workspace
) -> None:
    campaign = Campaign(workspace_id=workspace.id, name="Mid-Autumn 中秋 Gifts")
    db.add(campaign)
    db.flush()
    post = Post(workspace_id=workspace.id, title="Rosé for the moon", campaign_id=campaign.id)
    db.add(post)
    db.flush()

    link = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(
            url="https://shop.example.cn/rose?sku=12&utm_source=kol", post_id=post.id
        ),
        created_by_id=None,
    )

    query = parse_qs(urlsplit(link.destination).query)
    assert query["sku"] == ["12"]
    assert query["utm_source"] == ["kol"], "the author's own parameter is kept"
    assert query["utm_medium"] == ["social"]
    assert query["utm_campaign"] == ["mid-autumn-中秋-gifts"]
    assert query["utm_content"] == [f"post-{post.id}"]
    assert link.campaign_id == campaign.id, "a post's campaign is the link's"
    assert len(link.key) == 8
    assert link.key.isalnum()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Give the address"),
        ("ftp://files.example.cn/a", "is not a web address"),
        ("shop.example.cn", "is not a web address"),
        ("https://" + "a" * 2000 + ".cn", "longer than 2000"),
    ],
)
def test_a_bad_destination_says_what_to_fix(
    db: Session, workspace: Workspace, url: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        links.create_link(
            db, workspace_id=workspace.id, link=links.LinkInput(url=url), created_by_id=None
        )


def test_a_link_cannot_name_another_workspaces_campaign(
    db: Session, workspace: Workspace, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other", owner=make_user("b@other.example"))
    campaign = Campaign(workspace_id=other.id, name="Theirs")
    db.add(campaign)
    db.flush()

    with pytest.raises(UserError, match="not in this workspace"):
        links.create_link(
            db,
            workspace_id=workspace.id,
            link=links.LinkInput(url="https://a.example.cn", campaign_id=campaign.id),
            created_by_id=None,
        )


def test_the_short_address_uses_the_brands_domain_when_set(tmp_path: object) -> None:
    assert links.short_url(Settings(base_url="https://gx.example.com/"), "Ab12") == (
        "https://gx.example.com/l/Ab12"
    )
    assert (
        links.short_url(Settings(short_link_base="https://go.brand.cn/l/"), "Ab12")
        == "https://go.brand.cn/l/Ab12"
    )


@pytest.mark.parametrize(
    ("agent", "platform", "device", "bot"),
    [
        (WECHAT_IPHONE, "wechat", "phone", False),
        (WEIBO_ANDROID, "weibo", "phone", False),
        (DOUYIN, "douyin", "phone", False),
        (DESKTOP, "", "desktop", False),
        (IPAD, "", "tablet", False),
        (BAIDU, "", "desktop", True),
        (WECHAT_CRAWLER, "", "phone", True),
        ("", "", "desktop", True),
        ("curl/8.5.0", "", "desktop", True),
    ],
)
def test_a_clicks_user_agent_tells_app_device_and_bots(
    agent: str, platform: str, device: str, bot: bool
) -> None:
    browser = read_user_agent(agent)

    assert (browser.platform, browser.device, browser.bot) == (platform, device, bot)


def test_only_the_network_of_an_address_is_kept() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("not-an-ip") == ""
    assert network_of(None) == ""


def test_the_visitor_key_changes_with_the_day_and_hides_the_address() -> None:
    key = visitor_key(b"s", address="203.0.113.77", user_agent=DESKTOP, day="2026-12-06")

    assert key == visitor_key(b"s", address="203.0.113.77", user_agent=DESKTOP, day="2026-12-06")
    assert key != visitor_key(b"s", address="203.0.113.77", user_agent=DESKTOP, day="2026-12-07")
    assert key != visitor_key(b"s", address="203.0.113.78", user_agent=DESKTOP, day="2026-12-06")
    assert "203" not in key


def _click(
    link: TrackedLink, n: int, *, at: datetime, visitor: str = "v1", bot: bool = False
) -> dict[str, object]:
    return {
        "click_id": f"click-{n}",
        "link_id": link.id,
        "workspace_id": link.workspace_id,
        "clicked_at": at,
        "hour": int(at.timestamp()) // 3600,
        "visitor": visitor,
        "network": "203.0.113.0/24",
        "platform": "wechat",
        "device": "phone",
        "referrer_host": "",
        "bot": bot,
    }


def test_one_click_per_visitor_link_and_hour_is_counted(db: Session, workspace: Workspace) -> None:
    link = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(url="https://a.example.cn"),
        created_by_id=None,
    )
    db.commit()
    noon = datetime(2026, 12, 6, 12, 5, tzinfo=UTC)
    clicks = [
        _click(link, 1, at=noon),
        _click(
            link, 2, at=noon + timedelta(minutes=10)
        ),  # the same person again: kept, not counted
        _click(link, 3, at=noon + timedelta(hours=1)),  # the next hour: counted
        _click(link, 4, at=noon, visitor="v2"),  # someone else: counted
        _click(link, 5, at=noon, visitor="v3", bot=True),  # a bot: kept, never counted
    ]

    links.store_clicks(db, [dict(c) for c in clicks])
    links.store_clicks(db, [dict(c) for c in clicks])  # the same journal lines copied again

    stored = {c.click_id: c.counted for c in db.scalars(select(LinkClick))}
    assert stored == {
        "click-1": True,
        "click-2": False,
        "click-3": True,
        "click-4": True,
        "click-5": False,
    }
    counts = links.click_counts(db, link_ids=[link.id])[link.id]
    assert (counts.counted, counts.visits, counts.bots) == (3, 5, 1)
    assert links.clicks_by_platform(db, link_id=link.id) == [("wechat", 3)]
