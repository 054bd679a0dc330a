"""The report as a PowerPoint deck (python-pptx): a title slide in the brand's look, a slide
per section (narrative, comment, figures), a slide per chart with a native, editable chart,
and tables as native tables; optionally on the brand's own template (a .pptx master).

python-pptx's ``font.name`` sets only the Latin typeface: PowerPoint draws Chinese with the
East-Asian one (``a:ea``), which every run here names too, else Chinese falls back to
whatever the viewer's Office picks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml import parse_xml
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.util import Inches, Pt

from guanxi.core import report_text
from guanxi.core.errors import N_, UserError
from guanxi.core.report import Chart, ChartKind, Figure, ReportSection, Table, Unit
from guanxi.core.report_text import translate
from guanxi.report.document import ReportDocument
from guanxi.report.files import labels

# The typefaces named on every run: Office's defaults on Windows, with Chinese in YaHei
# (macOS substitutes PingFang SC for it).
LATIN_FONT = "Calibri"
EAST_ASIAN_FONT = "Microsoft YaHei"
WIDE = (Inches(13.333), Inches(7.5))
TABLE_ROWS_A_SLIDE = 12
# Excel's number format for a chart's values, by unit (the chart's data sheet keeps numbers).
_NUMBER_FORMATS = {
    Unit.COUNT: "#,##0",
    Unit.PERCENT: "0.0%",
    Unit.MONEY: "#,##0",
    Unit.DURATION: "#,##0",
    Unit.RANK: "0",
}
_CHART_TYPES = {
    ChartKind.LINE: XL_CHART_TYPE.LINE,
    ChartKind.BAR: XL_CHART_TYPE.COLUMN_CLUSTERED,
    ChartKind.STACKED_BAR: XL_CHART_TYPE.COLUMN_STACKED,
    ChartKind.HORIZONTAL_BAR: XL_CHART_TYPE.BAR_CLUSTERED,
    ChartKind.PIE: XL_CHART_TYPE.PIE,
}
_MARKERS_UP_TO = 31
_Item = TypeVar("_Item")
_TONES = {"good": RGBColor(0x2E, 0x7D, 0x32), "bad": RGBColor(0xC6, 0x28, 0x28)}


def render_pptx(
    document: ReportDocument, language: str, template_pptx: bytes | None = None
) -> bytes:
    """``document`` as a .pptx deck in ``language``, on ``template_pptx``'s masters and
    layouts when given (its own slides are left out)."""
    deck = _open(template_pptx)
    look = _Look(
        document, language, deck, template_typefaces(deck) if template_pptx else Typefaces()
    )
    look.title_slide()
    for section in document.sections:
        look.section(section)
    output = io.BytesIO()
    deck.save(output)
    return output.getvalue()


def _open(template_pptx: bytes | None) -> Any:
    if template_pptx is None:
        deck = Presentation()
        deck.slide_width, deck.slide_height = WIDE
        return deck
    try:
        deck = Presentation(io.BytesIO(template_pptx))
    except Exception as error:  # python-pptx raises zipfile, KeyError and lxml errors alike
        raise UserError(
            N_("The PowerPoint template could not be read ({error}): upload a .pptx file."),
            error=type(error).__name__,
        ) from None
    _drop_slides(deck)
    return deck


def _drop_slides(deck: Any) -> None:
    """Remove the template's own slides, keeping its masters and layouts."""
    slide_ids = deck.slides._sldIdLst
    for slide_id in list(slide_ids):
        deck.part.drop_rel(slide_id.rId)
        slide_ids.remove(slide_id)


def _colour(hex_colour: str) -> RGBColor:
    """An RGB colour from "#rrggbb" (checked by ``labels.brand_colours``)."""
    return RGBColor.from_string(hex_colour[1:].upper())


def east_asian(
    font: Any, language: str, latin: str = LATIN_FONT, east: str = EAST_ASIAN_FONT
) -> None:
    """Name the Latin and the East-Asian typeface on ``font`` (a run's, a chart's)."""
    font.name = latin
    properties = font._rPr
    ea = properties.find(qn("a:ea"))
    if ea is None:
        ea = OxmlElement("a:ea")
        properties.find(qn("a:latin")).addnext(ea)  # the schema's order: latin, ea, cs
    ea.set("typeface", east)
    if language == "zh_Hans":
        properties.set("lang", "zh-CN")
        properties.set("altLang", "en-US")


