"""The brand's posts named for the inbox: publishing answers by platform id and by text."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from guanxi.channels.our_posts import our_posts, search_our_posts
from guanxi.publishing import our_posts as publishing_posts
from guanxi.publishing.models import Post, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_channel


def test_published_posts_are_found_by_platform_id_and_by_text(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a published variant and a draft, the published one is named by its text start
    and linked to its page; only published posts are found, by id or by text."""
    publishing_posts.register()
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    channel = make_channel(db, workspace)
    post = Post(workspace_id=workspace.id, title="夏日桃红")
    db.add(post)
    db.flush()
    for state, external_id, text in (
        (
            VariantState.PUBLISHED,
            "4800000000000039",
            "普罗旺斯桃红配海鲜，夏天就该这样喝，冰镇后更清爽，快来试试吧朋友们，周末野餐也很适合带上一瓶",
        ),
        (VariantState.DRAFT, "", "还没发布的草稿"),
    ):
        db.add(
            Variant(
                workspace_id=workspace.id,
                post_id=post.id,
                channel_id=channel.id,
                text=text,
                state=state,
                external_id=external_id,
                idempotency_key=uuid.uuid4().hex,
            )
        )
    db.flush()
    found = our_posts(db, workspace=workspace, keys=[(channel.id, "4800000000000039")])
    named = found[(channel.id, "4800000000000039")]
    assert named.name.startswith("普罗旺斯桃红配海鲜")
    assert named.name.endswith("…")
    assert named.url == f"/w/acme/posts/{post.id}"
    assert our_posts(db, workspace=workspace, keys=[(channel.id + 1, "4800000000000039")]) == {}
    assert [p.external_id for p in search_our_posts(db, workspace=workspace, query="海鲜")] == [
        "4800000000000039"
    ]
    assert search_our_posts(db, workspace=workspace, query="草稿") == []
