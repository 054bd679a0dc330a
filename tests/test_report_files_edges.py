"""Every format makes a file of a report at its edges: an empty section, a chart without
data, a table without rows, unknown values, a brand colour that is not one."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from guanxi.core.report import (
    Chart,
    ChartKind,
    Column,
    Figure,
    Name,
    Number,
    ReportSection,
    Series,
    Table,
    Text,
    Unit,
)
from guanxi.devtools.bench.report import synthetic_document
from guanxi.report.document import Brand
from guanxi.report.files import FORMATS, render_file


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_at_its_edges_still_makes_a_file(fmt: str) -> None:
    base = synthetic_document(sections=1, charts=0, points=2, rows=1)
    edges = ReportSection(
        key="edges",
        title=Text("Edges"),
        blocks=(
            Figure("unknown", Text("Unknown"), Number(None), Number(None)),
            Figure("from_zero", Text("From zero"), Number(5), Number(0)),
            Chart("nothing", Text("No data"), ChartKind.LINE, (), ()),
            Chart("no_series", Text("No series"), ChartKind.BAR, (date(2026, 11, 1),), ()),
            Chart(
                "gaps", Text("Gaps"), ChartKind.PIE, ("a", "b"), (Series(Text("s"), (None, None)),)
            ),
            Chart(
                "negative",
                Text("Negative"),
                ChartKind.STACKED_BAR,
                ("a", "b"),
                (Series(Text("s"), (-3.0, None)), Series(Text("t"), (2.0, -1.0))),
            ),
            Table("empty", Text("Empty"), (Column(Text("Name")), Column(Text("N"), Unit.RANK)), ()),
            Table("ragged", Text("Ragged"), (Column(Text("Name")),), (("x", 1, None),)),
        ),
    )
    empty = ReportSection(key="none", title=Text("Nothing"), empty=Text("No account is connected."))
    document = dataclasses.replace(
        base,
        brand=Brand(
            name="B",
            logo_png=b"not a picture",
            primary_colour="red; } body { display: none",
            accent_colour="",
        ),
        sections=(edges, empty),
    )
    made = render_file(document, fmt, "en")
    assert made[:4] == (b"%PDF" if fmt == "pdf" else b"PK\x03\x04")


def test_names_messages_and_days_are_written_in_the_reports_language() -> None:
    """A platform's name, a message ("Positive") and a day as a chart's category or a table's
    cell read as the report's language writes them, in every format."""
    base = synthetic_document(sections=1, charts=0, points=2, rows=1)
    weibo = Name("Weibo", "微博")
    named = ReportSection(
        key="named",
        title=Text("Named"),
        blocks=(
            Chart(
                "by_platform",
                Text("By platform"),
                ChartKind.BAR,
                (weibo, Text("Positive"), date(2026, 11, 2)),
                (Series(Text("s"), (3.0, 2.0, 1.0)),),
            ),
            Table(
                "people",
                Text("People"),
                (
                    Column(Text("Platform")),
                    Column(Text("Since")),
                    Column(Text("Posts"), Unit.COUNT),
                ),
                ((weibo, date(2026, 11, 2), 4),),
            ),
        ),
    )
    document = dataclasses.replace(base, sections=(named,))
    for language, name in (("en", "Weibo"), ("zh_Hans", "微博")):
        sheets = load_workbook(io.BytesIO(render_file(document, "xlsx", language)))
        cells = {cell.value for sheet in sheets for row in sheet.iter_rows() for cell in row}
        assert name in cells
        assert datetime(2026, 11, 2) in cells  # a real date cell, not text
        deck = Presentation(io.BytesIO(render_file(document, "pptx", language)))
        categories = [
            list(shape.chart.plots[0].categories)
            for slide in deck.slides
            for shape in slide.shapes
            if shape.has_chart
        ]
        assert categories
        assert categories[0][0] == name
        assert render_file(document, "pdf", language).startswith(b"%PDF")
