"""The demo workspace's listening data: real Weibo posts, enriched, loaded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.devtools.demo import listening as demo
from guanxi.devtools.demo.stack import load_demo_channels
from guanxi.listening.insight.service import DashboardFilters, share_of_voice
from guanxi.listening.intake.models import ListeningSource, SourceFormat
from guanxi.listening.mentions import flows
from guanxi.listening.mentions.models import Mention, MentionEnrichment, TrackedAccount
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_data_support import FakePipeline


def test_demo_mentions_are_loaded_enriched_and_idempotent(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    workspace = make_workspace("demo", owner=make_user("d@demo.example"))
    demo.load_demo(db, workspace=workspace)
    demo.load_demo(db, workspace=workspace)
    shipped = len(demo.sample()) + len(demo.sample(demo.WINE_SAMPLE))
    assert shipped == 240 + 35
    assert db.scalar(select(func.count(Mention.id))) == shipped
    assert db.scalar(select(func.count(MentionEnrichment.mention_id))) == shipped
    assert db.scalar(select(func.count(TrackedAccount.id))) == 2
    topics = {mention.raw["topic"] for mention in db.scalars(select(Mention))}
    assert {"人工智能", "同济大学", "周杰伦", "好莱坞", "毕业", "特朗普"} <= topics
    assert {"Provence wines", "Bordeaux"} <= topics


def test_demo_share_of_voice_compares_the_brand_with_its_competitor(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo's listening data (its brand topic and the Bordeaux competitor topic),
    when the share of voice is counted over the last four weeks,
    then both topics have mentions, the brand the larger share, and no topic is asked for."""
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    workspace = make_workspace("demo", owner=make_user("d@demo.example"))
    demo.load_demo(db, workspace=workspace)
    db.commit()
    today = utcnow().date()
    filters = DashboardFilters(start=today - timedelta(days=28), end=today)

    found = share_of_voice(db, workspace_id=workspace.id, filters=filters)

    by_name = {item["name"]: item for item in found["items"]}
    assert set(by_name) == {"Provence wines", "Bordeaux"}
    assert by_name["Bordeaux"]["category"] == "competitor"
    assert by_name["Bordeaux"]["mentions"] >= 10
    assert by_name["Provence wines"]["share"] > by_name["Bordeaux"]["share"] > 0
    assert not found["needs_competitor"]


def test_posts_written_for_the_demo_do_not_pretend_to_be_on_weibo(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo loaded, the posts written for it carry no Weibo address (they are not
    on Weibo), while the real corpus posts link to theirs."""
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    workspace = make_workspace("demo", owner=make_user("d@demo.example"))
    demo.load_demo(db, workspace=workspace)
    written = {item["mid"] for item in demo.sample(demo.WINE_SAMPLE)}

    for mention in db.scalars(select(Mention)):
        if mention.external_id in written:
            assert not mention.url
        else:
            assert mention.url.startswith("https://m.weibo.cn/detail/")


def test_sample_is_real_weibo_text() -> None:
    """The shipped sample keeps the corpus' texts, with its {%...%} markers and emoticons."""
    texts = [item["text"] for item in demo.sample()]
    assert any("{%" in text for text in texts)
    assert any("[" in text for text in texts)
    assert all(text.strip() for text in texts)


def test_the_demo_search_comes_with_the_demo_weibo_account(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo data loaded before its sandbox accounts are connected (as `guanxi
    demo` does), connecting them adds the Weibo keyword search once, through the Weibo
    account."""
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    workspace = make_workspace("demo", owner=make_user("d@demo.example"))
    demo.load_demo(db, workspace=workspace)
    assert (
        db.scalar(select(ListeningSource).where(ListeningSource.format == SourceFormat.PULL))
        is None
    )
    box = SecretBox("demo-test-secret-key-0123456789-abcdefghij")
    load_demo_channels(db, workspace=workspace, box=box)
    load_demo_channels(db, workspace=workspace, box=box)
    searches = list(
        db.scalars(select(ListeningSource).where(ListeningSource.format == SourceFormat.PULL))
    )
    assert [(s.name, s.query) for s in searches] == [(demo.PULL_SOURCE_NAME, demo.PULL_QUERY)]
    channel = db.get(Channel, searches[0].channel_id)
    assert channel is not None
    assert channel.connector == "weibo"
