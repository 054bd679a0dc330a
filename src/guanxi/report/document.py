"""A report as made for one period: what every format (web, PDF, PowerPoint, Excel) renders.

The sections come from the capabilities (``core.report``); the report adds its title, the
brand's look, the periods and the manager's comment on each section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from guanxi.core.report import ReportSection


@dataclass(frozen=True)
class Brand:
    """The workspace's look on a report: its name, logo, colours and PowerPoint master
    (white-label, ``report.branding``)."""

    name: str
    logo_png: bytes | None = None  # a PNG, at most 800 × 400 pixels
    primary_colour: str = "#8e1b3a"  # "#rrggbb"
    accent_colour: str = "#c9a227"
    logo_svg: bytes | None = None  # the same logo as a vector, when it was uploaded as one
    template_pptx: bytes | None = None  # the brand's .pptx master for PowerPoint reports

    def __repr__(self) -> str:  # the files' bytes would fill a log line
        return (
            f"Brand(name={self.name!r}, primary={self.primary_colour}, accent={self.accent_colour})"
        )


@dataclass(frozen=True)
class ReportDocument:
    """One report, ready to render in either language."""

    title: str  # as the manager typed it (not translated)
    brand: Brand
    start: date
    end: date
    compare_start: date | None
    compare_end: date | None
    generated_at: datetime
    sections: tuple[ReportSection, ...]
    # The manager's comment per section key, shown under the section's narrative.
    comments: dict[str, str] = field(default_factory=dict)
