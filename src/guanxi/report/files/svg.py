"""A report's chart as SVG: the vector drawing the PDF embeds, from the same ``Chart`` the web
page draws with ECharts (and the Office formats as native charts), in ECharts' colours after
the brand's two.

The drawing is plain SVG 1.1 (lines, rectangles, paths, text), so any renderer draws it alike;
its texts stay text, so a PDF's charts can be searched and copied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from guanxi.core.report import PALETTE, Chart, ChartKind, Number, Unit
from guanxi.core.report_text import category, number, translate
from guanxi.report.files.labels import clip

WIDTH = 960
HEIGHT = 420
_TICKS = 5
_MAX_LABELS = 12
_MARKERS_UP_TO = 31
_GRID = "#e0e6f1"
_INK = "#333333"
_MUTED = "#6e7079"


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the drawing: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def chart_svg(
    chart: Chart,
    language: str,
    *,
    colours: Sequence[str] = (),
    font_family: str = "sans-serif",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """``chart`` drawn as an SVG document, its texts in ``language``."""
    palette = (*colours, *PALETTE)
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{escape(font_family)}" '
        f'font-size="13" fill="{_INK}">'
    )
    parts = [opening]
    names = [translate(series.name, language) for series in chart.series]
    if chart.kind is ChartKind.PIE:
        parts += _pie(chart, language, palette, height)
    else:
        legend_room = 34 if len(names) > 1 else 8
        frame = _Frame(72, 16, width - 16, height - 28 - legend_room)
        if chart.kind is ChartKind.HORIZONTAL_BAR:
            frame = _Frame(min(260, width * 0.3), 12, width - 64, height - 24 - legend_room)
            parts += _horizontal(chart, language, palette, frame)
        else:
            parts += _vertical(chart, language, palette, frame)
        if len(names) > 1:
            parts += _legend(names, palette, width, height - 16)
    parts.append("</svg>")
    return "".join(parts)


def _written(chart: Chart, value: float, language: str) -> str:
    return number(Number(value, chart.unit), language)


def nice_ticks(top: float, count: int = _TICKS) -> list[float]:
    """Round axis ticks from 0 to at least ``top`` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    rough = top / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    return [step * index for index in range(math.ceil(top / step - 1e-9) + 1)]


def _extent(chart: Chart) -> tuple[float, float]:
    """The axis's lowest and highest value (stacked bars add up their categories)."""
    if chart.kind is ChartKind.STACKED_BAR:
        sums = [
            sum(v for v in column if v is not None and v > 0)
            for column in zip(*(series.values for series in chart.series), strict=False)
        ]
        lows = [
            sum(v for v in column if v is not None and v < 0)
            for column in zip(*(series.values for series in chart.series), strict=False)
        ]
        return (min(lows, default=0.0), max(sums, default=0.0))
    values = [v for series in chart.series for v in series.values if v is not None]
    return (min(values, default=0.0), max(values, default=0.0))


def _axis(chart: Chart, language: str, frame: _Frame) -> tuple[list[str], float, float]:
    """The value axis's gridlines and labels; returns them and the axis's bottom and top."""
    low, high = _extent(chart)
    ticks = nice_ticks(max(high, 0.0))
    below = nice_ticks(-low) if low < 0 else [0.0]
    bottom, top = -below[-1], ticks[-1]
    span = (top - bottom) or 1.0
    parts = []
    for tick in sorted({*ticks, *(-t for t in below)}):
        y = frame.bottom - (tick - bottom) / span * frame.height
        parts.append(
            f'<line x1="{frame.left:.1f}" y1="{y:.1f}" x2="{frame.right:.1f}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{frame.left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="{_MUTED}">{escape(_written(chart, tick, language))}</text>'
        )
    return parts, bottom, top


def _category_labels(chart: Chart, language: str, frame: _Frame, step: float) -> list[str]:
    count = len(chart.categories)
    every = max(1, math.ceil(count / _MAX_LABELS))
    parts = []
    for index in range(0, count, every):
        x = frame.left + step * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.bottom + 18:.1f}" text-anchor="middle" '
            f'fill="{_MUTED}">{escape(category(chart.categories[index], language))}</text>'
        )
    return parts


def _vertical(chart: Chart, language: str, palette: Sequence[str], frame: _Frame) -> list[str]:
    """A line, bar or stacked bar chart over categories from left to right."""
    parts, bottom, top = _axis(chart, language, frame)
    count = max(len(chart.categories), 1)
    step = frame.width / count

    def y_of(value: float) -> float:
        return frame.bottom - (value - bottom) / ((top - bottom) or 1.0) * frame.height

    zero = y_of(0.0)
    parts.append(
        f'<line x1="{frame.left:.1f}" y1="{zero:.1f}" x2="{frame.right:.1f}" y2="{zero:.1f}" '
        f'stroke="{_MUTED}" stroke-width="1"/>'
    )
    if chart.kind is ChartKind.LINE:
        for index, series in enumerate(chart.series):
            colour = palette[index % len(palette)]
            parts += _line(
                [
                    None if value is None else (frame.left + step * (i + 0.5), y_of(value))
                    for i, value in enumerate(series.values)
                ],
                colour,
                markers=count <= _MARKERS_UP_TO,
            )
    elif chart.kind is ChartKind.STACKED_BAR:
        width = step * 0.7
        ups = [0.0] * count
        downs = [0.0] * count
        for index, series in enumerate(chart.series):
            bars = []
            for i, value in enumerate(series.values[:count]):
                if not value:
                    continue
                base = ups[i] if value > 0 else downs[i]
                end = base + value
                if value > 0:
                    ups[i] = end
                else:
                    downs[i] = end
                bars.append(
                    (
                        frame.left + step * i + (step - width) / 2,
                        y_of(max(base, end)),
                        width,
                        abs(y_of(base) - y_of(end)),
                    )
                )
            parts.append(_bars(bars, palette[index % len(palette)]))
    else:
        groups = max(len(chart.series), 1)
        width = step * 0.8 / groups
        for index, series in enumerate(chart.series):
            bars = [
                (
                    frame.left + step * i + step * 0.1 + width * index,
                    min(y_of(value), zero),
                    width,
                    abs(y_of(value) - zero),
                )
                for i, value in enumerate(series.values[:count])
                if value is not None
            ]
            parts.append(_bars(bars, palette[index % len(palette)]))
    return parts + _category_labels(chart, language, frame, step)


