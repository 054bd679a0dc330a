"""Source kind and journey stage as learned models: author metadata in `guanxi nlp classify`,
training and the model file, the reason shown, evaluation with intervals and calibration."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from guanxi.core.errors import UserError
from guanxi.nlp.insight_training import (
    SOURCE_KINDS,
    classification_report,
    evaluate_insight,
    expected_calibration_error,
    read_labelled,
    reliability,
    train_insight,
)
from guanxi.nlp.linear import FORMAT_VERSION, LinearModelError, load_model
from guanxi.nlp.pipeline import Document, Enrichment, Pipeline
from guanxi.nlp.segment import SegmentStep
from guanxi.nlp.service import MAX_LINE_CHARS, classify_lines
from guanxi.nlp.source import SourceKindStep
from guanxi.nlp.stage import JourneyStageStep
from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep
from tests.cli import run

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_SET = FIXTURES / "nlp_labelled_small.jsonl"


class Recorder(Pipeline):
    """A pipeline of the markup step alone that keeps the documents it is given."""

    def __init__(self) -> None:
        super().__init__([MarkupStep()])
        self.documents: list[Document] = []

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        self.documents.extend(documents)
        return super().enrich(documents)


def _classify(lines: list[str]) -> tuple[Recorder, list[tuple[int, str]]]:
    recorder = Recorder()
    bad: list[tuple[int, str]] = []
    list(
        classify_lines(
            lines,
            pipeline=recorder,
            on_bad_line=lambda number, error: bad.append((number, str(error))),
        )
    )
    return recorder, bad


def test_jsonl_lines_carry_the_author_and_bad_lines_are_reported_by_number() -> None:
    """Given JSON Lines with author profiles and three bad lines, when classified, then each
    good line's document carries its profile and each bad line is named, the rest kept."""
    lines = [
        json.dumps(
            {
                "text": "据记者报道",
                "verified_type": 3,
                "verified_reason": "某某日报官方微博",
                "author_name": "某某日报",
                "description": "新闻资讯",
                "followers": "120000",
            },
            ensure_ascii=False,
        ),
        "not json at all",
        json.dumps({"text": "好用", "followers": -5}),
        json.dumps({"text": "x" * (MAX_LINE_CHARS + 1)}),
        "",
        json.dumps({"text": "收到了"}),
    ]
    recorder, bad = _classify(lines)
    first, last = recorder.documents
    assert (first.verified_type, first.verified_reason, first.author_name) == (
        3,
        "某某日报官方微博",
        "某某日报",
    )
    assert (first.author_description, first.followers) == ("新闻资讯", 120000)
    assert (last.text, last.verified_type, last.followers) == ("收到了", None, None)
    assert [number for number, _ in bad] == [2, 3, 4]
    assert "JSON object" in bad[0][1]
    assert "negative" in bad[1][1]
    assert "longer than" in bad[2][1]


def test_plain_lines_stay_plain_even_when_one_starts_with_a_brace() -> None:
    recorder, bad = _classify(["{%北京%} 今天好冷", '{"text": "看起来像 JSON"}'])
    assert bad == []
    assert [d.text for d in recorder.documents] == [
        "{%北京%} 今天好冷",
        '{"text": "看起来像 JSON"}',
    ]


def test_classify_command_reports_bad_lines_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"text": "想买一台洗碗机", "verified_type": -1}\n{"text": 5}\n{"text": "收到了"}\n',
        encoding="utf-8",
    )
    result = run("nlp", "classify", str(path))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["text"] for record in records] == ["想买一台洗碗机", "收到了"]
    assert "line 2" in result.stderr


