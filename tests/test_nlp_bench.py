"""`guanxi bench enrich`: its last line for scripts, and a clear error without the data."""

from __future__ import annotations

import re
from pathlib import Path

from guanxi.nlp.pipeline import Document, default_pipeline
from tests.cli import run, said


def test_the_pipeline_enriches_a_batch_with_the_documents_authors() -> None:
    """Given documents with their authors' verification, every field is filled."""
    documents = [
        Document("收到了，质量很好，好评！[赞]", platform="weibo", verified_type=-1),
        Document("新品上市，限时秒杀，领券包邮", platform="weibo", verified_type=-1),
        Document("【快讯】某品牌发布新款手机", platform="weibo", verified_type=3),
    ]
    pipeline = default_pipeline(user_dictionary=["某品牌"])
    pipeline.batch_size = 2  # two batches
    review, ad, news = pipeline.enrich(documents)
    assert (review.sentiment, review.source_kind, review.stage) == (
        "positive",
        "personal",
        "post_purchase",
    )
    assert review.emoticons == ["赞"]
    # What the source-kind model makes of the ad is a known gap (tests/test_nlp_insight.py).
    assert ad.source_kind in {"personal", "public", "marketer"}
    assert ad.source_reason
    assert news.source_kind == "public"
    assert "某品牌" in news.tokens
    assert news.keywords


def test_bench_enrich_prints_its_figures_last(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sentiment").mkdir(parents=True)
    (data / "weibo_topics").mkdir()
    (data / "sentiment" / "weibo2018_train.txt").write_text(
        "1,1,今天很开心[哈哈]\n2,0,太失望了\n", encoding="utf-8"
    )
    (data / "sentiment" / "online_shopping_9_cats.csv").write_text(
        "cat,label,review\n书籍,1,好书\n", encoding="utf-8"
    )
    (data / "weibo_topics" / "graduation.txt").write_text("3,1,毕业快乐\n", encoding="utf-8")
    result = run("bench", "enrich", "--posts", "300", "--data", str(data), "--baseline-sample", "3")
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"guanxi_posts_per_s=\d+ baseline_posts_per_s=[\d.]+ peak_rss_mb=\d+", last
    ), last


def test_bench_enrich_without_the_data_says_how_to_point_at_it(tmp_path: Path) -> None:
    result = run("bench", "enrich", "--posts", "10", "--data", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "--data PATH" in said(result)
