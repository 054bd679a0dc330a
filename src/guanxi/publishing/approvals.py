"""Approvals: submitting for review, approving or rejecting per step, external review links.

A workspace's ``PublishingPolicy`` says how many steps (0, 1 or 2) a variant needs and the
lowest role that may approve. An ``Approval`` counts only for the content digest it saw:
editing the variant afterwards makes it stale. Who may decide follows the shared rules in
``guanxi.approvals.rules``: never an author of the content, one step per person. An external
reviewer (a client, legal) approves through a signed, expiring ``ReviewLink`` issued for
them by name, which records one decision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission, Role, User, Workspace
from guanxi.accounts.service import record_audit, require
from guanxi.approvals import rules
from guanxi.approvals.record import record_decision
from guanxi.approvals.rules import ApproverRoleError, Decider
from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, PermissionDeniedError, UserError
from guanxi.core.in_lists import scalars_among
from guanxi.core.settings import Settings, get_settings
from guanxi.publishing import notices
from guanxi.publishing.models import (
    COMMENT_MAX_LENGTH,
    Approval,
    Post,
    PublishingPolicy,
    ReviewLink,
    Variant,
    VariantState,
)
from guanxi.publishing.policy import get_policy
from guanxi.publishing.service import set_state
from guanxi.publishing.variants import check_variant, content_digest, unresolved

__all__ = ["ApproverRoleError", "BlockingChecksError"]

REVIEW_SALT = "guanxi.publishing.review"
REVIEW_LINK_DAYS = (1, 3, 7, 14, 30)
EXTERNAL_SUFFIX = " (external)"


@dataclass(frozen=True)
class ReviewStatus:
    """Where a variant stands in its approval: the approvals that count, and the next step."""

    valid: list[Approval]
    steps: int
    review: rules.Review

    @property
    def next_step(self) -> int:
        """The step the next approval decides (steps + 1 once complete)."""
        return len(self.valid) + 1

    @property
    def complete(self) -> bool:
        """Whether every step is approved for the current content, by different people."""
        return self.review.complete


def decider_key(approval: Approval) -> str:
    """Who made a decision: the member, or the external reviewer by the link's name."""
    if approval.decided_by_id is not None:
        return rules.member_key(approval.decided_by_id)
    return rules.external_key(approval.reviewer_label)


def variant_authors(post: Post, variant: Variant) -> frozenset[str]:
    """Who wrote the variant: the post's author and whoever edited the variant's content."""
    return authors_of(post.created_by_id, variant.content_author_ids)


def authors_of(post_author_id: int | None, content_author_ids: list[int] | None) -> frozenset[str]:
    """``variant_authors`` from the post's author and the variant's content authors."""
    ids = [post_author_id, *(content_author_ids or [])]
    return frozenset(rules.member_key(user_id) for user_id in ids if user_id is not None)


def post_authors(post: Post) -> frozenset[str]:
    """Who wrote any of the post's variants."""
    return frozenset(key for variant in post.variants for key in variant_authors(post, variant))


def review_status(
    db: Session,
    *,
    variant: Variant,
    policy: PublishingPolicy,
    decisions: list[Approval] | None = None,
) -> ReviewStatus:
    """The approvals that still count: for the current content, since the last rejection,
    one per person, none by an author. ``decisions``: every decision on the variant, oldest
    first, when the caller has read them already (``decisions_of``)."""
    return status_from(
        list_approvals(db, variant=variant) if decisions is None else decisions,
        policy=policy,
        authors=variant_authors(variant.post, variant),
        digest=content_digest(variant),
        in_review=variant.state == VariantState.IN_REVIEW,
    )


def review_statuses(
    db: Session, *, variants: Sequence[Variant], policy: PublishingPolicy
) -> dict[int, ReviewStatus]:
    """``review_status`` of many variants by id, their decisions read in one query (load the
    variants with their post, or each asks for it)."""
    decisions = decisions_of(db, [variant.id for variant in variants])
    return {
        variant.id: status_from(
            decisions[variant.id],
            policy=policy,
            authors=variant_authors(variant.post, variant),
            digest=content_digest(variant),
            in_review=variant.state == VariantState.IN_REVIEW,
        )
        for variant in variants
    }


def decisions_of(db: Session, variant_ids: Sequence[int]) -> dict[int, list[Approval]]:
    """Every decision on each variant, oldest first, in one query (whatever the count)."""
    decisions: dict[int, list[Approval]] = {variant_id: [] for variant_id in variant_ids}
    query = select(Approval).order_by(Approval.id)
    for approval in scalars_among(db, query, Approval.variant_id, decisions):
        decisions[approval.variant_id].append(approval)
    return decisions


