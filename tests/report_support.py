"""Helpers for the report section tests: a section's narrative as a reader sees it."""

from __future__ import annotations

from guanxi.core.report import Paragraph, ReportSection
from guanxi.report.words import translate


def narrative(section: ReportSection, language: str) -> list[str]:
    """The section's sentences (its paragraphs), in ``language``."""
    return [translate(b.text, language) for b in section.blocks if isinstance(b, Paragraph)]
