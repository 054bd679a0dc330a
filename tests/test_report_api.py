"""``/api/v1/w/{slug}/reports`` (definitions, run now, download) and ``guanxi report run``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User, UserCreate, Workspace, WorkspaceCreate
from guanxi.core.db import utcnow
from guanxi.report import service
from guanxi.report.models import DefinitionWrite, ReportFormat
from tests.cli import run, said, upgraded
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("test_sections")
ROOT = "/api/v1/w/acme/reports"
DEFINITION: dict[str, Any] = {
    "title": "Monthly for Lyon",
    "period_kind": "custom",
    "custom_start": "2026-11-01",
    "custom_end": "2026-11-30",
    "comparison": "same_period_last_year",
    "languages": "en",
    "section_keys": SECTION_KEYS,
    "comments": {"test.followers": "Singles Day on Tmall."},
}


@pytest.fixture
def headers(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, dict[str, str]]:
    """API tokens of acme's owner and analyst."""
    owner, analyst = make_user("owner@acme.example"), make_user("analyst@acme.example")
    workspace = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    tokens = {}
    for membership in workspace.memberships:
        _token, plain = accounts.create_api_token(db, membership=membership, name="script")
        tokens[membership.role] = {"authorization": f"Bearer {plain}"}
    db.commit()
    return {"owner": tokens[Role.OWNER], "analyst": tokens[Role.ANALYST]}


def test_a_definition_is_created_listed_run_and_its_file_downloaded(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    created = client.post(f"{ROOT}/definitions", json=DEFINITION, headers=headers["owner"])
    assert created.status_code == 201, created.text
    definition_id = created.json()["id"]
    listed = client.get(f"{ROOT}/definitions", headers=headers["analyst"]).json()
    assert [d["title"] for d in listed] == ["Monthly for Lyon"]

    made = client.post(
        f"{ROOT}/definitions/{definition_id}/runs",
        json={"format": "html", "language": "zh_Hans"},
        headers=headers["owner"],
    )

    assert made.status_code == 201, made.text
    made_run = made.json()
    assert made_run["status"] == "done"
    assert (made_run["start"], made_run["end"]) == ("2026-11-01", "2026-11-30")
    assert (made_run["compare_start"], made_run["compare_end"]) == ("2025-11-01", "2025-11-30")
    file = client.get(made_run["download"], headers=headers["analyst"])
    assert file.status_code == 200
    assert hashlib.sha256(file.content).hexdigest() == made_run["sha256"]
    assert len(file.content) == made_run["file_size"]
    assert "13.8万" in file.text
    assert "Singles Day on Tmall." in file.text


def test_limits_are_enforced_where_a_definition_enters(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    too_many = {**DEFINITION, "section_keys": [f"k{n}" for n in range(31)]}
    refused = client.post(f"{ROOT}/definitions", json=too_many, headers=headers["owner"])
    assert refused.status_code == 422
    assert "at most 30 sections" in refused.json()["errors"][0]["message"]

    analyst = client.post(f"{ROOT}/definitions", json=DEFINITION, headers=headers["analyst"])
    assert analyst.status_code == 403


def test_a_pdf_run_is_made_kept_and_downloaded(
    client: TestClient, db: Session, headers: dict[str, dict[str, str]]
) -> None:
    """A run in PDF through the API is made at once and its file downloads."""
    definition_id = client.post(
        f"{ROOT}/definitions", json=DEFINITION, headers=headers["owner"]
    ).json()["id"]

    made = client.post(
        f"{ROOT}/definitions/{definition_id}/runs",
        json={"format": "pdf", "language": "en"},
        headers=headers["owner"],
    )

    assert made.status_code == 201, made.text
    assert made.json()["status"] == "done"
    pdf = client.get(made.json()["download"], headers=headers["owner"])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_run_of_another_workspace_is_not_found(
    client: TestClient,
    db: Session,
    headers: dict[str, dict[str, str]],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    settings: Any,
) -> None:
    other = make_workspace("other", owner=make_user("o@other.example"))
    definition = service.create_definition(
        db, workspace=other, actor=None, data=DefinitionWrite.model_validate(DEFINITION)
    )
    period = service.definition_period(definition, workspace=other, now=utcnow())
    foreign = service.run_report(
        db,
        workspace=other,
        definition=definition,
        period=period,
        language="en",
        report_format=ReportFormat.HTML,
        actor=None,
        data_dir=settings.data_dir,
        now=utcnow(),
    )
    db.commit()

    assert client.get(f"{ROOT}/runs/{foreign.id}/file", headers=headers["owner"]).status_code == 404
    assert (
        client.post(
            f"{ROOT}/definitions/{definition.id}/runs", json={}, headers=headers["owner"]
        ).status_code
        == 404
    )


# --- guanxi report run --------------------------------------------------------------------------


def test_the_command_writes_a_saved_report_as_html(cli_database: Engine, tmp_path: Path) -> None:
    upgraded(cli_database)
    with Session(cli_database) as db:
        owner: User = accounts.create_user(
            db, data=UserCreate(email="owner@acme.example", name="O", password="a-long-password-1")
        )
        workspace: Workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="acme", name="Acme Wines"), owner=owner
        )
        definition = service.create_definition(
            db, workspace=workspace, actor=None, data=DefinitionWrite.model_validate(DEFINITION)
        )
        db.commit()
        definition_id = definition.id
    output = tmp_path / "report.html"

    result = run(
        "report", "run", "--workspace", "acme", "--definition", str(definition_id),
        "--from", "2026-11-01", "--to", "2026-11-07", "--format", "html",
        "--language", "zh_Hans", "--output", str(output),
    )  # fmt: skip

    assert result.exit_code == 0, said(result)
    page = output.read_text(encoding="utf-8")
    assert "Monthly for Lyon" in page
    assert "Acme Wines" in page
    assert "13.8万" in page
    assert "2026年11月1日" in page


def test_the_command_makes_a_template_report_and_refuses_bad_options(
    cli_database: Engine, tmp_path: Path
) -> None:
    upgraded(cli_database)
    with Session(cli_database) as db:
        owner = accounts.create_user(
            db, data=UserCreate(email="owner@acme.example", name="O", password="a-long-password-1")
        )
        accounts.create_workspace(db, data=WorkspaceCreate(slug="acme", name="Acme"), owner=owner)
        db.commit()
    output = tmp_path / "weekly.html"

    made = run(
        "report", "run", "--workspace", "acme", "--template", "weekly", "--output", str(output)
    )
    both = run("report", "run", "--workspace", "acme", "--template", "weekly",
               "--definition", "1", "--output", str(output))  # fmt: skip
    unknown = run("report", "run", "--workspace", "nope", "--template", "weekly",
                  "--output", str(output))  # fmt: skip
    bad_format = run("report", "run", "--workspace", "acme", "--template", "weekly",
                     "--format", "docx", "--output", str(output))  # fmt: skip

    assert made.exit_code == 0, said(made)
    assert "Weekly community report" in output.read_text(encoding="utf-8")
    assert (both.exit_code, unknown.exit_code, bad_format.exit_code) == (1, 1, 1)
    assert "either --definition ID or --template NAME" in said(both)
    assert "no workspace nope" in said(unknown)
    assert "--format must be html, pdf, pptx or xlsx" in said(bad_format)
