"""The real Weibo connector against the sandbox: rules, publishing, faults, limits, OAuth."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from guanxi.connectors.base import (
    ChannelContext,
    Connector,
    ConnectorConfig,
    MediaFile,
    MediaKind,
    OAuthConnect,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishState,
    RateLimitedError,
    Token,
    TokenError,
    TransientError,
    VariantDraft,
)
from guanxi.connectors.weibo import WeiboConnector, marker
from guanxi.core.db import utcnow
from guanxi.core.settings import Settings
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
)
from tests import http_support as local
from tests.http_support import HANG_UP_AFTER_S, local_client

LINK = f"https://{DEMO_SAFE_DOMAIN}/rose"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class MemoryTokens:
    """A channel's token held in memory (Weibo never refreshes, so ``refresh`` is unused)."""

    def __init__(self, token: Token | None) -> None:
        self.token = token

    def current(self) -> Token | None:
        """The token."""
        return self.token

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """Fetch a new one (what a single worker would do)."""
        self.token = fetch()
        return self.token


def demo_channel(token: str = DEMO_WEIBO_TOKEN, expires_at: object = None) -> ChannelContext:
    """The demo brand account with its long-lived sandbox token."""
    return ChannelContext(
        channel_id=1,
        external_id=DEMO_WEIBO_UID,
        credentials={},
        tokens=MemoryTokens(Token(access_token=token, expires_at=expires_at)),  # type: ignore[arg-type]
    )


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox with the Weibo surface: a small share limit the limit test can reach."""
    weibo = WeiboSandbox(limits=WeiboLimits(user_shares_per_hour=5))
    with run_in_thread(create_sandbox_app(platform_surfaces=[weibo.surface()])) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The connector's HTTP client; the test of a timeout makes its own."""
    with local_client() as client:
        yield client


@pytest.fixture
def weibo(sandbox: RunningSandbox, http: httpx.Client) -> WeiboConnector:
    """The connector, configured by base URL only, as from the Weibo settings."""
    return sandbox_connector(sandbox, http)


def sandbox_connector(sandbox: RunningSandbox, http: httpx.Client) -> WeiboConnector:
    """The connector on ``sandbox`` through ``http``."""
    settings = Settings(
        weibo_api_base=sandbox.api_base("/weibo"),
        weibo_app_key=DEMO_APP_KEY,
        weibo_app_secret=DEMO_APP_SECRET,
        weibo_safe_domain=DEMO_SAFE_DOMAIN,
    )
    return WeiboConnector.from_settings(settings, http)


def fault(sandbox: RunningSandbox, **rule: object) -> None:
    """Inject a fault through the sandbox's admin API."""
    response = local.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"platform": "weibo", **rule},
    )
    assert response.status_code == 201, response.text


def posts(sandbox: RunningSandbox) -> list[dict[str, object]]:
    """What the sandbox shows as published on Weibo."""
    response = local.get(
        f"{sandbox.base_url}/_sandbox/posts",
        params={"platform": "weibo"},
    )
    return list(response.json())


def request(
    text: str = "普罗旺斯的夏天，一杯桃红。",
    key: str = "target-1",
    link: str = LINK,
    media: tuple[MediaFile, ...] = (),
) -> PublishRequest:
    """A publish request for a Weibo variant linking to the safe domain."""
    return PublishRequest(key, VariantDraft(text=text, link=link, media=media))


def image(
    tmp_path: Path, name: str = "rose.png", content: bytes = PNG, content_type: str = "image/png"
) -> MediaFile:
    """A media-library file on disk."""
    path = tmp_path / name
    path.write_bytes(content)
    return MediaFile(
        path=path, kind=MediaKind.IMAGE, content_type=content_type, size=len(content), sha256="0"
    )


def test_it_is_a_connector_with_oauth() -> None:
    """The entry point builds a typed Connector that connects accounts through OAuth."""
    connector = WeiboConnector(
        ConnectorConfig(base_url="https://api.weibo.com", http=httpx.Client())
    )
    assert isinstance(connector, Connector)
    assert isinstance(connector, OAuthConnect)


# --- Rules ------------------------------------------------------------------------------


def codes(weibo: WeiboConnector, variant: VariantDraft) -> list[str]:
    """The codes of the rules the variant breaks."""
    return [v.code for v in weibo.validate(variant)]


def test_a_short_post_with_a_safe_link_passes(weibo: WeiboConnector) -> None:
    """Text, a link on the safe domain, one PNG: nothing to fix."""
    assert weibo.validate(VariantDraft(text="夏天的桃红", link=LINK)) == []
    assert codes(weibo, VariantDraft(text=f"链接在文中 {LINK}?a=1")) == []


