"""Who hears of a post's way through approval and out: the approvers a step waits for, the
authors when it is approved, rejected, published or fails.

Each kind is a notification people tune on their settings page (in the app, by e-mail, in
the team chat); the notifications service sends each where its recipient chose.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.approvals import rules
from guanxi.channels.models import Channel
from guanxi.core.errors import N_
from guanxi.core.settings import Settings
from guanxi.notifications import preferences
from guanxi.notifications import service as notifications
from guanxi.publishing.models import Post, Variant

APPROVAL_WAITING = "approval_waiting"
APPROVAL_APPROVED = "approval_approved"
APPROVAL_REJECTED = "approval_rejected"
POST_PUBLISHED = "post_published"
PUBLISH_FAILED = "publish_failed"  # registered with its message by ``outcomes``

MESSAGES: dict[str, str] = {
    APPROVAL_WAITING: N_(
        "“{post}” waits for your approval on {channels} (step {step} of {steps})."
    ),
    APPROVAL_APPROVED: N_("“{post}” on {channel} was approved by {by}."),
    APPROVAL_REJECTED: N_("“{post}” on {channel} was rejected by {by}: {comment}"),
    POST_PUBLISHED: N_("“{post}” is live on {channel}."),
}
notifications.register_kinds(MESSAGES)
preferences.register_tunable(
    {
        APPROVAL_WAITING: N_("Something waits for my approval"),
        APPROVAL_APPROVED: N_("My post was approved"),
        APPROVAL_REJECTED: N_("My post was rejected"),
        POST_PUBLISHED: N_("My post was published"),
        PUBLISH_FAILED: N_("A post could not be published"),
    }
)


def _link(db: Session, post: Post) -> str:
    workspace = db.get_one(Workspace, post.workspace_id)
    return f"/w/{workspace.slug}/posts/{post.id}"


def author_ids(post: Post, variant: Variant) -> list[int | None]:
    """The people who wrote the variant: the post's author and whoever edited it."""
    return [post.created_by_id, *(variant.content_author_ids or [])]


def approvers_for(db: Session, *, review: rules.Review, workspace_id: int) -> list[int]:
    """The members who may decide the review's next step now (no author, no earlier step)."""
    # Two columns, not the members' rows: a workspace of an agency has hundreds.
    members = db.execute(
        select(Membership.user_id, Membership.role).where(Membership.workspace_id == workspace_id)
    )
    return [
        user_id
        for user_id, role in members
        if rules.may_decide(review, rules.Decider.member(user_id, Role(role)))
    ]


def waiting(
    db: Session,
    *,
    settings: Settings,
    post: Post,
    variants: Iterable[Variant],
    reviews: dict[int, rules.Review],
) -> None:
    """Tell each approver of the next step what waits for them (one notice per person)."""
    variants = list(variants)
    per_person: dict[int, list[Variant]] = {}
    for variant in variants:
        for user_id in approvers_for(
            db, review=reviews[variant.id], workspace_id=post.workspace_id
        ):
            per_person.setdefault(user_id, []).append(variant)
    # People waited for on the same variants hear of it together: one team-chat message.
    groups: dict[tuple[int, ...], list[int]] = {}
    for user_id, theirs in per_person.items():
        groups.setdefault(tuple(t.id for t in theirs), []).append(user_id)
    by_id = {variant.id: variant for variant in variants}
    for variant_ids, user_ids in groups.items():
        review = reviews[variant_ids[0]]
        notifications.notify(
            db,
            settings=settings,
            workspace_id=post.workspace_id,
            kind=APPROVAL_WAITING,
            params={
                "post": post.title,
                "channels": ", ".join(_channel_name(db, by_id[i]) for i in variant_ids),
                "step": review.next_step,
                "steps": review.steps,
            },
            recipients=user_ids,
            link=_link(db, post),
        )


def decided(
    db: Session,
    *,
    settings: Settings,
    post: Post,
    variant: Variant,
    approved: bool,
    by: str,
    comment: str,
) -> None:
    """Tell the variant's authors it was approved (every step) or rejected, and by whom."""
    notifications.notify(
        db,
        settings=settings,
        workspace_id=post.workspace_id,
        kind=APPROVAL_APPROVED if approved else APPROVAL_REJECTED,
        params={
            "post": post.title,
            "channel": _channel_name(db, variant),
            "by": by,
            "comment": comment,
        },
        recipients=author_ids(post, variant),
        link=_link(db, post),
    )


def published(db: Session, *, settings: Settings, variant: Variant) -> None:
    """Tell the variant's authors it is live."""
    post = db.get_one(Post, variant.post_id)
    notifications.notify(
        db,
        settings=settings,
        workspace_id=post.workspace_id,
        kind=POST_PUBLISHED,
        params={"post": post.title, "channel": _channel_name(db, variant)},
        recipients=author_ids(post, variant),
        link=_link(db, post),
    )


def display_name(user: User | None, fallback: str) -> str:
    """How a decider is named in a notice: their name, else their e-mail or link label."""
    if user is None:
        return fallback
    return user.name or user.email


def _channel_name(db: Session, variant: Variant) -> str:
    channel = db.get(Channel, variant.channel_id)
    return channel.name if channel is not None else ""
