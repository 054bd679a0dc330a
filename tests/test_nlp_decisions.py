"""Decisions tuned for macro-F1: per-class offsets on the log-scores, chosen on out-of-fold
predictions, applied in scoring before the softmax, and stored in the model file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from guanxi.nlp.decisions import decide, macro_f1_of, nested_gain, tune_offsets
from guanxi.nlp.linear import LinearModel, LinearModelError, load_model, save_model
from tests.cli import run


def _imbalanced(seed: int, posts: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Log-scores of a model that under-calls its two small classes: 80% of the posts are
    class 0, and the scores of classes 1 and 2 are pulled down by 2.5 (a prior too strong)."""
    generator = np.random.default_rng(seed)
    truth = generator.choice(3, size=posts, p=[0.8, 0.1, 0.1])
    logits = generator.normal(0.0, 1.0, size=(posts, 3))
    logits[np.arange(posts), truth] += 2.0  # some signal for the true class
    logits[:, 1:] -= 2.5
    log_scores = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return log_scores, truth


def test_tuning_raises_the_macro_f1_of_an_under_calling_model() -> None:
    """Given scores that under-call the small classes, when offsets are tuned on one sample,
    then they raise both small classes and the macro-F1 of a second sample, unseen."""
    tune_scores, tune_truth = _imbalanced(1)
    test_scores, test_truth = _imbalanced(2)
    offsets = tune_offsets(tune_scores, tune_truth)
    assert offsets[0] == 0.0
    assert offsets[1] > 1.0
    assert offsets[2] > 1.0
    before = macro_f1_of(test_truth, decide(test_scores, [0.0, 0.0, 0.0]), 3)
    after = macro_f1_of(test_truth, decide(test_scores, offsets), 3)
    assert after > before + 0.03


def test_the_nested_estimate_scores_each_fold_with_offsets_tuned_without_it() -> None:
    scores, truth = _imbalanced(3)
    folds = [str(i % 5) for i in range(len(truth))]
    gain = nested_gain(scores, truth, folds)
    assert gain.macro_f1_nested > gain.macro_f1_before + 0.03
    assert gain.macro_f1_tuned >= gain.macro_f1_nested - 0.01


def test_a_model_with_no_bias_to_correct_keeps_its_decisions() -> None:
    """Given scores with no prior to correct (balanced classes, symmetric noise), the tuner
    finds no shift worth more than a step of its grid."""
    generator = np.random.default_rng(4)
    truth = generator.choice(3, size=20000)
    logits = generator.normal(0.0, 1.0, size=(20000, 3))
    logits[np.arange(20000), truth] += 2.0
    assert max(map(abs, tune_offsets(logits, truth))) <= 0.1


def _model(offsets: tuple[float, ...] = (), temperature: float = 1.0) -> LinearModel:
    return LinearModel(
        task="source_kind",
        version="source-test",
        classes=("personal", "public", "marketer"),
        intercepts=(1.0, 0.0, -0.5),
        weights={"好": (0.4, 0.0, -0.2), "店": (-0.3, 0.1, 0.9)},
        temperature=temperature,
        offsets=offsets,
    )


def test_offsets_shift_the_probabilities_and_the_decision_with_them() -> None:
    """Given a model with offsets, the probabilities are the softmax of the scores (divided
    by the temperature) plus the offsets: rows sum to 1, and the decision, their argmax, is
    the class the offsets favour."""
    features = [["好", "店"], ["店"], []]
    plain = _model().scorer.probabilities(features)
    shifted = _model((0.0, 2.0, 0.0), temperature=1.5).scorer.probabilities(features)
    assert np.allclose(shifted.sum(axis=1), 1.0)
    logits = np.log(_model(temperature=1.5).scorer.probabilities(features))
    expected = np.exp(logits + np.array([0.0, 2.0, 0.0]))
    assert np.allclose(shifted, expected / expected.sum(axis=1, keepdims=True))
    assert plain.argmax(axis=1).tolist() != shifted.argmax(axis=1).tolist()
    assert (shifted.argmax(axis=1) == 1).sum() > (plain.argmax(axis=1) == 1).sum()


