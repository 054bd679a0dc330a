"""The composer's checks agree with each other: a platform rule and a Chinese-first check do
not flag one thing twice (once as an error, again as a warning), and Xiaohongshu's rules say
what a note needs (an image) and what it cannot do (clickable links)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import ConnectorConfig, MediaFile, MediaKind, VariantDraft
from guanxi.connectors.manual import ManualConnector
from guanxi.connectors.registry import OFFLINE_HTTP
from guanxi.core.settings import Settings
from guanxi.publishing import variants

IMAGE = MediaFile(
    path=Path("a.png"),
    kind=MediaKind.IMAGE,
    content_type="image/png",
    size=10,
    sha256="0" * 64,
)


def weibo_channel(db: Session, workspace: Workspace) -> Channel:
    channel = Channel(
        workspace_id=workspace.id,
        connector="weibo",
        platform="weibo",
        external_id="u1",
        name="品牌微博",
        timezone="Asia/Shanghai",
        audience="mainland",
    )
    db.add(channel)
    db.commit()
    return channel


def test_a_weibo_topic_is_one_error_not_also_a_warning(
    db: Session, settings: Settings, make_user: object, make_workspace: object
) -> None:
    """Given a Weibo post with #葡萄酒#, when it is checked, then Weibo's rule refuses the
    topic once and the hashtag check adds no warning about the same marks."""
    owner: User = make_user("owner@agree.example")  # type: ignore[operator]
    workspace: Workspace = make_workspace("agree", owner=owner)  # type: ignore[operator]
    channel = weibo_channel(db, workspace)
    findings = variants.check_draft(
        db, channel=channel, draft=VariantDraft(text="#葡萄酒# 新品上市"), settings=settings
    )
    codes = {(f["code"], f["severity"]) for f in findings}
    assert ("weibo.topic", "error") in codes
    assert not any(code.startswith("hashtags.") for code, _ in codes)


def test_a_weibo_text_without_topics_still_gets_the_hashtag_check(
    db: Session, settings: Settings, make_user: object, make_workspace: object
) -> None:
    """An unclosed # is no Weibo topic, so Weibo's rule says nothing and the check warns."""
    owner: User = make_user("owner@agree2.example")  # type: ignore[operator]
    workspace: Workspace = make_workspace("agree2", owner=owner)  # type: ignore[operator]
    channel = weibo_channel(db, workspace)
    findings = variants.check_draft(
        db, channel=channel, draft=VariantDraft(text="#葡萄酒 新品上市"), settings=settings
    )
    assert "hashtags.not_supported" in {f["code"] for f in findings}
    assert "weibo.topic" not in {f["code"] for f in findings}


def xiaohongshu() -> ManualConnector:
    return ManualConnector(ConnectorConfig(base_url="", http=OFFLINE_HTTP), "xiaohongshu")


def test_a_xiaohongshu_note_without_an_image_is_an_error() -> None:
    problems = xiaohongshu().validate(VariantDraft(text="秋天的第一瓶酒", title="秋日推荐"))
    assert [(p.code, p.severity.value) for p in problems] == [("manual.media_expected", "error")]
    assert xiaohongshu().validate(VariantDraft(text="秋天的第一瓶酒", media=(IMAGE,))) == []


def test_a_link_in_a_xiaohongshu_note_is_a_warning() -> None:
    """Links in a note are plain text: one in the text or the link field is a warning."""
    for draft in (
        VariantDraft(text="详情见 https://provence-wines.example/autumn", media=(IMAGE,)),
        VariantDraft(text="秋日推荐", link="https://provence-wines.example/a", media=(IMAGE,)),
    ):
        [problem] = xiaohongshu().validate(draft)
        assert (problem.code, problem.severity.value) == ("manual.link_not_clickable", "warning")


def test_other_platforms_keep_their_links() -> None:
    bilibili = ManualConnector(ConnectorConfig(base_url="", http=OFFLINE_HTTP), "bilibili")
    assert bilibili.validate(VariantDraft(text="https://www.bilibili.com/x")) == []
