"""`guanxi charts import|matrix|fetch|effect`."""

from __future__ import annotations

import json
import re

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.market.models import ChartDataset, ChartEntry
from tests.cli import run, said, upgraded
from tests.market_support import FIXTURES, load_market_demo


def migrated(engine: Engine) -> None:
    upgraded(engine)


def test_import_then_matrix_as_json(cli_database: Engine) -> None:
    """Given a Google Play CSV export imported from the command line, then `charts matrix
    --format json` prints, for each app, the countries and ranks where it is in the top N."""
    migrated(cli_database)

    imported = run("charts", "import", str(FIXTURES / "play_top_free.csv"))
    matrix = run(
        "charts",
        "matrix",
        "--date",
        "2013-07-27",
        "--chart",
        "top-free",
        "--top",
        "1",
        "--format",
        "json",
    )

    assert imported.exit_code == 0, imported.output
    assert "imported 4 chart(s), 8 ranks, 3 countries" in said(imported)
    payload = json.loads(matrix.output)
    assert {app["app_id"]: app["ranks"] for app in payload["apps"]} == {
        "jp.naver.line.android": {"AR": 1, "CL": 1},
        "com.tencent.mm": {"IT": 1},
    }
    assert payload["store"] == "google-play"


def test_a_broken_file_imports_nothing_and_says_why(cli_database: Engine) -> None:
    migrated(cli_database)

    result = run("charts", "import", str(FIXTURES / "generic_broken.csv"))

    assert result.exit_code == 1
    assert "Nothing was imported" in said(result)
    assert "line 3: Italy is not a country code" in said(result)
    with Session(cli_database) as db:
        assert db.scalar(select(func.count(ChartEntry.id))) == 0


def test_a_json_feed_imports_into_a_workspace_dataset(cli_database: Engine) -> None:
    migrated(cli_database)
    with Session(cli_database) as db:
        user = accounts.create_user(
            db, data=UserCreate(email="o@acme.example", name="O", password="correct horse battery")
        )
        accounts.create_workspace(db, data=WorkspaceCreate(slug="acme", name="Acme"), owner=user)
        db.commit()

    result = run(
        "charts",
        "import",
        str(FIXTURES / "apple_v2_it_top_free.json"),
        "--workspace",
        "acme",
        "--dataset",
        "App Store Italy",
    )
    table = run("charts", "matrix", "--workspace", "acme", "--top", "2")

    assert result.exit_code == 0, result.output
    with Session(cli_database) as db:
        dataset = db.scalar(select(ChartDataset))
        assert dataset is not None
        assert (dataset.name, dataset.workspace_id is not None) == ("App Store Italy", True)
    assert "WeChat" in said(table)
    assert "IT 1" in said(table)


def test_the_seed_day_from_the_demo(cli_database: Engine) -> None:
    """The issue's own example: the demo's July 27 in the top 10."""
    migrated(cli_database)
    with Session(cli_database) as db:
        user = accounts.create_user(
            db, data=UserCreate(email="o@acme.example", name="O", password="correct horse battery")
        )
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="acme", name="Acme"), owner=user
        )
        load_market_demo(db, workspace)

    matrix = run(
        "charts",
        "matrix",
        "--date",
        "2013-07-27",
        "--chart",
        "top-free",
        "--top",
        "10",
        "--format",
        "json",
    )
    effect = run("charts", "effect", "--workspace", "acme")

    apps = {app["app_id"]: app for app in json.loads(matrix.output)["apps"]}
    assert (apps["com.whatsapp"]["countries_in_top"], apps["com.whatsapp"]["number_ones"]) == (
        28,
        10,
    )
    assert effect.exit_code == 0, effect.output
    assert "In IT, com.tencent.mm ranked about" in said(effect)


def test_fetch_without_configured_countries_says_what_to_set(cli_database: Engine) -> None:
    migrated(cli_database)

    result = run("charts", "fetch")

    assert result.exit_code == 1
    assert "GUANXI_MARKET_COUNTRIES" in said(result)


def test_matrix_without_data_and_with_a_bad_date(cli_database: Engine) -> None:
    migrated(cli_database)

    empty = run("charts", "matrix")
    bad = run("charts", "matrix", "--date", "27/07/2013")

    assert empty.exit_code == 1
    assert "guanxi charts import" in said(empty)
    assert bad.exit_code == 1
    assert "YYYY-MM-DD" in said(bad)


def test_the_market_benchmark_runs_and_finds_its_known_lift(cli_database: Engine) -> None:
    result = run("bench", "market", "--countries", "9", "--days", "20", "--depth", "60")

    assert result.exit_code == 0, result.output
    assert "matrix (top 10)" in said(result)
    found = re.search(r"\(15 places\): \+(\d+\.\d) places", said(result))
    assert found is not None
    assert 8 < float(found.group(1)) <= 16
