"""The consumer journey stage a text speaks from, with the cue that decided it.

Stages in journey order: need recognition, information search, evaluation of alternatives,
purchase, post-purchase experience. Cues live in ``data/stage-cues.json`` (Chinese and some
English, maintained by hand, documented in docs/nlp.md). All cues are matched in one pass
with an Aho-Corasick automaton; when several stages have cues, the latest stage of the
journey wins ("想买……收到了" is about the experience after the purchase).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import ahocorasick

from guanxi.nlp.pipeline import Work

STAGES = ("need_recognition", "information_search", "evaluation", "purchase", "post_purchase")
NONE = "none"


@dataclass(frozen=True)
class StageMatch:
    """The stage of a text and the cue that decided it."""

    stage: str
    cue: str


@dataclass(frozen=True)
class _Cues:
    automaton: Any  # ahocorasick.Automaton (untyped)


def load_cues() -> dict[str, list[str]]:
    """The cue lexicon shipped with the package: stage -> cues."""
    text = (resources.files("guanxi.nlp") / "data" / "stage-cues.json").read_text("utf-8")
    data = json.loads(text)
    return {stage: [str(cue).lower() for cue in data[stage]] for stage in STAGES}


@cache
def _cues() -> _Cues:
    automaton = ahocorasick.Automaton()
    for rank, stage in enumerate(STAGES):
        for cue in load_cues()[stage]:
            # A cue listed under two stages belongs to the later one.
            automaton.add_word(cue, (rank, cue))
    automaton.make_automaton()
    return _Cues(automaton)


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def journey_stage(text: str) -> StageMatch:
    """The latest journey stage with a cue in ``text`` (normalised, Simplified), or none."""
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for end, (rank, cue) in _cues().automaton.iter(lowered):
        if cue.isascii() and not _whole_word(lowered, end - len(cue) + 1, end + 1):
            continue
        if best is None or rank > best[0]:
            best = (rank, cue)
    if best is None:
        return StageMatch(NONE, "")
    return StageMatch(STAGES[best[0]], best[1])


class JourneyStageStep:
    """need recognition … post-purchase, or none, with the cue."""

    name = "stage"

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every text gets a stage (none without a cue)."""
        return True

    def setup(self) -> None:
        """Build the cue automaton (once)."""
        _cues()

    def version(self) -> str:
        """A lexicon, versioned with the pipeline."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``stage`` and ``stage_cue``."""
        for work in batch:
            match = journey_stage(work.normalized_text)
            work.stage, work.stage_cue = match.stage, match.cue
