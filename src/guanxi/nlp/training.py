"""Training and evaluating the sentiment model (``guanxi nlp train`` / ``evaluate``).

Corpora (see /work/shared/data/README.md): ``weibo2018_train.txt`` (hand-labelled Sina Weibo
posts, ``mid,label,text``) and ``online_shopping_9_cats.csv`` (product reviews,
``cat,label,review``). Each text goes to the held-out split when the MD5 of its text ends in
0 modulo 10, so the split is reproducible, needs no stored list, and keeps duplicate texts
on one side. Training fits a logistic regression (scikit-learn, the ``train`` extra: only
training needs it) on both corpora, with the Weibo posts weighted up so that the shorter,
noisier social-media texts count as much as the long reviews; the weights are exported to
the package's JSON model file, and the IDF table for keywords is built from the same texts.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guanxi.core.errors import N_, UserError
from guanxi.nlp.features import sentiment_features, text_grams, text_window
from guanxi.nlp.keywords import IDF_FILE
from guanxi.nlp.model_files import training_extra_missing
from guanxi.nlp.pipeline import Document, Pipeline, Work
from guanxi.nlp.segment import SegmentStep
from guanxi.nlp.sentiment import (
    FORMAT_VERSION,
    MODEL_FILE,
    REPORT_FILE,
    SentimentModel,
    SentimentStep,
    load_model,
    save_model,
)
from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep

WEIBO_FILE = "weibo2018_train.txt"
SHOPPING_FILE = "online_shopping_9_cats.csv"
CORPORA = {"weibo2018": WEIBO_FILE, "online_shopping": SHOPPING_FILE}
HELD_OUT_MODULUS = 10
DEFAULT_VERSION = "sentiment-2026.12.1"
DEFAULT_WEIBO_WEIGHT = 5.0
DEFAULT_REGULARISATION = 0.3  # scikit-learn's C: smaller is smoother
# The n-gram model's C and vocabulary (the most frequent n-grams), chosen by cross-validation
# on the training split (docs/nlp.md).
DEFAULT_GRAM_REGULARISATION = 3.0
DEFAULT_GRAM_VOCABULARY = 60_000
NEUTRAL_BAND = (0.35, 0.65)
# Features whose weight rounds to this little do not change any decision: left out of the file.
MIN_WEIGHT = 0.005
MIN_IDF_DOCUMENT_FREQUENCY = 3
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LabeledText:
    """One training or evaluation text: its corpus, label (1 positive, 0 negative), text."""

    corpus: str
    label: int
    text: str

    @property
    def digest(self) -> int:
        """The MD5 of the text, as a number: it decides the split and the fold."""
        return int(hashlib.md5(self.text.encode(), usedforsecurity=False).hexdigest(), 16)

    @property
    def held_out(self) -> bool:
        """Whether this text belongs to the held-out split (see the module docstring)."""
        return self.digest % HELD_OUT_MODULUS == 0

    def fold(self, folds: int) -> int:
        """Which of ``folds`` cross-validation folds this (training) text falls in."""
        return self.digest // HELD_OUT_MODULUS % folds


def read_weibo(path: Path) -> list[LabeledText]:
    """Posts of a ``mid,label,text`` file (split on the first two commas only)."""
    texts = []
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        for line in file:
            parts = line.rstrip("\n").split(",", 2)
            if len(parts) == 3 and parts[1] in {"0", "1"} and parts[2].strip():
                texts.append(LabeledText("weibo2018", int(parts[1]), parts[2]))
    return texts


def read_shopping(path: Path) -> list[LabeledText]:
    """Reviews of a ``cat,label,review`` CSV file."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as file:
        return [
            LabeledText("online_shopping", int(row[1]), row[2].lstrip("\ufeff"))
            for row in csv.reader(file)
            if len(row) >= 3 and row[1] in {"0", "1"} and row[2].strip()
        ]


def read_corpora(data_dir: Path) -> list[LabeledText]:
    """Both corpora from ``data_dir``, or a UserError naming what is missing."""
    missing = [name for name in CORPORA.values() if not (data_dir / name).is_file()]
    if missing:
        raise UserError(
            N_(
                "The sentiment corpora are not in {path} (missing: {missing}). Pass the folder "
                "that holds them with --data (in a checkout: ../shared/data/sentiment)."
            ),
            path=str(data_dir),
            missing=", ".join(missing),
        )
    return read_weibo(data_dir / WEIBO_FILE) + read_shopping(data_dir / SHOPPING_FILE)


def prepare(texts: Sequence[str], *, progress: Progress | None = None) -> list[Work]:
    """Run the pipeline's text steps (markup, language, normalisation, segmentation)."""
    steps = (MarkupStep(), LanguageStep(), NormalizeStep(), SegmentStep())
    works = [Work(Document(text=text)) for text in texts]
    for start in range(0, len(works), 1000):
        batch = works[start : start + 1000]
        for step in steps:
            step.run(batch)
        if progress:
            progress(len(batch))
    return works


