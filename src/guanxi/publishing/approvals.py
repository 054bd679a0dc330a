"""Approvals: submitting for review, approving or rejecting per step, external review links.

A workspace's ``PublishingPolicy`` says how many steps (0, 1 or 2) a variant needs and the
lowest role that may approve. An ``Approval`` counts only for the content digest it saw:
editing the variant afterwards makes it stale. An external reviewer (a client, legal)
approves through a signed, expiring link bound to one post of one workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import ROLE_LABELS, Membership, Permission, Role, User, Workspace
from guanxi.accounts.service import record_audit, require
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, PermissionDeniedError, UserError
from guanxi.core.settings import Settings
from guanxi.publishing.models import Approval, Post, PublishingPolicy, PublishTarget, TargetState
from guanxi.publishing.policy import get_policy
from guanxi.publishing.service import COMMENT_MAX_LENGTH, content_digest, set_state

REVIEW_SALT = "guanxi.publishing.review"
REVIEW_LINK_DAYS = (1, 3, 7, 14, 30)
REVIEWER_NAME_MAX_LENGTH = 120
# Most powerful first: a role may approve when it is at or above the policy's lowest role.
ROLE_RANK = {Role.OWNER: 0, Role.MANAGER: 1, Role.EDITOR: 2, Role.ANALYST: 3}


class ApproverRoleError(PermissionDeniedError):
    """The member's role is below the policy's lowest approving role; names it translated."""

    def __init__(self, lowest: Role) -> None:
        super().__init__(
            N_("Only members with the role {role} or a more senior one may approve here."),
            role=ROLE_LABELS[lowest],
        )

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message with the role's name translated too."""
        return gettext(self.message).format(role=gettext(str(self.params["role"])))


@dataclass(frozen=True)
class ReviewStatus:
    """Where a variant stands in its approval: the approvals that count, and the next step."""

    valid: list[Approval]
    steps: int

    @property
    def next_step(self) -> int:
        """The step the next approval decides (steps + 1 once complete)."""
        return len(self.valid) + 1

    @property
    def complete(self) -> bool:
        """Whether every step is approved for the current content."""
        return len(self.valid) >= self.steps


def review_status(db: Session, *, target: PublishTarget, policy: PublishingPolicy) -> ReviewStatus:
    """The approvals that still count: for the current content, since the last rejection."""
    digest = content_digest(target)
    valid: list[Approval] = []
    query = select(Approval).where(Approval.target_id == target.id).order_by(Approval.id)
    for approval in db.scalars(query):
        if not approval.approved:
            valid = []  # a rejection starts the review over
        elif approval.content_digest == digest and approval.step == len(valid) + 1:
            valid.append(approval)
    return ReviewStatus(valid=valid, steps=policy.approval_steps)


def approvals_complete(db: Session, *, target: PublishTarget, policy: PublishingPolicy) -> bool:
    """Whether every step the policy asks for is approved for the variant as it is now."""
    return review_status(db, target=target, policy=policy).complete


def list_approvals(db: Session, *, target: PublishTarget) -> list[Approval]:
    """Every decision on a variant, oldest first (stale ones included, for the record)."""
    query = select(Approval).where(Approval.target_id == target.id).order_by(Approval.id)
    return list(db.scalars(query))


def may_approve(membership: Membership, policy: PublishingPolicy) -> bool:
    """Whether the member's role is at or above the policy's lowest approving role."""
    lowest = Role(policy.approver_role)
    return ROLE_RANK[Role(membership.role)] <= ROLE_RANK[lowest]


def submit_for_review(db: Session, *, post: Post, membership: Membership) -> list[PublishTarget]:
    """Send every draft variant of the post to review (DRAFT → IN_REVIEW)."""
    require(membership, Permission.WRITE)
    policy = get_policy(db, workspace=membership.workspace)
    if policy.approval_steps == 0:
        raise UserError(
            N_("This workspace publishes without approval: schedule the variants directly.")
        )
    drafts = [target for target in post.targets if target.state == TargetState.DRAFT]
    if not drafts:
        raise UserError(N_("No variant of this post is a draft: there is nothing to submit."))
    for target in drafts:
        set_state(db, target=target, state=TargetState.IN_REVIEW, reason="", actor=membership.user)
    return drafts


def _clean_comment(comment: str) -> str:
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise UserError(N_("Write a comment of 1 to {max} characters."), max=COMMENT_MAX_LENGTH)
    return comment


