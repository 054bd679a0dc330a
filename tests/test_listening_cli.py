"""`guanxi import`, `guanxi listen reenrich` and `guanxi listen pull` from the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.listening.intake.models import ListeningSource
from guanxi.listening.mentions import flows
from guanxi.listening.mentions.models import Mention, MentionEnrichment
from tests.cli import run, said, upgraded
from tests.listening_data_support import FIXTURES, WEIBO_CRAWLER, FakePipeline

PASSWORD = "a long enough password"


@pytest.fixture
def workspace(cli_database: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A migrated database with workspace acme; the pipeline is the test's fake."""
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    upgraded(cli_database)
    assert (
        run(
            "user",
            "create",
            "--email",
            "o@acme.example",
            "--name",
            "O",
            "--password-stdin",
            stdin=PASSWORD,
        ).exit_code
        == 0
    )
    result = run(
        "workspace", "create", "--slug", "acme", "--name", "Acme", "--owner", "o@acme.example"
    )
    assert result.exit_code == 0, result.output
    return cli_database


def count(engine: Engine) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count(Mention.id))) or 0


def test_import_weibo_crawler_reports_rows_and_is_idempotent(workspace: Engine) -> None:
    result = run("import", str(WEIBO_CRAWLER), "--format", "weibo-crawler", "--workspace", "acme")
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "read 5 rows: 4 new, 0 already there, 2 with errors" in text
    assert "line 4 [点赞数]: The count is not a number." in text
    assert count(workspace) == 4
    again = run("import", str(WEIBO_CRAWLER), "--format", "weibo-crawler", "--workspace", "acme")
    assert "0 new, 4 already there" in said(again)
    assert count(workspace) == 4


def test_import_generic_csv_with_a_mapping_remembered_per_source(workspace: Engine) -> None:
    mapping = "external_id=编号,text=内容,posted_at=发布时间,author_name=作者"
    first = run(
        "import",
        str(FIXTURES / "generic.csv"),
        "--format",
        "csv",
        "--workspace",
        "acme",
        "--source",
        "agency",
        "--mapping",
        mapping,
    )
    assert "2 new" in said(first), first.output
    with Session(workspace) as db:
        source = db.scalar(select(ListeningSource).where(ListeningSource.name == "agency"))
        assert source is not None
        assert source.column_mapping["author_name"] == "作者"
    second = run(
        "import",
        str(FIXTURES / "generic.csv"),
        "--format",
        "csv",
        "--workspace",
        "acme",
        "--source",
        "agency",
    )
    assert "0 new, 2 already there" in said(second)


def test_import_errors_are_clear(workspace: Engine) -> None:
    unknown = run("import", str(WEIBO_CRAWLER), "--format", "docx", "--workspace", "acme")
    assert unknown.exit_code == 1
    assert "unknown --format" in said(unknown)
    nobody = run("import", str(WEIBO_CRAWLER), "--format", "weibo-crawler", "--workspace", "x")
    assert nobody.exit_code == 1
    assert "no workspace x" in said(nobody)
    wrong = run(
        "import", str(FIXTURES / "generic.csv"), "--format", "weibo-crawler", "--workspace", "acme"
    )
    assert wrong.exit_code == 1
    assert "not a weibo-crawler CSV" in said(wrong)
    unmapped = run(
        "import", str(FIXTURES / "generic.csv"), "--format", "csv", "--workspace", "acme"
    )
    assert unmapped.exit_code == 1
    assert "Choose the columns" in said(unmapped)


def test_reenrich_after_a_model_upgrade(workspace: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        run(
            "import", str(WEIBO_CRAWLER), "--format", "weibo-crawler", "--workspace", "acme"
        ).exit_code
        == 0
    )
    upgraded = FakePipeline("fake-2")
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: upgraded)
    result = run("listen", "reenrich", "--workspace", "acme")
    assert "re-enriched 4 mentions with fake-2" in said(result), result.output
    with Session(workspace) as db:
        assert set(db.scalars(select(MentionEnrichment.model_version))) == {"fake-2"}
    assert "every mention is enriched by fake-2" in said(run("listen", "reenrich"))


def test_pull_without_searches_says_so(workspace: Engine) -> None:
    result = run("listen", "pull")
    assert result.exit_code == 0
    assert "no search sources" in said(result)
