"""Posts: writing one (Chinese first) for the chosen channels, reading and listing them,
their publish attempts and comments, and the audited state change every part of publishing
makes for a person.

A post is written once; each chosen channel gets a ``Variant`` whose variant starts as
a copy of the master and is edited for its platform (``guanxi.publishing.variants``), then
approved (``approvals``) and scheduled (``scheduling``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.channels.models import Channel
from guanxi.channels.service import get_channel
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.publishing.models import (
    COMMENT_MAX_LENGTH,
    Campaign,
    Post,
    PostComment,
    PostTag,
    PublishAttempt,
    Variant,
    VariantState,
)
from guanxi.publishing.states import Actor, transition
from guanxi.publishing.tags import normalised_tag, set_tags

POST_TITLE_MAX_LENGTH = 200


# --- State changes -----------------------------------------------------------------------


def set_state(
    db: Session, *, variant: Variant, state: VariantState, reason: str, actor: User | None
) -> None:
    """Move ``variant`` to ``state`` for a person (through the state machine), audited."""
    before = str(variant.state)
    transition(variant, state, reason, by=Actor.PERSON)
    record_audit(
        db,
        actor=actor,
        workspace=db.get(Workspace, variant.workspace_id),
        action=f"variant.{state.value}",
        entity_type="variant",
        entity_id=variant.id,
        before={"state": before},
        after={"state": state.value, "reason": reason},
    )


# --- Posts -------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > POST_TITLE_MAX_LENGTH:
        raise UserError(
            N_("Give the post an internal title of 1 to {max} characters."),
            max=POST_TITLE_MAX_LENGTH,
        )
    return title


def _campaign_id(db: Session, workspace: Workspace, value: str) -> int | None:
    if not value.strip():
        return None
    campaign_id = parse_id(value)
    campaign = db.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None or campaign.workspace_id != workspace.id:
        raise UserError(N_("That campaign does not exist in this workspace. Choose another one."))
    return campaign.id


def create_post(
    db: Session,
    *,
    workspace: Workspace,
    actor: User,
    title: str,
    body: str,
    campaign: str,
    channel_ids: Iterable[str],
) -> Post:
    """A post with one variant per chosen channel, each starting as a copy of the body."""
    clean_title = _clean_title(title)
    if not body.strip():
        raise UserError(N_("Write the post's text (in Chinese first) before saving it."))
    campaign_id = _campaign_id(db, workspace, campaign)
    channels = _channels(db, workspace, channel_ids)
    if not channels:
        raise UserError(N_("Choose at least one connected account to publish to."))
    post = Post(
        workspace_id=workspace.id,
        campaign_id=campaign_id,
        title=clean_title,
        body=body.strip(),
        created_by_id=actor.id,
    )
    db.add(post)
    db.flush()
    for channel in channels:
        _new_variant(db, post, channel)
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="post.create",
        entity_type="post",
        entity_id=post.id,
        after={"title": clean_title, "channels": [channel.id for channel in channels]},
    )
    return post


def _channels(db: Session, workspace: Workspace, channel_ids: Iterable[str]) -> list[Channel]:
    channels: list[Channel] = []
    for value in dict.fromkeys(channel_ids):
        channel_id = parse_id(value)
        if channel_id is None:
            raise UserError(N_("That account is not connected to this workspace. Reload the page."))
        try:
            channels.append(get_channel(db, workspace=workspace, channel_id=channel_id))
        except NotFoundError as exc:
            raise UserError(
                N_("That account is not connected to this workspace. Reload the page.")
            ) from exc
    return channels


def _new_variant(db: Session, post: Post, channel: Channel) -> Variant:
    variant = Variant(
        workspace_id=post.workspace_id,
        post_id=post.id,
        channel_id=channel.id,
        text=post.body,
        idempotency_key=uuid.uuid4().hex,
        state=VariantState.DRAFT,
        media_ids=[],
        checks=[],
        overrides=[],
    )
    post.variants.append(variant)
    db.flush()
    return variant


def add_channels(
    db: Session, *, post: Post, actor: User, channel_ids: Iterable[str]
) -> list[Variant]:
    """New variants of ``post`` for channels it does not variant yet."""
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    present = {variant.channel_id for variant in post.variants}
    channels = [c for c in _channels(db, workspace, channel_ids) if c.id not in present]
    if not channels:
        raise UserError(N_("Choose an account this post does not go to yet."))
    variants = [_new_variant(db, post, channel) for channel in channels]
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="post.add_channels",
        entity_type="post",
        entity_id=post.id,
        after={"channels": [channel.id for channel in channels]},
    )
    return variants


def update_post(
    db: Session,
    *,
    post: Post,
    actor: User,
    title: str,
    body: str,
    campaign: str,
    tags: list[str] | None = None,
) -> None:
    """Change the post's internal title, master text, campaign or tags (checked ones; None
    keeps them); the variants keep their text."""
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    before = {"title": post.title, "campaign_id": post.campaign_id, "tags": post.tags}
    if tags is not None:
        set_tags(db, post=post, tags=tags)
    post.title = _clean_title(title)
    if not body.strip():
        raise UserError(N_("Write the post's text (in Chinese first) before saving it."))
    post.body = body.strip()
    post.campaign_id = _campaign_id(db, workspace, campaign)
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="post.update",
        entity_type="post",
        entity_id=post.id,
        before=before,
        after={"title": post.title, "campaign_id": post.campaign_id, "tags": post.tags},
    )


def get_post(db: Session, *, workspace: Workspace, post_id: int) -> Post:
    """The workspace's post with this id; NotFound for anyone else's."""
    post = db.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        raise NotFoundError(N_("No such post in this workspace."))
    return post


def find_variant(*, post: Post, variant_id: int) -> Variant:
    """The post's variant with this id; NotFound otherwise."""
    for variant in post.variants:
        if variant.id == variant_id:
            return variant
    raise NotFoundError(N_("No such variant of this post."))