def status_from(
    decisions: list[Approval],
    *,
    policy: PublishingPolicy,
    authors: frozenset[str],
    digest: str,
    in_review: bool,
) -> ReviewStatus:
    """Where a variant stands, from its decisions, its authors and its content's digest."""
    counted = rules.counting_approvals(
        ((a.approved, a.content_digest, a.step, decider_key(a)) for a in decisions),
        digest=digest,
        authors=authors,
    )
    by_key = {decider_key(a): a for a in decisions if a.approved}
    review = rules.Review(
        steps=policy.approval_steps,
        lowest_role=Role(policy.approver_role),
        authors=authors,
        approvers=counted,
        in_review=in_review,
    )
    return ReviewStatus(
        valid=[by_key[key] for key in counted], steps=policy.approval_steps, review=review
    )


def approvals_complete(db: Session, *, variant: Variant, policy: PublishingPolicy) -> bool:
    """Whether every step the policy asks for is approved for the variant as it is now."""
    return review_status(db, variant=variant, policy=policy).complete


def list_approvals(db: Session, *, variant: Variant) -> list[Approval]:
    """Every decision on a variant, oldest first (stale ones included, for the record)."""
    query = select(Approval).where(Approval.variant_id == variant.id).order_by(Approval.id)
    return list(db.scalars(query))


def member_decider(membership: Membership) -> Decider:
    """The member as the approval rules see them."""
    return Decider.member(membership.user_id, membership.role)


def may_approve(membership: Membership, policy: PublishingPolicy) -> bool:
    """Whether the member's role is at or above the policy's lowest approving role."""
    return rules.at_least(membership.role, policy.approver_role)


def may_decide(status: ReviewStatus, membership: Membership) -> bool:
    """Whether the member may approve or reject the variant's next step now."""
    return rules.may_decide(status.review, member_decider(membership))


