"""docs/planner.md stays true to the code: every constant documented, the worked example
computed."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from guanxi.catalog.models import Goal, Metric
from guanxi.planner import brief as brief_module
from guanxi.planner import language as language_module
from guanxi.planner import scoring
from tests.test_planner_scoring import AUDIENCE, figure, ids, make_brief, make_platform, score

DOCS = Path(__file__).resolve().parent.parent / "docs" / "planner.md"


# --- the documentation ------------------------------------------------------------------


def named_constants(module: object) -> list[str]:
    return [
        name
        for name, value in vars(module).items()
        if re.fullmatch(r"[A-Z][A-Z0-9_]+", name)
        and isinstance(value, int | float | dict | tuple | frozenset | date)
        and not name.endswith(("_LABELS", "MESSAGES", "FIELD_HELP", "_ORDER"))
    ]


def test_every_weight_and_threshold_is_documented() -> None:
    """Each named constant of the method appears in docs/planner.md."""
    docs = DOCS.read_text("utf-8")
    constants = named_constants(scoring) + named_constants(brief_module)
    constants += named_constants(language_module)

    assert "WEIGHT_AUDIENCE" in constants
    assert [name for name in constants if name not in docs] == []


def test_the_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    """The docs' example: Weibo in the seed's October 2013, for a mainland brand."""
    weibo = make_platform(
        "weibo",
        audience=AUDIENCE.model_copy(update={"city_tiers": [1, 2, 3], "devices": []}),
        goals=[Goal.AWARENESS, Goal.ENGAGEMENT],
        figures=[figure(500_000_000, date(2013, 6, 30), metric=Metric.REGISTERED_ACCOUNTS)],
    )
    brief = make_brief(
        education="university", city_tiers=[1, 2], goals=["awareness", "sales"], languages=["en"]
    )

    result = score(brief, weibo, on=date(2013, 10, 1))

    assert result.components.reach == pytest.approx(0.8997, abs=1e-4)
    assert result.score == 82.5
    assert ids(result.warnings) == ["english_only"]
    docs = DOCS.read_text("utf-8")
    assert "0.8997" in docs
    assert "82.5" in docs