@dataclass(frozen=True)
class Typefaces:
    """The typefaces a deck names: its body's and its headings', Latin and East-Asian."""

    latin: str = LATIN_FONT
    east: str = EAST_ASIAN_FONT
    heading_latin: str = LATIN_FONT
    heading_east: str = EAST_ASIAN_FONT


def template_typefaces(deck: Any) -> Typefaces:
    """A brand template's own fonts, named through its theme ("+mn-lt": the theme's body
    font), and YaHei for Chinese where the theme names no East-Asian font."""
    theme = deck.slide_masters[0].part.part_related_by(RT.THEME)
    fonts = parse_xml(theme.blob).find(".//" + qn("a:fontScheme"))

    def named(kind: str) -> bool:
        found = fonts.find(f"{qn(kind)}/{qn('a:ea')}") if fonts is not None else None
        return found is not None and bool(found.get("typeface"))

    return Typefaces(
        latin="+mn-lt",
        east="+mn-ea" if named("a:minorFont") else EAST_ASIAN_FONT,
        heading_latin="+mj-lt",
        heading_east="+mj-ea" if named("a:majorFont") else EAST_ASIAN_FONT,
    )


class _Look:
    """Places the document's parts on slides, in the brand's colours."""

    def __init__(
        self, document: ReportDocument, language: str, deck: Any, typefaces: Typefaces
    ) -> None:
        self.document = document
        self.typefaces = typefaces
        self.language = language
        self.deck = deck
        self.width = int(deck.slide_width)
        self.height = int(deck.slide_height)
        self.margin = int(Inches(0.5))
        self.primary, self.accent = map(_colour, labels.brand_colours(document.brand))
        self.logo = labels.logo(document.brand)
        layouts = list(deck.slide_layouts)
        self.cover_layout = _layout(layouts, {PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.TITLE})
        self.body_layout = _layout(layouts, {PP_PLACEHOLDER.TITLE}, fewest=True)

    def _text(
        self,
        frame: Any,
        lines: Iterable[str],
        size: float,
        *,
        bold: bool = False,
        colour: RGBColor | None = None,
        heading: bool = False,
    ) -> None:
        frame.word_wrap = True
        for index, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            paragraph.text = line
            self._style(paragraph.runs, size, bold=bold, colour=colour, heading=heading)

    def _slide(self, title: str) -> Any:
        slide = self.deck.slides.add_slide(self.body_layout)
        heading = slide.shapes.title
        if heading is None:
            heading = slide.shapes.add_textbox(0, 0, 1, 1)
        heading.left, heading.top = self.margin, int(Inches(0.3))
        heading.width, heading.height = (
            self.width - 2 * self.margin - int(Inches(1.2)),
            int(Inches(0.9)),
        )
        heading.text_frame.clear()
        self._text(heading.text_frame, [title], 28, bold=True, colour=self.primary, heading=True)
        bar = slide.shapes.add_shape(
            MSO_SHAPE.RECTANGLE, self.margin, int(Inches(1.2)), int(Inches(1.5)), int(Pt(4))
        )
        bar.fill.solid()
        bar.fill.fore_color.rgb = self.accent
        bar.line.fill.background()
        self._logo(slide, int(Inches(0.6)))
        return slide

    def _logo(self, slide: Any, height: int) -> None:
        logo = self.logo
        if logo is not None:
            picture = slide.shapes.add_picture(io.BytesIO(logo), 0, 0, height=height)
            widest = 3 * height
            if picture.width > widest:  # a wide logo keeps clear of the title
                picture.height = int(picture.height * widest / picture.width)
                picture.width = widest
            picture.left = self.width - self.margin - int(picture.width)
            picture.top = int(Inches(0.35))

    def title_slide(self) -> None:
        """The cover: the report's title, the brand, the period, on the brand's colour."""
        document, language = self.document, self.language
        slide = self.deck.slides.add_slide(self.cover_layout)
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, self.width, int(Inches(0.35)))
        band.fill.solid()
        band.fill.fore_color.rgb = self.primary
        band.line.fill.background()
        title = slide.shapes.title or slide.shapes.add_textbox(0, 0, 1, 1)
        title.left, title.top = self.margin, int(self.height * 0.3)
        title.width, title.height = self.width - 2 * self.margin, int(Inches(1.4))
        title.text_frame.clear()
        self._text(
            title.text_frame, [document.title], 36, bold=True, colour=self.primary, heading=True
        )
        lines = [
            document.brand.name,
            labels.period(document, language),
            labels.generated(document, language),
        ]
        subtitle = next(
            (
                shape
                for shape in slide.placeholders
                if shape.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE
            ),
            None,
        )
        if subtitle is None:
            subtitle = slide.shapes.add_textbox(0, 0, 1, 1)
        subtitle.left, subtitle.top = self.margin, int(self.height * 0.3) + int(Inches(1.6))
        subtitle.width, subtitle.height = self.width - 2 * self.margin, int(Inches(1.6))
        subtitle.text_frame.clear()
        self._text(subtitle.text_frame, lines, 18, colour=RGBColor(0x44, 0x44, 0x44))
        for paragraph in title.text_frame.paragraphs + subtitle.text_frame.paragraphs:
            paragraph.alignment = PP_ALIGN.LEFT
        self._logo(slide, int(Inches(1.0)))

    def section(self, section: ReportSection) -> None:
        """The section's slide, then a slide per chart and per part of each table."""
        language = self.language
        slide = self._slide(translate(section.title, language))
        top = int(Inches(1.5))
        if section.empty is not None:
            box = slide.shapes.add_textbox(
                self.margin, top, self.width - 2 * self.margin, int(Inches(1))
            )
            self._text(box.text_frame, [translate(section.empty, language)], 18)
            return
        found = labels.blocks(section)
        lines = [translate(paragraph.text, language) for paragraph in found.paragraphs]
        comment = self.document.comments.get(section.key, "").strip()
        half = (self.width - 3 * self.margin) // 2
        text_width = half if found.figures else self.width - 2 * self.margin
        box = slide.shapes.add_textbox(
            self.margin, top, text_width, self.height - top - self.margin
        )
        self._text(box.text_frame, lines, 16)
        if comment:
            heading = box.text_frame.add_paragraph()
            heading.text = translate(labels.COMMENT, language)
            self._style(heading.runs, 14, bold=True, colour=self.primary)
            remark = box.text_frame.add_paragraph()
            remark.text = comment
            self._style(remark.runs, 14)
        figures = list(found.figures)
        pages = _pages(figures, TABLE_ROWS_A_SLIDE)
        for number_, page in enumerate(pages, start=1):
            if number_ > 1:  # more figures than a slide holds go on slides of their own
                title = translate(section.title, language)
                slide = self._slide(f"{title} ({number_}/{len(pages)})")
            self._figures(slide, page, 2 * self.margin + half, top, half)
        for chart in found.charts:
            self._chart(chart)
        for table in found.tables:
            self._table(table)

    def _style(
        self,
        runs: Iterable[Any],
        size: float,
        *,
        bold: bool = False,
        colour: RGBColor | None = None,
        heading: bool = False,
    ) -> None:
        faces = self.typefaces
        latin, east = (
            (faces.heading_latin, faces.heading_east) if heading else (faces.latin, faces.east)
        )
        for run in runs:
            run.font.size = Pt(size)
            run.font.bold = bold
            if colour is not None:
                run.font.color.rgb = colour
            east_asian(run.font, self.language, latin, east)

    def _grid(
        self,
        slide: Any,
        headings: list[str],
        rows: list[list[str]],
        left: int,
        top: int,
        width: int,
        numeric: list[bool],
    ) -> Any:
        """A native table: a header row in the brand's colour, then ``rows``."""
        row_height = int(Inches(0.38))
        shape = slide.shapes.add_table(
            len(rows) + 1, len(headings), left, top, width, row_height * (len(rows) + 1)
        )
        grid = shape.table
        for column, heading in enumerate(headings):
            cell = grid.cell(0, column)
            cell.text = heading
            cell.fill.solid()
            cell.fill.fore_color.rgb = self.primary
            self._style(
                cell.text_frame.paragraphs[0].runs, 12, bold=True, colour=RGBColor(0xFF, 0xFF, 0xFF)
            )
        for row_index, values in enumerate(rows, start=1):
            for column, value in enumerate(values):
                cell = grid.cell(row_index, column)
                cell.text = value
                paragraph = cell.text_frame.paragraphs[0]
                if numeric[column]:
                    paragraph.alignment = PP_ALIGN.RIGHT
                self._style(paragraph.runs, 11)
        return grid

    def _figures(self, slide: Any, figures: list[Figure], left: int, top: int, width: int) -> None:
        language = self.language
        headings = [
            translate(h, language)
            for h in (labels.FIGURE, labels.THIS_PERIOD, labels.PREVIOUS_PERIOD, labels.CHANGE)
        ]
        lines = [labels.figure_line(figure, language) for figure in figures]
        rows = [[line.label, line.value, line.previous, line.change] for line in lines]
        grid = self._grid(slide, headings, rows, left, top, width, [False, True, True, True])
        for row, line in enumerate(lines, start=1):
            if line.tone:
                for run in grid.cell(row, 3).text_frame.paragraphs[0].runs:
                    run.font.color.rgb = _TONES[line.tone]

    def _chart(self, chart: Chart) -> None:
        language = self.language
        slide = self._slide(translate(chart.title, language))
        if not labels.has_data(chart):
            box = slide.shapes.add_textbox(
                self.margin, int(Inches(1.5)), self.width - 2 * self.margin, int(Inches(1))
            )
            self._text(box.text_frame, [translate(labels.NO_DATA, language)], 18)
            return
        data = CategoryChartData(number_format=_NUMBER_FORMATS[chart.unit])
        data.categories = [
            report_text.category(category, language) for category in chart.categories
        ]
        shown = chart.series[:1] if chart.kind is ChartKind.PIE else chart.series
        for series in shown:
            data.add_series(translate(series.name, language), series.values)
        top = int(Inches(1.45))
        frame = slide.shapes.add_chart(
            _CHART_TYPES[chart.kind],
            self.margin,
            top,
            self.width - 2 * self.margin,
            self.height - top - int(Inches(0.4)),
            data,
        )
        native = frame.chart
        native.font.size = Pt(12)
        east_asian(native.font, language, self.typefaces.latin, self.typefaces.east)
        native.has_legend = len(shown) > 1 or chart.kind is ChartKind.PIE
        if native.has_legend:
            native.legend.position = XL_LEGEND_POSITION.BOTTOM
            native.legend.include_in_layout = False
        if chart.kind is ChartKind.PIE:
            return
        if chart.kind is ChartKind.HORIZONTAL_BAR:
            native.category_axis.reverse_order = True  # a ranking reads from the top
        colours = (self.primary, self.accent)
        for index, plotted in enumerate(native.plots[0].series):
            if index >= len(colours):
                break
            if chart.kind is ChartKind.LINE:
                plotted.format.line.color.rgb = colours[index]
                plotted.smooth = False
            else:
                plotted.format.fill.solid()
                plotted.format.fill.fore_color.rgb = colours[index]
        if chart.kind is ChartKind.LINE and len(chart.categories) > _MARKERS_UP_TO:
            for plotted in native.plots[0].series:
                plotted.marker.style = XL_MARKER_STYLE.NONE
        native.has_title = False

    def _table(self, table: Table) -> None:
        language = self.language
        title = translate(table.title, language)
        headings = [translate(column.heading, language) for column in table.columns]
        numeric = [column.unit is not None for column in table.columns]
        rows = [
            [
                labels.clip(report_text.cell(value, column.unit, language), 90)  # a row stays low
                for column, value in zip(table.columns, row, strict=False)
            ]
            for row in table.rows
        ]
        pages = _pages(rows, TABLE_ROWS_A_SLIDE)
        for number_, page in enumerate(pages or [[]], start=1):
            heading = title if len(pages) <= 1 else f"{title} ({number_}/{len(pages)})"
            slide = self._slide(heading)
            top = int(Inches(1.5))
            self._grid(
                slide, headings, page, self.margin, top, self.width - 2 * self.margin, numeric
            )
            if number_ == len(pages) and table.more:
                box = slide.shapes.add_textbox(
                    self.margin,
                    self.height - int(Inches(0.8)),
                    self.width - 2 * self.margin,
                    int(Inches(0.4)),
                )
                self._text(box.text_frame, [labels.more_rows(table.more, language)], 11)


def _pages(items: list[_Item], size: int) -> list[list[_Item]]:
    """``items`` in runs of at most ``size``, one a slide."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def _layout(layouts: list[Any], kinds: set[Any], *, fewest: bool = False) -> Any:
    """The first layout with a title placeholder of ``kinds`` (with the fewest other content
    placeholders when ``fewest``), else the last layout (usually a blank one)."""
    furniture = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
    fitting = []
    for layout in layouts:
        types = [shape.placeholder_format.type for shape in layout.placeholders]
        if any(kind in kinds for kind in types):
            others = sum(1 for kind in types if kind not in kinds and kind not in furniture)
            fitting.append((others if fewest else 0, layout))
    if not fitting:
        return layouts[-1]
    return min(fitting, key=lambda pair: pair[0])[1]