def get_variant(
    db: Session, *, workspace: Workspace, post_id: int, variant_id: int
) -> tuple[Post, Variant]:
    """The workspace's post and its variant ``variant_id``; NotFound for anyone else's."""
    post = get_post(db, workspace=workspace, post_id=post_id)
    return post, find_variant(post=post, variant_id=variant_id)


def _posts_query(
    *,
    workspace: Workspace,
    state: str,
    channel_id: int | None,
    campaign_id: int | None,
    tag: str = "",
) -> Select[Post]:
    query = select(Post).where(Post.workspace_id == workspace.id)
    if tag:
        query = query.where(Post.tag_rows.any(PostTag.tag == normalised_tag(tag)))
    if state:
        if state not in set(VariantState):
            raise UserError(N_("Unknown state in the filter. Choose one from the list."))
        query = query.where(
            Post.variants.any((Variant.state == state) & (Variant.post_id == Post.id))
        )
    if channel_id is not None:
        query = query.where(Post.variants.any(Variant.channel_id == channel_id))
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    return query


def list_posts(
    db: Session,
    *,
    workspace: Workspace,
    state: str = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
    tag: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[Post]:
    """The workspace's posts, newest first, filtered by a variant state, channel, campaign or
    tag; ``limit`` posts from ``offset`` when given, each with its variants loaded."""
    query = _posts_query(
        workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id, tag=tag
    )
    query = query.options(selectinload(Post.variants)).order_by(
        Post.created_at.desc(), Post.id.desc()
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.scalars(query))


class VariantLine(NamedTuple):
    """What the posts list shows of a variant: its account and its state."""

    channel_id: int
    state: str


@dataclass(frozen=True)
class PostLine:
    """What the posts list shows of a post: columns, not the post and its variants' rows
    (texts per platform, media, checks), which a list of 50 does not need."""

    id: int
    title: str
    body: str
    created_at: datetime
    tags: list[str] = field(default_factory=list)
    variants: list[VariantLine] = field(default_factory=list)


def post_lines(
    db: Session,
    *,
    workspace: Workspace,
    state: str = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
    tag: str = "",
    limit: int,
    offset: int = 0,
) -> list[PostLine]:
    """The lines of the posts list: ``list_posts``'s page, each with its tags and variants
    in their order, read as columns in three queries."""
    posts = _posts_query(
        workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id, tag=tag
    )
    query = posts.with_only_columns(Post.id, Post.title, Post.body, Post.created_at).order_by(
        Post.created_at.desc(), Post.id.desc()
    )
    lines = [
        PostLine(post_id, title, body, created_at)
        for post_id, title, body, created_at in db.execute(query.limit(limit).offset(offset))
    ]
    by_id = {line.id: line for line in lines}
    if not by_id:
        return lines
    variants = select(Variant.post_id, Variant.channel_id, Variant.state)
    for post_id, channel, variant_state in db.execute(
        variants.where(Variant.post_id.in_(by_id)).order_by(Variant.id)
    ):
        by_id[post_id].variants.append(VariantLine(channel, variant_state))
    tags = select(PostTag.post_id, PostTag.tag).where(PostTag.post_id.in_(by_id))
    for post_id, name in db.execute(tags.order_by(PostTag.tag)):
        by_id[post_id].tags.append(name)
    return lines


def count_posts(
    db: Session,
    *,
    workspace: Workspace,
    state: str = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
    tag: str = "",
) -> int:
    """How many posts the filters of ``list_posts`` give."""
    query = _posts_query(
        workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id, tag=tag
    )
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def list_attempts(db: Session, *, variant: Variant) -> list[PublishAttempt]:
    """Every publish attempt of a variant, the latest first."""
    query = (
        select(PublishAttempt)
        .where(PublishAttempt.variant_id == variant.id)
        .order_by(PublishAttempt.number.desc(), PublishAttempt.id.desc())
    )
    return list(db.scalars(query))


# --- Comments ----------------------------------------------------------------------------


def add_comment(
    db: Session, *, post: Post, body: str, author: User | None, author_label: str
) -> PostComment:
    """A comment on a post by a member or an external reviewer."""
    body = body.strip()
    if not body or len(body) > COMMENT_MAX_LENGTH:
        raise UserError(N_("Write a comment of 1 to {max} characters."), max=COMMENT_MAX_LENGTH)
    comment = PostComment(
        post_id=post.id,
        author_id=author.id if author else None,
        author_label=author_label,
        body=body,
    )
    db.add(comment)
    db.flush()
    record_audit(
        db,
        actor=author,
        actor_label=author_label,
        workspace=db.get(Workspace, post.workspace_id),
        action="post.comment",
        entity_type="post",
        entity_id=post.id,
        after={"comment_id": comment.id},
    )
    return comment


def list_comments(db: Session, *, post: Post) -> list[PostComment]:
    """A post's comments, oldest first."""
    query = select(PostComment).where(PostComment.post_id == post.id).order_by(PostComment.id)
    return list(db.scalars(query))
