"""The variant state machine: every legal move is allowed for its actors, every other refused."""

from __future__ import annotations

import itertools

import pytest

from guanxi.core.errors import ConflictError
from guanxi.core.i18n import get_translations
from guanxi.publishing.models import Variant, VariantState
from guanxi.publishing.states import (
    FINAL_STATES,
    TRANSITIONS,
    Actor,
    IllegalTransitionError,
    allowed,
    transition,
)

S = VariantState
ALL_PAIRS = list(itertools.product(VariantState, VariantState))
LEGAL = sorted(TRANSITIONS, key=lambda pair: (pair[0].value, pair[1].value))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]


def variant_in(state: VariantState) -> Variant:
    return Variant(state=state, state_reason="before", idempotency_key="k")


@pytest.mark.parametrize(("current", "to"), LEGAL, ids=lambda s: s.value)
def test_every_legal_move_is_made_by_its_actors(current: VariantState, to: VariantState) -> None:
    for actor in Actor:
        variant = variant_in(current)
        if actor in TRANSITIONS[(current, to)]:
            transition(variant, to, "why", by=actor)
            assert (variant.state, variant.state_reason) == (to, "why")
        else:
            with pytest.raises(IllegalTransitionError):
                transition(variant, to, "why", by=actor)
            assert (variant.state, variant.state_reason) == (current, "before")


@pytest.mark.parametrize(("current", "to"), ILLEGAL, ids=lambda s: s.value)
def test_every_other_move_is_refused_and_changes_nothing(
    current: VariantState, to: VariantState
) -> None:
    variant = variant_in(current)
    with pytest.raises(IllegalTransitionError) as refused:
        transition(variant, to, "why")
    assert (variant.state, variant.state_reason) == (current, "before")
    assert isinstance(refused.value, ConflictError)  # the web layer shows it as a 409


def test_the_refusal_names_both_states_in_the_users_language() -> None:
    variant = variant_in(S.PUBLISHED)
    with pytest.raises(IllegalTransitionError) as refused:
        transition(variant, S.SCHEDULED, "")
    message = refused.value.translated(get_translations("en").gettext)
    assert message.startswith("This post cannot go from “Published” to “Scheduled”.")


def test_published_and_failed_are_final_for_the_engine() -> None:
    for final in FINAL_STATES:
        assert not any(allowed(final, to, Actor.ENGINE) for to in VariantState)
    assert not any(allowed(S.PUBLISHED, to) for to in VariantState)


def test_only_the_engine_claims_and_only_people_schedule() -> None:
    assert TRANSITIONS[(S.SCHEDULED, S.PUBLISHING)] == {Actor.ENGINE}
    assert TRANSITIONS[(S.APPROVED, S.SCHEDULED)] == {Actor.PERSON}


def test_every_state_can_be_reached_from_draft() -> None:
    reached = {S.DRAFT}
    frontier = [S.DRAFT]
    while frontier:
        current = frontier.pop()
        for a, b in TRANSITIONS:
            if a == current and b not in reached:
                reached.add(b)
                frontier.append(b)
    assert reached == set(VariantState)
