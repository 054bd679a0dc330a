"""Scheduled reports through the worker: due schedules fire once, their files are made and
e-mailed, failures are retried and then reported to the owner, old files expire."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Role, User, Workspace
from guanxi.core.errors import UserError
from guanxi.core.settings import Settings
from guanxi.notifications.models import Notification
from guanxi.report import deliveries, scheduled, schedules, service
from guanxi.report.models import DefinitionWrite, Languages, ReportDefinition, ReportFormat
from guanxi.report.schedule_models import (
    DeliveryStatus,
    Frequency,
    ReportDelivery,
    ReportSchedule,
    ScheduleWrite,
)
from tests.conftest import UserFactory, WorkspaceFactory
from tests.mail_support import Mailbox
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("test_sections")

# Monday 7 December 2026, 09:00 in Shanghai.
MONDAY_9 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture
def acme(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    owner = make_user("owner@acme.example", name="Owner")
    analyst = make_user("analyst@acme.example", name="Zhang Wei")
    analyst.language = "zh_Hans"
    return make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})


@pytest.fixture
def definition(db: Session, acme: Workspace) -> ReportDefinition:
    data = DefinitionWrite(title="Week in China", section_keys=SECTION_KEYS)
    made = service.create_definition(db, workspace=acme, actor=None, data=data)
    db.commit()
    return made


def member(db: Session, email: str) -> User:
    return db.scalars(select(User).where(User.email == email)).one()


def schedule(
    db: Session, acme: Workspace, definition: ReportDefinition, **changes: object
) -> ReportSchedule:
    values: dict[str, object] = {
        "frequency": Frequency.WEEKLY,
        "weekday": 0,
        "local_time": time(9, 0),
        "formats": [ReportFormat.HTML, ReportFormat.XLSX],
        "languages": Languages.BOTH,
        "user_ids": [member(db, "analyst@acme.example").id],
        "outside_emails": ["Head.Office@Example.com"],
    }
    made = schedules.create_schedule(
        db,
        workspace=acme,
        definition=definition,
        actor=None,
        data=ScheduleWrite.model_validate(values | changes),
        now=MONDAY_9 - timedelta(days=3),
    )
    db.commit()
    return made


@pytest.fixture
def mail(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "smtp_starttls": False}
    )


def fire_and_send(db: Session, settings: Settings, now: datetime) -> list[DeliveryStatus | None]:
    deliveries.fire_due_schedules(db, now=now)
    claimed = deliveries.claim_due_deliveries(db, now=now)
    return [
        deliveries.send_delivery(db, delivery_id=d, settings=settings, now=now) for d in claimed
    ]


def test_a_due_schedule_sends_last_weeks_report_to_each_recipient_in_their_language(
    db: Session,
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
) -> None:
    made = schedule(db, acme, definition)
    assert made.next_run_at == MONDAY_9

    assert fire_and_send(db, mail, MONDAY_9 + timedelta(seconds=30)) == [DeliveryStatus.SENT]

    delivery = db.scalars(select(ReportDelivery)).one()
    assert (delivery.start.isoformat(), delivery.end.isoformat()) == ("2026-11-30", "2026-12-06")
    assert delivery.recipients == ["analyst@acme.example", "head.office@example.com"]
    assert [(f["language"], f["format"]) for f in delivery.files] == [
        ("en", "html"),
        ("en", "xlsx"),
        ("zh_Hans", "html"),
        ("zh_Hans", "xlsx"),
    ]
    assert all((mail.data_dir / f["path"]).is_file() for f in delivery.files)
    assert mailbox.to() == ["analyst@acme.example", "head.office@example.com"]
    chinese, english = (message for _to, message in mailbox.received)
    assert "周报" not in english["Subject"]
    assert english["Subject"] == "Week in China: 2026-11-30 to 2026-12-06"
    assert "附件" in chinese.get_body().get_content()  # type: ignore[union-attr]
    assert len(list(english.iter_attachments())) == 4
    db.refresh(made)
    assert made.next_run_at == MONDAY_9 + timedelta(days=7)


def test_two_workers_fire_a_due_schedule_once(
    db: Session,
    session_factory: sessionmaker[Session],
    acme: Workspace,
    definition: ReportDefinition,
) -> None:
    """The second worker read the schedule as due before the first moved it on."""
    schedule(db, acme, definition)
    other = session_factory()
    try:
        stale = other.get_one(ReportSchedule, db.scalars(select(ReportSchedule.id)).one())
        assert stale.next_run_at == MONDAY_9

        first = deliveries.fire_due_schedules(db, now=MONDAY_9)
        second = deliveries.fire_due_schedules(other, now=MONDAY_9)
    finally:
        other.close()

    assert (len(first), second) == (1, [])
    assert deliveries.claim_due_deliveries(db, now=MONDAY_9) == first
    assert deliveries.claim_due_deliveries(db, now=MONDAY_9) == []  # leased


def test_a_missed_week_fires_once_when_the_worker_comes_back(
    db: Session, acme: Workspace, definition: ReportDefinition
) -> None:
    made = schedule(db, acme, definition)

    fired = deliveries.fire_due_schedules(db, now=MONDAY_9 + timedelta(days=15))

    assert len(fired) == 1
    db.refresh(made)
    assert made.next_run_at == MONDAY_9 + timedelta(days=21)


def test_a_failing_mail_server_is_retried_then_the_owner_is_told(
    db: Session,
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
) -> None:
    schedule(db, acme, definition, formats=[ReportFormat.HTML], languages=Languages.EN)
    mailbox.refuse = True
    now = MONDAY_9
    deliveries.fire_due_schedules(db, now=now)
    statuses = []
    for _attempt in range(deliveries.MAX_ATTEMPTS):
        delivery = db.scalars(select(ReportDelivery)).one()
        db.refresh(delivery)
        assert delivery.next_attempt_at is not None
        now = max(now, delivery.next_attempt_at)
        [status] = [
            deliveries.send_delivery(db, delivery_id=d, settings=mail, now=now)
            for d in deliveries.claim_due_deliveries(db, now=now)
        ]
        statuses.append(status)

    assert statuses == [DeliveryStatus.PENDING] * 3 + [DeliveryStatus.FAILED]
    delivery = db.scalars(select(ReportDelivery)).one()
    assert delivery.attempts == deliveries.MAX_ATTEMPTS
    assert "451" in delivery.last_error
    [note] = db.scalars(select(Notification)).all()
    assert note.user_id == member(db, "owner@acme.example").id
    assert note.kind == deliveries.REPORT_NOT_SENT
    assert note.params["title"] == "Week in China"


def test_a_retry_sends_only_to_those_who_did_not_get_it(
    db: Session,
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
) -> None:
    schedule(db, acme, definition, formats=[ReportFormat.HTML], languages=Languages.EN)
    deliveries.fire_due_schedules(db, now=MONDAY_9)
    delivery = db.scalars(select(ReportDelivery)).one()
    delivery.sent_to = ["analyst@acme.example"]  # the first attempt broke after this one
    db.commit()

    assert fire_and_send(db, mail, MONDAY_9) == [DeliveryStatus.SENT]
    assert mailbox.to() == ["head.office@example.com"]


def test_without_a_mail_server_the_delivery_says_what_to_set(
    db: Session, acme: Workspace, definition: ReportDefinition, settings: Settings
) -> None:
    schedule(db, acme, definition)

    assert fire_and_send(db, settings, MONDAY_9) == [DeliveryStatus.PENDING]
    assert "GUANXI_SMTP_HOST" in db.scalars(select(ReportDelivery.last_error)).one()


def test_large_files_are_linked_and_the_link_opens_only_that_file_until_it_expires(
    db: Session,
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
) -> None:
    tiny = mail.model_copy(update={"email_attachments_max_mb": 1})
    schedule(db, acme, definition, formats=[ReportFormat.HTML], languages=Languages.EN)
    deliveries.fire_due_schedules(db, now=MONDAY_9)
    [delivery_id] = deliveries.claim_due_deliveries(db, now=MONDAY_9)
    delivery = db.get_one(ReportDelivery, delivery_id)
    # A report made earlier, too large to attach: a 2 MB file.
    path = tiny.data_dir / "reports" / "big.html"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<p>" * 700_000)
    content = path.read_bytes()
    delivery.files = [
        {
            "name": "big.html",
            "format": "html",
            "language": "en",
            "path": "reports/big.html",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    ]
    delivery.total_size = len(content)
    delivery.files_expire_at = MONDAY_9 + timedelta(days=90)
    db.commit()

    status = deliveries.send_delivery(db, delivery_id=delivery_id, settings=tiny, now=MONDAY_9)

    assert status is DeliveryStatus.SENT, delivery.last_error
    bodies = [message.get_content() for _to, message in mailbox.received]
    assert all(not list(message.iter_attachments()) for _to, message in mailbox.received)
    links = {re.search(r"http\S+/r/files/\S+", body).group(0) for body in bodies}  # type: ignore[union-attr]
    assert len(links) == 1  # the same link in the English and the Chinese e-mail
    _base, signature = links.pop().rsplit("/", 1)
    got, _file = deliveries.linked_file(
        db, settings=tiny, delivery_id=delivery_id, index=0, signature=signature, now=MONDAY_9
    )
    assert got == content
    for wrong in ({"index": 1}, {"delivery_id": delivery_id + 1}, {"signature": "0" * 40}):
        args = {"delivery_id": delivery_id, "index": 0, "signature": signature} | wrong
        with pytest.raises(UserError):
            deliveries.linked_file(db, settings=tiny, now=MONDAY_9, **args)  # type: ignore[arg-type]

    later = MONDAY_9 + timedelta(days=91)
    assert deliveries.expire_files(db, data_dir=tiny.data_dir, now=later) == 1
    assert not path.exists()
    db.refresh(delivery)
    assert delivery.expired
    with pytest.raises(UserError):
        deliveries.linked_file(
            db, settings=tiny, delivery_id=delivery_id, index=0, signature=signature, now=later
        )


def test_a_schedule_refuses_strangers_and_too_many_recipients(
    db: Session, acme: Workspace, definition: ReportDefinition, make_user: UserFactory
) -> None:
    stranger = make_user("someone@else.example")
    with pytest.raises(UserError, match="not members"):
        schedule(db, acme, definition, user_ids=[stranger.id])
    many = [f"person{n}@example.com" for n in range(51)]
    with pytest.raises(ValueError, match="at most 50"):
        ScheduleWrite(outside_emails=many)
    with pytest.raises(ValueError, match="valid email"):
        ScheduleWrite(outside_emails=["not an address"])


def test_a_paused_schedule_does_not_fire_and_resumes_at_its_next_time(
    db: Session, acme: Workspace, definition: ReportDefinition
) -> None:
    made = schedule(db, acme, definition)
    schedules.set_active(db, workspace=acme, schedule=made, actor=None, active=False, now=MONDAY_9)
    db.commit()
    assert made.next_run_at is None
    assert deliveries.fire_due_schedules(db, now=MONDAY_9 + timedelta(days=1)) == []

    schedules.set_active(
        db, workspace=acme, schedule=made, actor=None, active=True, now=MONDAY_9 + timedelta(days=1)
    )

    assert made.next_run_at == MONDAY_9 + timedelta(days=7)


def test_the_workers_jobs_send_the_due_report_and_expire_old_files(
    db: Session,
    session_factory: sessionmaker[Session],
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The schedule's jobs run the same functions as above, through the task queue."""
    schedule(db, acme, definition, formats=[ReportFormat.HTML], languages=Languages.EN)
    monkeypatch.setattr(scheduled, "sessions", lambda: session_factory)
    monkeypatch.setattr(scheduled, "get_settings", lambda: mail)
    monkeypatch.setattr(scheduled, "utcnow", lambda: MONDAY_9)
    monkeypatch.setattr(scheduled.huey, "immediate", True)
    assert [job.name for job in scheduled.SCHEDULE] == ["report-schedules", "report-expire-files"]

    [delivery_id] = scheduled.run_report_schedules()

    assert mailbox.to() == ["analyst@acme.example", "head.office@example.com"]
    monkeypatch.setattr(scheduled, "utcnow", lambda: MONDAY_9 + timedelta(days=91))
    assert scheduled.run_expire_files() == 1
    delivery = db.get_one(ReportDelivery, delivery_id)
    db.refresh(delivery)
    assert delivery.expired
    assert not (mail.data_dir / delivery.files[0]["path"]).exists()


