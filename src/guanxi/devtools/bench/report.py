"""``guanxi bench report``: the monthly executive report of a big workspace, in every format.

Each format is one real run: the sections read their figures from the capabilities' services
(a million mentions, 100,000 inbox items, 10,000 posts, the demo's accounts, orders and app
charts: ``report_data``), then the file is rendered. Printed: seconds per format (and how
many of them the sections took), and the peak memory of the report alone.

``synthetic_document`` builds a report straight from the dataclasses, in both languages'
kinds of text (Chinese post titles, English labels), for the file formats' tests.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy.engine import make_url

from guanxi.accounts import service as accounts
from guanxi.core import i18n
from guanxi.core.db import make_engine, make_session_factory
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
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    no_progress,
    peak_rss_mb,
    reset_peak_rss,
)
from guanxi.devtools.bench.report_data import (
    DEMO_SLUG,
    ReportVolume,
    default_cache_dir,
    postgresql_database,
    sqlite_database,
)
from guanxi.report.build import ReportSpec, build_report, failed
from guanxi.report.document import Brand, ReportDocument
from guanxi.report.files import FORMATS, render_file
from guanxi.report.periods import report_period, today_in
from guanxi.report.templates import get_template

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
    # The seconds the sections took to read their figures, per format's run.
    build_seconds: dict[str, float] = field(default_factory=dict)
    # Per section key: what it holds ("12 figures, 3 charts, 2 tables", "empty", "failed").
    sections: dict[str, str] = field(default_factory=dict)
    database_built: bool = False
    database_url: str = ""

    def lines(self) -> list[str]:
        """The figures; the last line is machine-readable."""
        return [
            *(
                f"{fmt}: {seconds:.2f} s (sections {self.build_seconds.get(fmt, 0.0):.2f} s, "
                f"CPU {self.cpu_seconds.get(fmt, 0.0):.2f} s)"
                for fmt, seconds in self.seconds.items()
            ),
            " ".join(f"{fmt}_s={seconds:.2f}" for fmt, seconds in self.seconds.items())
            + f" peak_rss_mb={self.peak_rss_mb:.0f}",
        ]


def _contents(section: ReportSection) -> str:
    if failed(section):
        return "failed (see the log)"
    if section.empty is not None:
        return "empty"
    counts = {
        "figures": sum(isinstance(b, Figure) for b in section.blocks),
        "charts": sum(isinstance(b, Chart) for b in section.blocks),
        "tables": sum(isinstance(b, Table) for b in section.blocks),
    }
    return ", ".join(f"{count} {name}" for name, count in counts.items())


def run_report_bench(
    *,
    volume: ReportVolume,
    database_url: str = "",
    cache_dir: Path | None = None,
    language: str = "zh_Hans",
    progress: Progress = no_progress,
) -> ReportBenchResult:
    """Make the monthly executive report of the demo workspace holding ``volume`` more rows
    (built once and cached), once per format: the sections read from the capabilities'
    services, then the file rendered. A section that fails fails the benchmark."""
    if database_url:
        url, built = postgresql_database(database_url, volume, progress)
    else:
        url, built = sqlite_database(cache_dir or default_cache_dir(), volume, progress)
    reset_peak_rss()  # the report's own peak, not the bulk load's
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    template = get_template("monthly")
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    build_seconds: dict[str, float] = {}
    contents: dict[str, str] = {}
    try:
        for fmt in FORMATS:
            progress("formats", len(seconds), len(FORMATS))
            began, began_cpu = time.perf_counter(), time.process_time()
            with sessions() as db:
                workspace = accounts.get_workspace_by_slug(db, slug=DEMO_SLUG)
                if workspace is None:
                    msg = f"the cached database {url} has no demo workspace: delete it"
                    raise BenchError(msg)
                now = datetime.now(UTC)
                title = i18n.get_translations(language).gettext(template.title)
                document = build_report(
                    db,
                    workspace=workspace,
                    spec=ReportSpec(title, template.section_keys),
                    period=report_period(
                        template.period_kind,
                        template.comparison,
                        today=today_in(workspace.timezone, now),
                    ),
                    now=now,
                )
                db.rollback()  # a benchmark leaves the cached database as it found it
            build_seconds[fmt] = time.perf_counter() - began
            contents = {section.key: _contents(section) for section in document.sections}
            broken = [key for key, held in contents.items() if held.startswith("failed")]
            if broken:
                msg = f"the sections {', '.join(broken)} failed; their errors are in the log"
                raise BenchError(msg)
            render_file(document, fmt, language)
            seconds[fmt] = time.perf_counter() - began
            cpu_seconds[fmt] = time.process_time() - began_cpu
        progress("formats", len(FORMATS), len(FORMATS))
    finally:
        engine.dispose()
    return ReportBenchResult(
        seconds,
        peak_rss_mb(),
        cpu_seconds,
        build_seconds=build_seconds,
        sections=contents,
        database_built=built,
        database_url=make_url(url).render_as_string(hide_password=True),
    )
