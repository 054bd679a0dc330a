"""The approval rules, pure: who may decide a step, when content may leave, who changes
who approves, and what an external review link allows.

Every approval path asks these functions, and the pages ask the same ones before they
offer a button, so a page never offers what the service refuses. A person is a
``Decider``: a member (their user id and role) or an external reviewer (the name the
review link was issued for). The invariants are property-tested in
tests/test_approval_rules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from guanxi.accounts.models import ROLE_LABELS, Role
from guanxi.core.errors import N_, PermissionDeniedError, UserError

# Most powerful first: a role may approve when it is at or above the lowest approving role.
ROLE_RANK = {Role.OWNER: 0, Role.MANAGER: 1, Role.EDITOR: 2, Role.ANALYST: 3}
# The lowest role that may approve: managers (and owners), or owners only.
APPROVER_ROLES = (Role.MANAGER, Role.OWNER)
# Only an owner changes who approves: the steps, the approving role, reply approval.
POLICY_OWNER = Role.OWNER
REVIEWER_NAME_MAX_LENGTH = 120

MSG_AUTHOR = N_("You wrote this, so you cannot approve it: ask another approver.")
MSG_SECOND_STEP = N_("You approved an earlier step: the next step needs another approver.")
MSG_NOT_IN_REVIEW = N_("This is not waiting for approval. Reload the page to see where it is.")
MSG_NOT_APPROVED = N_("This needs approval before it can be scheduled, published or sent.")
MSG_OWNER_ONLY = N_(
    "Only an owner changes who approves (the approval steps and who may approve). "
    "Ask an owner of this workspace."
)
MSG_AUTHOR_LINK = N_(
    "You wrote this post, so you cannot send it for external review yourself: ask "
    "another approver to create the link."
)
MSG_LINK_USED = N_(
    "This review link was already used: each link records one decision. Ask the sender "
    "for a new one."
)
MSG_REVIEWER_NAME = N_("Enter the reviewer's name (1 to {max} characters).")


class ApproverRoleError(PermissionDeniedError):
    """The member's role is below the lowest approving role; names it translated."""

    def __init__(self, lowest: Role) -> None:
        super().__init__(
            N_("Only members with the role {role} or a more senior one may approve here."),
            role=ROLE_LABELS[lowest],
        )

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message with the role's name translated too."""
        return gettext(self.message).format(role=gettext(str(self.params["role"])))


@dataclass(frozen=True)
class Decider:
    """A person who decides: a member (``role`` set) or a named external reviewer."""

    key: str
    role: Role | None = None

    @classmethod
    def member(cls, user_id: int, role: Role | str) -> Decider:
        """A member of the workspace, by user id and role."""
        return cls(member_key(user_id), Role(role))

    @classmethod
    def external(cls, name: str) -> Decider:
        """An external reviewer, by the name their link was issued for."""
        return cls(external_key(name))


def member_key(user_id: int) -> str:
    """The key that identifies a member in approvals and authorship."""
    return f"user:{user_id}"


def external_key(name: str) -> str:
    """The key of an external reviewer: their name, case and spacing aside."""
    return "external:" + " ".join(name.split()).casefold()


def at_least(role: Role | str, lowest: Role | str) -> bool:
    """Whether ``role`` is ``lowest`` or more senior."""
    return ROLE_RANK[Role(role)] <= ROLE_RANK[Role(lowest)]


# --- Deciding a step --------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """Where one approval stands: what it needs, who wrote the content, who approved.

    ``approvers`` are the keys of the approvals that count, in step order; ``in_review``
    is whether it waits for a decision now.
    """

    steps: int
    lowest_role: Role
    authors: frozenset[str]
    approvers: tuple[str, ...] = ()
    in_review: bool = True

    @property
    def complete(self) -> bool:
        """Whether every step is approved by a different person, none of them an author."""
        return approval_complete(self.steps, self.approvers, self.authors)

    @property
    def next_step(self) -> int:
        """The step the next approval decides."""
        return len(self.approvers) + 1


def decision_refusal(review: Review, decider: Decider) -> UserError | None:
    """Why ``decider`` may not decide ``review``'s next step, or None when they may."""
    if not review.in_review:
        return UserError(MSG_NOT_IN_REVIEW)
    if decider.key in review.authors:
        return PermissionDeniedError(MSG_AUTHOR)
    if decider.role is not None and not at_least(decider.role, review.lowest_role):
        return ApproverRoleError(review.lowest_role)
    if decider.key in review.approvers:
        return PermissionDeniedError(MSG_SECOND_STEP)
    return None