class BlockingChecksError(UserError):
    """Variants with blocking check errors: they may be neither submitted nor approved.

    The message lists every error, each with its account, in the reader's language.
    """

    def __init__(self, message: str, errors: Sequence[tuple[str, dict[str, Any]]]) -> None:
        super().__init__(message, count=len(errors))
        self.errors = list(errors)

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The heading and one line per error ("account: what is wrong"), translated."""
        lines = [super().translated(gettext)]
        for channel, finding in self.errors:
            text = gettext(str(finding.get("message", "")))
            params = finding.get("params") or {}
            # A message whose parameters changed since it was stored shows as written.
            with contextlib.suppress(KeyError, IndexError, ValueError):
                text = text.format(**params) if params else text
            lines.append(f"• {channel}: {text}")
        return "\n".join(lines)


MSG_BLOCKING_SUBMIT = N_(
    "{count} blocking error(s) stop this post from going to approval. Fix them, then submit again:"
)
MSG_BLOCKING_APPROVE = N_(
    "{count} blocking error(s) in this variant: it cannot be approved. Reject it with what to "
    "change, or ask the author to fix:"
)


def refuse_blocking_errors(
    db: Session, *, variants: Iterable[Variant], settings: Settings, message: str
) -> list[Channel]:
    """Check ``variants`` again (storing the findings); raise a BlockingChecksError listing
    every error when any has one. Warnings do not block here: a manager overrides them.

    Returns the variants' accounts: a caller that keeps them referenced has them in the
    session for what follows (the notices name them) without reading them again."""
    errors: list[tuple[str, dict[str, Any]]] = []
    channels = []
    for variant in variants:
        channel = db.get_one(Channel, variant.channel_id)
        channels.append(channel)
        check_variant(db, variant=variant, settings=settings, channel=channel)
        errors.extend((channel.name, finding) for finding in unresolved(variant)[0])
    if errors:
        raise BlockingChecksError(message, errors)
    return channels


def submit_for_review(
    db: Session, *, post: Post, membership: Membership, settings: Settings | None = None
) -> list[Variant]:
    """Send every draft variant of the post to review (DRAFT → IN_REVIEW).

    Checks run first: a blocking error in any draft stops the whole submission.
    """
    require(membership, Permission.WRITE)
    policy = get_policy(db, workspace=membership.workspace)
    if policy.approval_steps == 0:
        raise UserError(
            N_("This workspace publishes without approval: schedule the variants directly.")
        )
    drafts = [variant for variant in post.variants if variant.state == VariantState.DRAFT]
    if not drafts:
        raise UserError(N_("No variant of this post is a draft: there is nothing to submit."))
    settings = settings or get_settings()
    # Held until the notices below name the accounts: the session keeps them while referenced.
    channels = refuse_blocking_errors(
        db, variants=drafts, settings=settings, message=MSG_BLOCKING_SUBMIT
    )
    for variant in drafts:
        set_state(
            db, variant=variant, state=VariantState.IN_REVIEW, reason="", actor=membership.user
        )
    reviews = {t.id: review_status(db, variant=t, policy=policy).review for t in drafts}
    notices.waiting(db, settings=settings, post=post, variants=drafts, reviews=reviews)
    del channels  # the notices have named the accounts
    return drafts


def _clean_comment(comment: str, *, approved: bool) -> str:
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise UserError(N_("Write a comment of 1 to {max} characters."), max=COMMENT_MAX_LENGTH)
    if not approved and not comment:
        raise UserError(N_("Say what to change: a rejection needs a comment."))
    return comment


def _record_decision(
    db: Session,
    *,
    variant: Variant,
    policy: PublishingPolicy,
    decider: Decider,
    approved: bool,
    comment: str,
    user: User | None,
    label: str,
    settings: Settings,
) -> Approval:
    status = review_status(db, variant=variant, policy=policy)
    after = rules.decide(status.review, decider, approved=approved)  # raises a refusal
    approval = Approval(
        variant_id=variant.id,
        step=status.next_step,
        approved=approved,
        content_digest=content_digest(variant),
        decided_by_id=user.id if user else None,
        reviewer_label=label,
        comment=comment,
    )
    db.add(approval)
    db.flush()
    record_decision(
        db,
        workspace=db.get(Workspace, variant.workspace_id),
        subject="variant",
        entity_type="variant",
        entity_id=variant.id,
        approved=approved,
        actor=user,
        actor_label=label,
        details={"step": approval.step, "comment": comment, "digest": approval.content_digest},
    )
    if not approved:
        reason = comment or N_("Rejected in review.")
        set_state(db, variant=variant, state=VariantState.DRAFT, reason=reason, actor=user)
    elif after.complete:
        set_state(db, variant=variant, state=VariantState.APPROVED, reason="", actor=user)
    _tell(
        db,
        variant=variant,
        approved=approved,
        after=after,
        by=notices.display_name(user, label),
        comment=comment,
        settings=settings,
    )
    return approval


def _tell(
    db: Session,
    *,
    variant: Variant,
    approved: bool,
    after: rules.Review,
    by: str,
    comment: str,
    settings: Settings,
) -> None:
    """The authors hear of a rejection or a complete approval; the next step's approvers
    hear that it waits for them."""
    post = variant.post
    if approved and not after.complete:
        notices.waiting(
            db, settings=settings, post=post, variants=[variant], reviews={variant.id: after}
        )
        return
    notices.decided(
        db, settings=settings, post=post, variant=variant, approved=approved, by=by, comment=comment
    )


def decide(
    db: Session,
    *,
    variant: Variant,
    post: Post,
    membership: Membership,
    approved: bool,
    comment: str,
    settings: Settings | None = None,
) -> Approval:
    """A member approves or rejects the next step of a variant in review.

    An approval is refused while the variant has a blocking check error; a rejection is not.
    """
    if variant.post_id != post.id:
        raise NotFoundError(N_("This variant is not part of this post. Reload the page."))
    policy = get_policy(db, workspace=membership.workspace)
    refusal = rules.decision_refusal(
        review_status(db, variant=variant, policy=policy).review, member_decider(membership)
    )
    if refusal is not None:
        raise refusal
    settings = settings or get_settings()
    # Held until the notices name the account: the session keeps it while referenced.
    channels = (
        refuse_blocking_errors(
            db, variants=[variant], settings=settings, message=MSG_BLOCKING_APPROVE
        )
        if approved
        else []
    )
    user = membership.user
    decision = _record_decision(
        db,
        variant=variant,
        policy=policy,
        decider=member_decider(membership),
        approved=approved,
        comment=_clean_comment(comment, approved=approved),
        user=user,
        label=user.email,
        settings=settings or get_settings(),
    )
    del channels  # the notices have named the account
    return decision


# --- External review links -----------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeSerializer:
    # itsdangerous signs with the last key and accepts any: the current key goes last.
    return URLSafeSerializer(settings.all_secret_keys()[::-1], salt=REVIEW_SALT)


def may_issue_link(db: Session, *, post: Post, membership: Membership) -> bool:
    """Whether the member may create a review link for the post (not its author)."""
    policy = get_policy(db, workspace=membership.workspace)
    refusal = rules.link_issue_refusal(
        member_decider(membership),
        authors=post_authors(post),
        lowest_role=Role(policy.approver_role),
    )
    return refusal is None and policy.approval_steps > 0


def review_link_token(
    db: Session,
    *,
    post: Post,
    membership: Membership,
    reviewer: str,
    days: str,
    settings: Settings,
) -> tuple[str, datetime]:
    """A signed link for the named external reviewer; creating one delegates an approval
    step, so only an approver who wrote none of the post may."""
    require(membership, Permission.APPROVE)
    policy = get_policy(db, workspace=membership.workspace)
    refusal = rules.link_issue_refusal(
        member_decider(membership),
        authors=post_authors(post),
        lowest_role=Role(policy.approver_role),
    )
    if refusal is not None:
        raise refusal
    name = rules.clean_reviewer_name(reviewer)
    if not days.isdecimal() or int(days) not in REVIEW_LINK_DAYS:
        raise UserError(N_("Choose how long the link works: 1, 3, 7, 14 or 30 days."))
    expires = utcnow() + timedelta(days=int(days))
    link = ReviewLink(
        workspace_id=post.workspace_id,
        post_id=post.id,
        reviewer_name=name,
        issued_by_id=membership.user_id,
        expires_at=expires,
    )
    db.add(link)
    db.flush()
    token = _serializer(settings).dumps(
        {"w": post.workspace_id, "p": post.id, "l": link.id, "exp": int(expires.timestamp())}
    )
    record_audit(
        db,
        actor=membership.user,
        workspace=membership.workspace,
        action="post.review_link",
        entity_type="post",
        entity_id=post.id,
        after={"link": link.id, "reviewer": name, "expires_at": expires.isoformat()},
    )
    return token, expires


class ReviewLinkError(NotFoundError):
    """A review link that is expired, altered or points nowhere; shows nothing else."""


def review_link_for_token(db: Session, *, token: str, settings: Settings) -> ReviewLink:
    """The review link a token stands for, if genuine, unexpired and still matching."""
    invalid = N_("This review link is not valid. Ask the sender for a new one.")
    try:
        data = _serializer(settings).loads(token)
    except BadSignature as exc:
        raise ReviewLinkError(invalid) from exc
    if not isinstance(data, dict) or not {"w", "p", "l", "exp"} <= data.keys():
        raise ReviewLinkError(invalid)
    link = db.get(ReviewLink, int(data["l"]))
    if link is None or (link.workspace_id, link.post_id) != (int(data["w"]), int(data["p"])):
        raise ReviewLinkError(invalid)
    if min(int(data["exp"]), link.expires_at.timestamp()) < utcnow().timestamp():
        raise ReviewLinkError(N_("This review link has expired. Ask the sender for a new one."))
    return link


def post_for_link(db: Session, *, link: ReviewLink) -> Post:
    """The post a review link is for."""
    post = db.get(Post, link.post_id)
    assert post is not None  # the link's foreign key (deleting the post deletes its links)
    return post


def post_for_review_token(db: Session, *, token: str, settings: Settings) -> Post:
    """The post a review link is for, if the link is genuine, unexpired and still matches."""
    return post_for_link(db, link=review_link_for_token(db, token=token, settings=settings))


def external_label(link: ReviewLink) -> str:
    """How the link's reviewer appears in the decisions: their name, marked external."""
    return f"{link.reviewer_name}{EXTERNAL_SUFFIX}"


