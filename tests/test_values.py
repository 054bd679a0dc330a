"""Values checked at the boundary (``guanxi.core.values``): any input gives a value a page,
an export and both databases accept, or an ``InvalidValue`` that says what is wrong."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from guanxi.core import values

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["Infinity", "-inf", "NaN", "sNaN", "1e400", "1e300", "1e30", "1_000", "٣"]),
)


# --- Times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:00-05:00", "2026-12-08T00:00:00+00:00"],
)
def test_a_time_from_the_future_is_refused(text: str) -> None:
    with pytest.raises(values.InvalidValue, match="in the future"):
        values.moment(datetime.fromisoformat(text), now=NOW)


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+00:00", "1999-12-31T23:59:59Z"]
)
def test_a_time_before_2000_is_refused(text: str) -> None:
    with pytest.raises(values.InvalidValue, match="before the year 2000"):
        values.moment(datetime.fromisoformat(text), now=NOW)


def test_a_time_in_the_window_comes_back_in_utc_and_clock_skew_is_allowed() -> None:
    beijing = timezone(timedelta(hours=8))
    assert values.moment(datetime(2024, 5, 1, 12, 30, tzinfo=beijing), now=NOW) == datetime(
        2024, 5, 1, 4, 30, tzinfo=UTC
    )
    soon = NOW + values.MAX_FUTURE - timedelta(seconds=1)
    assert values.moment(soon, now=NOW) == soon


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(values.InvalidValue, match="no time zone"):
        values.moment(datetime(2024, 5, 1), now=NOW)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (253402300000, "in the future"),  # WeChat CreateTime in seconds: year 9999
        (10**17, "not a Unix timestamp"),
        ("1e400", "not a Unix timestamp"),
        (-1, "not a Unix timestamp"),
        ("", "not a Unix timestamp"),
        (None, "not a Unix timestamp"),
        (1, "before the year 2000"),
    ],
)
def test_unix_seconds_out_of_range_are_refused(value: object, problem: str) -> None:
    with pytest.raises(values.InvalidValue, match=problem):
        values.unix_time(value, milliseconds=False, now=NOW)


def test_unix_seconds_and_milliseconds_are_read() -> None:
    expected = datetime(2024, 5, 1, 4, 30, tzinfo=UTC)
    assert values.unix_time("1714537800", now=NOW) == expected
    assert values.unix_time(1714537800000, now=NOW) == expected


@settings(max_examples=100, deadline=None)
@given(st.datetimes(timezones=st.timezones()) | st.datetimes())
def test_any_datetime_is_a_time_in_the_window_or_refused(value: datetime) -> None:
    try:
        checked = values.moment(value, now=NOW)
    except values.InvalidValue as exc:
        refused = exc
        assert refused.problem
        assert refused.fix
        return
    assert values.EARLIEST <= checked <= NOW + values.MAX_FUTURE
    assert checked.utcoffset() == timedelta(0)
    checked.astimezone(timezone(timedelta(hours=14)))  # any workspace zone can show it
    checked.astimezone(timezone(timedelta(hours=-12)))


@settings(max_examples=100, deadline=None)
@given(anything)
def test_any_unix_value_is_a_time_in_the_window_or_refused(value: object) -> None:
    try:
        checked = values.unix_time(value, now=NOW)
    except values.InvalidValue:
        return
    assert values.EARLIEST <= checked <= NOW + values.MAX_FUTURE


# --- Counts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1e300", 1e300, math.inf, "Infinity", "1e400", "1e30", 2**70, -3, "-1", "NaN"]
)
def test_counts_that_cannot_be_stored_are_refused(value: object) -> None:
    with pytest.raises(values.InvalidValue):
        values.count(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (12.0, 12), (0, 0), ("", 0), (None, 0), (values.MAX_COUNT, values.MAX_COUNT)],
)
def test_counts_are_whole_numbers_in_range(value: object, expected: int) -> None:
    assert values.count(value) == expected


def test_a_scaled_count_is_rounded_and_an_unscaled_fraction_refused() -> None:
    assert values.count("1.25", scale=10_000) == 12_500
    with pytest.raises(values.InvalidValue, match="not a whole number"):
        values.count("12.5")
    with pytest.raises(values.InvalidValue, match="not a number"):
        values.count(True)


@settings(max_examples=150, deadline=None)
@given(anything, st.sampled_from([1, 10_000, 100_000_000]))
def test_any_value_is_a_storable_count_or_refused(value: object, scale: int) -> None:
    try:
        number = values.count(value, scale=scale)
    except values.InvalidValue as exc:
        refused = exc
        assert refused.problem
        assert refused.fix
        return
    assert isinstance(number, int)
    assert 0 <= number <= values.MAX_COUNT


@settings(max_examples=100, deadline=None)
@given(anything)
def test_any_value_is_a_storable_code_or_refused(value: object) -> None:
    try:
        number = values.code(value)
    except values.InvalidValue:
        return
    assert number is None or (isinstance(number, int) and abs(number) <= values.MAX_COUNT)


# --- Text -------------------------------------------------------------------------------


def test_control_characters_are_removed_tab_and_newline_stay() -> None:
    assert values.clean_text("桃红\x00好\r\n喝\t!\x1b\x7f\ud800\uffff") == "桃红好\n喝\t!"


@settings(max_examples=150, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_any_text_is_clean_for_postgresql_and_excel(text: str, limit: int) -> None:
    cleaned = values.text(text, limit=limit)
    assert len(cleaned) <= limit
    assert ILLEGAL_CHARACTERS_RE.search(cleaned) is None
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate


def test_an_overlong_post_text_is_refused() -> None:
    assert values.long_text("a" * 10, limit=10) == "a" * 10
    with pytest.raises(values.InvalidValue, match="longer than"):
        values.long_text("a" * 11, limit=10)


# --- Links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\x00script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/x",
        "http://",
        "https:///path",
        "https://exa mple.com",
        "https://[::1",
        "https://example.com/" + "a" * values.MAX_URL,
    ],
)
def test_links_that_are_not_http_are_dropped(url: str) -> None:
    assert values.web_url(url) == ""
    assert not values.is_web_url(url)


def test_http_links_are_kept() -> None:
    assert values.web_url(" https://m.weibo.cn/detail/1 ") == "https://m.weibo.cn/detail/1"
    assert values.is_web_url("http://example.com/?q=桃红")


@settings(max_examples=100, deadline=None)
@given(st.text() | st.from_regex(r"\A[a-zA-Z]{1,10}:.*", fullmatch=True))
def test_any_text_is_an_http_link_or_nothing(text: str) -> None:
    url = values.web_url(text)
    assert url == "" or url.lower().startswith(("http://", "https://"))


# --- Platforms and raw records ----------------------------------------------------------


def test_a_platform_outside_the_known_ones_is_refused() -> None:
    known = {"weibo", "douyin"}
    assert values.platform("weibo", known=known) == "weibo"
    with pytest.raises(values.InvalidValue, match="platform"):
        values.platform("myspace", known=known)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=10,
)


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.text(), json_values))
def test_any_raw_record_becomes_strict_json(record: dict[str, Any]) -> None:
    kept = values.raw_record(record)
    text = json.dumps(kept, allow_nan=False)  # no NaN or Infinity: PostgreSQL refuses them
    assert "\\u0000" not in text


def test_a_raw_record_nested_deeper_than_the_limit_is_kept_as_text() -> None:
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(values.MAX_RAW_DEPTH * 3):
        inner["a"] = {}
        inner = inner["a"]
    kept = values.raw_record({"deep": nested, "likes": math.inf})
    assert kept["likes"] is None
    depth, part = 0, kept
    while isinstance(part, dict):
        part, depth = next(iter(part.values()), None), depth + 1
    assert depth <= values.MAX_RAW_DEPTH + 1
