"""Validating a brief: strict rules, one clear message per field, raw input from forms and
the command line."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.planner.brief import (
    Brief,
    InvalidBriefError,
    parse_brief,
)
from guanxi.planner.models import parse_plan_create
from guanxi.planner.service import brief_from_form, brief_from_options, split_values

VALID: dict[str, Any] = {"age_min": 18, "age_max": 30, "region": "mainland", "goals": ["sales"]}


def problems(raw: dict[str, Any]) -> dict[str, list[str]]:
    """The English messages, by field, of an invalid brief."""
    with pytest.raises(InvalidBriefError) as caught:
        parse_brief(raw)
    return caught.value.field_messages(lambda message: message)


def test_a_valid_brief_is_normalised() -> None:
    """Repeats are dropped, tiers sorted, goals in their canonical order, country trimmed."""
    brief = parse_brief(
        {
            **VALID,
            "goals": ["video", "awareness", "video"],
            "city_tiers": [2, 1, 2],
            "devices": ["desktop", "mobile", "desktop"],
            "languages": ["zh_Hant", "en", "en"],
            "region": "other_country",
            "country": "  Taiwan ",
            "plan_date": "2013-10-01",
        }
    )

    assert [goal.value for goal in brief.goals] == ["awareness", "video"]
    assert brief.city_tiers == [1, 2]
    assert [device.value for device in brief.devices] == ["mobile", "desktop"]
    assert [language.value for language in brief.languages] == ["en", "zh_Hant"]
    assert brief.country == "Taiwan"
    assert brief.plan_date is not None
    assert brief.plan_date.isoformat() == "2013-10-01"


def test_optional_fields_may_be_left_out() -> None:
    brief = parse_brief(VALID)

    assert (brief.education, brief.city_tiers, brief.devices, brief.languages) == (None, [], [], [])
    assert brief.plan_date is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"age_min": 5}, "age_min", "Ages run from 13 to 100. Enter a whole number in that range."),
        ({"age_max": 130}, "age_max", "Ages run from 13 to 100."),
        ({"age_min": 40}, "age_max", "The oldest age (30) is below the youngest (40). Swap"),
        ({"age_min": "eighteen"}, "age_min", "Enter the youngest age as a whole number from 13"),
        (
            {"goals": []},
            "goals",
            "Choose at least one goal: awareness, engagement, sales or video.",
        ),
        ({"goals": ["fame"]}, "goals", "Choose at least one goal"),
        ({"city_tiers": [5]}, "city_tiers", "City tiers are 1 to 4"),
        ({"city_tiers": ["first"]}, "city_tiers", "City tiers are whole numbers from 1 to 4."),
        ({"region": "mars"}, "region", "Choose a region: mainland, hong_kong"),
        ({"country": "France"}, "country", "A country name goes with the region 'Another country'"),
        (
            {"region": "other_country", "country": "x" * 61},
            "country",
            "at most 60 characters",
        ),
        ({"education": "phd"}, "education", "Choose secondary, university or postgraduate"),
        ({"devices": ["watch"]}, "devices", "Devices are mobile, desktop or feature_phone."),
        ({"languages": ["fr"]}, "languages", "Languages are en, zh_Hans"),
        ({"plan_date": "1 October"}, "plan_date", "Enter the plan date as YYYY-MM-DD"),
        ({"budget": 1000}, "budget", "Unknown field budget: remove it."),
    ],
)
def test_each_broken_rule_is_explained_on_its_field(
    change: dict[str, Any], field: str, message: str
) -> None:
    found = problems({**VALID, **change})

    assert list(found) == [field]
    assert found[field][0].startswith(message) or message in found[field][0]


def test_missing_required_fields_are_each_named() -> None:
    found = problems({})

    assert set(found) == {"age_min", "age_max", "region", "goals"}


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"age_min": 50, "age_max": 20, "region": "moon", "goals": []})

    assert set(found) == {"age_max", "region", "goals"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Give the plan a name."), ("n" * 121, "at most 120 characters")],
)
def test_a_plan_needs_a_sensible_name(name: str, message: str) -> None:
    with pytest.raises(InvalidBriefError) as caught:
        parse_plan_create({"name": name, "brief": VALID})

    found = caught.value.field_messages(lambda m: m)
    assert message in found["name"][0]


def test_a_plan_name_is_tidied_and_the_nested_brief_reports_its_own_fields() -> None:
    plan = parse_plan_create({"name": "  Launch   2013 ", "brief": VALID})
    with pytest.raises(InvalidBriefError) as caught:
        parse_plan_create({"name": "x", "brief": {**VALID, "region": "mars"}})
    with pytest.raises(InvalidBriefError) as missing:
        parse_plan_create({"name": "x"})

    assert plan.name == "Launch 2013"
    assert list(caught.value.field_messages(lambda m: m)) == ["region"]
    assert list(missing.value.field_messages(lambda m: m)) == ["brief"]


def test_the_messages_are_translated_then_filled_in() -> None:
    """The message ids go through gettext first, the values are put in after."""
    with pytest.raises(InvalidBriefError) as caught:
        parse_brief({**VALID, "age_min": 200})

    found = caught.value.field_messages(lambda m: m.replace("Ages run", "AGES RUN"))
    assert found["age_min"] == ["AGES RUN from 13 to 100. Enter a whole number in that range."]


def test_a_form_leaves_empty_fields_out_and_keeps_every_checkbox() -> None:
    raw = brief_from_form(
        {
            "age_min": ["18"],
            "age_max": [" 30 "],
            "education": [""],
            "region": ["mainland"],
            "goals": ["awareness", "sales"],
            "city_tiers": ["1", "2"],
            "country": [""],
        }
    )

    assert raw == {
        "age_min": "18",
        "age_max": "30",
        "region": "mainland",
        "city_tiers": ["1", "2"],
        "devices": [],
        "goals": ["awareness", "sales"],
        "languages": [],
    }
    assert isinstance(parse_brief(raw), Brief)


def test_command_line_values_repeat_or_use_commas() -> None:
    assert split_values(["awareness,sales", " video ", ""]) == ["awareness", "sales", "video"]

    brief = brief_from_options(
        region="mainland", age="18-30", tiers=["1,2"], goals=["awareness", "sales,video"]
    )

    assert (brief.age_min, brief.age_max, brief.city_tiers) == (18, 30, [1, 2])
    assert [goal.value for goal in brief.goals] == ["awareness", "sales", "video"]


@pytest.mark.parametrize("age", ["18", "18-", "eighteen-30", "18–30", "-5-30"])
def test_a_command_line_age_range_must_be_two_numbers(age: str) -> None:
    with pytest.raises(InvalidBriefError) as caught:
        brief_from_options(region="mainland", age=age, goals=["awareness"])

    assert caught.value.field_messages(lambda m: m) == {
        "age": ["Give the age range as two whole numbers joined by '-', e.g. 18-30."]
    }
