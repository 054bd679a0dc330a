"""Steps on the raw text: platform markup, language and script, Traditional → Simplified.

Markup is parsed into features, not thrown away: Weibo emoticons ``[哈哈]`` (the sentiment
model reads them), ``{%...%}`` markers (topics, places, videos, links as the Weibo export
writes them), ``@user`` mentions, ``#话题#`` topics and URLs. What remains is the prose,
which the language and script steps and the analysis read; the original text is never
changed (it stays on the Document).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from guanxi.checks.script import Conversion, convert
from guanxi.nlp.pipeline import Work

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

EMOTICON_RE = re.compile(r"\[([^\[\]\s]{1,10})\]")
MARKER_RE = re.compile(r"\{%(.{0,80}?)%\}")
# Weibo topics #话题# (and the full-width hash); single-hash tags of Douyin and Xiaohongshu.
TOPIC_RE = re.compile(r"[#＃]([^#＃\n]{1,64})[#＃]")
SINGLE_TAG_RE = re.compile(r"(?<![\w&/])[#＃](\w{1,32})")
MENTION_RE = re.compile(r"@([\w\-\u00b7]{1,30})")
URL_RE = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20<>\"'\]]+")
SPACES_RE = re.compile(r"\s+")
# Zero-width characters and the byte-order mark the Weibo exports leave in texts, and lone
# surrogates (half a character, from a broken export): the segmenter cannot encode them.
INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufeff\ud800-\udfff]")

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
LATIN_RE = re.compile(r"[A-Za-z]")
LETTER_RE = re.compile(r"[^\W\d_]")
# Letters of scripts that are neither Han nor Latin: kana, hangul, Cyrillic, Greek, Arabic...
OTHER_SCRIPT_RE = re.compile(r"[\u0370-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u1100-\u11ff\uac00-\ud7af]")
# A Latin letter weighs less than a Han character (an English word is ~5 letters).
LATIN_LETTERS_PER_HAN = 2.5


class MarkupStep:
    """Parse emoticons, markers, topics, mentions and URLs; keep the prose between them."""

    name = "markup"

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every batch has text to parse."""
        return True

    def setup(self) -> None:
        """Nothing to load."""

    def version(self) -> str:
        """No model."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill emoticons, hashtags, mentions, urls, markers and the prose."""
        for work in batch:
            parse_markup(work)


def parse_markup(work: Work) -> None:
    """Fill ``work``'s markup features and prose from its document's text."""
    text = INVISIBLE_RE.sub("", work.document.text)
    hashtags: list[str] = []
    markers: list[str] = []
    urls: list[str] = []

    def marker(match: re.Match[str]) -> str:
        content = match.group(1).strip()
        topic = TOPIC_RE.fullmatch(content)
        if topic:
            hashtags.append(topic.group(1).strip())
        elif content:
            markers.append(content)
        return " "

    if "{%" in text:
        text = MARKER_RE.sub(marker, text)
    if "http" in text or "www." in text:
        urls = URL_RE.findall(text)
        text = URL_RE.sub(" ", text)
    emoticons = EMOTICON_RE.findall(text) if "[" in text else []
    if emoticons:
        text = EMOTICON_RE.sub(" ", text)
    if "#" in text or "＃" in text:
        hashtags.extend(topic.strip() for topic in TOPIC_RE.findall(text))
        # A topic's words are part of what the post says: keep them in the prose.
        text = TOPIC_RE.sub(lambda match: f" {match.group(1)} ", text)
        hashtags.extend(SINGLE_TAG_RE.findall(text))
        text = SINGLE_TAG_RE.sub(lambda match: f" {match.group(1)} ", text)
    mentions = MENTION_RE.findall(text) if "@" in text else []
    if mentions:
        text = MENTION_RE.sub(" ", text)
    work.emoticons = emoticons
    work.hashtags = list(dict.fromkeys(tag for tag in hashtags if tag))
    work.mentions = mentions
    work.urls = urls
    work.markers = markers
    work.prose = SPACES_RE.sub(" ", text).strip()


class LanguageStep:
    """Chinese, English, another language, or undetermined, by counting character classes."""

    name = "language"

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every batch has prose to look at."""
        return True

    def setup(self) -> None:
        """Build the table of character classes (once)."""
        character_classes()

    def version(self) -> str:
        """No model."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``language``: the common case (Han characters outweigh Latin letters, no
        other script) from the batch's characters counted at once in numpy, the rest by
        ``detect_language``."""
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        proses = [work.prose for work in batch]
        codes, text_of = code_points(proses)
        classes = character_classes().take(np.minimum(codes, 0xFFFF))
        classes[(codes >= 0x20000) & (codes <= 0x3134F)] = HAN  # HAN_RE's, past the BMP
        counts = np.bincount(text_of * 4 + classes, minlength=4 * len(batch)).reshape(-1, 4)
        han, latin, other = counts[:, HAN], counts[:, LATIN], counts[:, OTHER_SCRIPT]
        chinese = (han > 0) & (han * LATIN_LETTERS_PER_HAN >= latin) & (other == 0)
        for work, prose, is_chinese in zip(batch, proses, chinese.tolist(), strict=True):
            work.language = "zh" if is_chinese else detect_language(prose)


# The character classes ``LanguageStep`` counts (those of HAN_RE, LATIN_RE, OTHER_SCRIPT_RE).
NO_CLASS, HAN, LATIN, OTHER_SCRIPT = 0, 1, 2, 3


@cache
def character_classes() -> npt.NDArray[np.intp]:
    """The class of each character of the Basic Multilingual Plane, by code point (read off
    the patterns themselves, so the two cannot disagree)."""
    import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

    every_character = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10000, dtype=np.intp)
    for pattern, value in ((HAN_RE, HAN), (LATIN_RE, LATIN), (OTHER_SCRIPT_RE, OTHER_SCRIPT)):
        table[[found.start() for found in pattern.finditer(every_character)]] = value
    return table


def code_points(texts: Sequence[str]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Every character of ``texts`` as its code point, with the text it belongs to."""
    import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    raw = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return raw.astype(np.intp), np.repeat(np.arange(len(texts), dtype=np.intp), lengths)


