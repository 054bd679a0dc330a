"""`guanxi inbox sync`: the worker's sync, by hand, against a sandbox on localhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.inbox.items.models import InboxItem
from guanxi.sandbox.audience import engagement_of, tick
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxPost
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from tests.cli import PREFIX, run, said, upgraded
from tests.inbox_ingest_support import connect_demo, make_stack


@pytest.fixture
def sandbox(cli_database: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """A sandbox on localhost that the commands' connectors are pointed at."""
    stack = make_stack()
    with run_in_thread(stack.app) as running:
        monkeypatch.setenv(PREFIX + "WEIBO_API_BASE", running.api_base("/weibo"))
        monkeypatch.setenv(PREFIX + "WECHAT_API_BASE", running.api_base("/wechat"))
        monkeypatch.setenv(PREFIX + "DOUYIN_API_BASE", running.api_base("/douyin"))
        monkeypatch.setenv(PREFIX + "SECRET_KEY", "cli-secret-key-that-is-long-enough-0123456789")
        get_settings.cache_clear()
        yield running
    get_settings.cache_clear()


def test_sync_reads_the_new_items_once(cli_database: Engine, sandbox: RunningSandbox) -> None:
    upgraded(cli_database)
    with Session(cli_database) as db:
        owner = User(email="owner@example.com", name="Owner", password_hash="x")
        db.add(owner)
        db.flush()
        workspace = Workspace(slug="brand", name="Brand")
        db.add(workspace)
        db.flush()
        connect_demo(
            db, workspace=workspace, box=SecretBox.from_settings(get_settings()), name="weibo"
        )
    state = sandbox.sandbox.state
    state.add_post(
        SandboxPost(
            platform="weibo",
            account_id=DEMO_WEIBO_UID,
            post_id=state.next_id(),
            text="桃红",
            created_at=utcnow(),
        )
    )
    tick(state, comments=4)
    expected = 4 + len(engagement_of(state).mentions)

    first = run("inbox", "sync", "--workspace", "brand")
    assert first.exit_code == 0, first.output
    assert f"1 channels, {expected} new items, 0 errors" in said(first)
    second = run("inbox", "sync")
    assert "0 new items" in said(second)
    with Session(cli_database) as db:
        assert db.scalar(select(func.count(InboxItem.id))) == expected

    unknown = run("inbox", "sync", "--workspace", "nope")
    assert unknown.exit_code == 1
    assert "no workspace nope" in said(unknown)
