"""A report's schedules on its page and in the API: added, changed, paused, resumed and
deleted; the history of the reports they sent, with files to download until they expire."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User, Workspace
from guanxi.core.settings import Settings
from guanxi.report import deliveries, service
from guanxi.report.models import DefinitionWrite, ReportDefinition
from guanxi.report.schedule_models import DeliveryStatus, ReportDelivery, ReportSchedule
from tests.conftest import CSRF_RE, UserFactory, WorkspaceFactory, sign_in
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("test_sections")
SENT_AT = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def report(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> int:
    owner = make_user("owner@acme.example", name="Owner")
    analyst = make_user("analyst@acme.example", name="Zhang Wei")
    workspace = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    data = DefinitionWrite(title="Week in China", section_keys=SECTION_KEYS)
    definition = service.create_definition(db, workspace=workspace, actor=owner, data=data)
    db.commit()
    return definition.id


def token(client: TestClient, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


def post(client: TestClient, path: str, form: dict[str, Any], page: str) -> Any:
    return client.post(
        path, data={**form, "csrf_token": token(client, page)}, follow_redirects=False
    )


def schedule_form(db: Session, **changes: Any) -> dict[str, Any]:
    analyst = db.scalars(select(User).where(User.email == "analyst@acme.example")).one()
    return {
        "frequency": "weekly",
        "weekday": "0",
        "day_of_month": "1",
        "local_time": "09:00",
        "format": ["pdf", "xlsx"],
        "languages": "both",
        "user": [str(analyst.id)],
        "outside_emails": "ceo@brand.example\nagency@partner.example",
    } | changes


def test_a_schedule_is_added_shown_paused_resumed_and_deleted(
    client: TestClient, db: Session, report: int
) -> None:
    sign_in(client, "owner@acme.example")
    root = f"/w/acme/reports/{report}"

    added = post(client, f"{root}/schedules", schedule_form(db), f"{root}/schedules/new")

    assert added.status_code == 303
    assert added.headers["location"].endswith("#schedules")
    schedule = db.scalars(select(ReportSchedule)).one()
    assert schedule.outside_emails == ["ceo@brand.example", "agency@partner.example"]
    page = client.get(root).text
    assert "Every week" in page
    assert "Monday" in page
    assert "09:00" in page
    assert "3 recipients" in page
    assert "UTC+8" in page  # the next time, in the workspace's zone
    chinese = client.get(root, headers={"accept-language": "zh-CN"}).text
    assert "每周" in chinese
    assert "周一" in chinese

    assert post(client, f"{root}/schedules/{schedule.id}/pause", {}, root).status_code == 303
    db.refresh(schedule)
    assert (schedule.active, schedule.next_run_at) == (False, None)
    assert "Paused" in client.get(root).text
    assert post(client, f"{root}/schedules/{schedule.id}/resume", {}, root).status_code == 303
    db.refresh(schedule)
    assert schedule.active
    assert schedule.next_run_at is not None

    changed = post(
        client,
        f"{root}/schedules/{schedule.id}",
        schedule_form(db, frequency="monthly", day_of_month="31"),
        f"{root}/schedules/{schedule.id}",
    )
    assert changed.status_code == 303
    db.refresh(schedule)
    assert (schedule.frequency, schedule.day_of_month) == ("monthly", 31)

    assert post(client, f"{root}/schedules/{schedule.id}/delete", {}, root).status_code == 303
    assert db.scalars(select(ReportSchedule)).all() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outside_emails": "ceo@brand.example, not-an-address"}, "“not-an-address” is not"),
        ({"local_time": "25:00"}, "HH:MM"),
        ({"format": []}, "at least one file format"),
        ({"user": [], "outside_emails": ""}, "at least one member"),
        (
            {"outside_emails": "\n".join(f"p{n}@brand.example" for n in range(50))},
            "at most 50 people",
        ),
    ],
)
def test_a_schedule_past_a_limit_is_refused_saying_what_to_fix(
    client: TestClient, db: Session, report: int, changes: dict[str, Any], message: str
) -> None:
    sign_in(client, "owner@acme.example")
    root = f"/w/acme/reports/{report}"

    refused = post(client, f"{root}/schedules", schedule_form(db, **changes), root)

    assert refused.status_code == 400
    assert message in refused.text
    assert db.scalars(select(ReportSchedule)).all() == []


def sent_delivery(db: Session, settings: Settings, definition_id: int) -> ReportDelivery:
    """A delivery as the worker leaves it: sent, with one file kept."""
    definition = db.get_one(ReportDefinition, definition_id)
    content = b"<html>Week in China</html>"
    path = settings.data_dir / "reports" / "sent" / "1_week.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    delivery = ReportDelivery(
        workspace_id=definition.workspace_id,
        definition_id=definition.id,
        due_at=SENT_AT,
        start=(SENT_AT - timedelta(days=7)).date(),
        end=(SENT_AT - timedelta(days=1)).date(),
        status=DeliveryStatus.SENT,
        attempts=1,
        sent_at=SENT_AT,
        recipients=["ceo@brand.example"],
        sent_to=["ceo@brand.example"],
        files=[
            {
                "name": "week_en.html",
                "format": "html",
                "language": "en",
                "path": "reports/sent/1_week.html",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        ],
        total_size=len(content),
        files_expire_at=SENT_AT + timedelta(days=90),
    )
    db.add(delivery)
    db.commit()
    return delivery


def test_the_history_lists_each_sent_report_with_its_files_until_they_expire(
    client: TestClient, db: Session, settings: Settings, report: int
) -> None:
    delivery = sent_delivery(db, settings, report)
    sign_in(client, "analyst@acme.example")
    root = f"/w/acme/reports/{report}"

    page = client.get(root).text
    file = client.get(f"{root}/deliveries/{delivery.id}/files/0")

    assert "Sent" in page
    assert "ceo@brand.example" in page
    assert f"{root}/deliveries/{delivery.id}/files/0" in page
    assert file.status_code == 200
    assert file.text == "<html>Week in China</html>"
    assert client.get(f"{root}/deliveries/{delivery.id}/files/1").status_code == 404
    assert (
        client.get(f"/w/acme/reports/{report + 1}/deliveries/{delivery.id}/files/0").status_code
        == 404
    )

    deliveries.expire_files(db, data_dir=settings.data_dir, now=SENT_AT + timedelta(days=91))

    assert "Expired" in client.get(root).text
    assert client.get(f"{root}/deliveries/{delivery.id}/files/0").status_code == 404


def test_the_e_mails_link_downloads_the_file_without_an_account(
    client: TestClient, db: Session, settings: Settings, report: int
) -> None:
    delivery = sent_delivery(db, settings, report)
    link = deliveries.file_link(settings, delivery.id, 0).removeprefix(settings.base_url)

    opened = client.get(link)
    forged = client.get(link[:-4] + "0000")

    assert opened.status_code == 200
    assert opened.headers["cache-control"] == "no-store"
    assert opened.text == "<html>Week in China</html>"
    assert forged.status_code == 404


def test_schedules_through_the_api(
    client: TestClient, db: Session, settings: Settings, report: int
) -> None:
    workspace = db.scalars(select(Workspace)).one()
    headers = {}
    for membership in workspace.memberships:
        _token, plain = accounts.create_api_token(db, membership=membership, name="script")
        headers[membership.role] = {"authorization": f"Bearer {plain}"}
    db.commit()
    root = f"/api/v1/w/acme/reports/definitions/{report}/schedules"
    body = {
        "frequency": "quarterly",
        "day_of_month": 2,
        "local_time": "08:30",
        "formats": ["pptx"],
        "languages": "zh_Hans",
        "outside_emails": ["ceo@brand.example"],
    }

    created = client.post(root, json=body, headers=headers[Role.OWNER])
    refused = client.post(root, json=body, headers=headers[Role.ANALYST])
    bad = client.post(root, json=body | {"outside_emails": ["nope"]}, headers=headers[Role.OWNER])

    assert created.status_code == 201, created.text
    assert refused.status_code == 403
    assert bad.status_code == 422
    schedule = created.json()
    assert schedule["next_run_at"].endswith("00:30:00Z") or "00:30:00" in schedule["next_run_at"]
    listed = client.get(root, headers=headers[Role.ANALYST]).json()
    assert [s["id"] for s in listed] == [schedule["id"]]
    paused = client.put(
        f"{root}/{schedule['id']}", json=body | {"active": False}, headers=headers[Role.OWNER]
    )
    assert paused.json()["next_run_at"] is None

    delivery = sent_delivery(db, settings, report)
    history = client.get(
        f"/api/v1/w/acme/reports/definitions/{report}/deliveries", headers=headers[Role.ANALYST]
    ).json()
    assert [(d["status"], d["recipients"]) for d in history] == [("sent", ["ceo@brand.example"])]
    file = client.get(history[0]["files"][0]["download"], headers=headers[Role.ANALYST])
    assert file.status_code == 200
    assert file.text == "<html>Week in China</html>"
    assert delivery.id == history[0]["id"]

    deleted = client.delete(f"{root}/{schedule['id']}", headers=headers[Role.OWNER])
    assert deleted.status_code == 204
    assert client.get(f"{root}/{schedule['id']}", headers=headers[Role.OWNER]).status_code == 404


def test_a_member_is_chosen_whatever_the_size_of_their_id(
    client: TestClient, db: Session, report: int, make_user: UserFactory
) -> None:
    """Given a member whose user id has five digits (a server that has had many users),
    when they are ticked as a recipient, then the schedule sends to them; a value that names
    no user is refused, not dropped."""
    workspace = db.scalars(select(Workspace).where(Workspace.slug == "acme")).one()
    veteran = make_user("veteran@acme.example", name="Li Na")
    db.execute(update(User).where(User.id == veteran.id).values(id=54321))
    db.expire_all()
    moved = db.get(User, 54321)
    assert moved is not None
    accounts.add_member(db, workspace=workspace, user=moved, role=Role.EDITOR, actor=None)
    db.commit()
    sign_in(client, "owner@acme.example")
    root = f"/w/acme/reports/{report}"

    added = post(client, f"{root}/schedules", schedule_form(db, user=["54321"]), root)
    refused = post(client, f"{root}/schedules", schedule_form(db, user=["54321", "²"]), root)

    assert added.status_code == 303
    assert db.scalars(select(ReportSchedule.user_ids)).one() == [54321]
    assert refused.status_code == 400
    assert "not members of this workspace" in refused.text
