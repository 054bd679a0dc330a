"""A workspace's publishing policy: approval steps, who approves, and missed posts.

One ``PublishingPolicy`` row per workspace, created with the defaults the first time anyone
reads it, so every other part (approvals, the engine's sweep) can rely on ``get_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role, Workspace
from guanxi.accounts.service import record_audit
from guanxi.approvals import rules
from guanxi.core.db import before_first_write
from guanxi.core.errors import N_, UserError
from guanxi.core.upsert import get_or_create
from guanxi.publishing.models import LatePolicy, PublishingPolicy

APPROVAL_STEPS = (0, 1, 2)
# The lowest role that may approve: managers (and owners), or owners only.
APPROVER_ROLES = rules.APPROVER_ROLES
GRACE_MINUTES_MAX = 24 * 60
DEFAULT_APPROVAL_STEPS = 1
DEFAULT_APPROVER_ROLE = Role.MANAGER
DEFAULT_LATE_POLICY = LatePolicy.PUBLISH_LATE
DEFAULT_GRACE_MINUTES = 15

APPROVAL_STEP_LABELS: dict[int, str] = {
    0: N_("No approval: editors schedule directly"),
    1: N_("One approval step"),
    2: N_("Two approval steps"),
}
LATE_POLICY_LABELS: dict[LatePolicy, str] = {
    LatePolicy.PUBLISH_LATE: N_("Publish late, flagged as late"),
    LatePolicy.HOLD: N_("Hold for a person to confirm"),
}


@dataclass(frozen=True)
class PolicyInput:
    """A policy's fields, validated."""

    approval_steps: int
    approver_role: Role
    late_policy: LatePolicy
    late_grace_minutes: int


def _fields(policy: PublishingPolicy) -> dict[str, str | int]:
    return {
        "approval_steps": policy.approval_steps,
        "approver_role": str(policy.approver_role),
        "late_policy": str(policy.late_policy),
        "late_grace_minutes": policy.late_grace_minutes,
    }


def get_policy(db: Session, *, workspace: Workspace) -> PublishingPolicy:
    """The workspace's policy, created with the defaults on first read (not committed)."""
    policy = db.get(PublishingPolicy, workspace.id)
    if policy is None:  # if another request creates the row meanwhile, theirs is read
        before_first_write(db)
        policy, _ = get_or_create(
            db,
            PublishingPolicy,
            key={"workspace_id": workspace.id},
            defaults={
                "approval_steps": DEFAULT_APPROVAL_STEPS,
                "approver_role": DEFAULT_APPROVER_ROLE,
                "late_policy": DEFAULT_LATE_POLICY,
                "late_grace_minutes": DEFAULT_GRACE_MINUTES,
            },
        )
    return policy


def parse_policy(
    *, approval_steps: str, approver_role: str, late_policy: str, late_grace_minutes: str
) -> PolicyInput:
    """Validated policy fields from the form, or a UserError naming the field to fix."""
    steps = approval_steps.strip()
    if steps not in {str(n) for n in APPROVAL_STEPS}:
        raise UserError(N_("Choose 0, 1 or 2 approval steps."))
    if approver_role.strip() not in {role.value for role in APPROVER_ROLES}:
        raise UserError(N_("Choose who approves: managers and owners, or owners only."))
    try:
        late = LatePolicy(late_policy.strip())
    except ValueError:
        raise UserError(
            N_("Choose what happens to missed posts: publish late, or hold them.")
        ) from None
    grace = late_grace_minutes.strip()
    if not grace.isdecimal() or int(grace) > GRACE_MINUTES_MAX:
        raise UserError(
            N_("Enter the grace period as a whole number of minutes from 0 to {max}."),
            max=GRACE_MINUTES_MAX,
        )
    return PolicyInput(int(steps), Role(approver_role.strip()), late, int(grace))


def who_approves(policy: PublishingPolicy) -> rules.WhoApproves:
    """The part of the policy only an owner changes: the steps and the lowest approving role."""
    return rules.WhoApproves(policy.approval_steps, Role(policy.approver_role))


def update_policy(
    db: Session,
    *,
    workspace: Workspace,
    data: PolicyInput,
    membership: Membership,
    ip: str | None = None,
) -> PublishingPolicy:
    """Save the workspace's policy, audited with before and after (nothing when unchanged).

    Only an owner changes who approves; a manager may change what happens to missed posts.
    """
    policy = get_policy(db, workspace=workspace)
    refusal = rules.policy_change_refusal(
        membership.role,
        who_approves(policy),
        rules.WhoApproves(data.approval_steps, data.approver_role),
    )
    if refusal is not None:
        raise refusal
    before = _fields(policy)
    policy.approval_steps = data.approval_steps
    policy.approver_role = data.approver_role.value
    policy.late_policy = data.late_policy
    policy.late_grace_minutes = data.late_grace_minutes
    after = _fields(policy)
    if after != before:
        record_audit(
            db,
            actor=membership.user,
            workspace=workspace,
            action="publishing_policy.update",
            entity_type="publishing_policy",
            entity_id=workspace.id,
            before=before,
            after=after,
            ip=ip,
        )
    db.flush()
    return policy
