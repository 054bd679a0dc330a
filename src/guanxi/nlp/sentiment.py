"""The shipped sentiment model: loading it, scoring texts with it, the pipeline step.

The model is two logistic regressions trained by ``guanxi nlp train`` (see
``guanxi.nlp.training``) and averaged: one over the words of ``guanxi.nlp.features``
(binary), one over the character 1- to 3-grams of the start of the text (each occurrence
weighted by the n-gram's IDF, the sum divided by the square root of the sum of the squared
IDFs). It is exported to a gzipped JSON file of feature weights, so scoring needs no
scikit-learn: a text's word score is the word bias plus the weights of its words, its
n-gram score is found for the whole batch in numpy with the n-grams the other models read
(``guanxi.nlp.grams``), and P(positive) is the logistic of the mean of the two scores.

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
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import compress, repeat
from operator import is_
from pathlib import Path
from typing import TYPE_CHECKING

from guanxi.core.errors import N_, UserError
from guanxi.nlp.features import NEGATORS, bigrams
from guanxi.nlp.grams import BatchGrams, GramWeights, batch_grams
from guanxi.nlp.model_files import FileMessages, read_model_json
from guanxi.nlp.pipeline import Work

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Bumped when the file layout or the features change; an older file must be retrained.
FORMAT_VERSION = 3
MODEL_FILE = "sentiment-model.json.gz"
# The model reads Chinese: a text in another language is neutral rather than guessed at.
# ("und", no letters at all, is scored: emoji and emoticons carry sentiment.)
UNSCORED_LANGUAGES = frozenset({"en", "other"})
REPORT_FILE = "sentiment-report.json"


class ModelFormatError(UserError):
    """The model file was written for another format than this code reads."""


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, for the n-gram scorer cache
class SentimentModel:
    """Feature weights of the two logistic regressions, with what produced them."""

    version: str
    bias: float  # the word model's
    weights: dict[str, float]  # word features
    neutral_band: tuple[float, float]
    known_words: frozenset[str]  # words whole; others back off to their bigrams
    training_command: str = ""
    gram_bias: float = 0.0
    # Character n-gram -> (weight, IDF); every n-gram of the model's vocabulary is here, since
    # the IDFs of a text's n-grams make its norm.
    grams: dict[str, tuple[float, float]] = field(default_factory=dict)

    def word_score(self, features: set[str]) -> float:
        """The word model's score of a text with ``features``."""
        return self.bias + sum(map(self.weights.get, features, repeat(0.0)))

    def gram_score(self, grams: Sequence[str]) -> float:
        """The n-gram model's score of a text whose window has ``grams`` (each occurrence),
        as ``GramScorer`` computes it for a batch (for training and tests)."""
        total = squares = 0.0
        for gram in grams:
            found = self.grams.get(gram)
            if found:
                weight, idf = found
                total += weight * idf
                squares += idf * idf
        return self.gram_bias + (total / math.sqrt(squares) if squares else 0.0)

    def positive_probability(self, features: set[str], grams: Sequence[str]) -> float:
        """P(positive) for a text with word ``features`` and window n-grams ``grams``."""
        return probability(self.word_score(features), self.gram_score(grams))

    @property
    def gram_scorer(self) -> GramScorer:
        """The numpy form of the n-gram model (built once)."""
        return _gram_scorer(self)

    @property
    def word_scorer(self) -> WordScorer:
        """The word model's look-up table for scoring (built once)."""
        return _word_scorer(self)

    def label(self, probability: float) -> str:
        """positive, neutral (inside the neutral band) or negative."""
        return band_label(probability, self.neutral_band)

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
            "gram_bias": self.gram_bias,
            "grams": {gram: list(pair) for gram, pair in self.grams.items()},
        }


def probability(word_score: float, gram_score: float) -> float:
    """P(positive): the logistic of the mean of the two models' scores."""
    score = (word_score + gram_score) / 2
    # Clamped: exp overflows past ~709 and no text is that certain anyway.
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


