"""Metric definitions and custom formulas: the figures every page shows, computed the same
way everywhere, and formulas that are read safely and explain what to fix."""

from __future__ import annotations

import pytest

from guanxi.connectors.metrics import Metric
from guanxi.core.i18n import get_translations
from guanxi.measure.definitions import (
    BASE_DEFINITIONS,
    EngagementRate,
    RateBasis,
    engagement_rate,
    engagements,
    formula_figures,
    net_follower_growth,
)
from guanxi.measure.formulas import MAX_DEPTH, MAX_LENGTH, FormulaError, parse

# --- Definitions -------------------------------------------------------------------------


def test_every_base_metric_has_a_label_and_a_description() -> None:
    assert set(BASE_DEFINITIONS) == set(Metric)
    assert all(d.label and d.description for d in BASE_DEFINITIONS.values())


def test_engagements_add_what_is_reported_and_nothing_is_not_zero() -> None:
    assert engagements({Metric.LIKES: 10, Metric.COMMENTS: 2, Metric.WOWS: 1}) == 13
    assert engagements({Metric.LIKES: 0}) == 0
    assert engagements({Metric.VIEWS: 500}) is None


def test_the_engagement_rate_is_per_view_and_says_so() -> None:
    rate = engagement_rate({Metric.VIEWS: 200, Metric.LIKES: 8, Metric.SHARES: 2})
    assert rate == EngagementRate(0.05, RateBasis.VIEWS)


def test_without_views_the_rate_is_per_follower_and_says_so() -> None:
    """Given a Weibo post whose account's API level gives no reads, the rate is per
    follower of the account, and marked as such."""
    rate = engagement_rate({Metric.LIKES: 30, Metric.COMMENTS: 10}, followers=2000)
    assert rate == EngagementRate(0.02, RateBasis.FOLLOWERS)


def test_no_rate_when_there_is_nothing_to_divide_by() -> None:
    assert engagement_rate({Metric.LIKES: 3}) is None
    assert engagement_rate({Metric.LIKES: 3}, followers=0) is None
    assert engagement_rate({Metric.VIEWS: 0, Metric.LIKES: 0}) is None
    assert engagement_rate({Metric.VIEWS: 100}) is None


def test_net_follower_growth_from_the_flows_or_from_the_total() -> None:
    assert net_follower_growth({Metric.NEW_FOLLOWERS: 40, Metric.LOST_FOLLOWERS: 15}) == 25
    assert net_follower_growth({Metric.FOLLOWERS: 1010}, followers_before=1000) == 10
    assert net_follower_growth({Metric.FOLLOWERS: 1010}) is None
    assert net_follower_growth({Metric.NEW_FOLLOWERS: 40}) is None


# --- Formulas that work ------------------------------------------------------------------

FIGURES = formula_figures(
    {
        Metric.VIEWS: 1000,
        Metric.LIKES: 40,
        Metric.COMMENTS: 10,
        Metric.SHARES: 5,
        Metric.WOWS: 5,
        Metric.FOLLOWERS: 20000,
    }
)


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("views / followers", 0.05),
        ("(likes + comments) / views", 0.05),
        ("engagements / views * 100", 6.0),
        ("likes - comments * 2", 20.0),
        ("-likes + 100", 60.0),
        ("- -likes", 40.0),
        ("likes × 2 ÷ 4 − 5", 15.0),
        ("（likes ＋ comments）／ views", 0.05),
        ("  0.5 * likes ", 20.0),
        (".5 * likes", 20.0),
        ("views/followers", 0.05),
        ("2 * (3 + (4 - 1)) / 4", 3.0),
    ],
)
def test_good_formulas_compute_the_figure(formula: str, value: float) -> None:
    assert parse(formula).evaluate(FIGURES) == pytest.approx(value)


def test_a_formula_knows_the_metrics_it_reads() -> None:
    assert parse("(likes + comments) / views * 100").names == {"likes", "comments", "views"}


def test_division_by_zero_gives_no_value() -> None:
    assert (
        parse("likes / saves").evaluate(formula_figures({Metric.LIKES: 3, Metric.SAVES: 0})) is None
    )
    assert parse("likes / (views - views)").evaluate(FIGURES) is None


def test_a_figure_not_reported_gives_no_value() -> None:
    assert parse("saves / views").evaluate(FIGURES) is None


def test_a_result_too_large_to_be_a_figure_gives_no_value() -> None:
    huge = formula_figures({Metric.VIEWS: 10**18})
    assert parse("*".join(["views"] * 20)).evaluate(huge) is None


# --- Formulas that do not ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "column", "says"),
    [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("likes / reads", 9, "“reads” at column 9 is not a metric: use one of"),
        ("Views / followers", 1, "did you mean “views”"),
        ("likes / 阅读", 9, "“阅读” at column 9 is not a metric"),
        ("likes +", 8, "ends too early at column 8"),
        ("likes + * views", 9, "missing before “*” at column 9"),
        ("(likes + comments", 1, "“(” at column 1 is never closed"),
        ("likes + comments)", 17, "“)” at column 17 closes nothing"),
        ("likes views", 7, "operator is missing before “views” at column 7"),
        ("2 (likes)", 3, "operator is missing before “(” at column 3"),
        ("likes ^ 2", 7, "“^” at column 7 has no place"),
        ("likes % views", 7, "“%” at column 7 has no place"),
        ("__import__('os')", 1, "“__import__” at column 1 is not a metric"),
        ("likes.real", 6, "“.” at column 6 is not a number"),
        ("1.2.3 * likes", 1, "“1.2.3” at column 1 is not a number"),
        ("abs(likes)", 1, "“abs” at column 1 is not a metric"),
        ("abs'", 1, "“abs” at column 1 is not a metric"),
        ("likes ** 2", 8, "missing before “*” at column 8"),
        ("+likes", 1, "missing before “+” at column 1"),
        ("likes; views", 6, "“;” at column 6"),
        ("likes if views else 0", 7, "operator is missing before “if” at column 7"),
    ],
)
def test_bad_formulas_say_where_and_what_to_fix(formula: str, column: int, says: str) -> None:
    with pytest.raises(FormulaError) as raised:
        parse(formula)
    assert raised.value.column == column
    assert says in str(raised.value)


def test_a_formula_too_long_is_refused_at_the_limit() -> None:
    with pytest.raises(FormulaError, match="longer than 200") as raised:
        parse("likes + " * 30 + "views")
    assert raised.value.column == MAX_LENGTH + 1


def test_nesting_beyond_the_limit_is_refused_where_it_goes_too_deep() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "likes" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FormulaError, match="nests more than") as raised:
        parse(deep)
    assert raised.value.column == MAX_DEPTH + 1
    assert parse("(" * MAX_DEPTH + "likes" + ")" * MAX_DEPTH).evaluate(FIGURES) == 40
    with pytest.raises(FormulaError, match="nests more than"):
        parse("-" * (MAX_DEPTH + 1) + "likes")


def test_too_many_pieces_are_refused() -> None:
    with pytest.raises(FormulaError, match="more than 80"):
        parse("+".join(["1"] * 50))


def test_the_error_reads_in_chinese() -> None:
    with pytest.raises(FormulaError) as raised:
        parse("likes / reads")
    chinese = raised.value.translated(get_translations("zh_Hans").gettext)
    assert "9" in chinese
    assert chinese != str(raised.value)
