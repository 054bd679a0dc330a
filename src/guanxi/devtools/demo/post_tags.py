"""The demo's tagged posts: the last months of the demo brand's history were published
through guanxi, so those posts are the brand's own posts with the tags its team groups them
by (新品, 节日, 教程, 品酒...), and the content analysis shows performance by tag.

Each history post measured in that span gets a published post and variant (``publishing``'s
tables, as the engine leaves them after publishing), linked to its measured post, with tags
read from its text by the words below; older history stays "published outside guanxi".
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.measure.models import MeasuredPost
from guanxi.publishing.models import Post, PostTag, Variant, VariantState

DEMO_PUBLISHING_SPAN = timedelta(days=120)  # the demo brand has published through guanxi this long
# A word in a post's text → the tags a community manager would give it.
TAGGED_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("新年份", ("新品",)),
    ("到港", ("新品", "门店")),
    ("门店", ("门店",)),
    ("小课堂", ("教程",)),
    ("读懂", ("教程",)),
    ("技巧", ("教程",)),
    ("指南", ("教程",)),
    ("清单", ("教程",)),
    ("配", ("品酒", "美食搭配")),
    ("品鉴", ("品酒",)),
    ("开瓶", ("品酒",)),
    ("秋收", ("酒庄故事", "节日")),
    ("酒庄", ("酒庄故事",)),
    ("葡萄园", ("酒庄故事",)),
    ("夏天", ("桃红", "节日")),
    ("桃红", ("桃红",)),
    ("薰衣草", ("节日",)),
)


def tags_for(text: str) -> list[str]:
    """The demo tags of a post's text, each once, in the order of ``TAGGED_WORDS``."""
    found = [tag for word, tags in TAGGED_WORDS if word in text for tag in tags]
    return list(dict.fromkeys(found))


def publish_history(db: Session, *, workspace_id: int, now: datetime) -> int:
    """Give the workspace's measured history posts of the last ``DEMO_PUBLISHING_SPAN`` a published
    post with tags (once: a measured post linked to a variant already is left alone);
    returns how many were given one."""
    measured = db.scalars(
        select(MeasuredPost).where(
            MeasuredPost.workspace_id == workspace_id,
            MeasuredPost.illustrative.is_(True),
            MeasuredPost.variant_id.is_(None),
            MeasuredPost.published_at >= now - DEMO_PUBLISHING_SPAN,
        )
    ).all()
    for row in measured:
        text = row.text_excerpt or "…"
        post = Post(
            workspace_id=workspace_id,
            title=text[:40],
            body=text,
            created_at=row.published_at,
            updated_at=row.published_at,
        )
        post.tag_rows = [PostTag(workspace_id=workspace_id, tag=tag) for tag in tags_for(text)]
        variant = Variant(
            workspace_id=workspace_id,
            channel_id=row.channel_id,
            text=text,
            state=VariantState.PUBLISHED,
            idempotency_key=uuid.uuid4().hex,
            external_id=row.external_id,
            external_url=row.url,
            published_at=row.published_at,
            scheduled_at=row.published_at,
            created_at=row.published_at,
        )
        post.variants.append(variant)
        db.add(post)
        db.flush()
        row.variant_id = variant.id
    return len(measured)