class WordScorer:
    """The word model's score of a text from its tokens with one look-up per distinct token,
    equal to ``word_score(sentiment_features(...))`` up to the order of the additions.

    ``sentiment_features`` looks each distinct token up in the known words, then each
    feature in the weights: two look-ups in tables of some 35,000 strings, which cost more
    than the rest of the word model. Here one table holds every known word's weight (0.0
    when it has none) and the weight of every feature of one or two characters that is not
    a known word (a bigram of an unknown word): a token found there is a feature and weighs
    what it holds; a token of three or more characters not found there is an unknown word,
    which backs off to its bigrams."""

    def __init__(self, model: SentimentModel) -> None:
        weights = model.weights
        self.bias = model.bias
        self.weights = weights
        table = {word: weights.get(word, 0.0) for word in model.known_words}
        for feature, weight in weights.items():
            if len(feature) <= 2:
                table.setdefault(feature, weight)
        self.table = table

    def score(self, tokens: Sequence[str], emoticons: Sequence[str]) -> float:
        """The word model's score of a text with lowercase ``tokens`` and ``emoticons``."""
        found = set(tokens)
        values = list(map(self.table.get, found))  # None: not a feature by itself
        total = sum(filter(None, values))
        # The features the table does not give: an unknown long word's bigrams, the word
        # after a negator, the emoticons; each counted once, and not when a token is it.
        extra: set[str] = set()
        kept: set[str] = found
        if None in values:
            long_unknown = [
                word for word in compress(found, map(is_, values, repeat(None))) if len(word) >= 3
            ]
            if long_unknown:
                kept = found.difference(long_unknown)
                for word in long_unknown:
                    extra.update(bigrams(word))
        if not (NEGATORS.isdisjoint(kept) and NEGATORS.isdisjoint(extra)):
            extra.update(
                "!" + tokens[index + 1]
                for index in range(len(tokens) - 1)
                if tokens[index] in NEGATORS
            )
        if emoticons:
            extra.update("[" + emoticon + "]" for emoticon in emoticons)
        if extra:
            extra.difference_update(kept)
            total += sum(map(self.weights.get, extra, repeat(0.0)))
        return self.bias + total


class GramScorer:
    """The n-gram model in numpy: each vocabulary n-gram's weight x IDF and IDF squared."""

    def __init__(self, model: SentimentModel) -> None:
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        self.bias = model.gram_bias
        pairs = np.array(list(model.grams.values()), dtype=np.float64).reshape(-1, 2)
        self.weights = GramWeights(
            list(model.grams),
            np.stack([pairs[:, 0] * pairs[:, 1], pairs[:, 1] * pairs[:, 1]], axis=1),
        )

    def scores(self, grams: BatchGrams) -> npt.NDArray[np.float64]:
        """The n-gram score of each text of a batch."""
        import numpy as np  # noqa: PLC0415 - already loaded by __init__

        sums = self.weights.sums(grams)
        total, norm = sums[:, 0], np.sqrt(sums[:, 1])
        result: npt.NDArray[np.float64] = self.bias + total / np.where(norm > 0, norm, 1.0)
        return result


@cache
def _gram_scorer(model: SentimentModel) -> GramScorer:
    return GramScorer(model)


@cache
def _word_scorer(model: SentimentModel) -> WordScorer:
    return WordScorer(model)


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


def band_label(probability: float, band: tuple[float, float]) -> str:
    """positive, neutral (inside ``band``, the model's neutral band) or negative."""
    low, high = band
    if probability >= high:
        return "positive"
    if probability <= low:
        return "negative"
    return "neutral"


@cache
def load_model(path: Path | None = None) -> SentimentModel:
    """The model at ``path`` (the shipped one by default), cached; a clear error when the
    file is missing or of another format."""
    path = path or shipped_model_path()
    data = read_model_json(
        path,
        expected_format=FORMAT_VERSION,
        error=ModelFormatError,
        messages=FileMessages(
            missing=N_("No sentiment model at {path}. Train one: run `guanxi nlp train`."),
            unreadable=N_(
                "The sentiment model at {path} is not readable. Retrain it: run `guanxi nlp train`."
            ),
            other_format=N_(
                "The sentiment model at {path} has format version {found} but this guanxi "
                "reads format version {expected}. Retrain it: run `guanxi nlp train`."
            ),
        ),
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
            gram_bias=float(data["gram_bias"]),
            grams={
                str(gram): (float(weight), float(idf))
                for gram, (weight, idf) in data["grams"].items()
            },
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
        """Load the model and build its numpy form (once)."""
        if self._model is None:
            model = load_model(self._path)
            model.gram_scorer  # noqa: B018 - built here, not in the first batch
            model.word_scorer  # noqa: B018 - built here, not in the first batch
            self._model = model

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
        word_score = model.word_scorer.score
        gram_scores = model.gram_scorer.scores(batch_grams(batch)).tolist()
        for work, gram_score in zip(batch, gram_scores, strict=True):
            if work.language in UNSCORED_LANGUAGES:
                work.positive_probability, work.sentiment = 0.5, "neutral"
                continue
            found = probability(word_score(work.tokens, work.emoticons), gram_score)
            work.positive_probability = round(found, 4)
            work.sentiment = model.label(found)
