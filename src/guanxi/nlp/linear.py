"""The shipped multi-class models (source kind, journey stage): loading and scoring.

Each is a multinomial logistic regression trained by ``guanxi nlp train-insight`` (see
``guanxi.nlp.insight_training``) on the team's labelled posts, exported to a gzipped JSON
file: the classes, one intercept per class and, per feature kept, its weight for each class
(features whose weights all round to nothing are left out, so the file stays small). The
features are strings (``guanxi.nlp.features.text_features`` / ``author_features``), so the
reason for a prediction is the strongest features present, in readable words.

Scoring a batch runs in numpy (``Scorer.score_batch``): the character n-grams of every
text of the batch, found once for every model (``guanxi.nlp.grams``), are summed per text
and class with one sparse product, the few other features (emoticons, marks, the author,
found through a dictionary) are added, and the sums are scaled by 1/sqrt(the number of the
text's features) (``feature_scale``). A file may carry one offset per class, added to the
scores before the softmax: decisions tuned for macro-F1 (``guanxi.nlp.decisions``).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from guanxi.core.errors import N_, UserError
from guanxi.nlp.features import MAX_GRAM
from guanxi.nlp.grams import BatchGrams, GramRows, GramWeights
from guanxi.nlp.model_files import FileMessages, read_model_json, shipped_path

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from guanxi.nlp.accurate_insight import AccurateInsight

# Bumped when the file layout or the features change; an older file must be retrained.
FORMAT_VERSION = 2
SOURCE_MODEL_FILE = "source-model.json.gz"
STAGE_MODEL_FILE = "stage-model.json.gz"


def feature_scale(features: Sequence[str]) -> float:
    """What a text's features weigh: 1/sqrt(how many, a repeated n-gram counted each time),
    so that a long text does not outvote the model's prior by its length alone (training
    scales the same way)."""
    return 1.0 / math.sqrt(max(1, len(features)))


class LinearModelError(UserError):
    """The model file is missing, unreadable or of another format."""


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, for the scorer cache
class LinearModel:
    """A multinomial logistic regression over string features."""

    task: str  # "source_kind" | "stage"
    version: str
    classes: tuple[str, ...]
    intercepts: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]  # feature -> weight per class
    training_command: str = ""
    temperature: float = 1.0  # divides the scores before the softmax (calibration)
    # Added to the scores (after the temperature) before the softmax: the decisions tuned for
    # macro-F1 (``guanxi.nlp.decisions``); empty in a file trained without them.
    offsets: tuple[float, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The file's content."""
        return {
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "version": self.version,
            "training_command": self.training_command,
            "classes": list(self.classes),
            "intercepts": list(self.intercepts),
            "temperature": self.temperature,
            **({"offsets": list(self.offsets)} if self.offsets else {}),
            "weights": {feature: list(row) for feature, row in self.weights.items()},
        }

    @property
    def scorer(self) -> Scorer:
        """The numpy form of the model (built once)."""
        return _scorer(self)


