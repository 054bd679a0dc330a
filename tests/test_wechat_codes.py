"""WeChat scene codes through the real connector against the sandbox: temporary and
permanent QR codes whose images decode to their address, mini-program codes that decode to
their scene, URL Links, how a follower came (user/info), and each error WeChat answers
mapped to the connector's error types."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import segno
from PIL import Image

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectorConfig,
    PermanentError,
    QuotaExhaustedError,
    RateLimitedError,
    Token,
    TokenError,
)
from guanxi.connectors.scene_codes import MakesSceneCodes
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.core.db import utcnow
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.ratelimit import RateLimiter
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
from tests.metrics_support import MemoryTokens


@pytest.fixture
def wechat() -> WechatSandbox:
    """The sandbox's WeChat, kept to steer it."""
    return WechatSandbox()


@pytest.fixture
def sandbox(wechat: WechatSandbox) -> Iterator[RunningSandbox]:
    """A sandbox serving only WeChat, with the demo Official Account."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running:
        yield running


@pytest.fixture
def connector(sandbox: RunningSandbox) -> Iterator[WechatOaConnector]:
    """The connector, configured by base URL only."""
    with local_client() as http:
        yield WechatOaConnector(ConnectorConfig(base_url=sandbox.api_base("/wechat"), http=http))


def channel(secret: str = DEMO_WECHAT_SECRET, token: Token | None = None) -> ChannelContext:
    """The demo Official Account; the connector fetches its token."""
    credentials = {"app_id": DEMO_WECHAT_APPID, "app_secret": secret}
    return ChannelContext(1, DEMO_WECHAT_APPID, credentials, MemoryTokens(token))


def decodes_to(png: bytes, text: str) -> bool:
    """Whether the PNG's modules are those of a QR code of ``text`` (the sandbox draws 8
    pixels a module with a 4-module border): read back pixel by pixel, not trusted."""
    expected = segno.make(text, error="m")
    with Image.open(io.BytesIO(png)) as image:
        pixels = image.convert("L")
        size = pixels.width // 8 - 8
        if size != expected.symbol_size(scale=1, border=0)[0]:
            return False
        read = [
            [pixels.getpixel(((col + 4) * 8 + 4, (row + 4) * 8 + 4)) == 0 for col in range(size)]
            for row in range(size)
        ]
    return read == [[bool(module) for module in row] for row in expected.matrix]


def test_the_connector_declares_scene_codes(connector: WechatOaConnector) -> None:
    """Given the WeChat connector, then it says it makes scene codes and implements them,
    with WeChat's limits (64-character scenes, 30 days, 100,000 permanent, 32 for a
    mini-program scene)."""
    assert Capability.SCENE_CODES in connector.capabilities
    assert isinstance(connector, MakesSceneCodes)
    limits = connector.scene_code_limits
    assert (limits.scene_max, limits.temporary_max_s, limits.permanent_max) == (
        64,
        2_592_000,
        100_000,
    )
    assert (limits.miniprogram_scene_max, limits.link_max_days) == (32, 30)


def test_a_temporary_qr_code_expires_and_its_image_decodes_to_its_address(
    connector: WechatOaConnector, wechat: WechatSandbox
) -> None:
    """When a 7-day temporary QR code is made, then WeChat's ticket and address come back
    with the expiry, and showqrcode's PNG is a QR code of that address."""
    before = utcnow()
    issued = connector.create_qr(
        channel(), scene="spring-tasting", permanent=False, expire_seconds=7 * 86_400
    )
    assert issued.url.startswith("http://weixin.qq.com/q/")
    assert issued.expires_at is not None
    assert 6.99 * 86_400 < (issued.expires_at - before).total_seconds() <= 7 * 86_400 + 60
    assert wechat.tickets[issued.ticket].scene == "spring-tasting"
    assert decodes_to(connector.qr_image(issued.ticket), issued.url)


def test_a_permanent_qr_code_does_not_expire(connector: WechatOaConnector) -> None:
    """A permanent (QR_LIMIT_STR_SCENE) code has no expiry; its image decodes as well."""
    issued = connector.create_qr(channel(), scene="shop-window", permanent=True, expire_seconds=0)
    assert issued.expires_at is None
    assert decodes_to(connector.qr_image(issued.ticket), issued.url)


def test_the_sandbox_keeps_the_account_permanent_limit(sandbox: RunningSandbox) -> None:
    """Given an account allowed 2 permanent codes, then a third new scene is refused (40097)
    while making an existing scene again is not (WeChat hands out the same code)."""
    wechat = WechatSandbox(limits=WechatLimits(permanent_qr_max=2))
    with (
        run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running,
        local_client() as http,
    ):
        connector = WechatOaConnector(ConnectorConfig(running.api_base("/wechat"), http))
        context = channel()
        for scene in ("a", "b", "a"):
            connector.create_qr(context, scene=scene, permanent=True, expire_seconds=0)
        with pytest.raises(PermanentError) as refused:
            connector.create_qr(context, scene="c", permanent=True, expire_seconds=0)
    assert refused.value.code == "40097"


def test_a_scene_out_of_bounds_is_refused_with_40097(connector: WechatOaConnector) -> None:
    """A scene_str of 65 characters (or none) is refused as a bad argument."""
    for scene in ("x" * 65, ""):
        with pytest.raises(PermanentError) as refused:
            connector.create_qr(channel(), scene=scene, permanent=False, expire_seconds=60)
        assert refused.value.code == "40097"
        assert "40097" in str(refused.value)