def may_decide(review: Review, decider: Decider) -> bool:
    """Whether a page may offer ``decider`` the approve and reject buttons."""
    return decision_refusal(review, decider) is None


def decide(review: Review, decider: Decider, *, approved: bool) -> Review:
    """The review after ``decider``'s decision; raises the refusal when they may not decide.

    An approval fills the next step (the review ends once complete); a rejection ends the
    review and clears every step: the content needs all its approvals again.
    """
    refusal = decision_refusal(review, decider)
    if refusal is not None:
        raise refusal
    if not approved:
        return replace(review, approvers=(), in_review=False)
    approvers = (*review.approvers, decider.key)
    return replace(
        review,
        approvers=approvers,
        in_review=not approval_complete(review.steps, approvers, review.authors),
    )


def approval_complete(steps: int, approvers: Sequence[str], authors: Iterable[str]) -> bool:
    """Whether ``steps`` approvals come from as many different people, none an author."""
    counted = set(approvers) - set(authors)
    return len(counted) >= steps and len(counted) == len(approvers)


def release_refusal(*, needs_approval: bool, approved: bool) -> UserError | None:
    """Why content may not leave (be scheduled, published, sent) yet, or None."""
    if needs_approval and not approved:
        return PermissionDeniedError(MSG_NOT_APPROVED)
    return None


def counting_approvals(
    decisions: Iterable[tuple[bool, str, int, str]], *, digest: str, authors: frozenset[str]
) -> tuple[str, ...]:
    """The deciders whose approvals still count, in step order.

    ``decisions`` are (approved, content digest, step, decider key), oldest first. A
    rejection starts the review over; an approval counts only for the content it saw, for
    the step that was next, and from a person who is no author and has not approved an
    earlier step.
    """
    counted: list[str] = []
    for approved, seen, step, key in decisions:
        if not approved:
            counted = []
        elif (
            seen == digest
            and step == len(counted) + 1
            and key not in counted
            and key not in authors
        ):
            counted.append(key)
    return tuple(counted)


# --- Who approves -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WhoApproves:
    """The part of a policy that says who approves: steps (0 = none) and the lowest role."""

    steps: int
    lowest_role: Role


def policy_change_refusal(
    actor_role: Role | str, before: WhoApproves, after: WhoApproves
) -> UserError | None:
    """Why ``actor_role`` may not change who approves from ``before`` to ``after``, or None."""
    if before != after and Role(actor_role) != POLICY_OWNER:
        return PermissionDeniedError(MSG_OWNER_ONLY)
    return None


def may_change_who_approves(actor_role: Role | str) -> bool:
    """Whether a page may offer ``actor_role`` the fields that say who approves."""
    return Role(actor_role) == POLICY_OWNER


def reply_needs_approval(rule: WhoApproves, author_role: Role | str | None) -> bool:
    """Whether a reply by a member of ``author_role`` waits for approval (None: not a member).

    A reply has at most one step; a member at or above the approving role answers directly.
    """
    if rule.steps == 0:
        return False
    return author_role is None or not at_least(author_role, rule.lowest_role)


# --- External review links --------------------------------------------------------------------


def clean_reviewer_name(name: str) -> str:
    """The reviewer's name a link is issued for, or a UserError saying what to enter."""
    name = " ".join(name.split())
    if not name or len(name) > REVIEWER_NAME_MAX_LENGTH:
        raise UserError(MSG_REVIEWER_NAME, max=REVIEWER_NAME_MAX_LENGTH)
    return name


def link_issue_refusal(
    issuer: Decider, *, authors: frozenset[str], lowest_role: Role
) -> UserError | None:
    """Why ``issuer`` may not create a review link (which delegates a step), or None.

    The author may not: whoever holds a link can decide with it, the author included.
    """
    if issuer.key in authors:
        return PermissionDeniedError(MSG_AUTHOR_LINK)
    if issuer.role is None or not at_least(issuer.role, lowest_role):
        return ApproverRoleError(lowest_role)
    return None


def link_use_refusal(*, used: bool) -> UserError | None:
    """Why a review link may not record a decision, or None: each link records one."""
    if used:
        return PermissionDeniedError(MSG_LINK_USED)
    return None
