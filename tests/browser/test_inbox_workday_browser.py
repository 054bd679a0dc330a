"""The community manager's inbox day in a real browser: a busy thread centred on the chosen
comment with our reply and our post named, the list and the conversation side by side, a
colleague shown replying, named priorities, open items by default with bulk actions that
say what they did, readable people, and debates that explain an empty chart."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.inbox.items.models import ItemStatus
from guanxi.inbox.people.service import link_authors
from guanxi.inbox.replies.models import Reply, ReplyState
from guanxi.publishing.models import Post, Variant, VariantState
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    EDITOR,
    MANAGER,
    LiveServer,
    sign_in,
)
from tests.inbox_ui_support import make_channel, make_item

pytestmark = pytest.mark.browser

SLUG = DEMO_WORKSPACE.slug
_numbers = itertools.count(1)


def _workspace(db: Session) -> Workspace:
    return db.scalars(select(Workspace).where(Workspace.slug == SLUG)).one()


def _published(db: Session, channel: Channel, text: str) -> tuple[Post, str]:
    """A post of ours published on ``channel``; the post and its platform id."""
    external_id = f"48000000{next(_numbers):08d}{uuid.uuid4().hex[:6]}"
    post = Post(workspace_id=channel.workspace_id, title="夏日桃红", body=text)
    db.add(post)
    db.flush()
    db.add(
        Variant(
            workspace_id=channel.workspace_id,
            post_id=post.id,
            channel_id=channel.id,
            text=text,
            state=VariantState.PUBLISHED,
            external_id=external_id,
            published_at=utcnow() - timedelta(days=3),
            idempotency_key=uuid.uuid4().hex,
        )
    )
    db.flush()
    return post, external_id


@pytest.fixture
def busy_post(live_server: LiveServer) -> dict[str, int]:
    """Our Weibo post with 300 comments; comment 250 answered by us."""
    with live_server.sessions() as db:
        channel = make_channel(db, _workspace(db))
        post, external_id = _published(
            db, channel, "普罗旺斯桃红配海鲜，夏天就该这样喝 #普罗旺斯之夏#"
        )
        start = utcnow() - timedelta(days=2)
        items = [
            make_item(
                db,
                channel,
                f"第{number}条评论",
                author=f"busy-fan-{number}",
                name=f"粉丝{number}",
                created_at=start + timedelta(minutes=number),
                post=external_id,
            )
            for number in range(300)
        ]
        link_authors(db, workspace_id=channel.workspace_id, items=items)
        chosen = items[250]
        db.add(
            Reply(
                item_id=chosen.id,
                text="谢谢第250位朋友的支持！",
                state=ReplyState.SENT,
                sent_at=utcnow(),
                idempotency_key=uuid.uuid4().hex,
            )
        )
        ids = {"item": chosen.id, "post": post.id, "channel": channel.id}
        db.commit()
    return ids


def test_a_busy_thread_shows_the_chosen_comment_our_reply_and_names_our_post(
    page: Page, live_server: LiveServer, busy_post: dict[str, int]
) -> None:
    """Given 300 comments on our post and comment 250 answered, when Li Na opens comment
    250, then it and our reply are on the page (in view), the thread names our post and
    links to it, and "Earlier comments" pages back."""
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{SLUG}/inbox/items/{busy_post['item']}"))
    chosen = page.locator(".thread li.this")
    expect(chosen).to_contain_text("第250条评论")
    expect(chosen).to_contain_text("谢谢第250位朋友的支持！")
    expect(chosen).to_be_in_viewport()
    expect(page.locator(".thread > li")).to_have_count(51)
    our_post = page.locator("#our-post")
    expect(our_post).to_contain_text("普罗旺斯桃红配海鲜")
    expect(our_post).to_have_attribute("href", f"/w/{SLUG}/posts/{busy_post['post']}")
    expect(page.get_by_text("4800000", exact=False)).to_have_count(0)
    page.locator("#thread-earlier").click()
    expect(page.locator(".thread")).to_contain_text("第200条评论")
    expect(page.locator(".thread")).not_to_contain_text("第251条评论")


def test_wide_screens_show_the_conversation_beside_the_list_and_phones_open_it(
    page: Page, browser: Browser, live_server: LiveServer, busy_post: dict[str, int]
) -> None:
    """Given the inbox on a laptop, choosing an item shows its conversation and its author
    in the right-hand pane without leaving the list; on a phone it opens as a page."""
    sign_in(page, live_server, EDITOR)
    listing = f"/w/{SLUG}/inbox?account={busy_post['channel']}"
    page.goto(live_server.url(listing))
    page.locator("#inbox-rows .inbox-row .text a").first.click()
    pane = page.locator("#inbox-pane")
    expect(pane.locator(".thread li.this")).to_contain_text("第299条评论", timeout=15_000)
    expect(pane.locator("#person-card")).to_contain_text("粉丝299")
    assert page.url.endswith(listing)
    phone = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    phone.set_default_timeout(DEFAULT_TIMEOUT_MS)
    small = phone.new_page()
    try:
        sign_in(small, live_server, EDITOR)
        small.goto(live_server.url(listing))
        expect(small.locator("#inbox-pane")).to_be_hidden()
        small.locator("#inbox-rows .inbox-row .text a").first.click()
        small.wait_for_url("**/inbox/items/**")
        expect(small.locator(".thread li.this")).to_contain_text("第299条评论")
    finally:
        phone.close()


def test_a_colleague_sees_who_is_replying(
    page: Page, browser: Browser, live_server: LiveServer, busy_post: dict[str, int]
) -> None:
    """Given Wang Fang and Li Na on the same comment, when Li Na starts a reply, then Wang
    Fang's page says "Li Na 李娜 is replying…" (the rows are in the database: any web
    process would see them)."""
    item = f"/w/{SLUG}/inbox/items/{busy_post['item']}"
    sign_in(page, live_server, MANAGER)
    page.goto(live_server.url(item))
    other = browser.new_context(base_url=live_server.base_url, locale="en-US")
    other.set_default_timeout(DEFAULT_TIMEOUT_MS)
    li_na = other.new_page()
    try:
        sign_in(li_na, live_server, EDITOR)
        li_na.goto(live_server.url(item))
        expect(li_na.locator("#presence")).to_contain_text(
            "Wang Fang 王芳 is looking at this item."
        )
        li_na.locator("#reply-text").fill("您好，")
        expect(page.locator("#presence")).to_contain_text("Li Na 李娜 is replying…", timeout=15_000)
    finally:
        other.close()


@pytest.fixture
def triaged(live_server: LiveServer) -> dict[str, int]:
    """An account with an urgent and a low open item, and a done one."""
    with live_server.sessions() as db:
        channel = make_channel(db, _workspace(db))
        urgent = make_item(db, channel, "酒瓶碎了，要投诉！", author="angry-1", name="生气的顾客")
        low = make_item(db, channel, "好喝", author="happy-1", name="开心的顾客")
        done = make_item(db, channel, "已经解决的问题", author="done-1", name="老顾客")
        urgent.priority, low.priority, done.status = 3, 0, ItemStatus.DONE
        ids = {"channel": channel.id, "urgent": urgent.id, "low": low.id, "done": done.id}
        db.commit()
    return ids


def test_open_items_by_default_named_priorities_and_bulk_actions_that_say_what_they_did(
    page: Page, live_server: LiveServer, triaged: dict[str, int]
) -> None:
    """Given an urgent, a low and a done item, the list shows the two open ones with their
    priority by name; assigning both by name says "2 items assigned to Li Na 李娜."; only
    the done item offers "Reopen"."""
    sign_in(page, live_server, MANAGER)
    page.goto(live_server.url(f"/w/{SLUG}/inbox?account={triaged['channel']}"))
    rows = page.locator("#inbox-rows .inbox-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="酒瓶碎了").locator(".prio")).to_have_text("Urgent")
    expect(rows.filter(has_text="好喝").locator(".prio")).to_have_text("Low")
    expect(page.locator("#bulk-action option[value=open]")).to_have_count(0)
    for box in rows.locator("input[type=checkbox]").all():
        box.check()
    page.locator("#bulk-action").select_option("assign")
    page.locator("#bulk-member").select_option(label="Li Na 李娜")
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator("#bulk-done")).to_have_text("2 items assigned to Li Na 李娜.")
    expect(page.locator("#inbox-rows .inbox-row").first).to_contain_text("Li Na 李娜")
    page.locator("select[name=status]").select_option("all")
    page.locator("#filters button[type=submit]").click()
    expect(page.locator("#inbox-rows .inbox-row")).to_have_count(3)
    page.goto(live_server.url(f"/w/{SLUG}/inbox/items/{triaged['done']}"))
    expect(page.locator("#status-reopen")).to_contain_text("Reopen")
    page.goto(live_server.url(f"/w/{SLUG}/inbox/items/{triaged['low']}"))
    expect(page.locator("#status-reopen")).to_have_count(0)


def test_people_have_readable_names_platform_followers_and_last_contact(
    page: Page, live_server: LiveServer
) -> None:
    """Given a WeChat follower (no nickname: WeChat gives an Official Account none) and a
    Weibo fan, the people list names them "WeChat fan ·…" and by nickname, with platform,
    followers and last contact; a remark the team sets replaces the WeChat name."""
    open_id = f"oWx{uuid.uuid4().hex[:20]}Q7kz"
    with live_server.sessions() as db:
        workspace = _workspace(db)
        wechat = make_channel(db, workspace, platform="wechat")
        weibo = make_channel(db, workspace)
        fan = make_item(db, wechat, "请问怎么买", author=open_id, name="", followers=None)
        weibo_fan = make_item(
            db, weibo, "好喝", author=f"wb-{open_id}", name=f"红酒控{open_id[-4:]}"
        )
        weibo_fan.author_followers = 12_345
        link_authors(db, workspace_id=workspace.id, items=[fan, weibo_fan])
        db.commit()
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{SLUG}/inbox/people?q={open_id[-4:]}"))
    rows = page.locator("#people tbody tr")
    wechat_row = rows.filter(has_text="WeChat fan ·Q7kz")
    expect(wechat_row).to_have_count(1)
    expect(wechat_row).to_contain_text("WeChat")
    expect(page.locator("#people")).not_to_contain_text(open_id)
    weibo_row = rows.filter(has_text=f"红酒控{open_id[-4:]}")
    expect(weibo_row).to_contain_text("Weibo")
    expect(weibo_row).to_contain_text("12,345")
    expect(page.locator("#people thead")).to_contain_text("Last contact")
    wechat_row.locator("a").click()
    page.locator("#remark").fill("王先生（老客户）")
    page.locator("#remark").press("Enter")
    expect(page.locator("h1")).to_have_text("王先生（老客户）")
    page.goto(live_server.url(f"/w/{SLUG}/inbox/people?q=王先生"))
    expect(page.locator("#people tbody")).to_contain_text("王先生（老客户）")


def test_a_debate_explains_its_empty_chart_and_links_our_posts_by_text(
    page: Page, live_server: LiveServer
) -> None:
    """Given a new topic nobody wrote about yet, the debate says why its chart is empty;
    linking a post is choosing one of our published posts found by its text."""
    tag = f"桃红挑战{uuid.uuid4().hex[:4]}"
    with live_server.sessions() as db:
        channel = make_channel(db, _workspace(db))
        _published(db, channel, f"一起来参加 #{tag}# 晒出你的野餐桃红")
        db.commit()
    sign_in(page, live_server, EDITOR)
    page.goto(live_server.url(f"/w/{SLUG}/inbox/debates"))
    page.locator("input[name=hashtag]").fill(tag)
    page.get_by_role("button", name="Follow topic").click()
    expect(page.locator("#debate-empty")).to_contain_text("No chart yet")
    expect(page.locator("#debate-chart")).to_have_count(0)
    page.locator("#post-search").fill("晒出你的野餐")
    page.locator("#post-search").press("Enter")
    candidate = page.locator("#post-candidates li").filter(has_text="晒出你的野餐")
    candidate.get_by_role("button", name="Link").click()
    expect(page.locator("#linked-posts")).to_contain_text("晒出你的野餐桃红")
