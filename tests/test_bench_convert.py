"""`guanxi bench convert` at a tiny size: a real server's redirect under load, SIGKILLed
after answering, no click lost after the restart; the attribution timed and checked; the
last line a script reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from tests.cli import run, said
from tests.conftest import POSTGRES_URL

LAST_LINE = re.compile(
    r"^clicks_per_s=(\d+) redirect_p99_ms=(\d+\.\d\d) lost_clicks=(\d+) attribution_s=(\d+\.\d\d)$"
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def test_a_tiny_run_loses_no_click_and_attributes_what_the_recipe_says(
    cli_database: Engine, backend: str
) -> None:
    """Given a 1-second load from 4 connections, a kill after 200 more answers, and 2,000
    orders against 10,000 clicks,
    when the benchmark runs (attribution timed twice),
    then every click id a redirect handed out is stored (lost_clicks=0), the attributed
    orders are exactly those the recipe ties to a person's click or a promo code, and the
    last line has its shape."""
    args = ["bench", "convert", "--seconds", "1", "--concurrency", "4", "--kill-after", "200"]
    args += ["--orders", "2000", "--touches", "10000", "--attribution-runs", "2"]
    if backend == "postgresql":
        args += ["--database-url", POSTGRES_URL]

    result = run(*args)

    assert result.exit_code == 0, said(result)
    match = LAST_LINE.match(result.output.strip().splitlines()[-1])
    assert match, said(result)
    assert int(match.group(1)) > 0
    assert match.group(3) == "0", said(result)
    check = re.search(
        r"^check: click_ids=(\d+) stored=(\d+) attributed_orders=(\d+) expected_attributed=(\d+)$",
        result.output,
        re.MULTILINE,
    )
    assert check, said(result)
    click_ids, stored, attributed, expected = (int(value) for value in check.groups())
    assert click_ids == stored > 200
    assert attributed == expected > 1_000
    assert "(median of" in result.output, said(result)  # attribution timed twice
    per_click = re.search(r"server CPU per click.*?([\d,]+) µs", result.output, re.DOTALL)
    assert per_click, said(result)
    assert int(per_click.group(1).replace(",", "")) > 0
