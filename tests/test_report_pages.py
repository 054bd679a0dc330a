"""The report pages: a report from a template, its settings, its preview in both languages,
the HTML download; editors change, analysts read; the share link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, User, Workspace
from guanxi.core.db import utcnow
from guanxi.report import service
from guanxi.report.models import ReportDefinition, ReportFormat, ReportRun, ReportShare
from tests.conftest import CSRF_RE, UserFactory, WorkspaceFactory, sign_in
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("test_sections")


@pytest.fixture
def team(make_user: UserFactory, make_workspace: WorkspaceFactory) -> dict[str, User]:
    owner = make_user("owner@acme.example", name="Owner")
    analyst = make_user("analyst@acme.example", name="Zhang Wei")
    make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    return {"owner": owner, "analyst": analyst}


def token(client: TestClient, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


def new_report(client: TestClient, template: str = "weekly") -> int:
    """Create a report from ``template`` through the list page; its id."""
    response = client.post(
        "/w/acme/reports",
        data={"template": template, "csrf_token": token(client, "/w/acme/reports")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    found = re.search(r"/reports/(\d+)/edit$", response.headers["location"])
    assert found
    return int(found.group(1))


def settings_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "title": "Week in China",
        "period_kind": "last_week",
        "custom_start": "",
        "custom_end": "",
        "comparison": "previous_period",
        "languages": "both",
        "campaign_id": "",
        "include_empty": "on",
        "section": SECTION_KEYS,
        "order.test.followers": "2",
        "order.test.quiet": "1",
        "order.test.broken": "3",
        "comment.test.followers": "A strong week on Weibo.",
    }
    form.update(changes)
    return form


def save(client: TestClient, report_id: int, form: dict[str, str | list[str]]) -> int:
    path = f"/w/acme/reports/{report_id}/edit"
    response = client.post(
        path, data={**form, "csrf_token": token(client, path)}, follow_redirects=False
    )
    return response.status_code


def test_a_report_is_made_from_a_template_set_up_and_previewed_in_both_languages(
    client: TestClient, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)

    edit = client.get(f"/w/acme/reports/{report_id}/edit")
    assert edit.status_code == 200
    assert 'value="Weekly community report"' in edit.text
    assert save(client, report_id, settings_form()) == 303

    definition = db.scalars(select(ReportDefinition)).one()
    db.refresh(definition)
    # The positions set the order; the comment is kept for its section.
    assert definition.section_keys == ["test.quiet", "test.followers", "test.broken"]
    assert definition.comments == {"test.followers": "A strong week on Weibo."}

    english = client.get(f"/w/acme/reports/{report_id}?lang=en")
    chinese = client.get(f"/w/acme/reports/{report_id}?lang=zh_Hans")
    assert english.status_code == chinese.status_code == 200
    assert "Week in China" in english.text
    assert "A strong week on Weibo." in english.text
    assert "138K" in english.text
    assert "No message came in." in english.text
    assert "This section could not be made" in english.text
    assert "data-chart-option" in english.text
    assert "13.8万" in chinese.text
    assert "本报告未能生成此部分" in chinese.text
    for fmt in ("html", "pdf", "pptx", "xlsx"):
        assert f"download?format={fmt}&amp;lang=en" in english.text

    download = client.get(f"/w/acme/reports/{report_id}/download?format=html&lang=zh_Hans")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/html")
    assert "attachment" in download.headers["content-disposition"]
    assert "13.8万" in download.text
    assert "echarts" in download.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "x" * 121}, "at most 120 characters"),
        ({"section": []}, "Choose at least one section."),
        ({"comment.test.quiet": "y" * 2001}, "at most 2000 characters"),
        ({"period_kind": "custom", "custom_start": "2026-12-01"}, "a first and a last day"),
        (
            {"period_kind": "custom", "custom_start": "2026-12-05", "custom_end": "2026-12-01"},
            "swap them",
        ),
        ({"period_kind": "yearly"}, "Choose one of the options offered."),
    ],
)
def test_settings_past_a_limit_are_refused_saying_what_to_fix(
    client: TestClient, db: Session, team: dict[str, User], changes: dict[str, str], message: str
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    path = f"/w/acme/reports/{report_id}/edit"

    response = client.post(
        path, data={**settings_form(**changes), "csrf_token": token(client, path)}
    )

    assert response.status_code == 400
    assert message in response.text
    db.expire_all()
    assert db.get(ReportDefinition, report_id).title == "Weekly community report"  # type: ignore[union-attr]


def test_an_analyst_reads_reports_but_does_not_change_them(
    client: TestClient, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    client.post("/logout", data={"csrf_token": token(client, "/w/acme/reports")})
    sign_in(client, team["analyst"].email)
    client.cookies.set("guanxi_language", "zh_Hans")

    listing = client.get("/w/acme/reports")
    preview = client.get(f"/w/acme/reports/{report_id}")
    edit = client.get(f"/w/acme/reports/{report_id}/edit")

    assert listing.status_code == preview.status_code == 200
    assert "Your role can read reports but not create them" in listing.text
    assert f"/w/acme/reports/{report_id}/edit" not in preview.text
    assert edit.status_code == 403


# --- The share link ---------------------------------------------------------------------------


def share(client: TestClient, report_id: int, days: str = "30") -> str:
    path = f"/w/acme/reports/{report_id}"
    response = client.post(
        f"{path}/shares", data={"days": days, "language": "en", "csrf_token": token(client, path)}
    )
    assert response.status_code == 200, response.text
    found = re.search(r"http://testserver(/r/gxr_[\w-]+)", response.text)
    assert found, "the new link is shown once"
    return found.group(1)


def test_a_share_link_shows_the_report_without_an_account_and_counts_each_opening(
    client: TestClient, app: object, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    assert save(client, report_id, settings_form()) == 303
    link = share(client, report_id)
    stored = db.scalars(select(ReportShare)).one()
    assert link.removeprefix("/r/") not in stored.token_hash  # only the digest is kept

    visitor = TestClient(app)  # type: ignore[arg-type]
    first = visitor.get(link)
    visitor.get(link)

    assert first.status_code == 200
    assert "Week in China" in first.text
    assert "138K" in first.text
    assert first.headers["cache-control"] == "no-store"
    assert "/w/acme" not in first.text  # no way into the workspace from the shared page
    db.refresh(stored)
    assert stored.open_count == 2
    assert stored.last_opened_at is not None
    # The link opens nothing else: not the workspace's pages, not its API.
    assert visitor.get("/w/acme/reports", follow_redirects=False).status_code in {303, 401}
    assert visitor.get(f"{link}/../../w/acme/reports", follow_redirects=False).status_code != 200


def test_a_withdrawn_or_expired_link_no_longer_opens(
    client: TestClient, app: object, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    withdrawn, expired = share(client, report_id), share(client, report_id, days="1")
    shares = db.scalars(select(ReportShare).order_by(ReportShare.id)).all()
    path = f"/w/acme/reports/{report_id}"
    revoke = client.post(
        f"{path}/shares/{shares[0].id}/revoke",
        data={"csrf_token": token(client, path)},
        follow_redirects=False,
    )
    assert revoke.status_code == 303
    shares[1].expires_at = utcnow() - timedelta(seconds=1)
    db.commit()

    visitor = TestClient(app)  # type: ignore[arg-type]
    for link in (withdrawn, expired, "/r/gxr_not-a-link"):
        response = visitor.get(link)
        assert response.status_code == 404
        assert "does not exist, has expired or was withdrawn" in response.text
    db.expire_all()
    assert [s.open_count for s in db.scalars(select(ReportShare).order_by(ReportShare.id))] == [
        0,
        0,
    ]


@pytest.mark.parametrize("days", ["0", "91", "abc"])
def test_a_link_lasts_at_most_90_days(
    client: TestClient, db: Session, team: dict[str, User], days: str
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    path = f"/w/acme/reports/{report_id}"

    response = client.post(f"{path}/shares", data={"days": days, "csrf_token": token(client, path)})

    assert response.status_code == 400
    assert "from 1 to 90 days" in response.text
    assert db.scalars(select(ReportShare)).first() is None


def test_another_workspaces_report_is_not_found(
    client: TestClient,
    db: Session,
    team: dict[str, User],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    other: Workspace = make_workspace("other", owner=make_user("o@other.example"))
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    definition = db.get(ReportDefinition, report_id)
    assert definition is not None
    definition.workspace_id = other.id
    db.commit()

    assert client.get(f"/w/acme/reports/{report_id}").status_code == 404


def test_deleting_a_report_removes_its_files_and_links(
    client: TestClient, db: Session, team: dict[str, User], settings: Any
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    share(client, report_id)
    definition = db.get(ReportDefinition, report_id)
    assert definition is not None
    workspace = db.get(Workspace, definition.workspace_id)
    assert workspace is not None
    run = service.run_report(
        db,
        workspace=workspace,
        definition=definition,
        period=service.definition_period(definition, workspace=workspace, now=utcnow()),
        language="en",
        report_format=ReportFormat.HTML,
        actor=None,
        data_dir=settings.data_dir,
        now=utcnow(),
    )
    db.commit()
    file = settings.data_dir / run.file_path
    assert file.is_file()
    path = f"/w/acme/reports/{report_id}/edit"

    deleted = client.post(
        f"/w/acme/reports/{report_id}/delete",
        data={"csrf_token": token(client, path)},
        follow_redirects=False,
    )

    assert deleted.status_code == 303
    assert not file.exists()
    db.expire_all()
    assert db.scalars(select(ReportRun)).first() is None
    assert db.scalars(select(ReportShare)).first() is None


def test_a_file_made_from_the_preview_is_kept_and_downloaded(
    client: TestClient, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    report_id = new_report(client)
    assert save(client, report_id, settings_form()) == 303
    path = f"/w/acme/reports/{report_id}"

    made = client.post(
        f"{path}/runs",
        data={"format": "html", "language": "zh_Hans", "csrf_token": token(client, path)},
        follow_redirects=False,
    )

    assert made.status_code == 303
    run = db.scalars(select(ReportRun)).one()
    assert (run.language, run.status) == ("zh_Hans", "done")
    assert f"{path}/runs/{run.id}/file" in client.get(path).text
    file = client.get(f"{path}/runs/{run.id}/file")
    assert file.status_code == 200
    assert "13.8万" in file.text
    assert client.get(f"/w/acme/reports/{report_id + 1}/runs/{run.id}/file").status_code == 404
