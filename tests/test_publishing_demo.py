"""The demo workspace's posts: written, approved and scheduled through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role
from guanxi.core.db import utcnow
from guanxi.core.settings import Settings
from guanxi.devtools.demo.publishing import DEMO_POSTS, load_demo_posts
from guanxi.publishing.models import Post, VariantState
from guanxi.sandbox.weibo import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_SAFE_DOMAIN
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_channel

SANDBOX_SETTINGS = Settings(
    weibo_app_key=DEMO_APP_KEY,
    weibo_app_secret=DEMO_APP_SECRET,
    weibo_safe_domain=DEMO_SAFE_DOMAIN,
)


def as_utc(moment: datetime) -> datetime:
    """SQLite gives naive UTC datetimes back; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_demo_posts_are_written_approved_and_scheduled_once(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the demo's members and accounts, the demo posts are written by the community
    manager, approved by the manager and scheduled (the first at once, the others over the
    next days), the last left in review; loading again adds none."""
    writer, approver = make_user("cm@demo.example"), make_user("manager@demo.example")
    workspace = make_workspace(
        "demo",
        owner=make_user("owner@demo.example"),
        members={writer: Role.EDITOR, approver: Role.MANAGER},
    )
    make_channel(db, workspace, platform="weibo")
    manual = make_channel(db, workspace, platform="xiaohongshu")
    manual.connector = "manual"
    db.commit()

    load_demo_posts(db, workspace=workspace, settings=SANDBOX_SETTINGS)
    db.commit()
    assert load_demo_posts(db, workspace=workspace, settings=SANDBOX_SETTINGS) == []

    posts = list(db.scalars(select(Post).order_by(Post.id)))
    assert [post.title for post in posts] == [demo.title for demo in DEMO_POSTS]
    assert {post.created_by_id for post in posts} == {writer.id}
    states = [sorted(variant.state for variant in post.variants) for post in posts]
    assert states == [
        [VariantState.SCHEDULED],
        [VariantState.SCHEDULED, VariantState.SCHEDULED],
        [VariantState.SCHEDULED],
        [VariantState.IN_REVIEW, VariantState.IN_REVIEW],
    ]
    first, later = posts[0].variants[0].scheduled_at, posts[2].variants[0].scheduled_at
    assert first is not None
    assert later is not None
    assert as_utc(first) <= utcnow() + timedelta(days=1)
    assert as_utc(later) > utcnow() + timedelta(days=3)
