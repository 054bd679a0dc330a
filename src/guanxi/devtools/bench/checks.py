"""Measure sensitive-word matching: a word list of N terms over a folder of real posts.

Used by ``scripts/bench_checks.py``; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

from guanxi.channels.models import ChannelAudience
from guanxi.checks.service import run_checks
from guanxi.checks.words import CompiledWordList, WordEntry, WordSeverity, default_entries
from guanxi.connectors.base import HashtagStyle

# Common characters, so that generated terms really occur in Chinese posts now and then.
COMMON_HAN = (
    "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过"
    "家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本"
    "见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己"
)


@dataclass(frozen=True)
class WordBenchResult:
    """What one benchmark run measured."""

    terms: int
    texts: int
    characters: int
    rounds: int
    build_s: float
    match_s: float
    hits: int
    pipeline_s: float

    def lines(self) -> list[str]:
        """The figures, one per line; the last line is machine-readable."""
        match_per_text_us = self.match_s / (self.texts * self.rounds) * 1e6
        pipeline_per_text_us = self.pipeline_s / (self.texts * self.rounds) * 1e6
        chars_per_s = self.characters * self.rounds / self.match_s if self.match_s else 0.0
        return [
            f"terms: {self.terms}",
            f"texts: {self.texts} ({self.characters} characters), {self.rounds} rounds",
            f"automaton build: {self.build_s:.3f} s",
            f"matching: {match_per_text_us:.1f} µs per text, {chars_per_s / 1e6:.2f} M chars/s",
            f"full run_checks (all five checks): {pipeline_per_text_us:.1f} µs per text",
            f"hits per round: {self.hits}",
            (
                f"terms={self.terms} build_s={self.build_s:.3f} "
                f"match_us_per_text={match_per_text_us:.1f} "
                f"pipeline_us_per_text={pipeline_per_text_us:.1f}"
            ),
        ]


def generated_entries(count: int, *, seed: int = 20260526) -> list[WordEntry]:
    """``count`` distinct terms: the default list, then 2 to 4 common characters each."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    entries = list(default_entries())[:count]
    seen = {entry.term for entry in entries}
    while len(entries) < count:
        term = "".join(rng.choice(COMMON_HAN) for _ in range(rng.randint(2, 4)))
        if term in seen:
            continue
        seen.add(term)
        severity = WordSeverity.BLOCK if rng.random() < 0.2 else WordSeverity.WARN
        entries.append(WordEntry(term=term, category="generated", severity=severity))
    return entries


def read_posts(folder: Path) -> list[str]:
    """The texts of every post in ``folder``'s ``*.txt`` files (``id,flag,text`` lines)."""
    texts = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split(",", 2)
            if len(parts) == 3 and parts[2].strip():
                texts.append(parts[2])
    return texts


def bench_words(*, texts: list[str], terms: int, rounds: int) -> WordBenchResult:
    """Build an automaton of ``terms`` terms and match every text ``rounds`` times."""
    entries = generated_entries(terms)
    started = time.perf_counter()
    compiled = CompiledWordList(entries)
    build_s = time.perf_counter() - started
    hits = 0
    started = time.perf_counter()
    for _ in range(rounds):
        hits = sum(len(compiled.hits(text)) for text in texts)
    match_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            run_checks(
                text=text,
                audience=ChannelAudience.MAINLAND,
                hashtag_style=HashtagStyle.DOUBLE_HASH,
                words=compiled,
            )
    pipeline_s = time.perf_counter() - started
    return WordBenchResult(
        terms=len(compiled),
        texts=len(texts),
        characters=sum(len(text) for text in texts),
        rounds=rounds,
        build_s=build_s,
        match_s=match_s,
        hits=hits,
        pipeline_s=pipeline_s,
    )