def detect_language(prose: str) -> str:
    """ "zh" when Han characters outweigh Latin letters, "en" for mostly Latin letters, "other"
    for other letters (Japanese kana, Korean, Cyrillic...), "und" with no letters at all."""
    han = len(HAN_RE.findall(prose))
    latin = len(LATIN_RE.findall(prose))
    if han and han * LATIN_LETTERS_PER_HAN >= latin and not OTHER_SCRIPT_RE.search(prose):
        return "zh"  # the common case, without counting every letter
    letters = len(LETTER_RE.findall(prose))
    if not letters:
        return "und"
    other = letters - han - latin
    if han * LATIN_LETTERS_PER_HAN >= max(latin, 1) and han >= other:
        return "zh"
    if latin >= other:
        return "en" if latin >= 2 else "und"
    return "other"


class NormalizeStep:
    """Traditional → Simplified for analysis (OpenCC, as the composer's script check uses it);
    the script of the original is recorded."""

    name = "normalize"

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every batch needs its normalised text."""
        return True

    def setup(self) -> None:
        """Build the per-character script table from OpenCC's dictionaries (once)."""
        script_table()

    def version(self) -> str:
        """No model of our own."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``script`` and ``normalized_text``; only texts with Traditional characters go
        through OpenCC (in one call for the batch: per-call overhead dominates short posts).
        Which texts have Traditional, Simplified or any Han characters is found for the whole
        batch at once in numpy."""
        import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

        proses = [work.prose for work in batch]
        codes, text_of = code_points(proses)
        flags = script_table().take(np.minimum(codes, 0xFFFF))
        flags[(codes >= 0x20000) & (codes <= 0x3134F)] = HAS_HAN  # HAN_RE's, past the BMP
        counts = np.bincount(text_of * 8 + flags, minlength=8 * len(batch)).reshape(-1, 8)
        kinds = np.arange(8)
        has = [
            (counts[:, (kinds & flag) > 0].sum(axis=1) > 0).tolist()
            for flag in (HAS_TRADITIONAL, HAS_SIMPLIFIED, HAS_HAN)
        ]
        to_convert: list[Work] = []
        for work, prose, has_traditional, simplified_characters, has_han in zip(
            batch, proses, *has, strict=True
        ):
            if has_traditional:
                # A character alone may read as Simplified where its phrase is Traditional
                # (后 in 皇后): the phrase-aware conversion decides.
                has_simplified = simplified_characters and convert(prose, Conversion.S2T) != prose
                work.script = "mixed" if has_simplified else "traditional"
                to_convert.append(work)
            else:
                work.normalized_text = prose
                work.script = "simplified" if has_han else "none"
        if to_convert:
            # Prose has no newline (whitespace is collapsed), so the joined batch splits back.
            joined = "\n".join(work.prose for work in to_convert)
            for work, converted in zip(
                to_convert, convert(joined, Conversion.T2S).split("\n"), strict=True
            ):
                work.normalized_text = converted


# The bits of ``script_table``.
HAS_TRADITIONAL, HAS_SIMPLIFIED, HAS_HAN = 1, 2, 4


@cache
def script_table() -> npt.NDArray[np.intp]:
    """For each character of the Basic Multilingual Plane, by code point: whether it is
    Traditional-only, Simplified-only (``script_characters``) and Han (HAN_RE)."""
    import numpy as np  # noqa: PLC0415 - heavy: loads with the first enrich, not at import

    traditional, simplified = script_characters()
    table: npt.NDArray[np.intp] = np.where(character_classes() == HAN, HAS_HAN, 0)
    table[list(map(ord, traditional))] |= HAS_TRADITIONAL
    table[list(map(ord, simplified))] |= HAS_SIMPLIFIED
    return table


@cache
def script_characters() -> tuple[frozenset[str], frozenset[str]]:
    """(Traditional-only, Simplified-only) Han characters: those OpenCC's Traditional →
    Simplified conversion changes and the reverse leaves alone, and the other way round."""
    characters = [chr(code) for code in (*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000))]
    joined = "\n".join(characters)
    to_simplified = convert(joined, Conversion.T2S).split("\n")
    to_traditional = convert(joined, Conversion.S2T).split("\n")
    traditional, simplified = set(), set()
    for char, simple, complex_ in zip(characters, to_simplified, to_traditional, strict=True):
        if simple != char and complex_ == char:
            traditional.add(char)
        elif complex_ != char and simple == char:
            simplified.add(char)
    return frozenset(traditional), frozenset(simplified)