def test_a_miniprogram_code_is_a_png_of_its_scene(connector: WechatOaConnector) -> None:
    """getwxacodeunlimit answers with the image itself, which carries the scene."""
    png = connector.miniprogram_code(channel(), scene="k7Qx2PzA9b", page="pages/shop", width=430)
    assert png.startswith(b"\x89PNG")
    assert decodes_to(png, "k7Qx2PzA9b")


def test_miniprogram_code_errors_map_to_the_connector_errors(
    connector: WechatOaConnector,
) -> None:
    """A scene over 32 characters is 85096 (too long), a width outside 280..1280 is 40097:
    both permanent refusals with their codes."""
    with pytest.raises(PermanentError) as too_long:
        connector.miniprogram_code(channel(), scene="s" * 33, page="", width=430)
    assert too_long.value.code == "85096"
    with pytest.raises(PermanentError) as too_wide:
        connector.miniprogram_code(channel(), scene="ok", page="", width=2000)
    assert too_wide.value.code == "40097"


def test_5000_miniprogram_codes_a_minute_then_44990_asks_to_wait() -> None:
    """Given WeChat's 5,000 calls a minute (here 2), the third call in the minute is 44990:
    a rate limit with a minute's wait, not a failure."""
    wechat = WechatSandbox(limits=WechatLimits(wxacode_per_minute=2))
    with (
        run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running,
        local_client() as http,
    ):
        running.sandbox.limiter = RateLimiter(clock=lambda: 0.0)  # one window throughout
        connector = WechatOaConnector(ConnectorConfig(running.api_base("/wechat"), http))
        context = channel()
        for _ in range(2):
            connector.miniprogram_code(context, scene="ok", page="", width=430)
        with pytest.raises(RateLimitedError) as limited:
            connector.miniprogram_code(context, scene="ok", page="", width=430)
    assert limited.value.code == "44990"
    assert limited.value.retry_after_s == 60


def test_a_url_link_lives_its_days_and_30_is_the_most(connector: WechatOaConnector) -> None:
    """A URL Link of 30 days is made; 31 days is refused by WeChat with 40097."""
    link = connector.url_link(channel(), path="pages/shop", query="gx_scene=abc", expire_days=30)
    assert link.url.startswith("https://wxaurl.cn/")
    assert 29.9 < (link.expires_at - utcnow()).total_seconds() / 86_400 <= 30
    with pytest.raises(PermanentError) as refused:
        connector.url_link(channel(), path="", query="", expire_days=31)
    assert refused.value.code == "40097"


def test_the_daily_quota_is_45009_until_midnight_beijing() -> None:
    """Given a daily quota of 1 call, the second qrcode/create is 45009: the quota is spent
    until it resets, which is when the connector says to try again."""
    wechat = WechatSandbox(limits=WechatLimits(daily_quota=1))
    with (
        run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running,
        local_client() as http,
    ):
        connector = WechatOaConnector(ConnectorConfig(running.api_base("/wechat"), http))
        context = channel()
        connector.create_qr(context, scene="a", permanent=False, expire_seconds=60)
        with pytest.raises(QuotaExhaustedError) as spent:
            connector.create_qr(context, scene="b", permanent=False, expire_seconds=60)
    assert spent.value.code == "45009"
    assert spent.value.resets_at > utcnow()


def test_a_revoked_or_expired_token_is_refreshed_once(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """Given a token WeChat no longer accepts (40001 after a newer one, 42001 expired), the
    call is sent again once with a fresh token and succeeds; a wrong AppSecret is a
    TokenError: reconnect."""
    context = channel()
    connector.create_qr(context, scene="a", permanent=False, expire_seconds=60)
    first = context.tokens.current()
    assert first is not None
    state = sandbox.sandbox.state
    with state.lock:
        state.tokens[first.access_token].revoked = True  # 40001
    connector.url_link(context, path="", query="", expire_days=1)
    second = context.tokens.current()
    assert second is not None
    assert second.access_token != first.access_token
    with state.lock:
        state.tokens[second.access_token].expires_at = utcnow()  # 42001
    assert connector.miniprogram_code(context, scene="ok", page="", width=430)
    assert context.tokens.current() != second
    with pytest.raises(TokenError):
        connector.create_qr(channel(secret="0" * 32), scene="a", permanent=False, expire_seconds=60)


def test_user_info_tells_how_a_follower_came(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """Given a person who followed through the scene "poster-1" (the sandbox's scan), then
    user/info names the QR code and the scene; someone unknown is not following."""
    issued = connector.create_qr(channel(), scene="poster-1", permanent=False, expire_seconds=60)
    answer = local.post(
        sandbox.api_base("/wechat") + f"/_sandbox/accounts/{DEMO_WECHAT_APPID}/scan",
        json={"openid": "oFan1", "ticket": issued.ticket},
        timeout=5,
    )
    assert answer.json()["event"] == "subscribe"
    origin = connector.follower_origin(channel(), "oFan1")
    assert (origin.following, origin.source, origin.scene) == (True, "qr_code", "poster-1")
    assert origin.followed_at is not None
    assert not connector.follower_origin(channel(), "oNobody").following
