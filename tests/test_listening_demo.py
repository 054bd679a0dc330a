"""The demo workspace's listening data: real Weibo posts, enriched, loaded once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.core.security import SecretBox
from guanxi.devtools.demo import listening as demo
from guanxi.devtools.demo.stack import load_demo_channels
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
    assert db.scalar(select(func.count(Mention.id))) == len(demo.sample()) == 240
    assert db.scalar(select(func.count(MentionEnrichment.mention_id))) == 240
    assert db.scalar(select(func.count(TrackedAccount.id))) == 2
    topics = {mention.raw["topic"] for mention in db.scalars(select(Mention))}
    assert topics == {"人工智能", "同济大学", "周杰伦", "好莱坞", "毕业", "特朗普"}


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
