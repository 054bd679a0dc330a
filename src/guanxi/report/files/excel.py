"""The report as an Excel workbook (XlsxWriter): a summary sheet, then one sheet per section
with its figures as number cells, its tables, and each chart's data beside a native chart."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import xlsxwriter
from PIL import Image
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from guanxi.core import report_text
from guanxi.core.report import (
    Chart,
    ChartKind,
    Figure,
    Name,
    Number,
    ReportSection,
    Table,
    Text,
    Unit,
)
from guanxi.core.report_text import translate
from guanxi.report.document import ReportDocument
from guanxi.report.files import labels

SHEET_NAME_MAX = 31
# Characters Excel refuses in a sheet's name.
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Excel reserves this name for its own use.
_RESERVED = {"history"}

# Number formats by unit; a duration is stored as days (Excel's time) and shown as h:mm:ss.
_FORMATS = {
    Unit.COUNT: "#,##0.##",
    Unit.PERCENT: "0.0%",
    Unit.MONEY: "#,##0.00",
    Unit.DURATION: "[h]:mm:ss",
    Unit.RANK: "0",
}
_CHANGE_RATIO = "+0.0%;-0.0%;0.0%"
_CHANGE_POINTS = '+0.0" pts";-0.0" pts";0.0" pts"'
_CHART_TYPES: dict[ChartKind, dict[str, str]] = {
    ChartKind.LINE: {"type": "line"},
    ChartKind.BAR: {"type": "column"},
    ChartKind.STACKED_BAR: {"type": "column", "subtype": "stacked"},
    ChartKind.HORIZONTAL_BAR: {"type": "bar"},
    ChartKind.PIE: {"type": "pie"},
}
_SECONDS_A_DAY = 86_400
_LOGO_HEIGHT = 64  # pixels, at most
_CHART_WIDTH_COLUMNS = 9
_CHART_HEIGHT_ROWS = 18


def sheet_names(titles: list[str]) -> list[str]:
    """A valid, unique (case-insensitively) sheet name for each of ``titles``, in order."""
    taken: set[str] = set()
    names = []
    for title in titles:
        base = _FORBIDDEN.sub(" ", title).strip().strip("'").strip() or "Sheet"
        if base.lower() in _RESERVED:
            base = f"{base} 1"
        name = base[:SHEET_NAME_MAX]
        counter = 2
        while name.lower() in taken:
            suffix = f" ({counter})"
            name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
            counter += 1
        taken.add(name.lower())
        names.append(name)
    return names


def excel_value(value: float | None, unit: Unit) -> float | None:
    """The cell's value for a number in ``unit`` (a duration in days, Excel's time unit)."""
    if value is None:
        return None
    return value / _SECONDS_A_DAY if unit is Unit.DURATION else value


class _Styles:
    """The workbook's cell formats, made once."""

    def __init__(self, book: Workbook, document: ReportDocument, chinese: bool) -> None:
        font = {"font_name": "Microsoft YaHei" if chinese else "Calibri", "font_size": 10}
        primary, accent = labels.brand_colours(document.brand)
        self._book = book
        self._font = font
        self.title = book.add_format({**font, "bold": True, "font_size": 18, "font_color": primary})
        self.heading = book.add_format(
            {**font, "bold": True, "font_size": 13, "font_color": primary}
        )
        self.column = book.add_format({**font, "bold": True, "bottom": 1, "bottom_color": accent})
        self.text = book.add_format({**font, "text_wrap": False, "valign": "top"})
        self.note = book.add_format({**font, "italic": True, "font_color": "#666666"})
        self.link = book.add_format({**font, "font_color": "#1f4e9e", "underline": 1})
        self.day = book.add_format({**font, "num_format": "yyyy-mm-dd"})
        self._numbers: dict[str, Format] = {}

    def number(self, unit: Unit | None, currency: str = "") -> Format:
        """The format of a number in ``unit`` (with its currency's code, for money)."""
        if unit is None:
            return self.text
        pattern = _FORMATS[unit]
        if unit is Unit.MONEY and currency:
            pattern = f'{pattern} "{currency}"'
        return self.pattern(pattern)

    def pattern(self, pattern: str) -> Format:
        """The format of a number written with Excel's ``pattern``."""
        if pattern not in self._numbers:
            self._numbers[pattern] = self._book.add_format({**self._font, "num_format": pattern})
        return self._numbers[pattern]


