"""Sensitive-word screening: one Aho-Corasick automaton per word list, Simplified and
Traditional alike.

Terms and texts are normalised the same way before matching (OpenCC Traditional to
Simplified, then lower case), so 頂級 in a text hits the term 顶级 and the reverse. The
normalisation keeps every character in place, so a hit's position in the normalised text is
its position in the original. Of overlapping hits the longest is kept: in 最佳的 the term
最佳 is reported, not 最 on top of it, unless the shorter term is the stricter one (a blocked
word inside a word to avoid still shows). One finding per term with every place it occurs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import ahocorasick

from guanxi.checks.findings import CheckSubject, Finding, Span
from guanxi.checks.script import Conversion, convert
from guanxi.connectors.base import Severity
from guanxi.core.errors import N_

TERM_MAX_LENGTH = 100
CATEGORY_MAX_LENGTH = 40


class WordSeverity(StrEnum):
    """How a hit blocks publishing (``SensitiveWord.severity``)."""

    BLOCK = "block"  # an error: the text must change
    WARN = "warn"  # a warning: a manager may override it


FINDING_SEVERITY = {WordSeverity.BLOCK: Severity.ERROR, WordSeverity.WARN: Severity.WARNING}
WORD_SEVERITY_LABELS = {
    WordSeverity.BLOCK: N_("Block (must be removed)"),
    WordSeverity.WARN: N_("Warn (a manager may override)"),
}


@dataclass(frozen=True)
class WordEntry:
    """A term as the workspace listed it."""

    term: str
    category: str
    severity: WordSeverity


@cache
def _single_t2s(char: str) -> str:
    single = convert(char, Conversion.T2S)
    return single if len(single) == 1 else char


def _lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char  # "İ".lower() is two characters


def normalize(text: str) -> str:
    """``text`` in Simplified characters and lower case, character for character."""
    converted = convert(text, Conversion.T2S)
    if len(converted) != len(text):
        converted = "".join(_single_t2s(char) for char in text)
    return "".join(_lower(char) for char in converted)


@dataclass(frozen=True)
class Hit:
    """One occurrence of a listed term: ``text[start:end]``."""

    entry: WordEntry
    start: int
    end: int


class CompiledWordList:
    """A word list ready to match: build once, match many texts (thread-safe reads)."""

    def __init__(self, entries: Iterable[WordEntry]) -> None:
        self._by_key: dict[str, WordEntry] = {}
        for entry in entries:
            key = normalize(entry.term.strip())
            if not key:
                continue
            known = self._by_key.get(key)
            # A term listed in both scripts is one term; the stricter severity wins.
            if known is None or (
                entry.severity is WordSeverity.BLOCK and known.severity is WordSeverity.WARN
            ):
                self._by_key[key] = entry
        self._automaton = ahocorasick.Automaton()
        for key, entry in self._by_key.items():
            self._automaton.add_word(key, (len(key), entry))
        if self._by_key:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._by_key)

    def hits(self, text: str) -> list[Hit]:
        """Every occurrence of every term in ``text``, in order, less the ones inside a
        longer hit that is at least as strict (``longest_hits``)."""
        if not self._by_key or not text:
            return []
        found = [
            Hit(entry=entry, start=end - length + 1, end=end + 1)
            for end, (length, entry) in self._automaton.iter(normalize(text))
        ]
        return sorted(longest_hits(found), key=lambda hit: (hit.start, hit.end))


_STRICTNESS = {WordSeverity.WARN: 0, WordSeverity.BLOCK: 1}


def _covers(outer: Hit, inner: Hit) -> bool:
    """``outer`` is longer, contains ``inner`` and is at least as strict."""
    return (
        outer.end - outer.start > inner.end - inner.start
        and outer.start <= inner.start
        and inner.end <= outer.end
        and _STRICTNESS[outer.entry.severity] >= _STRICTNESS[inner.entry.severity]
    )


def longest_hits(found: list[Hit]) -> list[Hit]:
    """``found`` without the hits another hit covers: 最 inside 最佳 says nothing more."""
    return [hit for hit in found if not any(_covers(other, hit) for other in found)]


EMPTY_WORD_LIST = CompiledWordList(())


@cache
def default_entries() -> tuple[WordEntry, ...]:
    """The list a workspace starts with (``data/default_words.csv``)."""
    text = resources.files("guanxi.checks").joinpath("data/default_words.csv")
    rows = [line for line in text.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries = []
    for term, category, severity in csv.reader(row for row in rows if not row.startswith("#")):
        entries.append(WordEntry(term=term, category=category, severity=WordSeverity(severity)))
    return tuple(entries)


def check_words(subject: CheckSubject) -> list[Finding]:
    """A finding per listed term the variant contains: an error for "block" terms, a warning
    for "warn" terms, with every occurrence highlighted."""
    spans_by_term: dict[WordEntry, list[Span]] = {}
    for name, value in subject.fields():
        for hit in subject.words.hits(value):
            spans_by_term.setdefault(hit.entry, []).append(Span(name, hit.start, hit.end))
    findings = []
    for entry, spans in spans_by_term.items():
        severity = FINDING_SEVERITY[entry.severity]
        if severity is Severity.ERROR:
            message = N_(
                "“{term}” is on the workspace's list of words not to publish ({category}). "
                "Remove or rephrase it."
            )
        else:
            message = N_(
                "“{term}” is on the workspace's list of words to avoid ({category}). "
                "Rephrase it, or ask a manager to override this warning with a reason."
            )
        findings.append(
            Finding(
                code=f"words.hit:{entry.term}",
                severity=severity,
                message=message,
                params={"term": entry.term, "category": entry.category or "-"},
                spans=tuple(spans),
            )
        )
    return findings
