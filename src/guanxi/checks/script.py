"""Script check (Simplified for the mainland, Traditional for Hong Kong and Taiwan) and
one-click conversion with OpenCC (its dictionaries ship with the package: no network).

A character is Traditional when OpenCC's Traditional-to-Simplified conversion changes it in
context and the Simplified-to-Traditional conversion leaves it alone (and the reverse for
Simplified). Converting the whole text keeps OpenCC's phrase context (皇后 stays 皇后
while 以后 becomes 以後); characters shared by both scripts (的, 人) are never flagged.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from functools import cache

import opencc

from guanxi.channels.models import ChannelAudience
from guanxi.checks.findings import CheckSubject, Finding, Span, merge_spans
from guanxi.checks.language import prose
from guanxi.connectors.base import Severity
from guanxi.core.errors import N_, UserError


class Conversion(StrEnum):
    """The OpenCC conversions the composer offers (values are OpenCC's config names)."""

    S2T = "s2t"  # Simplified to Traditional (OpenCC standard)
    T2S = "t2s"  # Traditional to Simplified
    S2HK = "s2hk"  # Simplified to Traditional, Hong Kong variants
    S2TW = "s2tw"  # Simplified to Traditional, Taiwan variants
    S2TWP = "s2twp"  # ... with Taiwan phrasing (软件 → 軟體)


CONVERSION_LABELS: dict[Conversion, str] = {
    Conversion.T2S: N_("To Simplified (mainland)"),
    Conversion.S2T: N_("To Traditional"),
    Conversion.S2HK: N_("To Traditional (Hong Kong)"),
    Conversion.S2TW: N_("To Traditional (Taiwan)"),
    Conversion.S2TWP: N_("To Traditional (Taiwan, with Taiwan phrasing)"),
}

# The conversion that fixes a script finding for each audience.
FIX_FOR_AUDIENCE: dict[ChannelAudience, Conversion] = {
    ChannelAudience.MAINLAND: Conversion.T2S,
    ChannelAudience.HONG_KONG: Conversion.S2HK,
    ChannelAudience.TAIWAN: Conversion.S2TW,
}

_lock = threading.Lock()


@cache
def _converter(conversion: Conversion) -> opencc.OpenCC:
    return opencc.OpenCC(f"{conversion.value}.json")


def convert(text: str, conversion: Conversion) -> str:
    """``text`` converted by OpenCC."""
    # One converter object is shared by every request thread; OpenCC does not promise that
    # concurrent calls on it are safe.
    with _lock:
        return str(_converter(conversion).convert(text))


def parse_conversion(value: str) -> Conversion:
    """The conversion named ``value``, or a UserError listing the valid ones."""
    try:
        return Conversion(value)
    except ValueError:
        raise UserError(
            N_("Unknown conversion “{value}”. Choose one of: {choices}."),
            value=value,
            choices=", ".join(c.value for c in Conversion),
        ) from None


def _per_character(text: str, conversion: Conversion) -> str:
    # When a phrase conversion changes the length, positions no longer line up: fall back to
    # converting character by character (a one-character result or the character itself).
    converted = convert(text, conversion)
    if len(converted) == len(text):
        return converted
    out = []
    for char in text:
        single = convert(char, conversion)
        out.append(single if len(single) == 1 else char)
    return "".join(out)


def foreign_script_positions(text: str, *, traditional: bool) -> list[int]:
    """Positions of Traditional characters (``traditional``) or Simplified ones in ``text``."""
    towards, back = (
        (Conversion.T2S, Conversion.S2T) if traditional else (Conversion.S2T, Conversion.T2S)
    )
    converted = _per_character(text, towards)
    positions = []
    for index, (char, other) in enumerate(zip(text, converted, strict=True)):
        if char != other and convert(char, back) == char:
            positions.append(index)
    return positions


def check_script(subject: CheckSubject) -> list[Finding]:
    """A warning when the text is in the other script than its audience reads."""
    if subject.audience not in FIX_FOR_AUDIENCE:
        return []  # overseas Chinese read both
    traditional = subject.audience is ChannelAudience.MAINLAND
    spans: list[Span] = []
    characters: list[str] = []
    for name, value in subject.fields():
        if name.value == "link":
            continue
        # Mentions, topics and URLs are names the author cannot convert.
        positions = foreign_script_positions(prose(value), traditional=traditional)
        characters.extend(value[index] for index in positions)
        spans.extend(
            Span(name, start, end) for start, end in merge_spans([(i, i + 1) for i in positions])
        )
    if not spans:
        return []
    sample = "".join(dict.fromkeys(characters))[:10]
    fix = FIX_FOR_AUDIENCE[subject.audience]
    if traditional:
        return [
            Finding(
                code="script.traditional",
                severity=Severity.WARNING,
                message=N_(
                    "{count} Traditional characters ({sample}) on an account for mainland "
                    "readers, who read Simplified. Convert the text to Simplified."
                ),
                params={"count": len(characters), "sample": sample, "conversion": fix.value},
                spans=tuple(spans),
            )
        ]
    return [
        Finding(
            code="script.simplified",
            severity=Severity.WARNING,
            message=N_(
                "{count} Simplified characters ({sample}) on an account for Hong Kong or "
                "Taiwan readers, who read Traditional. Convert the text to Traditional."
            ),
            params={"count": len(characters), "sample": sample, "conversion": fix.value},
            spans=tuple(spans),
        )
    ]
