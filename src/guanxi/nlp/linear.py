"""The shipped multi-class models (source kind, journey stage): loading and scoring.

Each is a multinomial logistic regression trained by ``guanxi nlp train-insight`` (see
``guanxi.nlp.insight_training``) on the team's labelled posts, exported to a gzipped JSON
file: the classes, one intercept per class and, per feature kept, its weight for each class
(features whose weights all round to nothing are left out, so the file stays small). The
features are strings (``guanxi.nlp.features.text_features`` / ``author_features``), so the
reason for a prediction is the strongest features present, in readable words.

Scoring a batch is one sparse gather and sum in numpy: the features of every text are
looked up in the model's index and the rows of the weight matrix added per text, scaled by
1/sqrt(the number of the text's features) (``feature_scale``).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guanxi.core.errors import N_, UserError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Bumped when the file layout or the features change; an older file must be retrained.
FORMAT_VERSION = 1
SOURCE_MODEL_FILE = "source-model.json.gz"
STAGE_MODEL_FILE = "stage-model.json.gz"


def feature_scale(features: Sequence[str]) -> float:
    """What a text's features weigh: 1/sqrt(how many), so that every text's feature vector
    has length 1 and a long text does not outvote the model's prior by its length alone
    (training scales the same way)."""
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
            "weights": {feature: list(row) for feature, row in self.weights.items()},
        }

    @property
    def scorer(self) -> Scorer:
        """The numpy form of the model (built once)."""
        return _scorer(self)


class Scorer:
    """The weights as a matrix, the features as an index into its rows."""

    def __init__(self, model: LinearModel) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        self.model = model
        self.index = {feature: row for row, feature in enumerate(model.weights, start=1)}
        matrix = np.zeros((len(model.weights) + 1, len(model.classes)), dtype=np.float64)
        if model.weights:
            matrix[1:] = np.array(list(model.weights.values()), dtype=np.float64)
        self.matrix = matrix  # row 0 is zero: every text has it, so no text is empty
        self.pull = matrix - matrix.mean(axis=1, keepdims=True)
        self.names = ["", *model.weights]
        self.intercepts = np.array(model.intercepts, dtype=np.float64)

    def probabilities(self, batch: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        """P(class) for each text of ``batch`` (its features), rows summing to 1."""
        return self.score(batch)[0]

    def score(
        self, batch: Sequence[Sequence[str]]
    ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.intp]]]:
        """P(class) for each text of ``batch``, and each text's rows of the weight matrix
        (its features the model knows, for ``strongest``)."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        rows: list[int] = []
        starts: list[int] = []
        get = self.index.get
        for features in batch:
            starts.append(len(rows))
            rows.append(0)
            rows.extend(filter(None, map(get, features)))
        if not starts:
            return np.zeros((0, len(self.model.classes))), []
        found = np.array(rows, dtype=np.intp)
        sums = np.add.reduceat(self.matrix[found], starts, axis=0)
        # feature_scale, for the whole batch at once
        counts = np.fromiter(map(len, batch), dtype=np.float64, count=len(batch))
        sums /= np.sqrt(np.maximum(counts, 1.0))[:, None]
        scores = (sums + self.intercepts) / self.model.temperature
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        result: npt.NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        ends = [*starts[1:], len(rows)]
        # Views, not copies: slicing is cheap.
        return result, [found[start:end] for start, end in zip(starts, ends, strict=True)]

    def strongest(self, rows: npt.NDArray[np.intp], klass: int, count: int = 3) -> list[str]:
        """The features (given as their ``rows``) that pull most towards class ``klass``
        against the others (weight for the class minus mean weight), strongest first."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        pulls = self.pull[rows, klass]
        order = np.argsort(-pulls)[: count * 2]
        names = self.names
        return [names[rows[i]] for i in order if pulls[i] > 0][:count]


@cache
def _scorer(model: LinearModel) -> Scorer:
    return Scorer(model)


def shipped_path(name: str) -> Path:
    """Where a model shipped inside the package lives."""
    return Path(str(resources.files("guanxi.nlp") / "data" / name))


def save_model(model: LinearModel, path: Path) -> None:
    """Write ``model`` to ``path`` (gzipped JSON, stable so a retrain diffs cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(model.to_json(), ensure_ascii=False, sort_keys=True).encode()
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


@cache
def load_model(path: Path) -> LinearModel:
    """The model at ``path``, cached; a clear error when missing or of another format."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            data: Any = json.load(file)
    except FileNotFoundError:
        raise LinearModelError(
            N_("No model at {path}. Train one: run `guanxi nlp train-insight`."), path=str(path)
        ) from None
    except (OSError, ValueError):
        raise LinearModelError(
            N_("The model at {path} is not readable. Retrain it: run `guanxi nlp train-insight`."),
            path=str(path),
        ) from None
    found = data.get("format_version") if isinstance(data, dict) else None
    if found != FORMAT_VERSION:
        raise LinearModelError(
            N_(
                "The model at {path} has format version {found} but this guanxi reads format "
                "version {expected}. Retrain it: run `guanxi nlp train-insight`."
            ),
            path=str(path),
            found=found,
            expected=FORMAT_VERSION,
        )
    try:
        task, version = str(data["task"]), str(data["version"])
        classes = tuple(str(name) for name in data["classes"])
        weights = {
            str(feature): tuple(float(value) for value in row)
            for feature, row in data["weights"].items()
        }
        intercepts = tuple(float(value) for value in data["intercepts"])
        complete = len(intercepts) == len(classes) and all(
            len(row) == len(classes) for row in weights.values()
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
    )
