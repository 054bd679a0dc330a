"""A report in one language as the web page (and the HTML file) shows it: texts translated,
numbers written as the language writes them, each chart as an ECharts option."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from guanxi.core.report import Chart, Figure, Paragraph, ReportSection, Table
from guanxi.core.report_text import BABEL_LOCALES, cell, translate
from guanxi.report.build import failed
from guanxi.report.document import ReportDocument
from guanxi.report.files.labels import brand_colours, figure_line, logo_data_uri
from guanxi.web.charts import echarts_option


@dataclass(frozen=True)
class FigureView:
    label: str
    value: str
    previous: str  # "" without a comparison
    change: str
    tone: str  # good, bad or flat: the change coloured by whether a rise is good news
    note: str


@dataclass(frozen=True)
class ChartView:
    title: str
    option: dict[str, Any]  # ECharts', drawn by static/charts.js


@dataclass(frozen=True)
class TableView:
    title: str
    headings: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    more: int


BlockView = ChartView | TableView


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    empty: str  # why there is nothing to show ("" when there is)
    failed: bool
    narrative: list[str]  # the sentences that open the section
    comment: str  # the manager's, under the narrative
    figures: list[FigureView]
    blocks: list[BlockView]  # charts and tables, in the section's order


@dataclass(frozen=True)
class ReportView:
    title: str
    brand: str
    primary_colour: str
    accent_colour: str
    logo: str  # a data: address, "" without a logo
    period: str
    comparison: str  # "" without one
    sections: list[SectionView]
    language: str


def day_label(day: date, language: str) -> str:
    """A day as the language writes it: "Dec 7, 2026" / "2026年12月7日"."""
    return format_date(day, "medium", locale=BABEL_LOCALES[language])


def period_label(start: date, end: date, language: str) -> str:
    """ "Nov 30, 2026 – Dec 6, 2026"."""
    return f"{day_label(start, language)} – {day_label(end, language)}"


def _figure(figure: Figure, language: str) -> FigureView:
    line = figure_line(figure, language)
    return FigureView(
        label=line.label,
        value=line.value,
        previous=line.previous,
        change=line.change,
        tone=line.tone or "flat",
        note=translate(figure.note, language) if figure.note else "",
    )


def _table(table: Table, language: str) -> TableView:
    units = [column.unit for column in table.columns]
    return TableView(
        title=translate(table.title, language),
        headings=[translate(column.heading, language) for column in table.columns],
        numeric=[unit is not None for unit in units],
        rows=[
            [cell(value, unit, language) for value, unit in zip(row, units, strict=False)]
            for row in table.rows
        ],
        more=table.more,
    )


def _section(
    section: ReportSection, comment: str, language: str, colours: Sequence[str]
) -> SectionView:
    narrative: list[str] = []
    figures: list[FigureView] = []
    blocks: list[BlockView] = []
    for block in section.blocks:
        if isinstance(block, Figure):
            figures.append(_figure(block, language))
        elif isinstance(block, Chart):
            blocks.append(
                ChartView(
                    translate(block.title, language), echarts_option(block, language, colours)
                )
            )
        elif isinstance(block, Table):
            blocks.append(_table(block, language))
        elif isinstance(block, Paragraph):
            narrative.append(translate(block.text, language))
    return SectionView(
        key=section.key,
        title=translate(section.title, language),
        empty=translate(section.empty, language) if section.empty else "",
        failed=failed(section),
        narrative=narrative,
        comment=comment,
        figures=figures,
        blocks=blocks,
    )


def present(document: ReportDocument, language: str) -> ReportView:
    """``document`` in ``language``, as the report's page shows it."""
    comparison = ""
    if document.compare_start is not None and document.compare_end is not None:
        comparison = period_label(document.compare_start, document.compare_end, language)
    colours = brand_colours(document.brand)
    return ReportView(
        title=document.title,
        brand=document.brand.name,
        primary_colour=colours[0],
        accent_colour=colours[1],
        logo=logo_data_uri(document.brand),
        period=period_label(document.start, document.end, language),
        comparison=comparison,
        sections=[
            _section(section, document.comments.get(section.key, ""), language, colours)
            for section in document.sections
        ],
        language=language,
    )