def external_decide(
    db: Session,
    *,
    link: ReviewLink,
    approved: bool,
    comment: str,
    settings: Settings | None = None,
) -> list[Approval]:
    """The link's reviewer approves or rejects every variant of the post in review, once."""
    refusal = rules.link_use_refusal(used=link.used_at is not None)
    if refusal is not None:
        raise refusal
    comment = _clean_comment(comment, approved=approved)
    post = post_for_link(db, link=link)
    in_review = [variant for variant in post.variants if variant.state == VariantState.IN_REVIEW]
    if not in_review:
        raise UserError(N_("Nothing of this post waits for review any more. Thank you."))
    settings = settings or get_settings()
    if approved:
        refuse_blocking_errors(
            db, variants=in_review, settings=settings, message=MSG_BLOCKING_APPROVE
        )
    # One decision per link, even when two submissions race: whoever marks it used decides.
    marked = db.execute(
        update(ReviewLink)
        .where(ReviewLink.id == link.id, ReviewLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:
        raise PermissionDeniedError(rules.MSG_LINK_USED)
    db.refresh(link)
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    policy = get_policy(db, workspace=workspace)
    label = external_label(link)
    return _decide_all(
        db,
        variants=in_review,
        policy=policy,
        label=label,
        verdict=(approved, comment),
        settings=settings,
    )


def _decide_all(
    db: Session,
    *,
    variants: Iterable[Variant],
    policy: PublishingPolicy,
    label: str,
    verdict: tuple[bool, str],
    settings: Settings,
) -> list[Approval]:
    approved, comment = verdict
    decider = Decider(rules.external_key(label))
    return [
        _record_decision(
            db,
            variant=variant,
            policy=policy,
            decider=decider,
            approved=approved,
            comment=comment,
            user=None,
            label=label,
            settings=settings,
        )
        for variant in variants
    ]