def test_deleting_a_report_deletes_the_files_it_sent(
    db: Session, acme: Workspace, definition: ReportDefinition, mail: Settings
) -> None:
    schedule(db, acme, definition, formats=[ReportFormat.HTML], languages=Languages.EN)
    assert fire_and_send(db, mail, MONDAY_9) == [DeliveryStatus.SENT]
    path = mail.data_dir / db.scalars(select(ReportDelivery)).one().files[0]["path"]
    assert path.is_file()

    service.delete_definition(
        db, workspace=acme, definition=definition, actor=None, data_dir=mail.data_dir
    )
    db.commit()

    assert not path.exists()
    assert db.scalars(select(ReportDelivery)).all() == []


def test_a_report_that_cannot_be_made_leaves_no_file_and_is_tried_again(
    db: Session,
    acme: Workspace,
    definition: ReportDefinition,
    mail: Settings,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schedule(db, acme, definition, formats=[ReportFormat.HTML, ReportFormat.XLSX])
    real_render = service.render

    def render_html_only(document: Any, *, report_format: ReportFormat, language: str) -> bytes:
        if report_format is ReportFormat.XLSX:
            msg = "no spreadsheet today"
            raise RuntimeError(msg)
        return real_render(document, report_format=report_format, language=language)

    monkeypatch.setattr(service, "render", render_html_only)

    assert fire_and_send(db, mail, MONDAY_9) == [DeliveryStatus.PENDING]

    delivery = db.scalars(select(ReportDelivery)).one()
    assert (delivery.last_error, delivery.files) == (deliveries.NOT_MADE, [])
    assert list(mail.data_dir.rglob("*.html")) == []
    assert mailbox.received == []
