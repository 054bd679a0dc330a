"""The shared chart rules on the Python side: days without gaps, lines that do not mislead."""

from __future__ import annotations

from datetime import date

import pytest

from guanxi.core.report import PALETTE, Chart, ChartKind, Name, Series, Text, Unit
from guanxi.web import charts


def test_continuous_days_fill_the_gaps_with_zero() -> None:
    """Given counts on the 20th, 22nd and 25th, the axis has every day and the gaps are 0."""
    counts = {date(2026, 11, 20): 3, date(2026, 11, 22): 1, date(2026, 11, 25): 2}
    days = charts.continuous_days(list(counts))
    assert [day.day for day in days] == [20, 21, 22, 23, 24, 25]
    assert charts.fill_days(counts, days) == [3, 0, 1, 0, 0, 2]


def test_the_chosen_range_wins_over_the_data() -> None:
    """A filter from the 18th to the 21st shows those days even where there is no data."""
    days = charts.continuous_days(
        [date(2026, 11, 20)], start=date(2026, 11, 18), end=date(2026, 11, 21)
    )
    assert charts.fill_days({date(2026, 11, 20): 5}, days) == [0, 0, 5, 0]
    assert charts.continuous_days([]) == []


def test_a_range_too_long_to_draw_is_refused_with_what_to_do() -> None:
    with pytest.raises(charts.ChartRangeError, match="at most 3660 days"):
        charts.day_span(date(2000, 1, 1), date(2026, 1, 1))


def test_lines_are_straight_and_show_every_point() -> None:
    """No smoothing, a symbol on every point: a series with one day of data draws a dot."""
    series = charts.line("Mentions", [0, 0, 4, 0])
    assert series["smooth"] is False
    assert series["showSymbol"] is True
    assert series["symbolSize"] > 0
    assert charts.line("Negative %", [1], yAxisIndex=1)["yAxisIndex"] == 1


def test_a_funnel_writes_its_numbers_on_the_stages_in_journey_order() -> None:
    series = charts.funnel([("Evaluation", 12), ("Purchase", 3)])
    assert series["sort"] == "none"
    assert series["label"]["show"] is True
    # charts.js writes each stage as "name: figure", the figure grouped in the page's language.
    assert "formatter" not in series["label"]
    assert [item["value"] for item in series["data"]] == [12, 3]


def test_a_daily_option_has_the_day_axis_and_keeps_labels_inside() -> None:
    days = charts.continuous_days([date(2026, 11, 20), date(2026, 11, 22)])
    option = charts.daily_option(days, [charts.bar("Items", [1, 0, 2])])
    assert option["xAxis"]["data"] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert option["grid"]["containLabel"] is True


# --- A report's chart as an ECharts option (pages and the report's preview alike) ---------

WEIBO = Name("Sina Weibo", "新浪微博")


def _followers() -> Chart:
    return Chart(
        "followers",
        Text("Followers per account"),
        ChartKind.LINE,
        (date(2026, 12, 6), date(2026, 12, 7)),
        (
            Series(
                Text("{account} ({platform})", {"account": "Brand", "platform": WEIBO}),
                (1380, None),
            ),
        ),
    )


def test_a_chart_is_written_in_each_language() -> None:
    """Days and names as each language writes them, the counts as they are (the page writes
    them compactly in the language's way: "locale"), a gap left a gap."""
    english = charts.echarts_option(_followers(), "en")
    assert english["xAxis"] == {"type": "category", "data": ["Dec 6", "Dec 7"]}
    assert english["legend"]["data"] == ["Brand (Sina Weibo)"]
    assert english["series"] == [charts.line("Brand (Sina Weibo)", [1380, None])]
    assert english["numbers"] == {"locale": "en-US", "unit": "count"}
    chinese = charts.echarts_option(_followers(), "zh_Hans", colours=("#0a7e8c",))
    assert chinese["xAxis"]["data"] == ["12月6日", "12月7日"]
    assert chinese["series"][0]["name"] == "Brand（新浪微博）"  # the catalog's wording
    assert chinese["numbers"] == {"locale": "zh-Hans-CN", "unit": "count"}
    assert chinese["color"][:2] == ["#0a7e8c", PALETTE[0]]


def test_percentages_are_drawn_from_0_to_100_and_rankings_top_down() -> None:
    share = Chart(
        "share_of_voice",
        Text("Share of voice"),
        ChartKind.HORIZONTAL_BAR,
        ("Brand", "Rival"),
        (Series(Text("Share of voice"), (0.625, 0.375)),),
        Unit.PERCENT,
    )
    option = charts.echarts_option(share, "en")
    assert option["series"][0]["data"] == [62.5, 37.5]
    assert option["numbers"]["unit"] == "percent"
    assert option["yAxis"] == {"type": "category", "data": ["Brand", "Rival"], "inverse": True}
    assert option["xAxis"] == {"type": "value"}


def test_a_pie_and_stacked_bars() -> None:
    sentiments = (Text("Positive"), Text("Negative"))
    pie = Chart(
        "sentiment",
        Text("Sentiment"),
        ChartKind.PIE,
        sentiments,
        (Series(Text("Mentions"), (3, 1)),),
    )
    option = charts.echarts_option(pie, "zh_Hans")
    assert option["series"][0]["data"] == [
        {"name": "正面", "value": 3},
        {"name": "负面", "value": 1},
    ]
    assert option["legend"]["data"] == ["正面", "负面"]
    stacked = Chart(
        "posts",
        Text("Posts"),
        ChartKind.STACKED_BAR,
        (WEIBO,),
        (Series(Text("On time"), (4,)), Series(Text("Late"), (1,))),
    )
    bars = charts.echarts_option(stacked, "en")["series"]
    assert [(s["type"], s["stack"], s["data"]) for s in bars] == [
        ("bar", "total", [4]),
        ("bar", "total", [1]),
    ]


def test_an_empty_chart_draws_nothing_without_failing() -> None:
    for kind in ChartKind:
        option = charts.echarts_option(Chart("none", Text("Nothing"), kind, (), ()), "en")
        assert option["series"] == [] or option["series"][0]["data"] == []


def test_a_language_without_a_report_is_refused() -> None:
    with pytest.raises(ValueError, match="en, zh_Hans"):
        charts.echarts_option(_followers(), "fr")
