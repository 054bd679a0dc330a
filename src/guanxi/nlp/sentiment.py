"""The shipped sentiment model: loading it, scoring texts with it, the pipeline step.

The model is a logistic regression over ``guanxi.nlp.features`` trained by
``guanxi nlp train`` (see ``guanxi.nlp.training``), exported to a gzipped JSON file of
feature weights so that scoring needs neither scikit-learn nor numpy: a text's score is
the bias plus the weights of its features, and P(positive) is the logistic of that.

Neutral is defined honestly as "the model is not confident either way": P(positive) inside
the model's neutral band (recorded in the file), which includes texts with no feature the
model knows (their score is the bias, near 0.5); and texts in a language other than Chinese,
which the model was not trained to read (P(positive) 0.5).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import repeat
from pathlib import Path

from guanxi.core.errors import N_, UserError
from guanxi.nlp.features import sentiment_features
from guanxi.nlp.pipeline import Work

# Bumped when the file layout or the features change; an older file must be retrained.
FORMAT_VERSION = 2
MODEL_FILE = "sentiment-model.json.gz"
# The model reads Chinese: a text in another language is neutral rather than guessed at.
# ("und", no letters at all, is scored: emoji and emoticons carry sentiment.)
UNSCORED_LANGUAGES = frozenset({"en", "other"})
REPORT_FILE = "sentiment-report.json"


class ModelFormatError(UserError):
    """The model file was written for another format than this code reads."""


@dataclass(frozen=True)
class SentimentModel:
    """Feature weights of a logistic regression, with what produced them."""

    version: str
    bias: float
    weights: dict[str, float]
    neutral_band: tuple[float, float]
    known_words: frozenset[str]  # words whole; others back off to their bigrams
    training_command: str = ""

    def positive_probability(self, features: set[str]) -> float:
        """P(positive) for a text with ``features``."""
        score = self.bias + sum(map(self.weights.get, features, repeat(0.0)))
        # Clamped: exp overflows past ~709 and no text is that certain anyway.
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def label(self, probability: float) -> str:
        """positive, neutral (inside the neutral band) or negative."""
        low, high = self.neutral_band
        if probability >= high:
            return "positive"
        if probability <= low:
            return "negative"
        return "neutral"

    def to_json(self) -> dict[str, object]:
        """The file's content."""
        return {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "training_command": self.training_command,
            "bias": self.bias,
            "neutral_band": list(self.neutral_band),
            "weights": self.weights,
            "known_words": sorted(self.known_words),
        }


def shipped_model_path() -> Path:
    """Where the model shipped inside the package lives."""
    return Path(str(resources.files("guanxi.nlp") / "data" / MODEL_FILE))


def save_model(model: SentimentModel, path: Path) -> None:
    """Write ``model`` to ``path`` (gzipped JSON, stable so a retrain diffs cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(model.to_json(), ensure_ascii=False, sort_keys=True).encode()
    # mtime=0: the same model gives the same bytes.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


@cache
def load_model(path: Path | None = None) -> SentimentModel:
    """The model at ``path`` (the shipped one by default), cached; a clear error when the
    file is missing or of another format."""
    path = path or shipped_model_path()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            data = json.load(file)
    except FileNotFoundError:
        raise ModelFormatError(
            N_("No sentiment model at {path}. Train one: run `guanxi nlp train`."),
            path=str(path),
        ) from None
    except (OSError, ValueError):
        raise ModelFormatError(
            N_(
                "The sentiment model at {path} is not readable. Retrain it: run `guanxi nlp train`."
            ),
            path=str(path),
        ) from None
    found = data.get("format_version") if isinstance(data, dict) else None
    if found != FORMAT_VERSION:
        raise ModelFormatError(
            N_(
                "The sentiment model at {path} has format version {found} but this guanxi "
                "reads format version {expected}. Retrain it: run `guanxi nlp train`."
            ),
            path=str(path),
            found=found,
            expected=FORMAT_VERSION,
        )
    try:
        low, high = data["neutral_band"]
        return SentimentModel(
            version=str(data["version"]),
            bias=float(data["bias"]),
            weights={str(k): float(v) for k, v in data["weights"].items()},
            neutral_band=(float(low), float(high)),
            known_words=frozenset(str(word) for word in data["known_words"]),
            training_command=str(data.get("training_command", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ModelFormatError(
            N_("The sentiment model at {path} is incomplete. Retrain it: run `guanxi nlp train`."),
            path=str(path),
        ) from None


class SentimentStep:
    """positive / neutral / negative and P(positive), from the shipped model (or another)."""

    name = "sentiment"

    def __init__(self, *, model_path: Path | None = None) -> None:
        self._path = model_path
        self._model: SentimentModel | None = None

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every text gets a sentiment (neutral when nothing in it is known)."""
        return True

    def setup(self) -> None:
        """Load the model (once)."""
        if self._model is None:
            self._model = load_model(self._path)

    def version(self) -> str:
        """The model's version."""
        self.setup()
        assert self._model is not None
        return self._model.version

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``sentiment`` and ``positive_probability``."""
        self.setup()
        model = self._model
        assert model is not None
        known = model.known_words
        for work in batch:
            if work.language in UNSCORED_LANGUAGES:
                work.positive_probability, work.sentiment = 0.5, "neutral"
                continue
            features = sentiment_features(work.tokens, work.emoticons, known)
            probability = model.positive_probability(features)
            work.positive_probability = round(probability, 4)
            work.sentiment = model.label(probability)
