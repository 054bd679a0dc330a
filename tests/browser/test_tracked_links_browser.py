"""A tracked link from the composer to the revenue, in a real browser: the writer puts a
shop address in a post, the variant shows the short link it became, a reader opens it (the
click is recorded and its id handed to the shop), the shop's order carrying that click id
comes in through the conversion API, and the post's page shows the revenue."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, User, Workspace
from guanxi.channels.models import Channel
from guanxi.convert.models import LinkClick
from guanxi.convert.redirect import CLICK_PARAMETER
from guanxi.core.db import utcnow
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from tests import http_support as local
from tests.browser.conftest import EDITOR, OWNER, LiveServer, sign_in
from tests.test_convert_links import WECHAT_IPHONE

SLUG = DEMO_WORKSPACE.slug
COPIED_WITHIN_S = 10.0  # the redirect's journal is copied into the database every 0.5 s


def _owner_token(live_server: LiveServer) -> str:
    with live_server.sessions() as db:
        membership = db.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .join(Workspace, Workspace.id == Membership.workspace_id)
            .where(User.email == OWNER, Workspace.slug == SLUG)
        )
        assert membership is not None
        _token, plain = accounts.create_api_token(db, membership=membership, name="shop")
        db.commit()
    return plain


def _wechat_account(live_server: LiveServer) -> int:
    with live_server.sessions() as db:
        found = db.scalar(
            select(Channel.id)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .where(Workspace.slug == SLUG, Channel.connector == "wechat_oa")
        )
    assert found is not None
    return found


def _stored(live_server: LiveServer, click_id: str) -> bool:
    with live_server.sessions() as db:
        return db.scalar(select(LinkClick.id).where(LinkClick.click_id == click_id)) is not None


def test_a_composed_link_is_clicked_bought_through_and_its_revenue_shown(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    """Given the writer composing a WeChat post with the shop's address, When it is created,
    Then the variant shows its short link; When a reader opens it, Then they land on the shop
    with the click id; When the shop reports an order with that click id, Then the post's
    page shows its revenue, attributed by last touch."""
    shop = live_server.url("/login?item=rose")  # a page that answers, standing in for the shop
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{SLUG}/publish/new"))
    page.locator("input[name=title]").fill("桃红追踪链接")
    page.locator("textarea[name=body]").fill(f"新酒到店，点此购买：{shop}")
    page.locator(f"input[name=channels][value='{_wechat_account(live_server)}']").check()
    page.locator("input[name=tags]").fill("新品, 品酒")
    page.get_by_role("button", name="Create the variants").click()
    expect(page).to_have_url(re.compile(rf"/w/{SLUG}/posts/\d+$"))
    post_url = page.url

    short = page.locator("[data-testid=short-link]").first
    expect(short).to_be_visible()
    key = short.inner_text().rsplit("/", 1)[1]
    expect(page.locator("textarea[name=text]").first).to_have_value(re.compile(rf"/l/{key}$"))

    # A reader opens it in WeChat on a phone (a headless browser would count as a bot); the
    # short domain points at this guanxi.
    reader = browser.new_context(user_agent=WECHAT_IPHONE)
    reading = reader.new_page()
    reading.goto(live_server.url(f"/l/{key}"))
    landed = parse_qs(urlsplit(reading.url).query)
    reader.close()
    assert landed["item"] == ["rose"]
    assert landed["utm_source"] == ["wechat"]
    [click_id] = landed[CLICK_PARAMETER]
    deadline = time.monotonic() + COPIED_WITHIN_S
    while not _stored(live_server, click_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _stored(live_server, click_id), "the click reached the database"
    with live_server.sessions() as db:
        click = db.scalar(select(LinkClick).where(LinkClick.click_id == click_id))
        assert click is not None
        assert (click.counted, click.platform) == (True, "wechat")

    response = local.post(
        live_server.url(f"/api/v1/w/{SLUG}/conversions"),
        json={
            "order_id": "MP-20261207-0001",
            "ordered_at": utcnow().isoformat(),
            "amount": 468.0,
            "click_id": click_id,
        },
        headers={"authorization": f"Bearer {_owner_token(live_server)}"},
        timeout=10.0,
    )
    assert response.status_code == 200, response.text

    page.goto(post_url)
    figures = page.locator("[data-testid=post-figures]")
    expect(figures).to_contain_text("Revenue from its links")
    expect(figures).to_contain_text("¥468.00")
    expect(figures).to_contain_text("last touch")
