"""Publishing answers ``guanxi.channels.our_posts``: which of the brand's published posts a
platform post id is, and which published posts hold a text (the debate page's picker)."""

from __future__ import annotations

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.our_posts import OurPost, OurPostsFinder, PostKey, register_our_posts
from guanxi.publishing.models import Post, Variant, VariantState

NAME_LENGTH = 40


def _named(workspace: Workspace, variant: Variant, post: Post) -> OurPost:
    """A published variant as the inbox names it: its title, else its text's start."""
    text = " ".join(variant.text.split())
    name = variant.title or (text[:NAME_LENGTH] + "…" if len(text) > NAME_LENGTH else text)
    return OurPost(
        channel_id=variant.channel_id,
        external_id=variant.external_id,
        name=name or post.title,
        url=f"/w/{workspace.slug}/posts/{post.id}",
    )


def _published(workspace: Workspace) -> Select[Variant, Post]:
    return (
        select(Variant, Post)
        .join(Post, Post.id == Variant.post_id)
        .where(
            Variant.workspace_id == workspace.id,
            Variant.state == VariantState.PUBLISHED,
            Variant.external_id != "",
        )
    )


def find_posts(db: Session, workspace: Workspace, keys: list[PostKey]) -> dict[PostKey, OurPost]:
    """The published variants with these (channel, platform id) keys."""
    found: dict[PostKey, OurPost] = {}
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = db.execute(
            _published(workspace).where(tuple_(Variant.channel_id, Variant.external_id).in_(chunk))
        )
        for variant, post in rows:
            found[(variant.channel_id, variant.external_id)] = _named(workspace, variant, post)
    return found


def search_posts(db: Session, workspace: Workspace, query: str, limit: int) -> list[OurPost]:
    """Published variants whose text or title holds ``query``, newest first."""
    statement = _published(workspace)
    if query:
        statement = statement.where(
            Variant.text.contains(query, autoescape=True)
            | Variant.title.contains(query, autoescape=True)
            | Post.title.contains(query, autoescape=True)
        )
    rows = db.execute(
        statement.order_by(Variant.published_at.desc(), Variant.id.desc()).limit(limit)
    )
    return [_named(workspace, variant, post) for variant, post in rows]


def register() -> None:
    """Let the inbox name the brand's posts (called when the web app is built)."""
    register_our_posts(OurPostsFinder(find=find_posts, search=search_posts))
