"""What every chart shares, on the Python side: a date axis without gaps and ECharts series
that do not mislead. The browser side (static/charts.js) applies the same rules to options
built in the page, so a chart drawn from either follows them:

- a date axis runs over every day of the range, a day without data is 0 (not skipped);
- lines are straight between points (no smoothing invents a trend between two days);
- every point has its symbol, so a series with data on one day still shows that day;
- a funnel writes its numbers on the stages.

A figure a report also shows is a ``core.report.Chart``, built by its capability's service
function; :func:`echarts_option` turns it into the option a page, the report's preview and
the report's HTML file all draw, so the page and the report never differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from guanxi.core.report import PALETTE, Chart, ChartKind, Unit
from guanxi.core.report_text import BABEL_LOCALES, category, translate

# The longest date axis a chart fills (ten years of days): a wider range is a mistake in
# the filters, and a clear error beats a page that draws 100,000 empty days.
MAX_DAYS = 3660
SYMBOL_SIZE = 6


class ChartRangeError(ValueError):
    """A date range too long to draw day by day."""


def day_span(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    count = (last - first).days + 1
    if count > MAX_DAYS:
        msg = (
            f"{first.isoformat()} to {last.isoformat()} is {count} days; "
            f"choose a range of at most {MAX_DAYS} days"
        )
        raise ChartRangeError(msg)
    return [first + timedelta(days=offset) for offset in range(max(count, 0))]


def continuous_days(
    known: Sequence[date], *, start: date | None = None, end: date | None = None
) -> list[date]:
    """The date axis for ``known`` days of data: from ``start`` (else the first known day)
    to ``end`` (else the last), every day in between, so that gaps are drawn as gaps."""
    if not known and (start is None or end is None):
        return []
    first = start if start is not None else min(known)
    last = end if end is not None else max(known)
    return day_span(first, last)


def fill_days(counts: Mapping[date, int], days: Sequence[date]) -> list[int]:
    """``counts`` on the axis ``days``, 0 for a day without any."""
    return [int(counts.get(day, 0)) for day in days]


def line(name: str, data: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """A line series: straight segments, a symbol on every point (a single day shows)."""
    return {
        "name": name,
        "type": "line",
        "data": list(data),
        "smooth": False,
        "showSymbol": True,
        "symbolSize": SYMBOL_SIZE,
        **extra,
    }


def bar(name: str, data: Sequence[Any], **extra: Any) -> dict[str, Any]:
    """A bar series."""
    return {"name": name, "type": "bar", "data": list(data), **extra}


def date_axis(days: Sequence[date]) -> dict[str, Any]:
    """A category axis with one slot per day (the days come from :func:`continuous_days`)."""
    return {"type": "category", "data": [day.isoformat() for day in days]}


def funnel(items: Sequence[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    """A funnel series in the given order, each stage labelled with its name and number (the
    number grouped as the page's language writes it: ``charts.js``)."""
    return {
        "type": "funnel",
        "sort": "none",
        "label": {"show": True, "position": "inside"},
        "data": [{"name": name, "value": value} for name, value in items],
        **extra,
    }


def daily_option(
    days: Sequence[date], series: Sequence[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """An ECharts option over a continuous date axis, labels kept inside the chart."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": date_axis(days),
        "series": list(series),
        **extra,
    }


def echarts_option(chart: Chart, language: str, colours: Sequence[str] = ()) -> dict[str, Any]:
    """The ECharts option that draws ``chart`` in ``language`` (a report language: en or
    zh_Hans): its categories and series names written for that language, its series in
    ``colours`` (a brand's) first, then ``PALETTE``, the colours of the PDF's charts.

    Percentages are drawn as 0-100 with a "%". ``numbers`` (read by static/charts.js, not by
    ECharts) says how the axis and the tooltip write a value: compactly in the language's
    way (12.3K; 12.3万) for counts, with a "%" for percentages."""
    if language not in BABEL_LOCALES:
        msg = f"a chart is written in one of {', '.join(BABEL_LOCALES)}, not {language!r}"
        raise ValueError(msg)
    percent = chart.unit is Unit.PERCENT
    scale = 100.0 if percent else 1.0
    categories = [category(value, language) for value in chart.categories]
    names = [translate(series.name, language) for series in chart.series]

    def values(index: int) -> list[float | None]:
        raw = chart.series[index].values
        if scale == 1.0:
            return list(raw)
        return [None if v is None else round(v * scale, 4) for v in raw]

    option: dict[str, Any] = {
        "color": [*colours, *PALETTE],
        "tooltip": {"trigger": "item" if chart.kind is ChartKind.PIE else "axis"},
        "legend": {"data": names, "bottom": 0, "type": "scroll"},
        "numbers": {
            "locale": BABEL_LOCALES[language].replace("_", "-"),
            "unit": "percent" if percent else "count",
        },
    }
    if chart.kind is ChartKind.PIE:
        first = values(0) if chart.series else []
        option["series"] = [
            {
                "type": "pie",
                "name": names[0] if names else "",
                "radius": ["35%", "65%"],
                "center": ["50%", "45%"],
                # Names go to the legend, the slices carry their share: a long name (or a
                # Chinese one) never runs out of a narrow card.
                "label": {"formatter": "{d}%", "position": "inside", "color": "#fff"},
                "minShowLabelAngle": 20,
                "percentPrecision": 1,
                "data": [
                    {"name": name, "value": value}
                    for name, value in zip(categories, first, strict=False)
                ],
            }
        ]
        option["legend"] = {"data": categories, "bottom": 0, "type": "scroll"}
        return option
    option["grid"] = {"left": 8, "right": 16, "top": 16, "bottom": 32}  # the legend below
    value_axis: dict[str, Any] = {"type": "value"}
    category_axis: dict[str, Any] = {"type": "category", "data": categories}
    horizontal = chart.kind is ChartKind.HORIZONTAL_BAR
    if horizontal:
        category_axis["inverse"] = True  # the first row (the top one) at the top
    option["xAxis"] = value_axis if horizontal else category_axis
    option["yAxis"] = category_axis if horizontal else value_axis
    stacked = {"stack": "total"} if chart.kind is ChartKind.STACKED_BAR else {}
    option["series"] = [
        line(name, values(index))
        if chart.kind is ChartKind.LINE
        else bar(name, values(index), **stacked)
        for index, name in enumerate(names)
    ]
    return option