def test_offsets_are_kept_in_the_file_and_a_file_without_them_still_loads(tmp_path: Path) -> None:
    with_offsets, without = tmp_path / "with.json.gz", tmp_path / "without.json.gz"
    save_model(_model((0.0, 0.5, -0.3)), with_offsets)
    save_model(_model(), without)
    assert load_model(with_offsets).offsets == (0.0, 0.5, -0.3)
    with gzip.open(without, "rt", encoding="utf-8") as file:
        assert "offsets" not in json.load(file)  # as the files written before offsets
    assert load_model(without).offsets == ()
    features = [["好"], ["店", "店"]]
    assert np.allclose(
        load_model(without).scorer.probabilities(features), _model().scorer.probabilities(features)
    )


def test_a_file_with_an_offset_per_class_missing_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    path = tmp_path / "short.json.gz"
    save_model(_model((0.0, 0.5, -0.3)), path)
    with gzip.open(path, "rt", encoding="utf-8") as file:
        data = json.load(file)
    data["offsets"] = [0.5]
    with gzip.open(path, "wt", encoding="utf-8") as file:
        json.dump(data, file)
    with pytest.raises(LinearModelError, match="train-insight"):
        load_model(path)


def test_training_tunes_the_offsets_and_writes_them_to_both_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a labelled set (the small fixture, the minimum lowered to its size), when the
    models are trained, then each file carries the offsets tuned on the out-of-fold
    predictions, one per class, the first class's at 0; without tuning, none."""
    from guanxi.nlp import insight_training  # noqa: PLC0415 - needs scikit-learn

    small = Path(__file__).parent / "fixtures" / "nlp_labelled_small.jsonl"
    monkeypatch.setattr(insight_training, "MIN_TUNING_POSTS", 10)
    result = insight_training.train_insight(
        train_path=small,
        output_dir=tmp_path / "tuned",
        version="t",
        training_command="pytest",
        tune_decisions=True,
    )
    for model, gain, path in (
        (result.source_model, result.source_tuning, result.source_path),
        (result.stage_model, result.stage_tuning, result.stage_path),
    ):
        assert model is not None
        assert gain is not None
        assert load_model(path).offsets == gain.offsets == model.offsets
        assert len(gain.offsets) == len(model.classes)
        assert gain.offsets[0] == 0.0
        assert gain.macro_f1_tuned >= gain.macro_f1_before
    plain = insight_training.train_insight(
        train_path=small,
        output_dir=tmp_path / "plain",
        version="t",
        training_command="pytest",
    )
    assert plain.source_tuning is None
    assert load_model(plain.source_path).offsets == ()


def test_train_insight_prints_the_offsets_and_records_when_they_were_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the small set (the minimum lowered to its size), `train-insight` prints each
    model's offsets with the nested out-of-fold estimate and the file's training command says
    so; by default (no tuning) it prints none and the offsets are left out."""
    from guanxi.nlp import insight_training  # noqa: PLC0415 - needs scikit-learn

    small = Path(__file__).parent / "fixtures" / "nlp_labelled_small.jsonl"
    monkeypatch.setattr(insight_training, "MIN_TUNING_POSTS", 10)
    common = ["nlp", "train-insight", "--labelled", str(small), "--only", "source_kind"]
    tuned = run(*common, "--output", str(tmp_path / "tuned"), "--tune-decisions")
    assert tuned.exit_code == 0, tuned.output
    assert "source_kind decision offsets: personal +0.0" in tuned.stdout
    assert "tuned without each fold" in " ".join(tuned.stdout.split())
    assert load_model(tmp_path / "tuned" / "source-model.json.gz").training_command.endswith(
        "--tune-decisions"
    )
    plain = run(*common, "--output", str(tmp_path / "plain"))
    assert plain.exit_code == 0, plain.output
    assert "decision offsets" not in plain.stdout
    model = load_model(tmp_path / "plain" / "source-model.json.gz")
    assert "tune" not in model.training_command
    assert model.offsets == ()
