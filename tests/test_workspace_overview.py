"""The workspace's front page: each capability at a glance, each figure a link to its list."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core.db import utcnow
from guanxi.listening.mentions.models import Mention
from guanxi.publishing.models import Post, Variant, VariantState
from tests.inbox_ui_support import make_channel, make_item


def figures(html: str) -> dict[str, str]:
    """Each glance line's text by the address it links to."""
    return {
        href.replace("&amp;", "&"): re.sub(r"\s+", " ", text).strip()
        for href, text in re.findall(r'<li[^>]*><a href="([^"]+)">([^<]+)</a></li>', html)
    }


def variant(db: Session, post: Post, channel_id: int, state: VariantState, days: float) -> None:
    when = utcnow() + timedelta(days=days)
    db.add(
        Variant(
            workspace_id=post.workspace_id,
            post_id=post.id,
            channel_id=channel_id,
            state=state,
            scheduled_at=when,
            next_attempt_at=when,
            idempotency_key=uuid.uuid4().hex,
        )
    )


def test_the_overview_counts_what_waits_in_each_capability(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given posts due this week and later, one in review and one failed, open inbox items
    (one taken), and mentions old and new, the front page counts each and links to the
    filtered list; figures that are zero and not urgent still show, failures only when
    there are some."""
    client, membership = signed_in
    slug, workspace = "acme", membership.workspace
    empty = figures(client.get(f"/w/{slug}/").text)
    assert empty[f"/w/{slug}/calendar"] == "0 posts scheduled in the next 7 days"
    assert f"/w/{slug}/publish?state=failed" not in empty

    channel = make_channel(db, workspace, platform="weibo")
    post = Post(workspace_id=workspace.id, title="桃红", body="正文")
    db.add(post)
    db.flush()
    variant(db, post, channel.id, VariantState.SCHEDULED, 1)
    variant(db, post, channel.id, VariantState.SCHEDULED, 2)
    variant(db, post, channel.id, VariantState.SCHEDULED, 20)  # not this week
    variant(db, post, channel.id, VariantState.IN_REVIEW, 3)
    variant(db, post, channel.id, VariantState.FAILED, -1)
    taken = make_item(db, channel, "什么时候到货？")
    taken.assignee_id = membership.user_id
    make_item(db, channel, "太好喝了")
    for days, mid in ((1, "m1"), (3, "m2"), (30, "m3")):
        db.add(
            Mention(
                workspace_id=workspace.id,
                platform="weibo",
                external_id=mid,
                text="普罗旺斯",
                posted_at=utcnow() - timedelta(days=days),
            )
        )
    db.commit()

    shown = figures(client.get(f"/w/{slug}/").text)
    # Two variants of one post due this week: one post.
    assert shown[f"/w/{slug}/calendar"] == "1 post scheduled in the next 7 days"
    assert shown[f"/w/{slug}/publish?state=in_review"] == "1 variant waiting for approval"
    assert shown[f"/w/{slug}/publish?state=failed"] == "1 variant failed to publish"
    assert shown[f"/w/{slug}/inbox?status=open"] == "2 open items"
    assert shown[f"/w/{slug}/inbox?status=open&assignee=none"] == "1 open item nobody has taken"
    week = [text for href, text in shown.items() if "/listen/dashboard?start=" in href]
    assert week == ["2 mentions in the last 7 days"]
    assert shown[f"/w/{slug}/market/apps"] == "0 apps tracked"
    for href in shown:
        assert client.get(href).status_code == 200, href