def _record_decision(
    db: Session,
    *,
    target: PublishTarget,
    policy: PublishingPolicy,
    approved: bool,
    comment: str,
    user: User | None,
    label: str,
) -> Approval:
    if target.state != TargetState.IN_REVIEW:
        raise UserError(N_("This variant is not in review. Reload the page to see where it is."))
    status = review_status(db, target=target, policy=policy)
    approval = Approval(
        target_id=target.id, step=status.next_step, approved=approved,
        content_digest=content_digest(target), decided_by_id=user.id if user else None,
        reviewer_label=label, comment=comment,
    )  # fmt: skip
    db.add(approval)
    db.flush()
    record_audit(
        db, actor=user, actor_label=label, workspace=db.get(Workspace, target.workspace_id),
        action="variant.approve" if approved else "variant.reject",
        entity_type="publish_target", entity_id=target.id,
        after={"step": approval.step, "comment": comment, "digest": approval.content_digest},
    )  # fmt: skip
    if not approved:
        reason = comment or N_("Rejected in review.")
        set_state(db, target=target, state=TargetState.DRAFT, reason=reason, actor=user)
    elif status.next_step >= policy.approval_steps:
        set_state(db, target=target, state=TargetState.APPROVED, reason="", actor=user)
    return approval


def decide(
    db: Session,
    *,
    target: PublishTarget,
    post: Post,
    membership: Membership,
    approved: bool,
    comment: str,
) -> Approval:
    """A member approves or rejects the next step of a variant in review."""
    policy = get_policy(db, workspace=membership.workspace)
    if not may_approve(membership, policy):
        raise ApproverRoleError(Role(policy.approver_role))
    if post.created_by_id == membership.user_id:
        raise PermissionDeniedError(
            N_("You wrote this post, so you cannot approve it: ask another approver.")
        )
    comment = _clean_comment(comment)
    if not approved and not comment:
        raise UserError(N_("Say what to change: a rejection needs a comment."))
    status = review_status(db, target=target, policy=policy)
    if any(approval.decided_by_id == membership.user_id for approval in status.valid):
        raise PermissionDeniedError(
            N_("You approved an earlier step: the next step needs another approver.")
        )
    user = membership.user
    return _record_decision(
        db, target=target, policy=policy, approved=approved, comment=comment, user=user,
        label=user.email,
    )  # fmt: skip


# --- External review links -----------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.all_secret_keys(), salt=REVIEW_SALT)


def review_link_token(
    db: Session, *, post: Post, membership: Membership, days: str, settings: Settings
) -> tuple[str, datetime]:
    """A signed link for an external reviewer; creating one delegates an approval step."""
    require(membership, Permission.APPROVE)
    if not days.isdecimal() or int(days) not in REVIEW_LINK_DAYS:
        raise UserError(N_("Choose how long the link works: 1, 3, 7, 14 or 30 days."))
    expires = utcnow() + timedelta(days=int(days))
    token = _serializer(settings).dumps(
        {"w": post.workspace_id, "p": post.id, "exp": int(expires.timestamp())}
    )
    record_audit(
        db, actor=membership.user, workspace=membership.workspace, action="post.review_link",
        entity_type="post", entity_id=post.id, after={"expires_at": expires.isoformat()},
    )  # fmt: skip
    return token, expires


class ReviewLinkError(NotFoundError):
    """A review link that is expired, altered or points nowhere; shows nothing else."""


def post_for_review_token(db: Session, *, token: str, settings: Settings) -> Post:
    """The post a review link is for, if the link is genuine, unexpired and still matches."""
    try:
        data = _serializer(settings).loads(token)
    except BadSignature as exc:
        raise ReviewLinkError(
            N_("This review link is not valid. Ask the sender for a new one.")
        ) from exc
    if not isinstance(data, dict) or not {"w", "p", "exp"} <= data.keys():
        raise ReviewLinkError(N_("This review link is not valid. Ask the sender for a new one."))
    if int(data["exp"]) < utcnow().timestamp():
        raise ReviewLinkError(N_("This review link has expired. Ask the sender for a new one."))
    post = db.get(Post, int(data["p"]))
    if post is None or post.workspace_id != int(data["w"]):
        raise ReviewLinkError(N_("This review link is not valid. Ask the sender for a new one."))
    return post


def external_decide(
    db: Session, *, post: Post, name: str, approved: bool, comment: str
) -> list[Approval]:
    """An external reviewer approves or rejects every variant of the post in review."""
    name = name.strip()
    if not name or len(name) > REVIEWER_NAME_MAX_LENGTH:
        raise UserError(
            N_("Enter your name (1 to {max} characters)."), max=REVIEWER_NAME_MAX_LENGTH
        )
    comment = _clean_comment(comment)
    if not approved and not comment:
        raise UserError(N_("Say what to change: a rejection needs a comment."))
    in_review = [target for target in post.targets if target.state == TargetState.IN_REVIEW]
    if not in_review:
        raise UserError(N_("Nothing of this post waits for review any more. Thank you."))
    workspace = db.get(Workspace, post.workspace_id)
    assert workspace is not None
    policy = get_policy(db, workspace=workspace)
    label = f"{name} (external)"
    return [
        _record_decision(
            db,
            target=target,
            policy=policy,
            approved=approved,
            comment=comment,
            user=None,
            label=label,
        )
        for target in in_review
    ]
