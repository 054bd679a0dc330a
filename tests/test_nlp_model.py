"""The sentiment model: the shipped one loads, is versioned and is accurate on held-out
texts; training and evaluating round-trip on a tiny corpus; an old file format asks for
`guanxi nlp train`; `guanxi nlp classify` works on stdin and on a file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guanxi.cli import app
from guanxi.core.errors import UserError
from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE
from guanxi.nlp.linear import load_model as load_linear
from guanxi.nlp.model_files import shipped_path
from guanxi.nlp.pipeline import PIPELINE_VERSION, Document, default_pipeline
from guanxi.nlp.sentiment import (
    FORMAT_VERSION,
    ModelFormatError,
    load_model,
    shipped_model_path,
)
from guanxi.nlp.training import across_corpora, cross_validate, evaluate, read_corpora, train
from tests.cli import run

FIXTURES = Path(__file__).parent / "fixtures"
# 200 Weibo posts and 200 shopping reviews, evenly spaced over the held-out split (MD5 of
# the text is 0 modulo 10) of /work/shared/data/sentiment: dengxiuqi/weibo2018 train.txt and
# SophonPlus/ChineseNlpCorpus online_shopping_10_cats. Never seen by the shipped model.
HELD_OUT_FIXTURE = FIXTURES / "nlp_sentiment_held_out.tsv"

POSITIVE = [
    "质量很好，非常喜欢",
    "太棒了，推荐购买",
    "物流很快，好评",
    "很满意，还会回购",
    "好用，值得",
]
NEGATIVE = ["质量太差了，失望", "垃圾，退货", "很差劲，不推荐", "不好用，后悔买了", "服务态度差"]


def write_tiny_corpora(folder: Path) -> Path:
    """Both corpus files, in their real formats, with 60 short labelled texts each."""
    folder.mkdir(parents=True, exist_ok=True)
    weibo, shopping = [], ["cat,label,review"]
    for index in range(60):
        positive = index % 2 == 0
        phrases = POSITIVE if positive else NEGATIVE
        text = f"{phrases[index % 5]}，第{index}次 [{'哈哈' if positive else '怒'}]"
        weibo.append(f"{4000 + index},{int(positive)},{text}")
        shopping.append(f"书籍,{int(positive)},{phrases[(index + 2) % 5]}，编号{index}")
    (folder / "weibo2018_train.txt").write_text("\n".join(weibo) + "\n", encoding="utf-8")
    (folder / "online_shopping_9_cats.csv").write_text("\n".join(shopping) + "\n", encoding="utf-8")
    return folder


def test_the_shipped_model_loads_and_its_version_is_in_every_enrichment() -> None:
    model = load_model()
    assert model.version.startswith("sentiment-")
    assert model.training_command.startswith("guanxi nlp train")
    assert len(model.weights) > 10_000
    results = default_pipeline().enrich([Document("很好"), Document("")])
    source = load_linear(shipped_path(SOURCE_MODEL_FILE)).version
    stage = load_linear(shipped_path(STAGE_MODEL_FILE)).version
    assert {r.model_version for r in results} == {
        f"{model.version}+{source}+{stage}+{PIPELINE_VERSION}"
    }
    # It fits the stored column (String(80)).
    assert len(results[0].model_version) <= 80


def test_the_shipped_report_sits_beside_the_model() -> None:
    report = json.loads((shipped_model_path().parent / "sentiment-report.json").read_text())
    assert report["model_version"] == load_model().version
    assert set(report["corpora"]) == {"weibo2018", "online_shopping"}


def test_the_shipped_model_is_accurate_on_held_out_texts() -> None:
    """Given 400 held-out labelled texts, the shipped model gets most of them right."""
    rows = [line.split("\t", 2) for line in HELD_OUT_FIXTURE.read_text("utf-8").splitlines()]
    results = default_pipeline().enrich([Document(text) for _, _, text in rows])
    for corpus, minimum in (("weibo2018", 0.78), ("online_shopping", 0.88)):
        pairs = [
            (int(label), result.positive_probability)
            for (name, label, _), result in zip(rows, results, strict=True)
            if name == corpus
        ]
        assert len(pairs) == 200
        accuracy = sum((p >= 0.5) == bool(label) for label, p in pairs) / len(pairs)
        assert accuracy >= minimum, (corpus, accuracy)


def test_the_batch_n_gram_scores_equal_the_scores_of_the_n_grams_as_strings() -> None:
    """The numpy path of enrichment (a batch's n-grams found once through the shared
    vocabulary) gives each text the probability training computes from its words and its
    n-grams as strings: texts of 0 to 3 characters, emoticons and a text past the window
    included."""
    from guanxi.nlp.features import sentiment_features, text_grams, text_window  # noqa: PLC0415
    from guanxi.nlp.training import prepare  # noqa: PLC0415

    texts = ["", "好", "不好", "太好吃了，强烈推荐[哈哈]", "质量太差，再也不买了[怒]" * 30]
    model = load_model()
    expected = [
        model.positive_probability(
            sentiment_features(work.tokens, work.emoticons, model.known_words),
            text_grams(text_window(work.normalized_text)),
        )
        for work in prepare(texts)
    ]
    found = default_pipeline().enrich([Document(text) for text in texts])
    assert [result.positive_probability for result in found] == [round(p, 4) for p in expected]
    assert len(model.grams) > 10_000


def test_sentiment_labels_follow_the_probability() -> None:
    happy, angry, empty = default_pipeline().enrich(
        [
            Document("太好吃了，强烈推荐[哈哈]"),
            Document("质量太差，客服态度恶劣，再也不买了[怒]"),
            Document(""),
        ]
    )
    assert (happy.sentiment, angry.sentiment) == ("positive", "negative")
    assert happy.positive_probability > 0.8 > 0.2 > angry.positive_probability
    # Nothing to go on: neutral, near the model's prior.
    assert empty.sentiment == "neutral"


def test_train_then_evaluate_round_trip(tmp_path: Path) -> None:
    """Given a tiny corpus, training writes a model that evaluation reads and scores."""
    data = write_tiny_corpora(tmp_path / "data")
    result = train(
        data_dir=data,
        output_dir=tmp_path / "model",
        version="sentiment-test.1",
        training_command="guanxi nlp train --data tiny",
    )
    assert result.model_path.is_file()
    assert result.idf_path.is_file()
    assert result.training_texts == sum(not e.held_out for e in read_corpora(data))
    report = evaluate(data_dir=data, model_path=result.model_path, snownlp_sample=3)
    assert report["model_version"] == "sentiment-test.1"
    assert report["training_command"] == "guanxi nlp train --data tiny"
    for corpus in ("weibo2018", "online_shopping"):
        entry = report["corpora"][corpus]
        assert entry["guanxi"]["texts"] == sum(
            e.held_out and e.corpus == corpus for e in read_corpora(data)
        )
        assert entry["guanxi"]["accuracy"] >= 0.8
        assert entry["snownlp"]["texts"] <= 3


def test_train_and_evaluate_commands(tmp_path: Path) -> None:
    data = write_tiny_corpora(tmp_path / "data")
    model_dir = tmp_path / "model"
    trained = run("nlp", "train", "--data", str(data), "--output", str(model_dir))
    assert trained.exit_code == 0, trained.output
    model = str(model_dir / "sentiment-model.json.gz")
    evaluated = run(
        "nlp", "evaluate", "--data", str(data), "--model", model, "--snownlp-sample", "0"
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((model_dir / "sentiment-report.json").read_text())
    assert "snownlp" not in report["corpora"]["weibo2018"]


def test_cross_validation_scores_every_weibo_training_post_once_and_no_held_out_one(
    tmp_path: Path,
) -> None:
    """Given a tiny corpus, each Weibo training post is scored in exactly one fold, by a
    model that did not see it; reviews are only trained on; held-out posts never appear."""
    data = write_tiny_corpora(tmp_path / "data")
    examples = read_corpora(data)
    weibo_training = [e for e in examples if e.corpus == "weibo2018" and not e.held_out]
    results = cross_validate(data_dir=data, folds=3)
    assert len(results) == 3
    assert [r.texts for r in results] == [
        sum(e.fold(3) == fold for e in weibo_training) for fold in range(3)
    ]
    assert sum(r.texts for r in results) == len(weibo_training)
    # The tiny corpus is easy: a model that learned anything beats a coin.
    assert sum(r.accuracy * r.texts for r in results) / len(weibo_training) >= 0.7
    with pytest.raises(UserError, match="2 folds"):
        cross_validate(data_dir=data, folds=1)


def test_transfer_across_corpora_scores_each_corpus_held_out_by_a_model_of_the_other(
    tmp_path: Path,
) -> None:
    """Given both corpora, a model trained on one alone is scored on every held-out text of
    the other, both ways."""
    data = write_tiny_corpora(tmp_path / "data")
    held_out = [example for example in read_corpora(data) if example.held_out]
    results = across_corpora(data_dir=data)
    assert set(results) == {"weibo2018 -> online_shopping", "online_shopping -> weibo2018"}
    for name, result in results.items():
        target = name.split(" -> ")[1]
        assert result.texts == sum(1 for example in held_out if example.corpus == target)
        assert 0.0 <= result.accuracy <= 1.0


def test_crossval_command_prints_the_mean_last(tmp_path: Path) -> None:
    data = write_tiny_corpora(tmp_path / "data")
    result = run("nlp", "crossval", "--data", str(data), "--folds", "2")
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("cv_accuracy_weibo=")
    assert last.endswith("folds=2")
    assert 0.0 <= float(last.split()[0].split("=")[1]) <= 1.0


def test_training_without_the_corpora_says_where_to_point(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--data"):
        train(data_dir=tmp_path, output_dir=tmp_path / "model")
    result = run("nlp", "train", "--data", str(tmp_path), "--output", str(tmp_path / "m"))
    assert result.exit_code == 1
    assert "--data" in result.output


def test_a_model_of_another_format_asks_to_retrain(tmp_path: Path) -> None:
    path = tmp_path / "sentiment-model.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        json.dump({"format_version": FORMAT_VERSION + 1, "version": "x", "weights": {}}, file)
    with pytest.raises(ModelFormatError, match="guanxi nlp train") as caught:
        load_model(path)
    assert f"format version {FORMAT_VERSION + 1}" in str(caught.value)
    with pytest.raises(ModelFormatError, match="guanxi nlp train"):
        load_model(tmp_path / "missing.json.gz")


def test_classify_reads_stdin_and_writes_one_json_object_per_line() -> None:
    lines = ["這個手機太好用了，推薦！", "", "Just bought it, terrible quality 😡", "长" * 20_000]
    result = CliRunner().invoke(app, ["nlp", "classify"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    for record in records:
        assert record["sentiment"] in {"positive", "neutral", "negative"}
        assert 0.0 <= record["positive_probability"] <= 1.0
        assert record["source_kind"] in {"personal", "public", "marketer"}
        assert record["stage"] in {
            "need_recognition",
            "information_search",
            "evaluation",
            "purchase",
            "post_purchase",
            "none",
        }
    assert records[0]["script"] == "traditional"
    assert records[0]["sentiment"] == "positive"
    assert records[1]["language"] == "und"
    assert records[2]["language"] == "en"
    # The model reads Chinese: English is not guessed at.
    assert (records[2]["sentiment"], records[2]["positive_probability"]) == ("neutral", 0.5)


def test_classify_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "texts.txt"
    path.write_text("想买一台洗碗机，求推荐\n", encoding="utf-8")
    result = run("nlp", "classify", str(path))
    assert result.exit_code == 0, result.output
    (first,) = (json.loads(line) for line in result.stdout.splitlines())
    assert first["stage"] in {"need_recognition", "information_search"}
    assert first["stage_cue"] in {"想买", "求推荐"}
    missing = run("nlp", "classify", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 1
