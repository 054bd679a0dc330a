"""What every file format writes alike: the report's fixed labels, periods, and the blocks of
a section sorted by kind (chart categories and table cells are written by
``guanxi.core.report_text``, which the pages share)."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from guanxi.core.errors import N_
from guanxi.core.report import (
    Chart,
    Figure,
    Number,
    Paragraph,
    ReportSection,
    Table,
    Text,
)
from guanxi.core.report_text import change, day, number, translate
from guanxi.report.document import Brand, ReportDocument

CONTENTS = Text(N_("Contents"))
SUMMARY = Text(N_("Summary"))
FIGURE = Text(N_("Figure"))
THIS_PERIOD = Text(N_("This period"))
PREVIOUS_PERIOD = Text(N_("Previous period"))
CHANGE = Text(N_("Change"))
COMMENT = Text(N_("Comment"))
CATEGORY = Text(N_("Category"))
NO_DATA = Text(N_("No data for this period."))
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def label(message: str, language: str, **values: str | int | float | Number | Text) -> str:
    """A fixed label of the report (marked with ``N_`` where it is written) in ``language``."""
    return translate(Text(message, values), language)


def period(document: ReportDocument, language: str) -> str:
    """ "1 Nov 2026 – 30 Nov 2026, compared with …" in ``language``."""
    current = label(
        N_("{start} – {end}"),
        language,
        start=day(document.start, language, year=True),
        end=day(document.end, language, year=True),
    )
    if document.compare_start is None or document.compare_end is None:
        return current
    previous = label(
        N_("{start} – {end}"),
        language,
        start=day(document.compare_start, language, year=True),
        end=day(document.compare_end, language, year=True),
    )
    return label(
        N_("{period}, compared with {previous}"), language, period=current, previous=previous
    )


def generated(document: ReportDocument, language: str) -> str:
    """When the report was made, in ``language``."""
    return label(
        N_("Made on {day}"), language, day=day(document.generated_at.date(), language, year=True)
    )


@dataclass(frozen=True)
class Blocks:
    """A section's blocks by kind, each in the section's order."""

    paragraphs: tuple[Paragraph, ...]
    figures: tuple[Figure, ...]
    charts: tuple[Chart, ...]
    tables: tuple[Table, ...]


def blocks(section: ReportSection) -> Blocks:
    """``section``'s blocks sorted by kind (every format lays them out by kind)."""
    found = section.blocks
    return Blocks(
        paragraphs=tuple(b for b in found if isinstance(b, Paragraph)),
        figures=tuple(b for b in found if isinstance(b, Figure)),
        charts=tuple(b for b in found if isinstance(b, Chart)),
        tables=tuple(b for b in found if isinstance(b, Table)),
    )


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def more_rows(count: int, language: str) -> str:
    """The line under a table that was cut at ``MAX_TABLE_ROWS``."""
    return label(N_("{count} more rows are not shown."), language, count=count)


def brand_colours(brand: Brand) -> tuple[str, str]:
    """The brand's primary and accent colours as "#rrggbb", the defaults where one is not
    (a colour goes into style sheets and Office files)."""
    primary = brand.primary_colour if _COLOUR.match(brand.primary_colour) else Brand.primary_colour
    accent = brand.accent_colour if _COLOUR.match(brand.accent_colour) else Brand.accent_colour
    return primary, accent


@dataclass(frozen=True)
class FigureLine:
    """A headline figure as written: its label, value, previous value, change, and whether
    the change is good news ("good"), bad ("bad") or neither ("")."""

    label: str
    value: str
    previous: str
    change: str
    tone: str


def figure_line(figure: Figure, language: str) -> FigureLine:
    """``figure`` written in ``language``."""
    previous = figure.previous
    tone = ""
    current = figure.current.value
    before = previous.value if previous is not None else None
    if current is not None and before is not None and current != before:
        tone = "good" if (current > before) == figure.higher_is_better else "bad"
    return FigureLine(
        label=translate(figure.label, language),
        value=number(figure.current, language),
        previous=number(previous, language) if previous is not None else "",
        change=change(figure.current, previous, language) if previous is not None else "",
        tone=tone,
    )


def has_data(chart: Chart) -> bool:
    """Whether ``chart`` has something to draw (every format says so instead when not)."""
    return bool(chart.categories) and any(
        value is not None for series in chart.series for value in series.values
    )


def logo(brand: Brand) -> bytes | None:
    """The brand's logo when it is a PNG a file can hold, else None (a report without its
    logo beats no report)."""
    if not brand.logo_png:
        return None
    try:
        with Image.open(io.BytesIO(brand.logo_png)) as picture:
            if picture.format != "PNG":
                return None
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return brand.logo_png


def logo_data_uri(brand: Brand) -> str:
    """The brand's logo as a ``data:`` address for a page or the PDF: its vector when it was
    uploaded as an SVG (checked then), else its PNG; "" without a logo."""
    if brand.logo_svg:
        return "data:image/svg+xml;base64," + base64.b64encode(brand.logo_svg).decode("ascii")
    picture = logo(brand)
    return "data:image/png;base64," + base64.b64encode(picture).decode("ascii") if picture else ""


def logo_box(brand: Brand, width: float, height: float) -> tuple[float, float]:
    """The logo's size fitted within ``width`` × ``height`` (any unit), its proportions kept
    (an SVG without a width and height has no size of its own in a PDF: its PNG's is used)."""
    picture = logo(brand)
    if picture is None:
        return width, height
    with Image.open(io.BytesIO(picture)) as opened:
        pixels_wide, pixels_high = opened.size
    scale = min(width / pixels_wide, height / pixels_high)
    return round(pixels_wide * scale, 2), round(pixels_high * scale, 2)