def _bars(bars: list[tuple[float, float, float, float]], colour: str) -> str:
    """A series' bars (x, y, width, height) as one path: a renderer draws one shape, not
    hundreds."""
    outline = "".join(
        f"M{x:.1f},{y:.1f}h{max(width, 0.5):.1f}v{height:.1f}h{-max(width, 0.5):.1f}z"
        for x, y, width, height in bars
    )
    return f'<path d="{outline}" fill="{colour}"/>' if outline else ""


def _rect(x: float, y: float, width: float, height: float, colour: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.5):.1f}" height="{height:.1f}" '
        f'fill="{colour}"/>'
    )


def _line(points: list[tuple[float, float] | None], colour: str, *, markers: bool) -> list[str]:
    """A series' line, broken where a value is missing (a gap is not a zero)."""
    parts = []
    run: list[tuple[float, float]] = []
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) > 1:
            coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                f'<polyline points="{coordinates}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-linejoin="round"/>'
            )
        if markers or len(run) == 1:
            parts += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#ffffff" stroke="{colour}" '
                f'stroke-width="2"/>'
                for x, y in run
            ]
        run = []
    return parts


def _horizontal(chart: Chart, language: str, palette: Sequence[str], frame: _Frame) -> list[str]:
    """Bars from left to right, the first category on top, each bar with its value."""
    count = max(len(chart.categories), 1)
    step = frame.height / count
    _low, high = _extent(chart)
    top = nice_ticks(max(high, 0.0))[-1]
    groups = max(len(chart.series), 1)
    height = step * 0.75 / groups
    parts = []
    for i, name in enumerate(chart.categories):
        y = frame.top + step * i
        parts.append(
            f'<text x="{frame.left - 8:.1f}" y="{y + step / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(clip(category(name, language), 28))}</text>"
        )
    for index, series in enumerate(chart.series):
        colour = palette[index % len(palette)]
        for i, value in enumerate(series.values[:count]):
            if value is None:
                continue
            length = max(value, 0.0) / (top or 1.0) * frame.width
            y = frame.top + step * i + step * 0.125 + height * index
            parts.append(_rect(frame.left, y, length, height, colour))
            parts.append(
                f'<text x="{frame.left + length + 6:.1f}" y="{y + height / 2 + 4:.1f}" '
                f'fill="{_MUTED}">{escape(_written(chart, value, language))}</text>'
            )
    return parts


def _pie(chart: Chart, language: str, palette: Sequence[str], height: int) -> list[str]:
    """The first series' shares as slices, with a legend of names, values and shares."""
    values = [max(v or 0.0, 0.0) for v in (chart.series[0].values if chart.series else ())]
    total = sum(values)
    radius = height / 2 - 20
    cx, cy = height / 2 + 20, height / 2
    parts = []
    angle = -math.pi / 2
    for index, value in enumerate(values):
        if total <= 0 or value <= 0:
            continue
        colour = palette[index % len(palette)]
        sweep = value / total * 2 * math.pi
        if sweep >= 2 * math.pi - 1e-9:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="{colour}"/>')
            break
        x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        angle += sweep
        x2, y2 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        large = 1 if sweep > math.pi else 0
        parts.append(
            f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} '
            f'A{radius:.1f},{radius:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1"/>'
        )
    left = cx + radius + 48
    row = min(28.0, (height - 40) / max(len(values), 1))
    for index, (name, value) in enumerate(zip(chart.categories, values, strict=False)):
        y = 30 + row * index
        share = number(Number(value / total if total else None, Unit.PERCENT), language)
        parts.append(
            f'<rect x="{left:.1f}" y="{y - 10:.1f}" width="12" height="12" '
            f'fill="{palette[index % len(palette)]}"/>'
            f'<text x="{left + 20:.1f}" y="{y:.1f}">{escape(clip(category(name, language), 40))}'
            f"  {escape(_written(chart, value, language))} ({escape(share)})</text>"
        )
    return parts


def _legend(names: Sequence[str], palette: Sequence[str], width: int, y: float) -> list[str]:
    """The series' names in a row under the plot, centred."""
    widths = [28 + 8 * len(name) + 14 * sum(1 for c in name if ord(c) > 0x2E80) for name in names]
    x = (width - sum(widths)) / 2
    parts = []
    for index, (name, room) in enumerate(zip(names, widths, strict=True)):
        colour = palette[index % len(palette)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="18" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{x + 24:.1f}" y="{y:.1f}">{escape(name)}</text>'
        )
        x += room
    return parts