def test_the_safe_domain_link_is_required(weibo: WeiboConnector) -> None:
    """Without a link on the app's safe domain, the fix names the domain."""
    [violation] = weibo.validate(VariantDraft(text="没有链接", link="https://elsewhere.example/"))
    assert violation.code == "weibo.safe_domain_link"
    assert violation.params == {"domain": DEMO_SAFE_DOMAIN}
    assert "{domain}" in violation.message


def test_without_a_configured_safe_domain_the_administrator_is_asked(http: httpx.Client) -> None:
    """No GUANXI_WEIBO_SAFE_DOMAIN: every Weibo post is blocked with that fix."""
    connector = WeiboConnector(ConnectorConfig(base_url="http://x", http=http))
    assert "weibo.no_safe_domain" in codes(connector, VariantDraft(text="x", link=LINK))


def test_length_counts_the_link_and_its_marker(weibo: WeiboConnector) -> None:
    """140 Chinese characters is the limit, the link (with guanxi's marker) included."""
    link_weight = (len(LINK) + len(f"?gx={'0' * 16}") + 1 + 1) // 2  # the space before it too
    fits = "长" * (140 - link_weight)
    assert codes(weibo, VariantDraft(text=fits, link=LINK)) == []
    [violation] = weibo.validate(VariantDraft(text=fits + "长", link=LINK))
    assert violation.code == "weibo.too_long"
    assert violation.params["limit"] == 140


def test_topics_and_empty_text_are_refused(weibo: WeiboConnector) -> None:
    """statuses/share refuses #topic#; an empty post has nothing to say."""
    assert codes(weibo, VariantDraft(text="#葡萄酒# 新品", link=LINK)) == ["weibo.topic"]
    assert "weibo.empty" in codes(weibo, VariantDraft(text="  "))


def test_image_rules(weibo: WeiboConnector, tmp_path: Path) -> None:
    """One JPEG, PNG or GIF under 5 MB; a video, a WebP or a sixth megabyte are refused."""
    two = (image(tmp_path, "a.png"), image(tmp_path, "b.png"))
    assert codes(weibo, VariantDraft(text="两张", link=LINK, media=two)) == ["weibo.image_count"]
    webp = image(tmp_path, "a.webp", content_type="image/webp")
    assert codes(weibo, VariantDraft(text="webp", link=LINK, media=(webp,))) == ["weibo.image_type"]
    video = MediaFile(
        path=tmp_path / "v.mp4", kind=MediaKind.VIDEO, content_type="video/mp4", size=10, sha256="0"
    )
    assert codes(weibo, VariantDraft(text="视频", link=LINK, media=(video,))) == [
        "weibo.image_type"
    ]
    big = MediaFile(
        path=tmp_path / "big.jpg",
        kind=MediaKind.IMAGE,
        content_type="image/jpeg",
        size=6 * 1024 * 1024,
        sha256="0",
    )
    assert codes(weibo, VariantDraft(text="大图", link=LINK, media=(big,))) == ["weibo.image_size"]


# --- Publishing -------------------------------------------------------------------------


