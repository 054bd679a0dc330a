"""``guanxi bench enrich``: the whole pipeline on real posts, against the first thing a
developer would write (``jieba.lcut`` plus ``SnowNLP(text).sentiments``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from guanxi.core.errors import N_, UserError
from guanxi.nlp.pipeline import Document, Pipeline
from guanxi.nlp.training import read_shopping, read_weibo

Advance = Callable[[int], None]  # posts done since the last call


@dataclass(frozen=True)
class EnrichBench:
    """Throughput of the pipeline and of the baseline, and the pipeline's peak memory."""

    posts: int
    seconds: float
    cpu_seconds: float  # this process's CPU time for the same run: the figure load cannot hide
    baseline_posts: int
    baseline_seconds: float
    peak_rss_mb: float

    @property
    def posts_per_s(self) -> float:
        """Posts enriched per second by guanxi."""
        return self.posts / self.seconds if self.seconds else 0.0

    @property
    def posts_per_cpu_s(self) -> float:
        """Posts enriched per second of CPU time (what one idle core would do)."""
        return self.posts / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def baseline_posts_per_s(self) -> float:
        """Posts per second of the baseline."""
        return self.baseline_posts / self.baseline_seconds if self.baseline_seconds else 0.0


def post_texts(data_dir: Path) -> list[str]:
    """The real post texts under ``data_dir`` (the shared data folder): the Weibo posts, the
    topic files and the shopping reviews."""
    sentiment = data_dir / "sentiment"
    if not sentiment.is_dir():
        raise UserError(
            N_(
                "No post texts in {path}: the benchmark reads the shared data folder (with its "
                "sentiment/ and weibo_topics/ folders). Pass it with --data PATH."
            ),
            path=str(data_dir),
        )
    texts = [example.text for example in read_weibo(sentiment / "weibo2018_train.txt")]
    for topic_file in sorted((data_dir / "weibo_topics").glob("*.txt")):
        texts.extend(example.text for example in read_weibo(topic_file))
    texts.extend(
        example.text for example in read_shopping(sentiment / "online_shopping_9_cats.csv")
    )
    return texts


def run_pipeline(
    texts: list[str], posts: int, pipeline: Pipeline, progress: Advance
) -> tuple[float, float]:
    """Enrich ``posts`` posts (``texts`` repeated) in batches; the wall-clock and CPU seconds
    it took."""
    pipeline.model_version  # noqa: B018 - load the models before the clock starts
    started = time.perf_counter()
    cpu_started = time.process_time()
    done = 0
    chunk = pipeline.batch_size * 10
    while done < posts:
        size = min(chunk, posts - done)
        documents = [
            Document(text=texts[(done + i) % len(texts)], platform="weibo") for i in range(size)
        ]
        pipeline.enrich(documents)
        done += size
        progress(size)
    return time.perf_counter() - started, time.process_time() - cpu_started


def run_baseline(texts: list[str], sample: int, progress: Advance) -> float:
    """``jieba.lcut`` plus ``SnowNLP(text).sentiments`` on ``sample`` posts; the seconds."""
    import jieba  # noqa: PLC0415 - heavy: jieba, ~90 ms, for the baseline only
    from snownlp import SnowNLP  # noqa: PLC0415 - heavy: SnowNLP loads its models at import, 2-4 s, for the baseline only

    jieba.setLogLevel(60)  # its "building prefix dict" chatter is not the benchmark's output
    jieba.initialize()
    started = time.perf_counter()
    for index in range(sample):
        text = texts[index % len(texts)]
        jieba.lcut(text)
        SnowNLP(text).sentiments  # noqa: B018 - computing it is the point
        progress(1)
    return time.perf_counter() - started
