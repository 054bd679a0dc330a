"""Queries per page on the pages the load benchmark opens most: pinned, and the same whatever
the data's size, so a page that starts querying once per row (an N+1) fails here.

Each page is counted twice: on a small workspace, then after it grew (many more members,
items with tags, assignees and notes, replies in the thread, posts). The counts must not move
with the data, and must equal the pinned figure: a page that needs one more query changes the
figure here on purpose, with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role, User
from guanxi.channels.models import Channel
from guanxi.devtools.bench.common import no_progress
from guanxi.devtools.bench.web_data import _add_posts
from guanxi.inbox.items.models import InboxItem, InternalNote, ItemTag, Tag
from guanxi.inbox.replies.models import Reply
from guanxi.publishing.models import Approval, Post, Variant, VariantState
from guanxi.publishing.policy import get_policy
from tests.inbox_ui_support import make_channel, make_item

# Statements per request, the bell's included; the session comes in one statement with its
# user and the user's memberships and workspaces (the header's list and the membership).
# Every full page of an approver also asks the publishing policy and the variants in review
# (the Approvals badge: 2, 3 when some wait); fragments (htmx) draw no navigation and ask
# neither, nor the bell.
PINNED = {
    "overview": 12,
    "inbox": 13,  # + the authors' remarks (names) and the members (names and roles, once)
    # three new rows: how many arrived (to find them by id), their SLA targets, tags,
    # assignees and authors' remarks
    "inbox-poll": 9,
    # with replies: the approval setting and the roles, once each; who else is on the item
    # (presence: written, then read), the window around the item (both sides and the item
    # in one statement, all their replies in another), our post it is on
    "inbox-thread": 21,
    "posts": 11,  # + the tag filter's workspace tags and the shown posts' tags, once each
}


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "after_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "after_cursor_execute", seen)


def _grow(db: Session, membership: Membership, channel: Channel, *, size: int) -> None:
    """``size`` more members, items (tagged, assigned, with notes and replies) and posts."""
    workspace = membership.workspace
    users = []
    for number in range(size):
        # No password: a hash each would cost the test seconds, and nobody signs in as them.
        user = User(email=f"m{size}-{number}@acme.example", name=f"M {number}", password_hash="")
        db.add(user)
        db.flush()
        accounts.add_member(db, workspace=workspace, user=user, role=Role.EDITOR, actor=None)
        users.append(user)
    tags = [Tag(workspace_id=workspace.id, name=f"t{size}-{n}") for n in range(3)]
    db.add_all(tags)
    db.flush()
    for number in range(size):
        item = make_item(db, channel, f"评论 {size}-{number}", author=f"a{number}", post="post-1")
        item.assignee_id = users[number % len(users)].id
        db.add(ItemTag(item_id=item.id, tag_id=tags[number % len(tags)].id))
        db.add(InternalNote(item_id=item.id, author_id=users[0].id, text=f"note {number}"))
        db.add(
            Reply(
                item_id=item.id,
                author_id=users[0].id,
                text=f"回复 {number}",
                state="draft",
                idempotency_key=uuid.uuid4().hex,
            )
        )
    db.commit()  # the posts are written by a session of their own
    _add_posts(
        sessionmaker(bind=db.get_bind()),
        workspace_id=workspace.id,
        channel_ids=[channel.id],
        author_id=membership.user_id,
        count=size,
        progress=no_progress,
    )


def _count(client: TestClient, engine: Engine, path: str, *, htmx: bool = False) -> int:
    headers = {"HX-Request": "true"} if htmx else {}
    assert client.get(path, headers=headers).status_code == 200  # first visit's writes
    with counting(engine) as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text[:300]
    return len(statements)


def _pages(db: Session, membership: Membership) -> dict[str, tuple[str, bool]]:
    slug = membership.workspace.slug
    newest = max(item.id for item in db.query(InboxItem).all())
    return {
        "overview": (f"/w/{slug}/", False),
        "inbox": (f"/w/{slug}/inbox", False),
        "inbox-poll": (f"/w/{slug}/inbox/poll?after={newest - 3}", True),
        "inbox-thread": (f"/w/{slug}/inbox/items/{newest}", False),
        "posts": (f"/w/{slug}/publish", False),
    }


@pytest.mark.parametrize("page", sorted(PINNED))
def test_a_hot_page_runs_the_same_few_queries_however_large_the_workspace(
    page: str, signed_in: tuple[TestClient, Membership], db: Session, engine: Engine
) -> None:
    """Given a small workspace, when it grows tenfold (members, items with tags, assignees,
    notes and replies, posts), then the page still runs its pinned number of queries."""
    client, membership = signed_in
    channel = make_channel(db, membership.workspace)
    _grow(db, membership, channel, size=4)
    path, htmx = _pages(db, membership)[page]
    small = _count(client, engine, path, htmx=htmx)
    _grow(db, membership, channel, size=40)
    path, htmx = _pages(db, membership)[page]
    large = _count(client, engine, path, htmx=htmx)
    assert large == small, f"{page}: {small} queries on a small workspace, {large} on a large one"
    assert large == PINNED[page], (
        f"{page} ran {large} queries, pinned at {PINNED[page]}: remove the new query, or "
        "change PINNED with the reason"
    )


def test_the_inbox_names_members_without_loading_their_accounts(
    signed_in: tuple[TestClient, Membership], db: Session, engine: Engine
) -> None:
    """Given 40 members, the inbox list reads their names as two columns, not user rows
    (loading 200 members' rows was a third of the page's CPU time)."""
    client, membership = signed_in
    channel = make_channel(db, membership.workspace)
    _grow(db, membership, channel, size=40)
    with counting(engine) as statements:
        page = client.get(f"/w/{membership.workspace.slug}/inbox")
    assert "M 39" in page.text  # the assignee filter names every member
    member_queries = [s for s in statements if "FROM memberships JOIN users" in s]
    assert member_queries, statements
    assert all("password_hash" not in s for s in member_queries)
    assert db.query(User).count() == 41


def _send_to_review(
    db: Session, membership: Membership, channel: Channel, *, count: int, author: User
) -> None:
    """``count`` posts by ``author``, each with a variant waiting for review; every other one
    already carries an approval of another content (stale), so each has decisions to read."""
    for number in range(count):
        post = Post(
            workspace_id=membership.workspace_id,
            title=f"review {number}",
            body=f"待审 {number}",
            created_by_id=author.id,
        )
        target = Variant(
            workspace_id=membership.workspace_id,
            channel_id=channel.id,
            text=post.body,
            idempotency_key=uuid.uuid4().hex,
            state=VariantState.IN_REVIEW,
            media_ids=[],
            checks=[],
            overrides=[],
        )
        post.variants.append(target)
        db.add(post)
        db.flush()
        if number % 2:
            db.add(
                Approval(
                    variant_id=target.id,
                    step=1,
                    approved=True,
                    decided_by_id=membership.user_id,
                    reviewer_label="owner@acme.example",
                    content_digest="an older content",
                )
            )
    db.commit()


def test_the_approvals_badge_counts_a_long_queue_in_the_same_few_queries(
    signed_in: tuple[TestClient, Membership], db: Session, engine: Engine
) -> None:
    """Given an owner (an approver) and 3 variants by an editor waiting for review, when 40
    more wait, then every page still asks the badge's figure in the same number of queries,
    and the badge counts them all."""
    client, membership = signed_in
    channel = make_channel(db, membership.workspace)
    editor = User(email="editor@acme.example", name="Editor", password_hash="")
    db.add(editor)
    db.flush()
    accounts.add_member(
        db, workspace=membership.workspace, user=editor, role=Role.EDITOR, actor=None
    )
    path = f"/w/{membership.workspace.slug}/inbox"
    _send_to_review(db, membership, channel, count=3, author=editor)
    few = _count(client, engine, path)
    _send_to_review(db, membership, channel, count=40, author=editor)
    many = _count(client, engine, path)
    assert many == few, f"{few} queries with 3 variants waiting, {many} with 43"
    get_policy(db, workspace=membership.workspace)  # saved, as once its settings were
    db.commit()
    with counting(engine) as statements:
        assert 'aria-label="43 waiting for you"' in client.get(path).text
    policies = [s for s in statements if "FROM publishing_policies" in s]
    assert len(policies) == 1, "the badge reads the workspace's publishing policy once"


def _post_with_variants(db: Session, membership: Membership, count: int) -> int:
    """A post with a variant in review on each of ``count`` accounts, each decided once."""
    workspace = membership.workspace
    post = Post(
        workspace_id=workspace.id, title=f"{count} accounts", body="正文", created_by_id=None
    )
    for _ in range(count):
        channel = make_channel(db, workspace)
        post.variants.append(
            Variant(
                workspace_id=workspace.id,
                channel_id=channel.id,
                text="正文",
                idempotency_key=uuid.uuid4().hex,
                state=VariantState.IN_REVIEW,
                media_ids=[],
                checks=[],
                overrides=[],
            )
        )
    db.add(post)
    db.flush()
    for variant in post.variants:
        db.add(
            Approval(
                variant_id=variant.id,
                step=1,
                approved=True,
                content_digest="",
                decided_by_id=None,
                reviewer_label="client@example.com",
                comment="好",
            )
        )
    db.commit()
    return post.id


def test_a_post_page_reads_the_decisions_of_all_its_variants_at_once(
    signed_in: tuple[TestClient, Membership], db: Session, engine: Engine
) -> None:
    """Given a post on one account and a post on five, each variant in review with a
    decision, then each post's page reads the decisions in one statement (their review
    status and their record; the Approvals badge of the header reads those of the queue in
    another), not two per account."""
    client, membership = signed_in
    slug = membership.workspace.slug
    reads: dict[int, int] = {}
    for count in (1, 5):
        post_id = _post_with_variants(db, membership, count)
        path = f"/w/{slug}/posts/{post_id}"
        assert client.get(path).status_code == 200
        with counting(engine) as statements:
            assert client.get(path).status_code == 200
        reads[count] = sum("FROM approvals" in " ".join(s.split()) for s in statements)
    assert reads == {1: 2, 5: 2}, reads