def render_xlsx(document: ReportDocument, language: str) -> bytes:
    """``document`` as an .xlsx workbook in ``language``."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    book.set_properties({"title": document.title, "company": document.brand.name})
    styles = _Styles(book, document, chinese=language == "zh_Hans")
    titles = [translate(section.title, language) for section in document.sections]
    names = sheet_names([translate(labels.SUMMARY, language), *titles])
    summary = book.add_worksheet(names[0])
    _summary(summary, document, language, styles, names[1:], titles)
    for section, name in zip(document.sections, names[1:], strict=True):
        _section(book, book.add_worksheet(name), name, section, document, language, styles)
    book.close()
    return output.getvalue()


def _summary(
    sheet: Worksheet,
    document: ReportDocument,
    language: str,
    styles: _Styles,
    names: list[str],
    titles: list[str],
) -> None:
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 3, 16)
    row = 0
    logo = labels.logo(document.brand)
    if logo is not None:
        with Image.open(io.BytesIO(logo)) as picture:
            scale = min(1.0, _LOGO_HEIGHT / picture.height)
        sheet.set_row(0, _LOGO_HEIGHT * 0.75 + 6)  # points, from pixels
        sheet.insert_image(
            0,
            0,
            "logo.png",
            {
                "image_data": io.BytesIO(logo),
                "y_scale": scale,
                "x_scale": scale,
                "object_position": 3,
            },
        )
        row = 1
    sheet.write(row, 0, document.title, styles.title)
    sheet.write(row + 1, 0, document.brand.name, styles.heading)
    sheet.write(row + 2, 0, labels.period(document, language), styles.text)
    sheet.write(row + 3, 0, labels.generated(document, language), styles.note)
    row += 5
    sheet.write(row, 0, translate(labels.CONTENTS, language), styles.heading)
    for name, title in zip(names, titles, strict=True):
        row += 1
        quoted = name.replace("'", "''")
        sheet.write_url(row, 0, f"internal:'{quoted}'!A1", styles.link, title)
    row += 2
    _figures(
        sheet,
        row,
        [f for s in document.sections for f in labels.blocks(s).figures],
        language,
        styles,
    )


def _section(
    book: Workbook,
    sheet: Worksheet,
    name: str,
    section: ReportSection,
    document: ReportDocument,
    language: str,
    styles: _Styles,
) -> None:
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 8, 16)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # printed as wide as a page, as long as it takes
    sheet.write(0, 0, translate(section.title, language), styles.title)
    row = 2
    if section.empty is not None:
        sheet.write(row, 0, translate(section.empty, language), styles.note)
        return
    found = labels.blocks(section)
    for paragraph in found.paragraphs:
        sheet.write(row, 0, translate(paragraph.text, language), styles.text)
        row += 1
    comment = document.comments.get(section.key, "").strip()
    if comment:
        sheet.write(row, 0, translate(labels.COMMENT, language), styles.column)
        sheet.write(row + 1, 0, comment, styles.text)
        row += 2
    if found.paragraphs or comment:
        row += 1
    if found.figures:
        row = _figures(sheet, row, list(found.figures), language, styles) + 1
    for table in found.tables:
        row = _table(sheet, row, table, language, styles) + 1
    for chart in found.charts:
        row = _chart(book, sheet, name, row, chart, language, styles) + 1


def _figures(
    sheet: Worksheet, row: int, figures: list[Figure], language: str, styles: _Styles
) -> int:
    """The figures as a table from ``row``: label, this period, previous, change. Returns the
    row after it."""
    if not figures:
        return row
    headings = (labels.FIGURE, labels.THIS_PERIOD, labels.PREVIOUS_PERIOD, labels.CHANGE)
    for column, heading in enumerate(headings):
        sheet.write(row, column, translate(heading, language), styles.column)
    for figure in figures:
        row += 1
        current = figure.current
        sheet.write(row, 0, translate(figure.label, language), styles.text)
        _number(sheet, row, 1, current, styles)
        if figure.previous is not None:
            _number(sheet, row, 2, figure.previous, styles)
            change = _change(current, figure.previous)
            if change is not None:
                pattern = _CHANGE_POINTS if current.unit is Unit.PERCENT else _CHANGE_RATIO
                sheet.write_number(row, 3, change, styles.pattern(pattern))
        if figure.note is not None:
            sheet.write(row, 4, translate(figure.note, language), styles.note)
    return row + 1


def _change(current: Number, previous: Number) -> float | None:
    """The change as a number cell holds it: a ratio, or points for percentages."""
    if current.value is None or previous.value is None:
        return None
    if current.unit is Unit.PERCENT:
        return (current.value - previous.value) * 100
    if previous.value == 0:
        return None
    return (current.value - previous.value) / abs(previous.value)


def _number(sheet: Worksheet, row: int, column: int, value: Number, styles: _Styles) -> None:
    written = excel_value(value.value, value.unit)
    if written is None:
        sheet.write_blank(row, column, None, styles.number(value.unit, value.currency))
    else:
        sheet.write_number(row, column, written, styles.number(value.unit, value.currency))


def _table(sheet: Worksheet, row: int, table: Table, language: str, styles: _Styles) -> int:
    sheet.write(row, 0, translate(table.title, language), styles.heading)
    row += 1
    for column, heading in enumerate(table.columns):
        sheet.write(row, column, translate(heading.heading, language), styles.column)
    for values in table.rows:
        row += 1
        for column, (spec, value) in enumerate(zip(table.columns, values, strict=False)):
            _cell(sheet, row, column, value, spec.unit, styles, language)
    if table.more:
        row += 1
        sheet.write(row, 0, labels.more_rows(table.more, language), styles.note)
    return row + 1


def _cell(
    sheet: Worksheet,
    row: int,
    column: int,
    value: str | float | int | Name | Text | date | None,
    unit: Unit | None,
    styles: _Styles,
    language: str,
) -> None:
    if value is None:
        return
    if isinstance(value, date):
        sheet.write_datetime(row, column, value, styles.day)
    elif isinstance(value, str | Name | Text) or unit is None:
        sheet.write_string(row, column, report_text.cell(value, unit, language), styles.text)
    else:
        written = excel_value(float(value), unit)
        sheet.write_number(row, column, written or 0.0, styles.number(unit))


def _chart(
    book: Workbook,
    sheet: Worksheet,
    name: str,
    row: int,
    chart: Chart,
    language: str,
    styles: _Styles,
) -> int:
    """The chart's data from ``row`` (categories, then a column per series) and a native chart
    beside it. Returns the row after both."""
    title = translate(chart.title, language)
    sheet.write(row, 0, title, styles.heading)
    head = row + 1
    sheet.write(head, 0, translate(labels.CATEGORY, language), styles.column)
    series_names = [translate(series.name, language) for series in chart.series]
    for column, series_name in enumerate(series_names, start=1):
        sheet.write(head, column, series_name, styles.column)
    number_format = styles.number(chart.unit)
    for offset, category in enumerate(chart.categories, start=1):
        if isinstance(category, date):
            sheet.write_datetime(head + offset, 0, category, styles.day)
        else:
            sheet.write_string(
                head + offset, 0, report_text.category(category, language), styles.text
            )
    for column, series in enumerate(chart.series, start=1):
        for offset, value in enumerate(series.values, start=1):
            written = excel_value(value, chart.unit)
            if written is not None:
                sheet.write_number(head + offset, column, written, number_format)
    first, last = head + 1, head + max(len(chart.categories), 1)
    if not labels.has_data(chart):
        sheet.write(last + 1, 0, translate(labels.NO_DATA, language), styles.note)
        return last + 2
    native = book.add_chart(_CHART_TYPES[chart.kind])
    for column, series_name in enumerate(series_names, start=1):
        spec: dict[str, Any] = {
            "name": series_name,
            "categories": [name, first, 0, last, 0],
            "values": [name, first, column, last, column],
        }
        if chart.kind is ChartKind.LINE:
            spec["marker"] = {"type": "none"} if len(chart.categories) > 60 else {"type": "circle"}
        native.add_series(spec)
        if chart.kind is ChartKind.PIE:
            break  # a pie shows one series
    if chart.kind is ChartKind.HORIZONTAL_BAR:
        native.set_y_axis({"reverse": True})  # a ranking reads from the top (Excel's y: categories)
    native.set_title({"name": title})
    native.set_legend({"position": "bottom" if len(series_names) > 1 else "none"})
    native.set_size({"width": 64 * _CHART_WIDTH_COLUMNS, "height": 20 * _CHART_HEIGHT_ROWS})
    sheet.insert_chart(head, len(series_names) + 2, native)
    return max(last, head + _CHART_HEIGHT_ROWS) + 1
