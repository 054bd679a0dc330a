"""Pulls: the Weibo connector's search_posts against the sandbox's public search feed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.connectors.base import Capability, PermanentError, Token, TokenError
from guanxi.connectors.weibo import WeiboConnector
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.listening.intake import service
from guanxi.listening.intake.pull import pull_all
from guanxi.listening.mentions.models import Author, Mention
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.weibo import DEMO_WEIBO_TOKEN, DEMO_WEIBO_UID, WeiboSandbox
from guanxi.sandbox.weibo_search import PublicFeed, weibo_search_surface
from tests import http_support as local
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import local_client
from tests.listening_data_support import FakePipeline
from tests.test_weibo_connector import demo_channel


@pytest.fixture
def feed() -> PublicFeed:
    return PublicFeed.from_sample()


@pytest.fixture
def sandbox(feed: PublicFeed) -> Iterator[RunningSandbox]:
    surfaces = [WeiboSandbox().surface(), weibo_search_surface(feed)]
    with run_in_thread(create_sandbox_app(platform_surfaces=surfaces)) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with local_client() as client:
        yield client


@pytest.fixture
def weibo(sandbox: RunningSandbox, http: httpx.Client) -> WeiboConnector:
    return WeiboConnector.from_settings(Settings(weibo_api_base=sandbox.api_base("/weibo")), http)


def test_search_posts_reads_the_feed_with_authors_and_a_cursor(
    weibo: WeiboConnector, feed: PublicFeed
) -> None:
    """Given the sandbox's public posts, when searching 周杰伦, then every post found says
    周杰伦, carries its author's verified type, and the cursor is the newest id."""
    assert Capability.SEARCH in weibo.capabilities
    page = weibo.search_posts(demo_channel(), query="周杰伦")
    assert page.items
    assert all("周杰伦" in item.text for item in page.items)
    assert page.cursor == max(item.external_id for item in page.items)
    assert all(item.author.verified_type is not None for item in page.items)
    assert all(item.created_at.tzinfo is not None for item in page.items)
    assert not page.has_more
    assert weibo.search_posts(demo_channel(), query="周杰伦", since=page.cursor).items == ()
    new = feed.publish("周杰伦的新歌真好听")
    later = weibo.search_posts(demo_channel(), query="周杰伦", since=page.cursor)
    assert [item.external_id for item in later.items] == [str(new.mid)]


def test_the_audiences_mentions_of_the_brand_are_public_posts_the_search_finds(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Given the sandbox audience @-mentioning the brand's Weibo account, a search for the
    brand's name finds those posts (public on Weibo) with their authors, newer than the
    sample, and a second search from the cursor finds only what came after."""
    brand = "普罗旺斯葡萄酒"
    ticks = 0
    while not weibo.search_posts(demo_channel(), query=brand).items:
        ticks += 1
        assert ticks < 30, "the audience never mentioned the brand"
        local.post(sandbox.api_base("/_sandbox/audience/tick")).raise_for_status()
    page = weibo.search_posts(demo_channel(), query=brand)
    assert all(item.text.startswith(f"@{brand}") for item in page.items)
    assert all(item.author.name for item in page.items)
    assert int(page.cursor) > 4_300_000_000_000_000  # above every id of the shipped sample
    assert weibo.search_posts(demo_channel(), query=brand, since=page.cursor).items == ()


def test_search_pages_forward_without_gaps(weibo: WeiboConnector, feed: PublicFeed) -> None:
    for number in range(60):
        feed.publish(f"葡萄酒测试{number}")
    first = weibo.search_posts(demo_channel(), query="葡萄酒测试")
    assert (len(first.items), first.has_more) == (50, True)
    second = weibo.search_posts(demo_channel(), query="葡萄酒测试", since=first.cursor)
    assert (len(second.items), second.has_more) == (10, False)
    texts = {item.text for item in first.items + second.items}
    assert len(texts) == 60


def test_search_errors_use_weibo_codes(weibo: WeiboConnector) -> None:
    with pytest.raises(TokenError):
        weibo.search_posts(demo_channel(token="wrong"), query="x")
    with pytest.raises(PermanentError) as error:
        weibo.search_posts(demo_channel(), query=" ")
    assert error.value.code == "10016"


def test_pull_all_stores_new_posts_once(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    weibo: WeiboConnector,
    feed: PublicFeed,
) -> None:
    """Given a search source on a connected Weibo account, when pulling twice, then the
    posts are stored once with their authors, and a post published in between arrives."""
    workspace: Workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    box = SecretBox.from_settings(settings)
    channel = create_channel(
        db,
        workspace=workspace,
        connector="weibo",
        platform="weibo",
        external_id=DEMO_WEIBO_UID,
        name="Brand",
        credentials={},
        box=box,
        actor=None,
        token=Token(access_token=DEMO_WEIBO_TOKEN, expires_at=None),
    )
    source = service.create_pull_source(
        db,
        workspace_id=workspace.id,
        name="周杰伦 on Weibo",
        channel_id=channel.id,
        query="周杰伦",
        platform="weibo",
    )
    db.commit()
    pipeline = FakePipeline()

    def pull() -> int:
        results = pull_all(
            db,
            sessions=session_factory,
            box=box,
            connector_for=lambda _channel: weibo,
            pipeline_for=lambda _workspace: pipeline,
        )
        assert [result.error for result in results] == [""]
        return results[0].added

    first = pull()
    assert first > 0
    assert pull() == 0
    feed.publish("周杰伦演唱会门票抢到了", author_index=10)
    assert pull() == 1
    count = db.scalar(select(func.count(Mention.id)).where(Mention.source_id == source.id))
    assert count == first + 1
    media = db.scalar(select(Author).where(Author.verified_type == 3))
    assert media is not None
    assert media.followers == 2_500_000
    db.refresh(source)
    assert source.cursor
    assert source.last_error == ""


def test_pull_errors_are_written_on_the_source(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    weibo: WeiboConnector,
) -> None:
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    box = SecretBox.from_settings(settings)
    channel: Channel = create_channel(
        db,
        workspace=workspace,
        connector="weibo",
        platform="weibo",
        external_id=DEMO_WEIBO_UID,
        name="Brand",
        credentials={},
        box=box,
        actor=None,
        token=Token(access_token="revoked-token", expires_at=None),
    )
    source = service.create_pull_source(
        db,
        workspace_id=workspace.id,
        name="s",
        channel_id=channel.id,
        query="周杰伦",
        platform="weibo",
    )
    db.commit()
    results = pull_all(
        db,
        sessions=session_factory,
        box=box,
        connector_for=lambda _c: weibo,
        pipeline_for=lambda _w: None,
    )
    assert results[0].error
    db.refresh(source)
    assert "authorisation" in source.last_error
