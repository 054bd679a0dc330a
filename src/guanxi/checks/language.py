"""Language mix: mostly-English content aimed at Chinese readers is flagged.

A deterministic character-class count, no model: Han characters against Latin letters,
after removing what is not prose (URLs, @mentions, hashtags, numbers; emoji and
punctuation are neither class). One Han character carries about as much meaning as
``LATIN_LETTERS_PER_HAN`` Latin letters (a Chinese word is one or two characters, an
English word about five letters), so the text is "mostly English" when its Latin letters
outweigh its Han characters times that factor. Texts with fewer than
``MIN_LATIN_LETTERS`` Latin letters are never flagged: a brand name or "OK" is not English
content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guanxi.checks.findings import CheckedField, CheckSubject, Finding, Span
from guanxi.checks.links import URL_RE
from guanxi.connectors.base import Severity
from guanxi.core.errors import N_

LATIN_LETTERS_PER_HAN = 2.5
MIN_LATIN_LETTERS = 20
# Below this share of Han characters (weighted), the text reads as English.
MOSTLY_ENGLISH_BELOW = 0.5

# CJK Unified Ideographs, Extension A, Compatibility Ideographs, Extensions B and later.
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Not prose: @mentions, Weibo #topics# and single-hash tags, numbers like 2024 or 3.5k.
MENTION_RE = re.compile(r"@[\w\-\u00b7]+")
DOUBLE_TAG_RE = re.compile(r"#[^#\n]{1,64}#")
SINGLE_TAG_RE = re.compile(r"#\w+")
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*[a-zA-Z]{0,2}\b")
# Runs of Latin words (with the spaces and punctuation between them), to highlight.
ENGLISH_RUN_RE = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'’\-\s,.;:!?]*")


@dataclass(frozen=True)
class LanguageMix:
    """How much of a text is Han characters and how much Latin letters."""

    han: int
    latin: int

    @property
    def han_share(self) -> float:
        """The weighted share of Chinese in the text, 0..1 (1 when the text has no letters)."""
        weighted_han = self.han * LATIN_LETTERS_PER_HAN
        total = weighted_han + self.latin
        return weighted_han / total if total else 1.0

    @property
    def mostly_english(self) -> bool:
        """Whether the text reads as English (see the module docstring for the thresholds)."""
        return self.latin >= MIN_LATIN_LETTERS and self.han_share < MOSTLY_ENGLISH_BELOW


def _blank(pattern: re.Pattern[str], text: str) -> str:
    # Same length, so positions in the stripped text are positions in the original.
    return pattern.sub(lambda match: " " * len(match.group(0)), text)


def prose(text: str) -> str:
    """``text`` with URLs, mentions, hashtags and numbers blanked out (same length)."""
    for pattern in (URL_RE, MENTION_RE, DOUBLE_TAG_RE, SINGLE_TAG_RE, NUMBER_RE):
        text = _blank(pattern, text)
    return text


def language_mix(text: str) -> LanguageMix:
    """Count the Han characters and Latin letters of ``text``'s prose."""
    stripped = prose(text)
    return LanguageMix(han=len(HAN_RE.findall(stripped)), latin=len(LATIN_RE.findall(stripped)))


def check_language(subject: CheckSubject) -> list[Finding]:
    """A warning when the text (with its title and digest) is mostly English for a Chinese
    audience; the English runs of the text are highlighted."""
    if not subject.reads_chinese:
        return []
    written = [(name, value) for name, value in subject.fields() if name is not CheckedField.LINK]
    mixes = [language_mix(value) for _, value in written]
    total = LanguageMix(han=sum(m.han for m in mixes), latin=sum(m.latin for m in mixes))
    if not total.mostly_english:
        return []
    spans = tuple(
        Span(name, match.start(), match.start() + len(match.group(0).rstrip()))
        for name, value in written
        for match in ENGLISH_RUN_RE.finditer(prose(value))
        if sum(1 for char in match.group(0) if LATIN_RE.match(char)) >= 2
    )
    return [
        Finding(
            code="language.mostly_english",
            severity=Severity.WARNING,
            message=N_(
                "This text is mostly English ({chinese}% Chinese) but its readers read "
                "Chinese: content in English reaches few of them. Write it in Chinese."
            ),
            params={"chinese": round(total.han_share * 100)},
            spans=spans,
        )
    ]