def known_words(works: Iterable[Work], *, minimum: int) -> frozenset[str]:
    """The words in at least ``minimum`` of ``works``: the model keeps them whole."""
    frequencies: Counter[str] = Counter()
    for work in works:
        frequencies.update(set(work.tokens))
    return frozenset(word for word, count in frequencies.items() if count >= minimum)


def fit(
    examples: Sequence[LabeledText],
    works: Sequence[Work],
    *,
    version: str,
    training_command: str,
    weibo_weight: float = DEFAULT_WEIBO_WEIGHT,
    regularisation: float = DEFAULT_REGULARISATION,
    gram_regularisation: float = DEFAULT_GRAM_REGULARISATION,
    gram_vocabulary: int = DEFAULT_GRAM_VOCABULARY,
) -> SentimentModel:
    """The word and n-gram logistic regressions on ``examples`` (prepared as ``works``), as
    a SentimentModel."""
    try:
        import numpy as np  # noqa: PLC0415 - heavy, and only training needs the rest below
        from scipy import sparse  # noqa: PLC0415 - heavy: scipy, for training only
        from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415 - optional (guanxi[train]) and heavy: scikit-learn, ~1.1 s
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - optional (guanxi[train]) and heavy: scikit-learn, ~1.1 s
    except ImportError:
        raise training_extra_missing() from None
    labels = [example.label for example in examples]
    if len(set(labels)) < 2:
        raise UserError(N_("Training needs both positive and negative texts."))
    weights = [weibo_weight if e.corpus == "weibo2018" else 1.0 for e in examples]
    # On a tiny corpus (tests) every word counts; on real ones, a word seen once is noise.
    minimum = 2 if len(works) > 500 else 1
    known = known_words(works, minimum=minimum)
    features = [sentiment_features(work.tokens, work.emoticons, known) for work in works]
    vectorizer = CountVectorizer(analyzer=_identity, binary=True, min_df=minimum)
    matrix = vectorizer.fit_transform(features)
    classifier = LogisticRegression(C=regularisation, solver="liblinear", max_iter=2000)
    classifier.fit(matrix, labels, sample_weight=weights)
    names = vectorizer.get_feature_names_out()
    coefficients = classifier.coef_[0]
    exported = {
        str(name): round(float(weight), 4)
        for name, weight in zip(names, coefficients, strict=True)
        if abs(weight) >= MIN_WEIGHT
    }
    # The n-gram model: IDFs rounded as the file keeps them, so training scores as scoring.
    grams = [text_grams(text_window(work.normalized_text)) for work in works]
    counter = CountVectorizer(
        analyzer=_identity, min_df=minimum, max_features=gram_vocabulary, dtype=np.float64
    )
    counts = counter.fit_transform(grams).tocsr()
    frequencies = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.round(np.log((1 + len(works)) / (1 + frequencies)) + 1, 4)
    norms = np.sqrt(counts @ (idf * idf))
    scaled = sparse.diags(1 / np.where(norms > 0, norms, 1.0)) @ counts.multiply(idf).tocsr()
    gram_classifier = LogisticRegression(C=gram_regularisation, solver="liblinear", max_iter=2000)
    gram_classifier.fit(scaled, labels, sample_weight=weights)
    gram_names = counter.get_feature_names_out()
    return SentimentModel(
        version=version,
        bias=round(float(classifier.intercept_[0]), 4),
        weights=exported,
        neutral_band=NEUTRAL_BAND,
        known_words=known,
        training_command=training_command,
        gram_bias=round(float(gram_classifier.intercept_[0]), 4),
        grams={
            str(name): (round(float(weight), 4), float(value))
            for name, weight, value in zip(gram_names, gram_classifier.coef_[0], idf, strict=True)
        },
    )


def _identity(features: set[str]) -> set[str]:
    return features


def write_idf(works: Sequence[Work], path: Path) -> int:
    """Write the keyword IDF table of ``works``' tokens to ``path``; the number of words."""
    frequencies: Counter[str] = Counter()
    for work in works:
        frequencies.update({token.lower() for token in work.tokens})
    total = len(works)
    lines = [
        f"{word}\t{math.log(total / frequency):.3f}\n"
        for word, frequency in sorted(frequencies.items())
        if frequency >= MIN_IDF_DOCUMENT_FREQUENCY and "\t" not in word and "\n" not in word
    ]
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write("".join(lines).encode())
    return len(lines)


@dataclass(frozen=True)
class TrainingResult:
    """What ``train`` wrote."""

    model: SentimentModel
    model_path: Path
    idf_path: Path
    training_texts: int
    idf_words: int


