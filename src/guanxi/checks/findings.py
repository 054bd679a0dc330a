"""What a check reports: typed findings with a translatable message and the spans to highlight.

Every check is a function ``(CheckSubject) -> list[Finding]``; the pipeline in
``guanxi.checks.service`` runs them in order. A finding's ``message`` is an English message
id marked with ``N_`` whose ``{name}`` placeholders are filled from ``params`` after
translation, as ``guanxi.core.errors.UserError`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from guanxi.channels.models import ChannelAudience
from guanxi.checks.labels import readable_params
from guanxi.connectors.base import HashtagStyle, Severity

if TYPE_CHECKING:
    from guanxi.checks.words import CompiledWordList


class CheckedField(StrEnum):
    """Which part of a variant a span points into."""

    TEXT = "text"
    TITLE = "title"
    DIGEST = "digest"
    LINK = "link"


@dataclass(frozen=True, order=True)
class Span:
    """Characters ``start`` (inclusive) to ``end`` (exclusive) of one field, in code points."""

    field: CheckedField
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    """One problem a check found.

    ``code`` identifies the finding within one run (a manager overrides a warning by its
    code), for example ``script.traditional`` or ``words.hit:最佳``.
    """

    code: str
    severity: Severity
    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    spans: tuple[Span, ...] = ()

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of ``gettext``."""
        text = gettext(self.message)
        return text.format(**readable_params(self.params, gettext)) if self.params else text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as stored in ``Variant.checks``."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "params": dict(self.params),
            "spans": [[span.field.value, span.start, span.end] for span in self.spans],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The finding ``to_dict`` stored."""
        return cls(
            code=str(data["code"]),
            severity=Severity(data["severity"]),
            message=str(data["message"]),
            params=dict(data.get("params", {})),
            spans=tuple(
                Span(CheckedField(name), int(start), int(end))
                for name, start, end in data.get("spans", [])
            ),
        )


@dataclass(frozen=True)
class CheckSubject:
    """A variant as the checks see it, and who it is for."""

    text: str
    title: str
    digest: str
    link: str
    audience: ChannelAudience
    hashtag_style: HashtagStyle
    words: CompiledWordList

    def fields(self) -> tuple[tuple[CheckedField, str], ...]:
        """Every non-empty written field, text first."""
        values = (
            (CheckedField.TEXT, self.text),
            (CheckedField.TITLE, self.title),
            (CheckedField.DIGEST, self.digest),
            (CheckedField.LINK, self.link),
        )
        return tuple((name, value) for name, value in values if value)

    @property
    def reads_chinese(self) -> bool:
        """Whether the audience reads Chinese first (the mainland, Hong Kong, Taiwan)."""
        return self.audience is not ChannelAudience.OVERSEAS


Check = Callable[[CheckSubject], list[Finding]]


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges joined, in order (for highlighting)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Segment:
    """A piece of a field for display; ``severity`` is set where a finding points."""

    text: str
    severity: str = ""


def highlight(value: str, findings: list[Finding], name: CheckedField) -> list[Segment]:
    """``value`` cut into segments, those a finding points at marked with its severity (an
    error wins over a warning where they overlap)."""
    marks = [""] * len(value)
    for finding in findings:
        for span in finding.spans:
            if span.field is not name:
                continue
            for index in range(max(span.start, 0), min(span.end, len(value))):
                if marks[index] != Severity.ERROR.value:
                    marks[index] = finding.severity.value
    segments: list[Segment] = []
    start = 0
    for index in range(1, len(value) + 1):
        if index == len(value) or marks[index] != marks[start]:
            segments.append(Segment(value[start:index], marks[start]))
            start = index
    return segments
