"""The approval rules, property-tested over role × action × state.

Whatever sequence of decisions members of any role and external reviewers make, in any
order, on content of any author: an author never approves their own content, one person
decides at most one step, content leaves only once every step is approved, a rejection
needs all the approvals again, a review link records one decision under the name it was
issued for, and only an owner changes who approves. Publishing and the inbox call these
same functions (tests/test_approvals_bypass.py proves it through the HTTP routes).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.accounts.models import Role
from guanxi.approvals import rules
from guanxi.approvals.rules import Decider, Review, WhoApproves
from guanxi.core.errors import PermissionDeniedError, UserError

ROLES = st.sampled_from(list(Role))
APPROVER_ROLES = st.sampled_from(rules.APPROVER_ROLES)
STEPS = st.integers(min_value=1, max_value=2)
NAMES = st.sampled_from(["Alice", "alice", " Alice ", "Bob", "王律师"])
FAST = settings(max_examples=150, deadline=None)


@dataclass(frozen=True)
class Team:
    """Members by user id and role; some of them wrote the content."""

    roles: dict[int, Role]
    authors: frozenset[int]

    def decider(self, user_id: int) -> Decider:
        return Decider.member(user_id, self.roles[user_id])

    @property
    def author_keys(self) -> frozenset[str]:
        return frozenset(rules.member_key(user_id) for user_id in self.authors)


@st.composite
def teams(draw: st.DrawFn) -> Team:
    roles = draw(st.lists(ROLES, min_size=2, max_size=6))
    members = dict(enumerate(roles, start=1))
    authors = draw(st.sets(st.sampled_from(sorted(members)), min_size=1, max_size=2))
    return Team(members, frozenset(authors))


# An action: (who, approve?) where who is a member's id or an external reviewer's name.
ACTIONS = st.lists(
    st.tuples(st.one_of(st.integers(min_value=1, max_value=6), NAMES), st.booleans()),
    max_size=12,
)


def _who(team: Team, who: int | str) -> Decider | None:
    if isinstance(who, str):
        return Decider.external(who)
    return team.decider(who) if who in team.roles else None


def _check_invariants(team: Team, review: Review) -> None:
    assert len(set(review.approvers)) == len(review.approvers), "one step per person"
    assert not set(review.approvers) & team.author_keys, "no author approves"
    assert len(review.approvers) <= review.steps
    for key in review.approvers:
        user_id = int(key.removeprefix("user:")) if key.startswith("user:") else None
        if user_id is not None:
            assert rules.at_least(team.roles[user_id], review.lowest_role)
    released = rules.release_refusal(needs_approval=True, approved=review.complete) is None
    assert released == (len(review.approvers) == review.steps), "leaves only when approved"


@FAST
@given(team=teams(), steps=STEPS, lowest=APPROVER_ROLES, actions=ACTIONS)
def test_no_sequence_of_decisions_breaks_the_rules(
    team: Team, steps: int, lowest: Role, actions: list[tuple[int | str, bool]]
) -> None:
    """Given any team, policy and sequence of approvals and rejections, the review never
    counts an author, a repeated person or a junior role, and it is complete exactly when
    every step has its own approver. What a page offers (``may_decide``) is what the
    service accepts."""
    review = Review(steps=steps, lowest_role=lowest, authors=team.author_keys)
    for who, approved in actions:
        decider = _who(team, who)
        if decider is None:
            continue
        offered = rules.may_decide(review, decider)
        try:
            after = rules.decide(review, decider, approved=approved)
        except UserError:
            assert not offered
            continue
        assert offered
        assert decider.key not in team.author_keys
        if not approved:
            assert after.approvers == ()
            assert not after.in_review
            assert rules.release_refusal(needs_approval=True, approved=after.complete)
        review = after
        _check_invariants(team, review)
        if not review.in_review:
            # Submitted again (a rejected draft, or the next round): the review restarts.
            review = Review(steps=steps, lowest_role=lowest, authors=team.author_keys)


@FAST
@given(team=teams(), steps=STEPS, lowest=APPROVER_ROLES)
def test_an_author_is_refused_whatever_their_role(team: Team, steps: int, lowest: Role) -> None:
    review = Review(steps=steps, lowest_role=lowest, authors=team.author_keys)
    for author in team.authors:
        refusal = rules.decision_refusal(review, team.decider(author))
        assert isinstance(refusal, PermissionDeniedError)


DECISIONS = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(["old", "now"]),
        st.integers(min_value=1, max_value=3),
        st.sampled_from(["user:1", "user:2", "user:3", "external:alice"]),
    ),
    max_size=10,
)


@FAST
@given(decisions=DECISIONS, authors=st.sets(st.sampled_from(["user:1", "user:2"]), max_size=1))
def test_only_approvals_of_the_current_content_since_the_last_rejection_count(
    decisions: list[tuple[bool, str, int, str]], authors: set[str]
) -> None:
    """Whatever the stored history, what counts is: after the last rejection, for the
    content as it is now, in step order, one per person, none by an author."""
    counted = rules.counting_approvals(decisions, digest="now", authors=frozenset(authors))
    assert len(set(counted)) == len(counted)
    assert not set(counted) & authors
    rejections = [i for i, decision in enumerate(decisions) if not decision[0]]
    since = decisions[rejections[-1] + 1 :] if rejections else decisions
    current = [key for approved, digest, _step, key in since if approved and digest == "now"]
    assert set(counted) <= set(current)


@FAST
@given(
    actor=ROLES,
    before=st.builds(WhoApproves, st.integers(0, 2), APPROVER_ROLES),
    after=st.builds(WhoApproves, st.integers(0, 2), APPROVER_ROLES),
)
def test_only_an_owner_changes_who_approves(
    actor: Role, before: WhoApproves, after: WhoApproves
) -> None:
    """Steps and the approving role, of posts and of replies: any change by anyone but an
    owner is refused (so a manager cannot lower them); saving them unchanged is allowed."""
    refusal = rules.policy_change_refusal(actor, before, after)
    if before == after or actor == Role.OWNER:
        assert refusal is None
    else:
        assert isinstance(refusal, PermissionDeniedError)
    assert rules.may_change_who_approves(actor) == (actor == Role.OWNER)


@FAST
@given(required=st.booleans(), lowest=APPROVER_ROLES, author=st.one_of(st.none(), ROLES))
def test_a_reply_waits_unless_its_author_is_an_approver(
    required: bool, lowest: Role, author: Role | None
) -> None:
    """With reply approval on, a reply by a member below the approving role (or by someone
    no longer a member) waits; it is never sent before an approval."""
    needs = rules.reply_needs_approval(WhoApproves(int(required), lowest), author)
    assert needs == (required and (author is None or not rules.at_least(author, lowest)))
    if needs:
        assert rules.release_refusal(needs_approval=True, approved=False) is not None
        assert rules.release_refusal(needs_approval=True, approved=True) is None


@FAST
@given(
    issued_for=st.lists(NAMES, min_size=1, max_size=4),
    uses=st.lists(st.tuples(st.integers(0, 3), NAMES), max_size=8),
    steps=STEPS,
)
def test_a_review_link_records_one_decision_under_its_reviewers_name(
    issued_for: list[str], uses: list[tuple[int, str]], steps: int
) -> None:
    """Links issued for named reviewers, submitted any number of times with any typed
    name: each link decides at most once, always as the reviewer it was issued for, and
    two links for the same person never fill two steps."""
    review = Review(steps=steps, lowest_role=Role.MANAGER, authors=frozenset({"user:1"}))
    used: set[int] = set()
    decided_as: list[str] = []
    for index, _typed_name in uses:
        if index >= len(issued_for):
            continue
        refusal = rules.link_use_refusal(used=index in used)
        if refusal is not None:
            assert index in used
            continue
        reviewer = Decider.external(issued_for[index])  # the typed name plays no part
        try:
            review = rules.decide(review, reviewer, approved=True)
        except UserError:
            continue  # refused: nothing recorded, the link stays unused
        used.add(index)  # marked used with the decision it recorded
        decided_as.append(reviewer.key)
    assert len(decided_as) <= len({issued_for[i] for i in used})
    assert len(set(decided_as)) == len(decided_as)
    assert all(key.startswith("external:") for key in review.approvers)


@FAST
@given(team=teams(), lowest=APPROVER_ROLES, issuer=st.integers(min_value=1, max_value=6))
def test_only_an_approver_who_wrote_none_of_it_issues_review_links(
    team: Team, lowest: Role, issuer: int
) -> None:
    if issuer not in team.roles:
        return
    refusal = rules.link_issue_refusal(
        team.decider(issuer), authors=team.author_keys, lowest_role=lowest
    )
    allowed = issuer not in team.authors and rules.at_least(team.roles[issuer], lowest)
    assert (refusal is None) == allowed