def test_publish_posts_on_the_sandbox_account(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Given the demo account, When a variant is published, Then it is live on that account,
    its link carrying the idempotency marker."""
    result = weibo.publish(demo_channel(), request(key="t-42"))
    assert result.state is PublishState.PUBLISHED
    [post] = posts(sandbox)
    assert post["account_id"] == DEMO_WEIBO_UID
    assert post["post_id"] == result.external_id
    assert post["text"] == f"普罗旺斯的夏天，一杯桃红。 {LINK}?gx={marker('t-42')}"
    assert result.url.endswith(result.external_id)


def test_publish_uploads_the_image(
    weibo: WeiboConnector, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The one image goes up with the post (multipart)."""
    weibo.publish(demo_channel(), request(media=(image(tmp_path),)))
    [post] = posts(sandbox)
    assert post["media"] == ["rose.png"]


def test_a_missing_image_file_is_permanent(
    weibo: WeiboConnector, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """An image gone from disk cannot be sent: nothing posted, the fix is to upload it again."""
    gone = image(tmp_path)
    gone.path.unlink()
    with pytest.raises(PermanentError) as raised:
        weibo.publish(demo_channel(), request(media=(gone,)))
    assert raised.value.params == {"file": "rose.png"}
    assert posts(sandbox) == []


def test_find_matches_only_its_own_marker(weibo: WeiboConnector) -> None:
    """find returns the post carrying this key's marker, and None for another key."""
    published = weibo.publish(demo_channel(), request(key="k-1"))
    found = weibo.find(demo_channel(), request(key="k-1"))
    assert found is not None
    assert found.external_id == published.external_id
    assert weibo.find(demo_channel(), request(key="k-2")) is None


def test_publish_refuses_a_variant_breaking_the_rules(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """A variant without the safe link is never sent."""
    with pytest.raises(PermanentError) as raised:
        weibo.publish(demo_channel(), request(link="https://elsewhere.example/"))
    assert raised.value.code == "weibo.safe_domain_link"
    assert posts(sandbox) == []


def test_delete_and_publish_status(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """A published post is live; deleted, it is gone; deleting again is harmless."""
    result = weibo.publish(demo_channel(), request())
    assert weibo.publish_status(demo_channel(), result.external_id).state is PublishState.PUBLISHED
    weibo.delete(demo_channel(), result.external_id)
    assert posts(sandbox)[0]["deleted"] is True
    assert weibo.publish_status(demo_channel(), result.external_id).state is PublishState.FAILED
    weibo.delete(demo_channel(), result.external_id)


# --- Faults -----------------------------------------------------------------------------


def test_latency_below_the_timeout_still_publishes(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """A slow answer within the client timeout is just slow."""
    fault(sandbox, kind="latency", delay_s=0.2, path_contains="statuses/share")
    started = time.monotonic()
    weibo.publish(demo_channel(), request())
    assert time.monotonic() - started >= 0.2
    assert len(posts(sandbox)) == 1


def test_server_error_is_transient_and_posts_nothing(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """A 5xx: retry later; nothing was published."""
    fault(sandbox, kind="server_error", remaining=1)
    with pytest.raises(TransientError) as raised:
        weibo.publish(demo_channel(), request())
    assert raised.value.code == "10009"
    assert posts(sandbox) == []
    weibo.publish(demo_channel(), request())
    assert len(posts(sandbox)) == 1


def test_timeout_after_accept_is_reconciled_by_find(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Given the platform accepts the post but the answer never comes in time,
    When publishing, Then the outcome is unknown; find then returns the post, and a retry
    that was not needed would not duplicate it either."""
    fault(
        sandbox,
        kind="timeout_after_accept",
        delay_s=HANG_UP_AFTER_S * 3,
        remaining=1,
        path_contains="statuses/share",
    )
    with (
        local_client(hang_up_on="statuses/share") as impatient,
        pytest.raises(OutcomeUnknownError),
    ):
        sandbox_connector(sandbox, impatient).publish(demo_channel(), request(key="t-7"))
    [post] = posts(sandbox)
    found = weibo.find(demo_channel(), request(key="t-7"))
    assert found is not None
    assert found.external_id == post["post_id"]
    # A blind retry hits "repeated text" and resolves to the same post: still one post.
    again = weibo.publish(demo_channel(), request(key="t-7"))
    assert again.external_id == post["post_id"]
    assert len(posts(sandbox)) == 1


def test_injected_rate_limit_says_when_to_retry(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """A rate-limit answer: retry after the hourly window resets; nothing posted."""
    fault(sandbox, kind="rate_limit", remaining=1)
    with pytest.raises(RateLimitedError) as raised:
        weibo.publish(demo_channel(), request())
    assert 0 < raised.value.retry_after_s <= 3600
    assert posts(sandbox) == []


def test_revoked_token_is_a_token_error(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """The user revoked guanxi: reconnect needed; nothing posted."""
    fault(sandbox, kind="revoke_token", remaining=1)
    with pytest.raises(TokenError) as raised:
        weibo.publish(demo_channel(), request())
    assert raised.value.code == "21332"
    assert posts(sandbox) == []


def test_expired_token_is_a_token_error(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """Expired at Weibo (21327), or known to be expired before sending: reconnect needed."""
    stale = sandbox.sandbox.state.issue_token(
        platform="weibo",
        account_id=DEMO_WEIBO_UID,
        client_id=DEMO_APP_KEY,
        lifetime=timedelta(seconds=-1),
    )
    with pytest.raises(TokenError) as raised:
        weibo.publish(demo_channel(token=stale.token), request())
    assert raised.value.code == "21327"
    with pytest.raises(TokenError):
        weibo.publish(demo_channel(expires_at=utcnow() - timedelta(minutes=1)), request())
    assert sandbox.sandbox.state.requests == [("POST", "/weibo/2/statuses/share.json")]


def test_unreachable_platform_is_transient(http: httpx.Client) -> None:
    """Nothing listening: the request was never sent, so a plain retry is safe."""
    connector = WeiboConnector(
        ConnectorConfig(base_url="http://127.0.0.1:9", http=http), safe_domain=DEMO_SAFE_DOMAIN
    )
    with pytest.raises(TransientError):
        connector.publish(demo_channel(), request())


def test_the_sandboxs_share_limit_is_a_rate_limit(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Given 5 shares an hour, the sixth is rate-limited (10024) until the hour ends."""
    for n in range(5):
        weibo.publish(demo_channel(), request(text=f"第{n}条", key=f"k{n}"))
    with pytest.raises(RateLimitedError) as raised:
        weibo.publish(demo_channel(), request(text="第六条", key="k6"))
    assert raised.value.code == "10024"
    assert not raised.value.app_wide  # this account's limit: other accounts go on
    assert len(posts(sandbox)) == 5


def test_the_apps_ip_limit_is_app_wide(http: httpx.Client) -> None:
    """Given an app allowed 3 requests an hour from its servers, the fourth is refused with
    10022, which holds back every account of the app (not only this one)."""
    limited = WeiboSandbox(limits=WeiboLimits(ip_requests_per_hour=3))
    with run_in_thread(create_sandbox_app(platform_surfaces=[limited.surface()])) as running:
        settings = Settings(
            weibo_api_base=running.api_base("/weibo"),
            weibo_app_key=DEMO_APP_KEY,
            weibo_app_secret=DEMO_APP_SECRET,
            weibo_safe_domain=DEMO_SAFE_DOMAIN,
        )
        connector = WeiboConnector.from_settings(settings, http)
        for n in range(3):
            connector.publish(demo_channel(), request(text=f"第{n}条", key=f"ip{n}"))
        with pytest.raises(RateLimitedError) as raised:
            connector.publish(demo_channel(), request(text="第四条", key="ip4"))
    assert (raised.value.code, raised.value.app_wide) == ("10022", True)


# --- Connecting -------------------------------------------------------------------------


def consent(authorization_url: str, account_id: str) -> dict[str, str]:
    """Sign in on the sandbox's consent page and allow; the query sent back to guanxi."""
    parts = urlsplit(authorization_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    response = local.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "account_id": account_id, "password": "sandbox", "action": "allow"},
    )
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def test_oauth_connects_an_account_whose_token_publishes(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """authorization_url, consent, complete_authorization: the account and a working token."""
    redirect = "http://127.0.0.1:8000/channels/oauth/weibo/callback"
    url = weibo.authorization_url(state="st", redirect_uri=redirect)
    assert url.startswith(sandbox.api_base("/weibo") + "/oauth2/authorize?")
    back = consent(url, SECOND_WEIBO_UID)
    assert back["state"] == "st"
    identity = weibo.complete_authorization(code=back["code"], redirect_uri=redirect)
    assert identity.external_id == SECOND_WEIBO_UID
    assert identity.token is not None
    assert identity.token.expires_at is not None
    assert identity.token.expires_at > utcnow() + timedelta(days=6)
    channel = ChannelContext(2, SECOND_WEIBO_UID, {}, MemoryTokens(identity.token))
    weibo.publish(channel, request())
    assert posts(sandbox)[0]["account_id"] == SECOND_WEIBO_UID
    with pytest.raises(PermanentError) as reused:
        weibo.complete_authorization(code=back["code"], redirect_uri=redirect)
    assert reused.value.code == "21325"


def test_oauth_needs_the_instances_app(http: httpx.Client, sandbox: RunningSandbox) -> None:
    """Without GUANXI_WEIBO_APP_KEY/SECRET, connecting says what the administrator must set;
    with a wrong secret, the exchange fails as invalid_client."""
    bare = WeiboConnector(ConnectorConfig(base_url=sandbox.api_base("/weibo"), http=http))
    with pytest.raises(PermanentError) as raised:
        bare.authorization_url(state="s", redirect_uri="http://x/cb")
    assert "GUANXI_WEIBO_APP_KEY" in raised.value.message
    wrong = WeiboConnector(
        ConnectorConfig(
            base_url=sandbox.api_base("/weibo"), http=http, app_id=DEMO_APP_KEY, app_secret="wrong"
        )
    )
    with pytest.raises(PermanentError) as refused:
        wrong.complete_authorization(code="x", redirect_uri="http://x/cb")
    assert refused.value.code == "21324"


def test_demo_name_is_the_brand_account(weibo: WeiboConnector) -> None:
    """The demo token belongs to the demo brand account."""
    url = weibo.authorization_url(state="s", redirect_uri="http://127.0.0.1:8000/cb")
    identity = weibo.complete_authorization(
        code=consent(url, DEMO_WEIBO_UID)["code"], redirect_uri="http://127.0.0.1:8000/cb"
    )
    assert identity.name == DEMO_WEIBO_NAME
