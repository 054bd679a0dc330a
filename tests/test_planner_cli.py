"""``guanxi plan``: the ranking as JSON or a table, clear errors, and saving a plan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from guanxi.accounts.models import AuditEvent
from guanxi.planner.models import Plan
from tests.cli import run, said, upgraded

EXAMPLE = [
    "plan",
    "--region",
    "mainland",
    "--age",
    "18-30",
    "--education",
    "university",
    "--tiers",
    "1,2",
    "--goal",
    "awareness",
]


@pytest.fixture(autouse=True)
def environment(cli_database: Engine) -> Engine:
    """The command's environment points at an empty SQLite file."""
    return cli_database


def ranking(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)
    return items


def test_the_issue_example_prints_a_json_array_ranked_best_first() -> None:
    items = ranking(run(*EXAMPLE, "--format", "json"))

    assert isinstance(items, list)
    assert items
    for item in items:
        assert {"slug", "score", "reasons", "warnings"} <= set(item)
        assert all({"id", "params", "text"} == set(reason) for reason in item["reasons"])
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))


def test_options_repeat_or_take_commas() -> None:
    """Given goals given both ways, then both count: the reasons name all of them."""
    items = ranking(run(*EXAMPLE, "--goal", "sales,video", "--language", "en", "--format", "json"))

    goals_reason = next(
        reason for reason in items[0]["reasons"] if reason["id"].startswith("goals")
    )
    assert goals_reason["params"]["goals"] == ["awareness", "sales", "video"]
    assert any(w["id"] == "english_only" for item in items for w in item["warnings"])


def test_a_plan_date_changes_what_counts() -> None:
    """In October 2013 Douyin did not exist yet: it is inactive and ranks at the bottom."""
    items = ranking(run(*EXAMPLE, "--date", "2013-10-01", "--format", "json"))

    douyin = next(item for item in items if item["slug"] == "douyin")
    assert douyin["gate"] == "inactive"
    assert douyin["score"] == 0
    assert douyin["warnings"][0]["id"] == "not_launched"


def test_the_default_table_is_readable() -> None:
    result = run(*EXAMPLE)

    assert result.exit_code == 0, result.output
    text = said(result)
    assert "Write in Simplified Chinese" in text
    assert "Sina Weibo" in text
    assert "Unreachable from Mainland China" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"--region": "mars"}, "region: Choose a region: mainland, hong_kong"),
        ({"--age": "30-18"}, "age_max: The oldest age (18) is below the youngest (30)."),
        ({"--age": "eighteen"}, "age: Give the age range as two whole numbers joined by '-'"),
        ({"--tiers": "7"}, "city_tiers: City tiers are 1 to 4"),
        ({"--goal": "fame"}, "goals: Choose at least one goal"),
        ({"--format": "xml"}, "--format must be table or json"),
        ({"--save": None}, "--save needs --workspace SLUG and --name NAME"),
    ],
)
def test_bad_values_give_a_clear_error_and_fail(
    changes: dict[str, str | None], message: str
) -> None:
    """Given the issue's example with one value changed, the command says what is wrong."""
    options: dict[str, str | None] = dict(zip(EXAMPLE[1::2], EXAMPLE[2::2], strict=True))
    options.update(changes)
    argv = [part for option, value in options.items() for part in (option, value) if part]

    result = run("plan", *argv)

    assert result.exit_code != 0
    assert message in said(result)


def test_save_stores_the_plan_in_the_workspace(environment: Engine) -> None:
    upgraded(environment)
    assert run("demo").exit_code == 0

    result = run(
        *EXAMPLE,
        "--save",
        "--workspace",
        "provence-wines",
        "--name",
        "From the shell",
        "--format",
        "json",
    )

    assert result.exit_code == 0, result.output
    assert "saved plan" in result.stderr
    with Session(environment) as session:
        plan = session.scalars(select(Plan).where(Plan.name == "From the shell")).one()
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "plan.create", AuditEvent.entity_id == str(plan.id)
            )
        ).one()
    assert plan.brief["city_tiers"] == [1, 2]
    assert event.actor_label == "cli"


def test_save_into_an_unknown_workspace_fails(environment: Engine) -> None:
    upgraded(environment)

    result = run(*EXAMPLE, "--save", "--workspace", "nowhere", "--name", "Lost")

    assert result.exit_code != 0
    assert "no workspace nowhere" in said(result)
