"""``guanxi bench enrich``: the enrichment pipeline against the naive baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from guanxi.core import i18n
from guanxi.core.console import console, fail
from guanxi.core.errors import UserError
from guanxi.nlp.cli import DEFAULT_DATA, progress_bar
from guanxi.nlp.pipeline import default_pipeline


def bench_enrich(
    posts: Annotated[
        int, typer.Option(min=1, help="Posts to enrich (real texts, repeated).")
    ] = 100_000,
    data: Annotated[Path, typer.Option(help="The shared data folder.")] = DEFAULT_DATA,
    baseline_sample: Annotated[
        int, typer.Option(min=1, help="Posts the jieba + SnowNLP baseline processes.")
    ] = 500,
) -> None:
    """Benchmark the whole enrichment pipeline against the naive baseline.

    Enriches POSTS real posts in one process, then runs jieba.lcut + SnowNLP on a sample;
    the last line is for scripts."""
    from guanxi.devtools.bench.common import peak_rss_mb  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.nlp import (  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        EnrichBench,
        post_texts,
        run_baseline,
        run_pipeline,
    )

    try:
        texts = post_texts(data)
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from None
    console.print(f"bench enrich: {posts} posts from {len(texts)} real texts, one process")
    with progress_bar() as bar:
        task = bar.add_task("guanxi pipeline", total=posts)
        seconds, cpu_seconds = run_pipeline(
            texts, posts, default_pipeline(), lambda n: bar.advance(task, n)
        )
        peak = peak_rss_mb()  # before the baseline loads jieba and SnowNLP
        task = bar.add_task("baseline jieba + SnowNLP", total=baseline_sample)
        try:
            baseline_seconds = run_baseline(texts, baseline_sample, lambda n: bar.advance(task, n))
        except ImportError:
            raise fail("The baseline needs jieba and SnowNLP: pip install 'guanxi[dev]'.") from None
    result = EnrichBench(posts, seconds, cpu_seconds, baseline_sample, baseline_seconds, peak)
    table = Table("figure", "value", title="enrichment benchmark")
    table.add_row("guanxi posts/s", f"{result.posts_per_s:,.0f}")
    table.add_row("guanxi posts per CPU second", f"{result.posts_per_cpu_s:,.0f}")
    table.add_row("baseline posts/s", f"{result.baseline_posts_per_s:,.1f}")
    table.add_row("peak RSS (MB)", f"{result.peak_rss_mb:,.0f}")
    console.print(table)
    console.print(
        f"guanxi_posts_per_s={result.posts_per_s:.0f} "
        f"baseline_posts_per_s={result.baseline_posts_per_s:.1f} "
        f"peak_rss_mb={result.peak_rss_mb:.0f}"
    )


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``enrich`` to ``guanxi bench``."""
    bench_app.command("enrich")(bench_enrich)