def train(
    *,
    data_dir: Path,
    output_dir: Path,
    version: str = DEFAULT_VERSION,
    training_command: str = "",
    weibo_weight: float = DEFAULT_WEIBO_WEIGHT,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train on the training split of the corpora in ``data_dir``; write the model file and
    the keyword IDF table to ``output_dir``."""
    examples = [example for example in read_corpora(data_dir) if not example.held_out]
    works = prepare([example.text for example in examples], progress=progress)
    model = fit(
        examples,
        works,
        version=version,
        training_command=training_command,
        weibo_weight=weibo_weight,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    model_path = output_dir / MODEL_FILE
    save_model(model, model_path)
    idf_path = output_dir / IDF_FILE
    idf_words = write_idf(works, idf_path)
    return TrainingResult(model, model_path, idf_path, len(examples), idf_words)


@dataclass(frozen=True)
class Scores:
    """Accuracy and F1 (of the positive class) of one classifier on one corpus."""

    texts: int
    accuracy: float
    f1: float
    neutral_share: float = 0.0

    def to_json(self) -> dict[str, float | int]:
        """For the report."""
        return {
            "texts": self.texts,
            "accuracy": round(self.accuracy, 4),
            "f1": round(self.f1, 4),
            "neutral_share": round(self.neutral_share, 4),
        }


def scores(labels: Sequence[int], probabilities: Sequence[float], neutral: int = 0) -> Scores:
    """Accuracy and F1 with P(positive) ≥ 0.5 read as positive."""
    predicted = [1 if p >= 0.5 else 0 for p in probabilities]
    pairs = list(zip(labels, predicted, strict=True))
    correct = sum(1 for label, guess in pairs if label == guess)
    true_pos = sum(1 for label, guess in pairs if label == guess == 1)
    false_pos = sum(1 for label, guess in pairs if guess == 1 and label == 0)
    false_neg = sum(1 for label, guess in pairs if guess == 0 and label == 1)
    f1 = 2 * true_pos / (2 * true_pos + false_pos + false_neg) if true_pos else 0.0
    total = len(pairs)
    return Scores(total, correct / total if total else 0.0, f1, neutral / total if total else 0.0)


def cross_validate(
    *,
    data_dir: Path,
    folds: int = 5,
    weibo_weight: float = DEFAULT_WEIBO_WEIGHT,
    regularisation: float = DEFAULT_REGULARISATION,
    progress: Progress | None = None,
) -> list[Scores]:
    """Accuracy on the Weibo training posts, fold by fold, never touching the held-out split.

    The Weibo training posts fall in ``folds`` folds by their MD5; each fold is scored by a
    model fitted as ``train`` fits, on the other folds and every training review. This is
    how a change to the features or the training is chosen; the held-out split then checks
    the chosen model once (``evaluate``).
    """
    if folds < 2:
        raise UserError(N_("Cross-validation needs at least 2 folds."))
    examples = [example for example in read_corpora(data_dir) if not example.held_out]
    works = prepare([example.text for example in examples], progress=progress)
    results = []
    for fold in range(folds):
        scored = [
            example.corpus == "weibo2018" and example.fold(folds) == fold for example in examples
        ]
        model = fit(
            [e for e, test in zip(examples, scored, strict=True) if not test],
            [w for w, test in zip(works, scored, strict=True) if not test],
            version="cross-validation",
            training_command="",
            weibo_weight=weibo_weight,
            regularisation=regularisation,
        )
        tested = [(e, w) for e, w, test in zip(examples, works, scored, strict=True) if test]
        probabilities = _probabilities(model, [work for _, work in tested])
        results.append(scores([example.label for example, _ in tested], probabilities))
    return results


def _probabilities(model: SentimentModel, works: Sequence[Work]) -> list[float]:
    return [
        model.positive_probability(
            sentiment_features(work.tokens, work.emoticons, model.known_words),
            text_grams(text_window(work.normalized_text)),
        )
        for work in works
    ]


def across_corpora(*, data_dir: Path, progress: Progress | None = None) -> dict[str, Scores]:
    """Transfer to a domain never seen in training: a model fitted as ``train`` fits, on one
    corpus's training split alone, scored on the other corpus's held-out split (both ways),
    keyed "weibo2018 -> online_shopping" and the reverse. What it loses against the mixed
    model estimates what an unseen platform or kind of review costs."""
    corpora = read_corpora(data_dir)
    training = [example for example in corpora if not example.held_out]
    held_out = [example for example in corpora if example.held_out]
    works = prepare([example.text for example in training], progress=progress)
    held_out_works = prepare([example.text for example in held_out], progress=progress)
    results = {}
    for source, target in (("weibo2018", "online_shopping"), ("online_shopping", "weibo2018")):
        chosen = [index for index, example in enumerate(training) if example.corpus == source]
        model = fit(
            [training[index] for index in chosen],
            [works[index] for index in chosen],
            version="across-corpora",
            training_command="",
        )
        tested = [
            (example, work)
            for example, work in zip(held_out, held_out_works, strict=True)
            if example.corpus == target
        ]
        probabilities = _probabilities(model, [work for _, work in tested])
        results[f"{source} -> {target}"] = scores([e.label for e, _ in tested], probabilities)
    return results


def snownlp_probabilities(texts: Sequence[str], *, progress: Progress | None = None) -> list[float]:
    """SnowNLP's P(positive) for ``texts`` (the baseline; slow: a few hundred texts a second)."""
    try:
        from snownlp import SnowNLP  # noqa: PLC0415 - optional (guanxi[dev]); its import loads its models: 2-4 s
    except ImportError:
        raise UserError(
            N_("The comparison needs SnowNLP: pip install 'guanxi[dev]' (or --snownlp-sample 0).")
        ) from None
    probabilities = []
    for text in texts:
        probabilities.append(float(SnowNLP(text).sentiments) if text.strip() else 0.5)
        if progress:
            progress(1)
    return probabilities


def snownlp_training_texts() -> frozenset[str]:
    """The texts SnowNLP's own sentiment model was trained on (its package ships them):
    product reviews, some of them the same as held-out shopping reviews here, which would
    flatter SnowNLP. Empty without SnowNLP."""
    try:
        import snownlp  # noqa: PLC0415 - optional (guanxi[dev]); its import loads its models: 2-4 s
    except ImportError:
        return frozenset()
    folder = Path(snownlp.__file__).parent / "sentiment"
    texts: set[str] = set()
    for name in ("neg.txt", "pos.txt"):
        if (folder / name).is_file():
            lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
            texts.update(line.strip() for line in lines)
    return frozenset(texts)


def evaluate(
    *,
    data_dir: Path,
    model_path: Path | None = None,
    snownlp_sample: int = 1000,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score the model (the shipped one by default) and SnowNLP on each corpus's held-out
    split; the report as JSON-ready data. SnowNLP is slow, so it scores ``snownlp_sample``
    held-out texts of each corpus, evenly spaced, leaving out the texts it was trained on;
    the model is scored on that same sample too."""
    model = load_model(model_path)
    held_out = [example for example in read_corpora(data_dir) if example.held_out]
    pipeline = Pipeline(
        [
            MarkupStep(),
            LanguageStep(),
            NormalizeStep(),
            SegmentStep(),
            SentimentStep(model_path=model_path),
        ]
    )
    corpora: dict[str, Any] = {}
    for corpus in CORPORA:
        examples = [example for example in held_out if example.corpus == corpus]
        labels = [example.label for example in examples]
        enriched = pipeline.enrich([Document(text=example.text) for example in examples])
        probabilities = [enrichment.positive_probability for enrichment in enriched]
        neutral = sum(1 for enrichment in enriched if enrichment.sentiment == "neutral")
        if progress:
            progress(len(examples))
        entry: dict[str, Any] = {"guanxi": scores(labels, probabilities, neutral).to_json()}
        # How right the model is when it commits (outside the neutral band).
        decided = [
            (label, enrichment.positive_probability)
            for label, enrichment in zip(labels, enriched, strict=True)
            if enrichment.sentiment != "neutral"
        ]
        entry["guanxi_outside_neutral_band"] = scores(
            [label for label, _ in decided], [probability for _, probability in decided]
        ).to_json()
        if snownlp_sample > 0:
            seen = snownlp_training_texts()
            unseen = [i for i, example in enumerate(examples) if example.text.strip() not in seen]
            chosen = unseen[:: max(1, len(unseen) // snownlp_sample)][:snownlp_sample]
            sample_labels = [labels[i] for i in chosen]
            started = time.perf_counter()
            baseline = snownlp_probabilities([examples[i].text for i in chosen], progress=progress)
            elapsed = time.perf_counter() - started
            entry["snownlp"] = scores(sample_labels, baseline).to_json()
            entry["snownlp"]["texts_per_s"] = round(len(chosen) / elapsed, 1) if elapsed else 0.0
            entry["snownlp"]["left_out_as_in_its_training_data"] = len(examples) - len(unseen)
            entry["guanxi_on_snownlp_sample"] = scores(
                sample_labels, [probabilities[i] for i in chosen]
            ).to_json()
        corpora[corpus] = entry
    return {
        "model_version": model.version,
        "format_version": FORMAT_VERSION,
        "training_command": model.training_command,
        "held_out": f"texts whose MD5 is 0 modulo {HELD_OUT_MODULUS}",
        "neutral_band": list(model.neutral_band),
        "corpora": corpora,
    }


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write the evaluation report beside the model."""
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def report_path(model_dir: Path) -> Path:
    """Where the report of the model in ``model_dir`` goes."""
    return model_dir / REPORT_FILE
