"""The manual connector: platforms without a publishing API, posted by a person."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from guanxi.connectors.base import (
    ChannelContext,
    Connector,
    ConnectorConfig,
    CredentialsConnect,
    HashtagStyle,
    MediaFile,
    MediaKind,
    NotSupportedError,
    PermanentError,
    PublishRequest,
    PublishState,
    Token,
    VariantDraft,
)
from guanxi.connectors.manual import WITHOUT_API, ManualConnector
from guanxi.connectors.registry import build_connector
from guanxi.core.settings import Settings

IMAGE = MediaFile(
    path=Path("cup.png"), kind=MediaKind.IMAGE, content_type="image/png", size=10, sha256="0"
)


class NoTokens:
    """A channel without tokens: a manual account has none."""

    def current(self) -> Token | None:
        return None

    def refresh(self, stale: Token | None, fetch: object) -> Token:
        raise AssertionError("a manual account never refreshes a token")


CHANNEL = ChannelContext(
    channel_id=1, external_id="xiaohongshu:关系咖啡", credentials={}, tokens=NoTokens()
)


@pytest.fixture
def connector() -> ManualConnector:
    """The manual connector, as the registry would build it."""
    return ManualConnector(ConnectorConfig(base_url="", http=httpx.Client()))


def codes(connector: ManualConnector, draft: VariantDraft) -> list[tuple[str, str]]:
    """The rule codes and severities a variant breaks."""
    return [(p.code, p.severity.value) for p in connector.validate(draft)]


def test_it_is_a_connector_for_every_catalog_platform(connector: ManualConnector) -> None:
    assert isinstance(connector, Connector)
    assert isinstance(connector, CredentialsConnect)
    assert set(WITHOUT_API) <= set(connector.platforms)
    assert {"weibo", "douyin", "wechat"} <= set(connector.platforms)
    assert [field.name for field in connector.credential_fields] == ["platform", "name"]


def test_the_registry_builds_it(settings: Settings) -> None:
    with httpx.Client() as http:
        assert isinstance(build_connector("manual", settings, http), ManualConnector)


def test_an_account_is_its_platform_and_handle(connector: ManualConnector) -> None:
    identity = connector.verify_credentials(
        {"platform": " Xiaohongshu ", "name": " 关系咖啡  官方 "}
    )
    assert identity.external_id == "xiaohongshu:关系咖啡 官方"
    assert identity.name == "关系咖啡 官方"
    assert identity.credentials == {"platform": "xiaohongshu", "name": "关系咖啡 官方"}
    assert identity.token is None


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"platform": "myspace", "name": "x"}, "'myspace' is not a platform of the catalog"),
        ({"platform": "bilibili", "name": "  "}, "Give the account's name or handle"),
        ({"platform": "bilibili", "name": "长" * 121}, "up to 120 characters"),
    ],
)
def test_bad_account_details_say_what_to_fix(
    connector: ManualConnector, credentials: dict[str, str], message: str
) -> None:
    with pytest.raises(PermanentError) as error:
        connector.verify_credentials(credentials)
    assert message in str(error.value)


def test_xiaohongshu_limits_title_and_body(connector: ManualConnector) -> None:
    """Xiaohongshu: title ≤ 20 characters, body ≤ 1,000, and a note is built on images."""
    xhs = connector.for_platform("xiaohongshu")
    assert xhs.platforms == ("xiaohongshu",)
    assert codes(xhs, VariantDraft(text="秋季新品", title="秋天的第一杯咖啡", media=(IMAGE,))) == []
    too_long = VariantDraft(text="好" * 1001, title="标" * 21)
    assert codes(xhs, too_long) == [
        ("manual.title_too_long", "error"),
        ("manual.text_too_long", "error"),
        ("manual.media_expected", "error"),
    ]
    [title_problem, *_] = xhs.validate(too_long)
    assert title_problem.params == {"length": 21, "limit": 20}


def test_unknown_limits_are_not_invented(connector: ManualConnector) -> None:
    """Platforms whose limits are not known for sure only need something to post."""
    long_post = VariantDraft(text="好" * 5000, title="标" * 100)
    assert codes(connector.for_platform("douban"), long_post) == []
    assert codes(connector, long_post) == []
    assert codes(connector.for_platform("zhihu"), VariantDraft(text=" ")) == [
        ("manual.empty", "error")
    ]


def test_hashtag_style_follows_the_bound_platform(connector: ManualConnector) -> None:
    assert connector.for_platform("weibo").hashtag_style is HashtagStyle.DOUBLE_HASH
    assert connector.for_platform("xiaohongshu").hashtag_style is HashtagStyle.SINGLE_HASH
    assert connector.for_platform("wechat").hashtag_style is HashtagStyle.NONE


def test_publishing_waits_for_a_person(connector: ManualConnector) -> None:
    """Publishing sends nothing: the variant waits for the person it is assigned to."""
    request = PublishRequest(idempotency_key="k", variant=VariantDraft(text="秋季新品"))
    result = connector.publish(CHANNEL, request)
    assert result.state is PublishState.PROCESSING
    assert result.detail == "Waiting for a person to post it by hand."
    assert connector.publish_status(CHANNEL, "").state is PublishState.PROCESSING
    assert connector.find(CHANNEL, request) is None
    with pytest.raises(NotSupportedError):
        connector.delete(CHANNEL, "x")
