"""Measure the report's file formats on a synthetic document (its size set by the caller):
how long PDF, PowerPoint and Excel each take, and the process's peak memory.

The document is built directly from the report's dataclasses, in both languages' kinds of
text (Chinese post titles, English labels), so it measures the renderers alone; the
workspace-sized report (sections read from a million mentions) measures the sections too.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from PIL import Image, ImageDraw

from guanxi.core.errors import N_
from guanxi.core.report import (
    Chart,
    ChartKind,
    Column,
    Figure,
    Number,
    Paragraph,
    ReportSection,
    Series,
    Table,
    Text,
    Unit,
)
from guanxi.devtools.bench.common import peak_rss_mb
from guanxi.report.document import Brand, ReportDocument
from guanxi.report.files import FORMATS, render_file

_KINDS = tuple(ChartKind)


def logo_png() -> bytes:
    """A small logo in the brand's colours, so every format places one."""
    picture = Image.new("RGB", (160, 64), Brand.primary_colour)
    ImageDraw.Draw(picture).ellipse((104, 8, 152, 56), fill=Brand.accent_colour)
    written = io.BytesIO()
    picture.save(written, format="PNG")
    return written.getvalue()


def synthetic_document(
    *, sections: int = 2, charts: int = 2, points: int = 7, rows: int = 3, start: date | None = None
) -> ReportDocument:
    """A report of ``sections`` sections sharing ``charts`` charts of ``points`` days (every
    kind in turn), each with figures, a ``rows``-row table and a sentence."""
    first = start or date(2026, 11, 1)
    days = tuple(first + timedelta(days=offset) for offset in range(points))
    built = []
    for index in range(sections):
        section_charts = [
            _chart(number, days) for number in range(charts) if number % sections == index
        ]
        figures = (
            Figure(
                "followers", Text(N_("Followers")), Number(12_380 + index), Number(11_000 + index)
            ),
            Figure(
                "engagement",
                Text(N_("Engagement rate")),
                Number(0.042, Unit.PERCENT),
                Number(0.039, Unit.PERCENT),
            ),
            Figure(
                "revenue",
                Text(N_("Revenue")),
                Number(88_000.5, Unit.MONEY, "CNY"),
                Number(None, Unit.MONEY, "CNY"),
            ),
            Figure(
                "response",
                Text(N_("First response time")),
                Number(5_400, Unit.DURATION),
                Number(7_200, Unit.DURATION),
                higher_is_better=False,
            ),
        )
        table = Table(
            "top_posts",
            Text(N_("Top posts")),
            (
                Column(Text(N_("Post"))),
                Column(Text(N_("Views")), Unit.COUNT),
                Column(Text(N_("Engagement rate")), Unit.PERCENT),
            ),
            tuple(
                (f"普罗旺斯桃红葡萄酒 post {row + 1}", 1_000 * (rows - row), 0.05 - row / 10_000)
                for row in range(rows)
            ),
            more=2,
        )
        built.append(
            ReportSection(
                key=f"section.{index}",
                title=Text(N_("Section {number}"), {"number": index + 1}),
                blocks=(
                    Paragraph(
                        Text(
                            N_("Followers grew {change} to {followers}."),
                            {"change": "4.2%", "followers": Number(12_380)},
                        )
                    ),
                    *figures,
                    *section_charts,
                    table,
                ),
            )
        )
    return ReportDocument(
        title="Provence Wines — monthly report",
        brand=Brand(name="Provence Wines 普罗旺斯酒庄", logo_png=logo_png()),
        start=days[0],
        end=days[-1],
        compare_start=days[0] - timedelta(days=points),
        compare_end=days[0] - timedelta(days=1),
        generated_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        sections=tuple(built),
        comments={"section.0": "A strong month on Weibo. 微博表现强劲。"},
    )


def _chart(number: int, days: tuple[date, ...]) -> Chart:
    kind = _KINDS[number % len(_KINDS)]
    if kind in {ChartKind.PIE, ChartKind.HORIZONTAL_BAR}:
        platforms = ("微博 Weibo", "微信 WeChat", "抖音 Douyin", "小红书 Xiaohongshu")
        return Chart(
            f"share_{number}",
            Text(N_("Share of voice")),
            kind,
            platforms,
            (Series(Text(N_("Mentions")), (420.0, 310.0, 180.0, 90.0)),),
        )
    names = (Text(N_("Weibo")), Text(N_("WeChat")))
    series = tuple(
        Series(
            name,
            tuple(float(100 + (day * (7 + line)) % 50 * (line + 1)) for day in range(len(days))),
        )
        for line, name in enumerate(names)
    )
    return Chart(f"daily_{number}", Text(N_("Mentions per day")), kind, days, series)


@dataclass(frozen=True)
class ReportBenchResult:
    """The seconds each format took (wall clock and this process's CPU), and the peak memory."""

    seconds: dict[str, float]
    peak_rss_mb: float
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The figures; the last line is machine-readable."""
        return [
            *(
                f"{fmt}: {seconds:.2f} s (CPU {self.cpu_seconds.get(fmt, 0.0):.2f} s)"
                for fmt, seconds in self.seconds.items()
            ),
            " ".join(f"{fmt}_s={seconds:.2f}" for fmt, seconds in self.seconds.items())
            + f" peak_rss_mb={self.peak_rss_mb:.0f}",
        ]


def run_report_bench(*, language: str = "zh_Hans") -> ReportBenchResult:
    """Render a synthetic monthly report (8 sections, 12 charts of 365 days, 50-row tables)
    in every format."""
    document = synthetic_document(sections=8, charts=12, points=365, rows=50)
    seconds = {}
    cpu_seconds = {}
    for fmt in FORMATS:
        began, began_cpu = time.perf_counter(), time.process_time()
        render_file(document, fmt, language)
        seconds[fmt] = time.perf_counter() - began
        cpu_seconds[fmt] = time.process_time() - began_cpu
    return ReportBenchResult(seconds, peak_rss_mb(), cpu_seconds)