@pytest.fixture(scope="module")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Source-kind and stage models trained on the small labelled fixture."""
    folder = tmp_path_factory.mktemp("insight-models")
    result = train_insight(
        train_path=SMALL_SET, output_dir=folder, version="test", training_command="pytest"
    )
    return result.source_path, result.stage_path


def _pipeline(source: Path, stage: Path) -> Pipeline:
    return Pipeline(
        [
            MarkupStep(),
            LanguageStep(),
            NormalizeStep(),
            SegmentStep(),
            SourceKindStep(model_path=source),
            JourneyStageStep(model_path=stage),
        ]
    )


def test_trained_models_name_their_version_and_reason_with_their_strongest_features(
    small_models: tuple[Path, Path],
) -> None:
    source, stage = small_models
    pipeline = _pipeline(source, stage)
    assert pipeline.model_version == "source-test+stage-test+pipeline-1"
    news, own = pipeline.enrich(
        [
            Document("据记者报道，消费者反映售后推诿", verified_type=3),
            Document("新品上架，限时特价", author_kind_hint="own"),
        ]
    )
    assert news.source_kind == "public"
    assert "sure, from" in news.source_reason
    assert "in the text" in news.source_reason or "verified_type 3" in news.source_reason
    # The workspace's own account is a marketer whatever the text says.
    assert (own.source_kind, own.source_reason) == (
        "marketer",
        "the workspace's own official account",
    )


def test_the_stage_cue_highlighted_is_one_of_the_predicted_stage(
    small_models: tuple[Path, Path],
) -> None:
    source, stage = small_models
    (result,) = _pipeline(source, stage).enrich([Document("想买一台洗碗机，每天洗碗太累了")])
    assert result.stage == "need_recognition"
    assert result.stage_cue == "想买"


def test_evaluation_scores_the_previous_models_and_the_rules_in_the_same_run(
    small_models: tuple[Path, Path],
) -> None:
    """Given a folder with the previous version's models, the evaluation scores the models,
    that previous version and the rules on the same posts, and names the previous version."""
    source, stage = small_models
    report = evaluate_insight(
        dev_path=SMALL_SET,
        source_path=source,
        stage_path=stage,
        previous_dir=source.parent,
        snownlp=False,
    )
    assert report["previous_version"] == "source-test+stage-test"
    for label in ("source_kind_text_only", "source_kind_with_author", "stage"):
        scored = [key.split("/")[1] for key in report["results"] if key.startswith(f"{label}/")]
        assert scored == ["model", "previous", "rules"]
    # The same models twice: the previous version scores exactly as the model does.
    assert report["results"]["stage/previous"] == report["results"]["stage/model"]
    assert report["posts"] == report["results"]["stage/rules"]["posts"] == 24


def test_a_model_file_of_another_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "source-model.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        json.dump({"format_version": FORMAT_VERSION + 1}, file)
    with pytest.raises(LinearModelError, match="train-insight"):
        load_model(path)
    broken = tmp_path / "broken.json.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as file:
        json.dump({"format_version": FORMAT_VERSION, "classes": ["a", "b"]}, file)
    with pytest.raises(LinearModelError, match="incomplete"):
        load_model(broken)


def test_a_labelled_file_with_a_label_outside_the_rubric_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    good = SMALL_SET.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(
        good + "\n" + '{"text": "x", "source_kind": "blogger", "stage": "none", '
        '"sentiment": "neutral"}\n',
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="line 2"):
        read_labelled(path)


def test_classification_report_counts_and_brackets_the_figures() -> None:
    """Given 10 posts with 8 right, accuracy is 0.8 inside its bootstrap interval, and the
    confusion matrix and per-class scores count the posts."""
    truth = ["personal"] * 5 + ["public"] * 3 + ["marketer"] * 2
    guess = ["personal"] * 4 + ["public"] + ["public"] * 3 + ["marketer", "personal"]
    report = classification_report(truth, guess, SOURCE_KINDS, samples=200)
    assert report["accuracy"] == 0.8
    low, high = report["accuracy_95"]
    assert low < 0.8 < high
    assert report["confusion"] == [[4, 1, 0], [0, 3, 0], [1, 0, 1]]
    assert report["per_class"]["public"] == {
        "precision": 0.75,
        "recall": 1.0,
        "f1": 0.8571,
        "support": 3,
    }
    assert report["macro_f1"] == round((0.8 + 0.8571 + 0.6667) / 3, 4)


def test_reliability_bins_predicted_against_observed() -> None:
    bins = reliability([0.95, 0.92, 0.55, 0.51], [True, False, True, True], bins=10)
    assert [(b["from"], b["posts"], b["observed"]) for b in bins] == [(0.5, 2, 1.0), (0.9, 2, 0.5)]
    assert expected_calibration_error(bins) == pytest.approx((2 * 0.47 + 2 * 0.435) / 4, abs=1e-3)


def test_the_models_load_on_first_use_not_on_import() -> None:
    code = (
        "import sys, guanxi.nlp.source, guanxi.nlp.stage, guanxi.nlp.linear;"
        "print(','.join(m for m in ('numpy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


# Wrong with source-2026.12.2 to 2026.12.4: 614 marketer posts in the training set hold
# few sellers' fragments like these (docs/nlp.md). strict: a model that gets them right
# turns the mark into a failure, to be removed.
KNOWN_GAP = "the shipped model misses it (docs/nlp.md, known gaps)"

# The hard cases of issue #17 with the texts it quotes, decided by the rubric (docs/nlp.md).
HARD_SOURCE_CASES = [
    # A news post is public from its text alone.
    ({"text": "【#男子4600买电视没用10次坏了#】据@时间视频…向记者反映…"}, "public"),
    # The content decides, not only the author: a media account's advertorial, a fund's ad.
    pytest.param(
        {"text": "…震撼来袭！…为消费者带来极致视觉体验", "verified_type": 3},
        "marketer",
        marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAP),
    ),
    pytest.param(
        {"text": "…ETF←点击可购买", "verified_type": 3},
        "marketer",
        marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAP),
    ),
    # A shop listing, a seller posing as a user, a clinic's call to action.
    pytest.param(
        {"text": "上架了…价格148元…72小时左右发货"},
        "marketer",
        marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAP),
    ),
    pytest.param(
        {"text": "…需要的姐妹…vx扫一扫"},
        "marketer",
        marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAP),
    ),
    pytest.param(
        {"text": "…1:1面诊…详情请咨询官方微信"},
        "marketer",
        marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAP),
    ),
    # Promotion vocabulary alone, the previous rules' "two weak cues": right since
    # source-2026.12.9 (the shops' offers among chunk 083's posts).
    ({"text": "新品上市，限时秒杀，领券包邮"}, "marketer"),
    # A verified individual about their own purchase speaks for themselves.
    (
        {"text": "上周买的扫地机器人终于到了，用了两天，比想象中好用", "verified_type": 0},
        "personal",
    ),
    # 广告 in a complaint about ads.
    ({"text": "现在的视频广告也太多了吧，看个剧要先看一分钟广告"}, "personal"),
]
HARD_STAGE_CASES = [
    # 比较 as "relatively" (wrong with stage-2026.12.3, right again from 2026.12.4: the
    # Zhidao questions of the thirteenth batch ask "which hospital is good" this way).
    ("哪个医院治的比较好", "information_search"),
    ("买了十个…真材实料…感谢推荐", "post_purchase"),  # 买了 in a review
    ("设施太旧了，服务也不行", "post_purchase"),  # a review without purchase words
]


@pytest.fixture(scope="module")
def shipped() -> Pipeline:
    from guanxi.nlp.pipeline import default_pipeline  # noqa: PLC0415 - loads the models

    return default_pipeline()


@pytest.mark.parametrize(("fields", "kind"), HARD_SOURCE_CASES)
def test_hard_source_kind_cases(shipped: Pipeline, fields: dict[str, object], kind: str) -> None:
    from guanxi.nlp.service import document_of  # noqa: PLC0415 - beside its use

    (result,) = shipped.enrich([document_of(fields)])
    assert result.source_kind == kind, result.source_reason


@pytest.mark.parametrize(("text", "stage"), HARD_STAGE_CASES)
def test_hard_stage_cases(shipped: Pipeline, text: str, stage: str) -> None:
    (result,) = shipped.enrich([Document(text)])
    assert result.stage == stage


@pytest.mark.parametrize(
    "case",
    [
        "source_kind_with_author",
        "source_kind_text_only",
        "stage",
    ],
)
def test_the_shipped_models_are_calibrated_on_the_development_set(case: str) -> None:
    """Binned by the predicted class's probability, the share right in each bin is close to
    the probability: the expected calibration error on the dev set stays under 0.1."""
    from guanxi.nlp.insight_training import labelled_dir, prepare, without_author  # noqa: PLC0415
    from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE  # noqa: PLC0415
    from guanxi.nlp.model_files import shipped_path  # noqa: PLC0415
    from guanxi.nlp.source import source_features  # noqa: PLC0415
    from guanxi.nlp.stage import stage_features  # noqa: PLC0415

    posts = read_labelled(labelled_dir() / "dev.jsonl")
    if case == "source_kind_with_author":
        works = prepare([post.document for post in posts])
    else:
        works = prepare([without_author(post.document) for post in posts])
    if case == "stage":
        model = load_model(shipped_path(STAGE_MODEL_FILE))
        features, truth = [stage_features(w) for w in works], [p.stage for p in posts]
    else:
        model = load_model(shipped_path(SOURCE_MODEL_FILE))
        features, truth = [source_features(w) for w in works], [p.source_kind for p in posts]
    probabilities = model.scorer.probabilities(features)
    best = probabilities.argmax(axis=1)
    bins = reliability(
        [float(probabilities[i, k]) for i, k in enumerate(best)],
        [model.classes[int(k)] == t for k, t in zip(best, truth, strict=True)],
    )
    assert expected_calibration_error(bins) < 0.1, bins


@pytest.mark.parametrize("task", ["source_kind", "stage"])
def test_batch_scoring_equals_scoring_the_features_as_strings(task: str) -> None:
    """The numpy path of enrichment (n-gram codes found per batch, shared by both models)
    gives the probabilities of the readable features training sees, texts of 0 to 3
    characters, emoticons, links, an author and a text past the window included."""
    from guanxi.nlp.grams import batch_grams  # noqa: PLC0415
    from guanxi.nlp.insight_training import prepare  # noqa: PLC0415
    from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE  # noqa: PLC0415
    from guanxi.nlp.model_files import shipped_path  # noqa: PLC0415
    from guanxi.nlp.source import source_features, source_named_features  # noqa: PLC0415
    from guanxi.nlp.stage import stage_features, stage_named_features  # noqa: PLC0415

    documents = [
        Document(""),
        Document("好"),
        Document("买了"),
        Document("想买一台扫地机器人，有推荐吗？[思考] @小明 http://t.cn/abc #家电#"),
        Document("新品上市，限时秒杀，领券包邮" * 20, verified_type=2, followers=12345),
        Document("【#男子买电视坏了#】据@时间视频 报道，价格148元，电话13912345678"),
    ]
    works = prepare(documents)
    if task == "stage":
        scorer = load_model(shipped_path(STAGE_MODEL_FILE)).scorer
        named, strings = stage_named_features, stage_features
    else:
        scorer = load_model(shipped_path(SOURCE_MODEL_FILE)).scorer
        named, strings = source_named_features, source_features
    expected = scorer.probabilities([strings(work) for work in works])
    found = scorer.score_batch(
        batch_grams(works), scorer.named_rows([named(work) for work in works])
    )
    assert found.shape == expected.shape
    assert abs(found - expected).max() < 1e-9


def test_the_pipeline_predicts_as_the_readable_features_on_the_development_set() -> None:
    """Given the shipped models, when the default pipeline enriches the development set
    (966 posts, batched, n-grams shared through one vocabulary by every model), then each
    post's source kind and stage are those the features as strings give: the batch path
    changes speed, never a prediction."""
    from guanxi.nlp.insight_training import labelled_dir, prepare  # noqa: PLC0415
    from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE  # noqa: PLC0415
    from guanxi.nlp.model_files import shipped_path  # noqa: PLC0415
    from guanxi.nlp.pipeline import default_pipeline  # noqa: PLC0415
    from guanxi.nlp.source import source_features  # noqa: PLC0415
    from guanxi.nlp.stage import stage_features  # noqa: PLC0415

    documents = [post.document for post in read_labelled(labelled_dir() / "dev.jsonl")]
    enriched = default_pipeline().enrich(documents)
    works = prepare(documents)
    for task, features, field in (
        (SOURCE_MODEL_FILE, source_features, "source_kind"),
        (STAGE_MODEL_FILE, stage_features, "stage"),
    ):
        model = load_model(shipped_path(task))
        expected = model.scorer.probabilities([features(work) for work in works]).argmax(axis=1)
        found = [getattr(result, field) for result in enriched]
        assert found == [model.classes[int(k)] for k in expected], field


def _two_corpora(tmp_path: Path) -> Path:
    """The small labelled set twice over, once from each of two source repositories."""
    lines = SMALL_SET.read_text(encoding="utf-8").splitlines()
    rows = []
    for corpus in ("forum/a", "weibo/b"):
        for line in lines:
            row = json.loads(line)
            row["text"] = f"{row['text']} ({corpus})"
            row["source"] = {"repository": corpus}
            rows.append(json.dumps(row, ensure_ascii=False))
    path = tmp_path / "two-corpora.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_stage_crossval_scores_every_post_out_of_fold_and_can_hold_out_each_corpus(
    tmp_path: Path,
) -> None:
    """Given labelled posts from two corpora, when the stage model is cross-validated,
    then every post is scored once by a model that did not train on it (by MD5 folds, or
    with across_corpora by a model that never saw its corpus)."""
    from guanxi.nlp.insight_training import cross_validate_stage  # noqa: PLC0415 - the trainer

    path = _two_corpora(tmp_path)
    by_text = cross_validate_stage(train_path=path, folds=3)
    assert sum(fold.posts for fold in by_text.folds) == 48
    assert [fold.name for fold in by_text.folds] == ["0", "1", "2"]
    assert 0.0 <= by_text.macro_f1 <= 1.0
    by_corpus = cross_validate_stage(train_path=path, across_corpora=True)
    assert [(fold.name, fold.posts) for fold in by_corpus.folds] == [
        ("forum/a", 24),
        ("weibo/b", 24),
    ]
    # The two corpora hold the same texts with a tag: a model trained on one reads the other.
    assert by_corpus.macro_f1 > 0.5
    with pytest.raises(UserError, match="at least two"):
        cross_validate_stage(train_path=SMALL_SET, across_corpora=True)


def test_crossval_command_cross_validates_the_stage_model_on_labelled_posts(
    tmp_path: Path,
) -> None:
    result = run("nlp", "crossval", "--labelled", str(_two_corpora(tmp_path)), "--across-corpora")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("across_corpora_stage_macro_f1=")
    assert "weibo/b" in result.stdout


def test_train_insight_can_retrain_the_stage_model_alone(
    tmp_path: Path, small_models: tuple[Path, Path]
) -> None:
    """Given a folder with both models, when only the stage model is retrained, then the
    stage file is the new version and the source-kind file is left byte for byte."""
    source, stage = small_models
    folder = tmp_path / "models"
    folder.mkdir()
    for path in (source, stage):
        (folder / path.name).write_bytes(path.read_bytes())
    before = (folder / source.name).read_bytes()
    result = run(
        "nlp", "train-insight", "--labelled", str(SMALL_SET), "--output", str(folder),
        "--version", "next", "--only", "stage",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "stage-next" in result.stdout
    assert "source-next" not in result.stdout
    assert (folder / source.name).read_bytes() == before
    assert load_model(folder / stage.name).version == "stage-next"
    wrong = run("nlp", "train-insight", "--labelled", str(SMALL_SET), "--only", "sentiment")
    assert wrong.exit_code != 0
    assert "source_kind, stage or both" in wrong.output


def test_a_post_enriched_in_a_batch_gets_what_it_gets_alone() -> None:
    """Given the shipped models, when posts (with and without their authors, in Traditional
    script, with markup, in English, empty) are enriched in one batch and then one by one,
    then every field of every result is the same: the batch path (n-grams, features and
    reasons found for the whole batch at once) changes speed, never a result."""
    from guanxi.nlp.insight_training import labelled_dir  # noqa: PLC0415
    from guanxi.nlp.pipeline import default_pipeline  # noqa: PLC0415

    dev = [post.document for post in read_labelled(labelled_dir() / "dev.jsonl")]
    documents = [
        *dev[::8],
        Document("繁體中文的評論，很好吃[哈哈] @某人 http://item.taobao.com/x #話題#"),
        Document("官方旗舰店 领券 包邮 ¥99 13812345678", verified_type=2, followers=12345),
        Document("hello world, great product"),
        Document("😂😂"),
        Document(""),
    ]
    pipeline = default_pipeline()
    together = pipeline.enrich(documents)
    alone = [pipeline.enrich([document])[0] for document in documents]
    assert together == alone
