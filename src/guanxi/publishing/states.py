"""The variant's state machine, as data, and the one function that moves a variant.

Every change of ``Variant.state`` goes through :func:`transition`, which refuses a
move the table below does not list. The table also says who may make each move: a person
(composer, reviewer, the one posting by hand), the engine (dispatcher, worker, sweep), or
the platform (a status push or a status check's answer).
"""

from __future__ import annotations

from enum import StrEnum

from guanxi.core.errors import N_, ConflictError
from guanxi.publishing.models import TARGET_STATE_LABELS, Variant, VariantState

S = VariantState


class Actor(StrEnum):
    """Who or what moves a variant."""

    PERSON = "person"
    ENGINE = "engine"
    PLATFORM = "platform"


P, E, PF = Actor.PERSON, Actor.ENGINE, Actor.PLATFORM

# (from, to) -> who may make the move. A move not listed is illegal.
TRANSITIONS: dict[tuple[VariantState, VariantState], frozenset[Actor]] = {
    # Writing and approving.
    (S.DRAFT, S.IN_REVIEW): frozenset({P}),
    (S.DRAFT, S.APPROVED): frozenset({P}),  # a workspace without approval steps
    (S.IN_REVIEW, S.APPROVED): frozenset({P}),
    (S.IN_REVIEW, S.DRAFT): frozenset({P}),  # rejected, or edited while in review
    (S.APPROVED, S.DRAFT): frozenset({P}),  # edited after approval: the approval is stale
    (S.APPROVED, S.IN_REVIEW): frozenset({P}),  # a second approval step
    (S.APPROVED, S.SCHEDULED): frozenset({P}),
    # Waiting for its time.
    (S.SCHEDULED, S.APPROVED): frozenset({P}),  # unscheduled
    (S.SCHEDULED, S.DRAFT): frozenset({P}),  # edited while scheduled
    (S.SCHEDULED, S.IN_REVIEW): frozenset({P}),  # edited while scheduled, approvals needed
    (S.SCHEDULED, S.PUBLISHING): frozenset({E}),  # claimed by the dispatcher
    (S.SCHEDULED, S.NEEDS_ATTENTION): frozenset({E}),  # missed while down, held by policy
    # A worker holds it; a request may be in flight.
    (S.PUBLISHING, S.PUBLISHED): frozenset({E}),
    (S.PUBLISHING, S.PROCESSING): frozenset({E}),
    (S.PUBLISHING, S.PENDING_REVIEW): frozenset({E}),
    (S.PUBLISHING, S.FAILED): frozenset({E}),
    (S.PUBLISHING, S.SCHEDULED): frozenset({E}),  # retry later, parked, or an expired lease
    (S.PUBLISHING, S.NEEDS_ATTENTION): frozenset({E}),  # the outcome could not be confirmed
    # Accepted: following the platform's job, or a person's task on a manual channel.
    (S.PROCESSING, S.PUBLISHED): frozenset({E, PF, P}),
    (S.PROCESSING, S.PENDING_REVIEW): frozenset({E, PF}),
    (S.PROCESSING, S.FAILED): frozenset({E, PF}),
    (S.PROCESSING, S.NEEDS_ATTENTION): frozenset({E}),  # the platform never answered
    (S.PENDING_REVIEW, S.PUBLISHED): frozenset({E, PF}),
    (S.PENDING_REVIEW, S.FAILED): frozenset({E, PF}),
    (S.PENDING_REVIEW, S.NEEDS_ATTENTION): frozenset({E}),
    # A person decides.
    (S.NEEDS_ATTENTION, S.SCHEDULED): frozenset({P}),  # confirmed: publish now
    (S.NEEDS_ATTENTION, S.DRAFT): frozenset({P}),
    (S.NEEDS_ATTENTION, S.FAILED): frozenset({P}),  # given up
    (S.NEEDS_ATTENTION, S.PUBLISHED): frozenset({P}),  # found live by a person
    (S.FAILED, S.SCHEDULED): frozenset({P}),  # retried by a person
    (S.FAILED, S.DRAFT): frozenset({P}),
}

# Where a variant stays: nothing in the engine moves it again.
FINAL_STATES = frozenset({S.PUBLISHED, S.FAILED})


class IllegalTransitionError(ConflictError):
    """The move is not in the state machine (or not for this actor)."""

    def __init__(self, current: VariantState, to: VariantState, by: Actor | None) -> None:
        super().__init__(
            N_("This post cannot go from “{current}” to “{to}”. Reload the page and try again."),
            current=TARGET_STATE_LABELS[current],
            to=TARGET_STATE_LABELS[to],
        )
        self.current = current
        self.to = to
        self.by = by


def allowed(current: VariantState, to: VariantState, by: Actor | None = None) -> bool:
    """Whether the table allows ``current`` → ``to`` (for ``by``, when given)."""
    actors = TRANSITIONS.get((current, to))
    if actors is None:
        return False
    return by is None or by in actors


def transition(variant: Variant, to: VariantState, reason: str, *, by: Actor | None = None) -> None:
    """Move ``variant`` to ``to`` with ``reason``; raise IllegalTransitionError if not allowed.

    ``by`` checks who makes the move too; callers that act for a person pass
    ``Actor.PERSON``. The change is saved with the session (its version column makes a
    concurrent writer fail instead of overwriting).
    """
    current = VariantState(variant.state)
    if not allowed(current, to, by):
        raise IllegalTransitionError(current, to, by)
    variant.state = to
    variant.state_reason = reason


def state_labels() -> dict[str, str]:
    """Each variant state's translatable label, by value."""
    return {state.value: label for state, label in TARGET_STATE_LABELS.items()}
