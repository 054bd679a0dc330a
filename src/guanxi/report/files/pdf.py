"""The report as a PDF: A4 landscape, a cover in the brand's look, a table of contents with
page numbers, page numbers on every page, charts as vector SVG, Chinese in an embedded CJK font.

The document is written as HTML with inline SVG charts and laid out by WeasyPrint (why this
renderer: docs/reports.md). WeasyPrint fetches nothing: the logo comes inline as a data URL
and any other address is refused, so a report never reaches the network or the disk.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from PIL import ImageFile

from guanxi.core import report_text
from guanxi.core.errors import N_, UserError
from guanxi.core.report import ReportSection, Table
from guanxi.core.report_text import translate
from guanxi.report.document import ReportDocument
from guanxi.report.files import fonts, labels
from guanxi.report.files.svg import chart_svg

_HERE = Path(__file__).parent
_LATIN_FONTS = ('"Noto Sans"', '"DejaVu Sans"', "sans-serif")
_environment = Environment(
    loader=FileSystemLoader(_HERE),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _css_string(text: str) -> Markup:
    """``text`` as the inside of a CSS string (the page footer's)."""
    cleaned = "".join(ch for ch in text if ch.isprintable())
    return Markup(cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c "))  # noqa: S704 - escaped for CSS just above


def report_html(document: ReportDocument, language: str, font_family: str | None) -> str:
    """The report as one HTML page with inline SVG charts, laid out for print."""
    brand = document.brand
    primary, accent = labels.brand_colours(brand)
    families = (f'"{font_family}"', *_LATIN_FONTS) if font_family else _LATIN_FONTS
    # Latin text first in the Latin face when the report is English (CJK fonts' Latin is wide).
    ordered = (*_LATIN_FONTS[:1], *families) if language == "en" and font_family else families
    svg_font = ", ".join(family.replace('"', "'") for family in ordered)
    sections = [
        _section(section, index, document, language, (primary, accent), svg_font)
        for index, section in enumerate(document.sections, start=1)
    ]
    logo = labels.logo_data_uri(brand)
    logo_width, logo_height = labels.logo_box(brand, 70, 28)  # mm, the cover's corner
    return _environment.get_template("pdf.html").render(
        lang="zh-CN" if language == "zh_Hans" else "en",
        document=document,
        sections=sections,
        primary=Markup(primary),  # noqa: S704 - checked as #rrggbb
        accent=Markup(accent),  # noqa: S704 - checked as #rrggbb
        fonts=Markup(", ".join(ordered)),  # noqa: S704 - our own font names
        footer=_css_string(f"{brand.name} · {document.title}"),
        logo=logo,
        logo_size=Markup(f"width: {logo_width}mm; height: {logo_height}mm"),  # noqa: S704 - two numbers
        period=labels.period(document, language),
        made=labels.generated(document, language),
        contents=translate(labels.CONTENTS, language),
        comment_label=translate(labels.COMMENT, language),
        no_data=translate(labels.NO_DATA, language),
    )


def _section(
    section: ReportSection,
    index: int,
    document: ReportDocument,
    language: str,
    colours: tuple[str, str],
    svg_font: str,
) -> dict[str, Any]:
    found = labels.blocks(section)
    empty = section.empty is not None
    return {
        "anchor": f"section-{index}",
        "title": translate(section.title, language),
        "empty": translate(section.empty, language) if section.empty is not None else "",
        "paragraphs": [] if empty else [translate(p.text, language) for p in found.paragraphs],
        "comment": document.comments.get(section.key, "").strip(),
        "figures": []
        if empty
        else [labels.figure_line(figure, language) for figure in found.figures],
        "charts": []
        if empty
        else [
            {
                "title": translate(chart.title, language),
                "svg": _data_url(chart_svg(chart, language, colours=colours, font_family=svg_font))
                if labels.has_data(chart)
                else "",
            }
            for chart in found.charts
        ],
        "tables": [] if empty else [_table(table, language) for table in found.tables],
    }


def _data_url(svg: str) -> str:
    """The chart as an image's address: WeasyPrint draws it as vectors, its texts as text,
    without styling each of its shapes as part of the page (a third of the time)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _table(table: Table, language: str) -> dict[str, Any]:
    numeric = [column.unit is not None for column in table.columns]
    return {
        "title": translate(table.title, language),
        "headings": [
            (translate(column.heading, language), is_number)
            for column, is_number in zip(table.columns, numeric, strict=True)
        ],
        "rows": [
            [
                (report_text.cell(value, column.unit, language), column.unit is not None)
                for column, value in zip(table.columns, row, strict=False)
            ]
            for row in table.rows
        ],
        "more": labels.more_rows(table.more, language) if table.more else "",
    }


def render_pdf(document: ReportDocument, language: str) -> bytes:
    """``document`` as a PDF in ``language``; a clear error when it has Chinese text and no
    Chinese font is installed."""
    font = fonts.find_cjk_font()
    html = report_html(document, language, font.family if font is not None else None)
    if font is None and (language == "zh_Hans" or fonts.has_cjk(html)):
        fonts.require_cjk_font()
    truncated_images = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML  # noqa: PLC0415 - WeasyPrint and Pango (~0.4 s), loaded to make a PDF only
        from weasyprint.urls import URLFetcher  # noqa: PLC0415 - as above
    except (OSError, ImportError) as missing:  # WeasyPrint loads Pango when imported
        raise UserError(
            N_(
                "PDF reports need the Pango text library, which this server lacks ({detail}). "
                "Install it (Debian and Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0) "
                "and try again; PowerPoint and Excel reports work without it."
            ),
            detail=str(missing)[:200],
        ) from missing
    finally:
        # Importing WeasyPrint makes Pillow accept truncated images in the whole process,
        # which would let a damaged upload through the media library's check afterwards.
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_images

    # Inline data only (the logo): never a file or the network.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    written: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return written
