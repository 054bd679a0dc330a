"""The enrichment pipeline's fast paths give what the readable per-text functions training
uses give: the speed-ups change speed, never an output."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from guanxi.nlp.features import (
    PHONE_RE,
    PRICE_RE,
    named_text_features,
    sentiment_features,
    text_grams,
    text_window,
    texts_matching,
)
from guanxi.nlp.insight_training import labelled_dir, prepare, read_labelled
from guanxi.nlp.pipeline import Document, Work, default_pipeline
from guanxi.nlp.sentiment import UNSCORED_LANGUAGES, load_model

# Texts that reach the corners of the fast paths: negators (also ones the model may not know
# as words, and ones an unknown word's bigrams make), unknown long words, emoticons, English,
# Traditional script, prices and long numbers at either end of a window, a NUL inside a text,
# markup, empty and one-character texts, a text past the window.
EDGE_TEXTS = (
    "",
    "好",
    "不",
    "不好",
    "买了",
    "不是不好吃，是一点都不好吃，从来不会再买",
    "并不好看但是并不难用，毫无亮点，不够好",
    "超级无敌好吃的店[哈哈][哈哈][心]，不推荐才怪",
    "This is not good at all, never buy it again. Don't!",
    "這個產品真的很好用，已經回購了三次",
    "😀😀😀",
    "价格148元，电话13912345678",
    "¥99包邮",
    "13912345678",
    "只要9.9 元",
    "一\x00二三四五六七八九零1234\x005678901",
    "【#男子买电视坏了#】据@时间视频 报道 http://t.cn/abc",
    "新品上市，限时秒杀，领券包邮，官方旗舰店" * 20 + "价格1元",
    "想买一台扫地机器人，有推荐吗？[思考] @小明 #家电#",
    "没有没有没有 不 不 不",
    "不会吧不会吧，客服说不能退",
)


def _documents() -> list[Document]:
    """The edge cases and 400 labelled training posts (short and long, every kind, some
    with their author's profile)."""
    posts = read_labelled(labelled_dir() / "train.jsonl")
    return [*map(Document, EDGE_TEXTS), *(post.document for post in posts[:400])]


def test_the_word_scorer_equals_the_readable_word_features() -> None:
    """Given texts with negators, unknown words and emoticons, the word model's score from
    one look-up per distinct token equals the bias plus the weights of the features
    ``sentiment_features`` lists (the sums differ only in the order of the additions)."""
    model = load_model()
    scorer = model.word_scorer
    works = prepare(_documents())
    for work in works:
        expected = model.word_score(
            sentiment_features(work.tokens, work.emoticons, model.known_words)
        )
        assert abs(scorer.score(work.tokens, work.emoticons) - expected) < 1e-9, work.tokens


def test_the_word_scorer_backs_off_and_negates_as_the_features_do() -> None:
    """Given tokens the model cannot know, a negator the model may not know as a word and
    one that only an unknown word's bigrams make, the scores still agree."""
    model = load_model()
    scorer = model.word_scorer
    cases: list[tuple[list[str], list[str]]] = [
        (["从来不", "好"], []),
        # 一点都不 is no known word: it backs off, and only 并不 (a bigram of an unknown
        # word) makes the text one with a negator, so that 好 after it is negated.
        (["一点都不", "好", "并不好吃吗"], []),
        (["一点都不", "好"], []),
        (["并不好吃吗", "好", "不", "差"], ["哈哈"]),
        (["不", "不", "不"], []),
        (["xyzzyqq", "不", "xyzzyqq"], ["怒", "怒"]),
        ([], ["哈哈"]),
        ([], []),
    ]
    for tokens, emoticons in cases:
        expected = model.word_score(sentiment_features(tokens, emoticons, model.known_words))
        assert abs(scorer.score(tokens, emoticons) - expected) < 1e-9, tokens


@pytest.mark.parametrize("pattern", [PRICE_RE, PHONE_RE, re.compile("a+b?")])
def test_one_scan_of_a_batch_finds_the_texts_each_search_finds(pattern: re.Pattern[str]) -> None:
    """Given windows joined for one scan, each window is found to match exactly when a
    search of it alone matches (none across two windows, whatever lies at their ends)."""
    windows = [
        "",
        "12345",
        "67元",
        "a",
        "b",
        "价格99",
        "元",
        "1234567",
        "¥",
        "9",
        "x\x00123456789",
        "aab",
        "电话123456",
        "7",
    ]
    expected = [pattern.search(window) is not None for window in windows]
    assert texts_matching(pattern, windows) == expected
    assert texts_matching(pattern, []) == []


def _reference(works: Sequence[Work]) -> list[dict[str, object]]:
    """Sentiment, source kind, stage and the named features of each work, computed text by
    text with the readable functions training uses."""
    from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE  # noqa: PLC0415 - as the pipeline loads them
    from guanxi.nlp.linear import load_model as load_linear  # noqa: PLC0415 - idem
    from guanxi.nlp.model_files import shipped_path  # noqa: PLC0415 - idem
    from guanxi.nlp.source import source_features  # noqa: PLC0415 - idem
    from guanxi.nlp.stage import stage_features  # noqa: PLC0415 - idem

    model = load_model()
    source = load_linear(shipped_path(SOURCE_MODEL_FILE))
    stage = load_linear(shipped_path(STAGE_MODEL_FILE))
    source_best = source.scorer.probabilities([source_features(w) for w in works]).argmax(axis=1)
    stage_best = stage.scorer.probabilities([stage_features(w) for w in works]).argmax(axis=1)
    rows = []
    for work, source_class, stage_class in zip(works, source_best, stage_best, strict=True):
        probability, sentiment = 0.5, "neutral"  # a language the model does not read
        if work.language not in UNSCORED_LANGUAGES:
            probability = model.positive_probability(
                sentiment_features(work.tokens, work.emoticons, model.known_words),
                text_grams(text_window(work.normalized_text)),
            )
            sentiment = model.label(probability)
        window = text_window(work.normalized_text)
        rows.append(
            {
                "positive_probability": round(probability, 4),
                "sentiment": sentiment,
                "source_kind": source.classes[int(source_class)],
                "stage": stage.classes[int(stage_class)],
                "named": named_text_features(
                    window,
                    work.emoticons,
                    mentions=len(work.mentions),
                    urls=len(work.urls),
                    hashtags=len(work.hashtags),
                ),
            }
        )
    return rows


def test_the_pipeline_enriches_as_the_readable_path() -> None:
    """Given a few hundred varied texts, when the default pipeline enriches them in batches,
    then each one's sentiment, P(positive), source kind, stage and named features are those
    the readable per-text functions give."""
    documents = _documents()
    pipeline = default_pipeline()
    pipeline.batch_size = 64  # several batches, the last one short
    works = [Work(document) for document in documents]
    for start in range(0, len(works), pipeline.batch_size):
        batch = works[start : start + pipeline.batch_size]
        for step in pipeline.steps:
            step.run(batch)
    expected = _reference(prepare(documents))
    for work, wanted in zip(works, expected, strict=True):
        assert work.positive_probability == wanted["positive_probability"], work.document.text
        assert work.sentiment == wanted["sentiment"], work.document.text
        assert work.source_kind == wanted["source_kind"], work.document.text
        assert work.stage == wanted["stage"], work.document.text
        assert work.named_features == wanted["named"], work.document.text
