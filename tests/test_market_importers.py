"""Chart files into the database: generic CSV, Google Play CSV exports, JSON feeds saved to
files. A bad file imports nothing and lists what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.market import importers, service
from guanxi.market.fetchers import ChartPayloadError
from guanxi.market.importers import ImportFormat
from guanxi.market.models import Chart, ChartEntry, ChartSnapshot, Store
from tests.conftest import UserFactory, WorkspaceFactory
from tests.market_support import DAY, FIXTURES, chart


def test_generic_csv_groups_lines_into_charts() -> None:
    charts = importers.read_file(FIXTURES / "generic.csv")

    summary = [(c.day.isoformat(), c.store, c.country, len(c.entries)) for c in charts]
    assert summary == [
        ("2013-07-26", Store.GOOGLE_PLAY, "IT", 3),
        ("2013-07-27", Store.APPLE, "IT", 1),
        ("2013-07-27", Store.GOOGLE_PLAY, "IT", 3),
    ]
    assert charts[2].entries[0].app_key == "com.tencent.mm"


def test_a_broken_csv_lists_its_problems_with_line_numbers() -> None:
    with pytest.raises(ChartPayloadError) as caught:
        importers.read_file(FIXTURES / "generic_broken.csv")

    message = str(caught.value)
    assert message.startswith("Nothing was imported")
    assert "line 3: Italy is not a country code" in message
    assert "line 4: rank 'zero' is not a whole number" in message
    assert "line 5: date '2013-27-07' is not YYYY-MM-DD" in message
    assert "line 6: store must be one of" in message


def test_a_csv_without_the_required_columns_says_which() -> None:
    with pytest.raises(ChartPayloadError, match="lacks the column"):
        importers.parse_generic_csv("day,country,rank\n2013-07-27,IT,1\n")


def test_duplicate_ranks_in_one_chart_are_refused() -> None:
    text = (
        "date,store,country,chart,rank,app_id,app_name\n"
        "2013-07-27,apple,IT,top-free,1,a,A\n"
        "2013-07-27,apple,IT,top-free,1,b,B\n"
    )
    with pytest.raises(ChartPayloadError, match="rank 1 is given twice"):
        importers.parse_generic_csv(text)


def test_google_play_export_maps_play_collections_to_charts() -> None:
    charts = importers.read_file(FIXTURES / "play_top_free.csv", ImportFormat.PLAY_CSV)

    by_key = {(c.country, c.chart): c for c in charts}
    assert set(by_key) == {
        ("AR", Chart.TOP_FREE),
        ("CL", Chart.TOP_FREE),
        ("IT", Chart.TOP_FREE),
        ("IT", Chart.TOP_GROSSING),
    }
    assert all(c.store is Store.GOOGLE_PLAY for c in charts)
    assert by_key["AR", Chart.TOP_FREE].entries[0].app_name == "LINE: Free Calls & Messages"


def test_formats_are_guessed_from_the_file() -> None:
    assert importers.guess_format(FIXTURES / "generic.csv") is ImportFormat.CSV
    assert importers.guess_format(FIXTURES / "play_top_free.csv") is ImportFormat.PLAY_CSV
    assert importers.guess_format(FIXTURES / "apple_v2_it_top_free.json") is ImportFormat.APPLE_V2
    assert importers.guess_format(FIXTURES / "itunes_single_entry.json") is ImportFormat.ITUNES


def test_a_written_csv_reads_back_the_same() -> None:
    charts = importers.read_file(FIXTURES / "generic.csv")

    assert importers.parse_generic_csv(importers.write_generic_csv(charts)) == charts


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,store\n2013-07-27,café\n".encode("latin-1"))

    with pytest.raises(ChartPayloadError, match="not UTF-8"):
        importers.read_file(path)


def test_importing_the_same_day_again_replaces_its_ranks(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    dataset = service.find_or_create_dataset(db, workspace=workspace, name="Exports", source="csv")
    first = service.import_charts(db, dataset=dataset, charts=[chart("IT", DAY, ["a", "b", "c"])])
    again = service.import_charts(db, dataset=dataset, charts=[chart("IT", DAY, ["c", "a"])])

    ranks = db.execute(select(ChartEntry.app_key, ChartEntry.rank).order_by(ChartEntry.rank)).all()
    assert (first.replaced, again.replaced) == (0, 1)
    assert [tuple(row) for row in ranks] == [("c", 1), ("a", 2)]
    assert db.scalar(select(func.count(ChartSnapshot.id))) == 1
