"""The shared chart rules on the Python side: days without gaps, lines that do not mislead."""

from __future__ import annotations

from datetime import date

import pytest

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
    assert "{c}" in series["label"]["formatter"]
    assert [item["value"] for item in series["data"]] == [12, 3]


def test_a_daily_option_has_the_day_axis_and_keeps_labels_inside() -> None:
    days = charts.continuous_days([date(2026, 11, 20), date(2026, 11, 22)])
    option = charts.daily_option(days, [charts.bar("Items", [1, 0, 2])])
    assert option["xAxis"]["data"] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert option["grid"]["containLabel"] is True