class Scorer:
    """The weights as a matrix; the n-gram features found through the shared vocabulary
    (``GramWeights`` to score, ``GramRows`` for the reasons), the other features through a
    dictionary."""

    def __init__(self, model: LinearModel) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        self.model = model
        self.index = {feature: row for row, feature in enumerate(model.weights, start=1)}
        matrix = np.zeros((len(model.weights) + 1, len(model.classes)), dtype=np.float64)
        if model.weights:
            matrix[1:] = np.array(list(model.weights.values()), dtype=np.float64)
        self.matrix = matrix  # row 0 is zero: every text has it, so no text is empty
        self.columns = np.ascontiguousarray(matrix.T)  # one class's weights, for a gather
        self.pull = matrix - matrix.mean(axis=1, keepdims=True)
        # Each pull's rank, strongest first (equal pulls, equal ranks): ``strongest`` sorts
        # by text and pull with one stable sort of one integer key.
        levels, inverse = np.unique(self.pull.ravel(), return_inverse=True)
        self.pull_rank = len(levels) - 1 - inverse.reshape(-1)
        self.pull_levels = len(levels)
        self.names = ["", *model.weights]
        # The offsets join the intercepts (times the temperature that divides both), so the
        # probabilities carry them and the decision, their argmax, agrees.
        self.intercepts = np.array(model.intercepts, dtype=np.float64)
        if model.offsets:
            self.intercepts += model.temperature * np.array(model.offsets, dtype=np.float64)
        gram_rows = {f: row for f, row in self.index.items() if len(f) <= MAX_GRAM}
        self.gram_rows = GramRows(gram_rows)
        self.gram_weights = GramWeights(list(gram_rows), matrix[list(gram_rows.values())])

    def probabilities(self, batch: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        """P(class) for each text of ``batch`` (its features as strings), rows summing to
        1; the same as ``score_batch`` computes from the text, for training and tests."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        get = self.index.get
        sums = np.array(
            [self.matrix[[0, *filter(None, map(get, features))]].sum(axis=0) for features in batch]
        ).reshape(len(batch), len(self.model.classes))
        counts = np.fromiter(map(len, batch), dtype=np.float64, count=len(batch))
        return self._softmax(sums, counts)

    def named_rows(
        self, named: Sequence[Sequence[str]]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The weight rows of the features other than n-grams of each text of a batch (those
        the model knows), with the text each belongs to, and each text's number of them
        (known or not): for ``score_batch`` and ``found``."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        get = self.index.get
        rows: list[int] = []
        texts: list[int] = []
        for text, features in enumerate(named):
            for row in filter(None, map(get, features)):
                rows.append(row)
                texts.append(text)
        counts = np.fromiter(map(len, named), dtype=np.int64, count=len(named))
        return np.array(rows, dtype=np.intp), np.array(texts, dtype=np.int64), counts

    def score_batch(
        self,
        grams: BatchGrams,
        named: tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], npt.NDArray[np.int64]],
    ) -> npt.NDArray[np.float64]:
        """P(class) for each text of a batch, from its n-grams (``grams``) and its other
        features (``named``, from ``named_rows``)."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        rows, texts, named_counts = named
        sums = self.gram_weights.sums(grams)
        # Added in order after the text's n-grams (np.add.at is unbuffered): each text's sum
        # adds its features in the order of the text, n-grams first.
        np.add.at(sums, texts, self.matrix.take(rows, axis=0))
        counts = grams.counts + named_counts
        return self._softmax(sums, counts.astype(np.float64))

    def found(
        self,
        grams: BatchGrams,
        named: tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], npt.NDArray[np.int64]],
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """The weight rows of the features the model knows of each text of a batch (n-grams
        then the others, in the order of the text), with the text each belongs to: for
        ``strongest``."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        rows = self.gram_rows.of(grams)
        # np.take with the indices of the known ones: several times faster than masks here.
        known = np.flatnonzero(rows)
        named_rows, named_texts, _ = named
        return (
            np.concatenate([rows.take(known), named_rows]),
            np.concatenate([grams.text_of.take(known), named_texts]),
        )

    def _softmax(
        self, sums: npt.NDArray[np.float64], counts: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        sums = sums / np.sqrt(np.maximum(counts, 1.0))[:, None]  # feature_scale, at once
        scores = (sums + self.intercepts) / self.model.temperature
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        result: npt.NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return result

    def strongest(
        self,
        rows: npt.NDArray[np.intp],
        texts: npt.NDArray[np.int64],
        best: npt.NDArray[np.intp],
        count: int = 3,
    ) -> list[list[str]]:
        """For each text, the features (given as the weight ``rows`` found, with the text
        each belongs to) that pull most towards its class ``best[text]`` against the others
        (weight for the class minus mean weight), strongest first, each once."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        result: list[list[str]] = [[] for _ in range(len(best))]
        if not len(rows):
            return result
        # Gathers with np.take from flat indices: several times faster than 2-D or mask indexing.
        cells = rows * self.pull.shape[1] + best.take(texts)
        positive = np.flatnonzero(self.pull.ravel().take(cells) > 0)
        rows, texts, cells = rows.take(positive), texts.take(positive), cells.take(positive)
        # By text, then strongest first, ties in the order found (a stable sort of one key:
        # four times faster than np.lexsort of the text and the pull).
        order = np.argsort(texts * self.pull_levels + self.pull_rank.take(cells), kind="stable")
        rows, texts = rows.take(order), texts.take(order)
        # The first few of each text (a repeated n-gram is there once per occurrence)...
        starts = np.searchsorted(texts, np.arange(len(best)))
        first = np.flatnonzero((np.arange(len(texts)) - starts.take(texts)) < 3 * count)
        rows, texts = rows.take(first), texts.take(first)
        # ... each feature once (its first place), then the first ``count`` of each text.
        _, once = np.unique(texts * len(self.names) + rows, return_index=True)
        once.sort()
        rows, texts = rows[once], texts[once]
        starts = np.searchsorted(texts, np.arange(len(best)))
        first = np.flatnonzero((np.arange(len(texts)) - starts.take(texts)) < count)
        names = self.names
        for text, row in zip(texts.take(first).tolist(), rows.take(first).tolist(), strict=True):
            result[text].append(names[row])
        return result


