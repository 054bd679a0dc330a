"""The approvals queue: every variant waiting for a decision in a workspace, with what an
approver needs to decide it (since when, which step, who wrote it, the account, the open
check errors and warnings) and whether the viewer may decide its next step now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from guanxi.accounts.models import AuditEvent, Membership, User
from guanxi.approvals import rules
from guanxi.channels.models import Channel
from guanxi.publishing.approvals import (
    authors_of,
    decisions_of,
    may_decide,
    review_statuses,
    status_from,
)
from guanxi.publishing.models import Post, PublishingPolicy, Variant, VariantState
from guanxi.publishing.policy import DEFAULT_APPROVER_ROLE, get_policy
from guanxi.publishing.variants import digest_of_content, unresolved


@dataclass(frozen=True)
class QueueItem:
    """One variant waiting for approval, as the queue shows it."""

    variant: Variant
    post: Post
    channel: str
    platform: str
    author: str
    since: datetime
    step: int
    steps: int
    errors: int
    warnings: int
    yours: bool


def _in_review(db: Session, workspace_id: int) -> list[Variant]:
    query = (
        select(Variant)
        .where(
            Variant.workspace_id == workspace_id,
            Variant.state == VariantState.IN_REVIEW,
        )
        .options(joinedload(Variant.post))
        .order_by(Variant.id)
    )
    return list(db.scalars(query))


def _since(db: Session, variant_ids: list[int]) -> dict[int, datetime]:
    """When each variant last went to review (its latest ``variant.in_review`` audit)."""
    if not variant_ids:
        return {}
    rows = db.execute(
        select(AuditEvent.entity_id, func.max(AuditEvent.created_at))
        .where(
            AuditEvent.entity_type == "variant",
            AuditEvent.action == "variant.in_review",
            AuditEvent.entity_id.in_([str(variant_id) for variant_id in variant_ids]),
        )
        .group_by(AuditEvent.entity_id)
    )
    return {int(entity_id): at for entity_id, at in rows}


def may_use_queue(db: Session, membership: Membership) -> bool:
    """Whether the member approves in this workspace (the queue and its nav entry are theirs).

    Reads the policy without creating it (every page asks, for the nav entry).
    """
    return _approves(membership, db.get(PublishingPolicy, membership.workspace_id))


def _approves(membership: Membership, policy: PublishingPolicy | None) -> bool:
    lowest = policy.approver_role if policy is not None else DEFAULT_APPROVER_ROLE
    return rules.at_least(membership.role, lowest)


def waiting(db: Session, *, membership: Membership) -> list[QueueItem]:
    """Every variant of the workspace in review, oldest waiting first; ``yours`` marks those
    the member may decide now."""
    policy = get_policy(db, workspace=membership.workspace)
    variants = _in_review(db, membership.workspace_id)
    since = _since(db, [t.id for t in variants])
    statuses = review_statuses(db, variants=variants, policy=policy)
    items = []
    for variant in variants:
        status = statuses[variant.id]
        errors, warnings = unresolved(variant)
        channel = db.get(Channel, variant.channel_id)
        author = db.get(User, variant.post.created_by_id) if variant.post.created_by_id else None
        items.append(
            QueueItem(
                variant=variant,
                post=variant.post,
                channel=channel.name if channel else "",
                platform=channel.platform if channel else "",
                author=(author.name or author.email) if author else "",
                since=since.get(variant.id, variant.updated_at),
                step=status.next_step,
                steps=status.steps,
                errors=len(errors),
                warnings=len(warnings),
                yours=may_decide(status, membership),
            )
        )
    return sorted(items, key=lambda item: item.since)


def badge_count(db: Session, *, membership: Membership) -> int | None:
    """The nav badge of every page: how many variants wait for the member's decision, or
    None when the member does not approve in this workspace; the policy read once for both."""
    policy = db.get(PublishingPolicy, membership.workspace_id)
    if not _approves(membership, policy):
        return None
    return count_yours(db, membership=membership, policy=policy)


def count_yours(
    db: Session, *, membership: Membership, policy: PublishingPolicy | None = None
) -> int:
    """How many variants wait for the member's decision now (the nav badge): the same few
    queries however long the queue. Every full page of an approver asks, so only the
    columns a decision depends on are read, not the variants and posts as objects.
    ``policy``: the workspace's, when the caller has read it."""
    rows = db.execute(
        select(
            Variant.id,
            Variant.text,
            Variant.title,
            Variant.digest,
            Variant.link,
            Variant.media_ids,
            Variant.cover_media_id,
            Variant.content_author_ids,
            Post.created_by_id,
        )
        .join(Post, Post.id == Variant.post_id)
        .where(
            Variant.workspace_id == membership.workspace_id,
            Variant.state == VariantState.IN_REVIEW,
        )
    ).all()
    if not rows:
        return 0
    if policy is None:  # a variant in review: the policy exists, or is made now
        policy = get_policy(db, workspace=membership.workspace)
    decisions = decisions_of(db, [row.id for row in rows])
    statuses = (
        status_from(
            decisions[row.id],
            policy=policy,
            authors=authors_of(row.created_by_id, row.content_author_ids),
            digest=digest_of_content(
                text=row.text,
                title=row.title,
                digest=row.digest,
                link=row.link,
                media_ids=row.media_ids,
                cover_media_id=row.cover_media_id,
            ),
            in_review=True,
        )
        for row in rows
    )
    return sum(1 for status in statuses if may_decide(status, membership))
