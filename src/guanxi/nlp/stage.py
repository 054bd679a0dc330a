"""The consumer journey stage a text speaks from, with the cue phrase to highlight.

Stages in journey order: need recognition, information search, evaluation of alternatives,
purchase, post-purchase experience, or none. The shipped model decides
(``data/stage-model.json.gz``, a multinomial logistic regression over the whole text trained
by ``guanxi nlp train-insight`` on the team's labelled posts); the cue lexicon then finds the
phrase of the predicted stage to highlight for the reader (or, without one, the text's
strongest feature for that stage). Without a model file the previous version's rules run
(also the baseline of ``guanxi nlp evaluate``): cues live in ``data/stage-cues.json``
(Chinese and some English, maintained by hand, documented in docs/nlp.md). All cues are
matched in one pass with an Aho-Corasick automaton; when several stages have cues, the
latest stage of the journey wins ("想买……收到了" is about the experience after the purchase).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import ahocorasick

from guanxi.nlp.features import MAX_GRAM, text_grams, text_window
from guanxi.nlp.grams import batch_grams
from guanxi.nlp.linear import STAGE_MODEL_FILE, LinearModelStep
from guanxi.nlp.pipeline import Work
from guanxi.nlp.source import named_features

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


def stage_cue(text: str, stage: str) -> str:
    """The first cue of ``stage`` in ``text`` (normalised, Simplified), or ""."""
    if stage not in STAGES:
        return ""
    wanted = STAGES.index(stage)
    lowered = text.lower()
    for end, (rank, cue) in _cues().automaton.iter(lowered):
        if rank != wanted:
            continue
        if cue.isascii() and not _whole_word(lowered, end - len(cue) + 1, end + 1):
            continue
        return str(cue)
    return ""


def stage_named_features(work: Work) -> list[str]:
    """The stage model's features of ``work`` other than n-grams: the text's, and which
    stages' cue phrases it holds (``st:``; the model learns when a cue misleads)."""
    features = named_features(work)
    stages = {rank for _, (rank, _cue) in _cues().automaton.iter(work.window)}
    features.extend("st:" + STAGES[rank] for rank in stages)
    return features


def stage_features(work: Work) -> list[str]:
    """All the stage model's features of ``work`` as strings (training)."""
    work.window = text_window(work.normalized_text)
    return text_grams(work.window) + stage_named_features(work)


class JourneyStageStep(LinearModelStep):
    """need recognition … post-purchase, or none, with the cue."""

    name = "stage"
    model_file = STAGE_MODEL_FILE

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every text gets a stage (none when it shows no step of a purchase)."""
        return True

    def prepare_rules(self) -> None:
        """Build the cue automaton the rules and the features read."""
        _cues()

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``stage`` and ``stage_cue``."""
        self.setup()
        model = self._model
        if model is None:
            for work in batch:
                match = journey_stage(work.normalized_text)
                work.stage, work.stage_cue = match.stage, match.cue
            return
        scorer = model.scorer
        grams = batch_grams(batch)
        named = scorer.named_rows([stage_named_features(work) for work in batch])
        probabilities = scorer.score_batch(grams, named)
        if self._refine is not None:  # the accurate tier
            probabilities = self._refine.refine("stage", model.classes, batch, probabilities)
        best = probabilities.argmax(axis=1).tolist()
        missing: list[int] = []
        for index, (work, klass) in enumerate(zip(batch, best, strict=True)):
            work.stage = model.classes[klass]
            work.stage_cue = (
                "" if work.stage == NONE else stage_cue(work.normalized_text, work.stage)
            )
            if work.stage != NONE and not work.stage_cue:
                missing.append(index)
        if missing:  # no cue of the stage: the text's strongest n-gram for it, to highlight
            import numpy as np  # noqa: PLC0415 - loaded by the scorer

            rows, texts = scorer.found(grams, named)
            wanted = np.isin(texts, missing)
            strongest = scorer.strongest(
                rows[wanted], texts[wanted], np.array(best, dtype=np.intp), 8
            )
            for index in missing:
                found = [feature for feature in strongest[index] if len(feature) <= MAX_GRAM]
                batch[index].stage_cue = max(found, key=len) if found else ""