@cache
def _scorer(model: LinearModel) -> Scorer:
    return Scorer(model)


def save_model(model: LinearModel, path: Path) -> None:
    """Write ``model`` to ``path`` (gzipped JSON, stable so a retrain diffs cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(model.to_json(), ensure_ascii=False, sort_keys=True).encode()
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


@cache
def load_model(path: Path) -> LinearModel:
    """The model at ``path``, cached; a clear error when missing or of another format."""
    data = read_model_json(
        path,
        expected_format=FORMAT_VERSION,
        error=LinearModelError,
        messages=FileMessages(
            missing=N_("No model at {path}. Train one: run `guanxi nlp train-insight`."),
            unreadable=N_(
                "The model at {path} is not readable. Retrain it: run `guanxi nlp train-insight`."
            ),
            other_format=N_(
                "The model at {path} has format version {found} but this guanxi reads format "
                "version {expected}. Retrain it: run `guanxi nlp train-insight`."
            ),
        ),
    )
    try:
        task, version = str(data["task"]), str(data["version"])
        classes = tuple(str(name) for name in data["classes"])
        weights = {
            str(feature): tuple(float(value) for value in row)
            for feature, row in data["weights"].items()
        }
        intercepts = tuple(float(value) for value in data["intercepts"])
        offsets = tuple(float(value) for value in data.get("offsets", ()))
        complete = (
            len(intercepts) == len(classes)
            and len(offsets) in {0, len(classes)}
            and all(len(row) == len(classes) for row in weights.values())
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        complete = False
    if not complete:
        raise LinearModelError(
            N_("The model at {path} is incomplete. Retrain it: run `guanxi nlp train-insight`."),
            path=str(path),
        )
    return LinearModel(
        task=task,
        version=version,
        classes=classes,
        intercepts=intercepts,
        weights=weights,
        training_command=str(data.get("training_command", "")),
        temperature=float(data.get("temperature", 1.0)),
        offsets=offsets,
    )


class LinearModelStep:
    """What the source-kind and stage steps share: their model file loaded once (the rules
    when there is none, or with ``rules``), the accurate tier's heads set up beside it, and
    the version they report. The step's ``name`` is its task in the heads file."""

    name: str
    model_file: str

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        rules: bool = False,
        refine: AccurateInsight | None = None,
    ) -> None:
        self._path = model_path or shipped_path(self.model_file)
        self._explicit = model_path is not None  # then a missing file is an error
        self._rules = rules  # the previous version, for comparisons
        self._refine = refine  # the accurate tier: the e5 head's say in the probabilities
        self._model: LinearModel | None = None
        self._ready = False

    def prepare_rules(self) -> None:
        """Build what the rules need (the cue automata), before any model."""

    def setup(self) -> None:
        """Build the rules' cues and load the model (once)."""
        if self._ready:
            return
        self.prepare_rules()
        if not self._rules and (self._explicit or self._path.is_file()):
            self._model = load_model(self._path)
            self._model.scorer  # noqa: B018 - built here, not in the first batch
            if self._refine is not None:
                self._refine.setup()
        self._ready = True

    def version(self) -> str:
        """The model's version (with the accurate heads' when they cover this step's task);
        "" for the rules."""
        self.setup()
        if self._model is None:
            return ""
        if self._refine is not None and self._refine.covers(self.name):
            return f"{self._model.version}+{self._refine.version()}"
        return self._model.version
