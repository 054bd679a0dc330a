"""`guanxi catalog list`: the catalog on the command line, as a table or JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from guanxi.catalog.service import get_catalog
from guanxi.cli import app

runner = CliRunner()


def test_json_lists_every_platform_with_its_names_kind_and_status() -> None:
    result = runner.invoke(app, ["catalog", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert len(items) == len(get_catalog().platforms)
    for item in items:
        assert {"slug", "name_en", "name_zh", "kind", "status"} <= set(item)
    weibo = next(item for item in items if item["slug"] == "weibo")
    assert weibo["name_zh"] == "新浪微博"
    assert weibo["figures"][0]["as_of"] == "2013-06-30"


def test_filters_narrow_the_list() -> None:
    result = runner.invoke(
        app, ["catalog", "list", "--format", "json", "--kind", "video", "--region", "mainland"]
    )
    assert result.exit_code == 0, result.output
    slugs = {item["slug"] for item in json.loads(result.stdout)}
    assert {"youku", "bilibili"} <= slugs
    assert "youtube" not in slugs, "blocked in the mainland"
    merged = runner.invoke(app, ["catalog", "list", "--format", "json", "--status", "merged"])
    assert [item["slug"] for item in json.loads(merged.stdout)] == ["tudou"]


def test_the_table_shows_chinese_names() -> None:
    result = runner.invoke(app, ["catalog", "list", "-q", "weibo"])
    assert result.exit_code == 0, result.output
    assert "新浪微博" in result.stdout
    assert "microblog" in result.stdout


def test_a_bad_filter_value_says_what_is_allowed() -> None:
    result = runner.invoke(app, ["catalog", "list", "--kind", "podcast"])
    assert result.exit_code == 1
    assert "not a valid kind" in result.output
    assert "social_network" in result.output


def test_a_bad_format_is_refused() -> None:
    result = runner.invoke(app, ["catalog", "list", "--format", "xml"])
    assert result.exit_code == 1
    assert "--format must be table or json" in result.output
