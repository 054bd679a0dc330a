"""Every format makes a file of a report at its edges: an empty section, a chart without
data, a table without rows, unknown values, a brand colour that is not one."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from guanxi.core.report import (
    Chart,
    ChartKind,
    Column,
    Figure,
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
