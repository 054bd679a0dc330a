"""Scheduled reports, the worker's side: due schedules fire, their reports are made and
e-mailed, failed sends are tried again, and old files are deleted.

The rows are the truth. A schedule fires by moving its ``next_run_at`` forward in a
conditional update (only the worker whose update matched the old value creates the
delivery), so two workers never send one firing twice; a worker that was down fires a
missed schedule once, not once per missed period. A delivery is leased while it is sent
(``CLAIM_LEASE_S``); its files are made once and kept, and a retry e-mails only the
addresses that did not get it yet. After ``MAX_ATTEMPTS`` the delivery fails and the
workspace's owners are notified.

Files too large to attach are linked: ``/r/files/<delivery>/<n>/<signature>``, a link
signed with the secret key that opens that one file until the retention period ends.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.core import leases
from guanxi.core.errors import N_, NotFoundError
from guanxi.core.i18n import get_translations
from guanxi.core.security import constant_time_equal
from guanxi.core.settings import Settings
from guanxi.notifications import service as notifications
from guanxi.notifications.service import Attachment, EmailNotSentError, OutgoingEmail
from guanxi.report import service
from guanxi.report.models import FORMAT_TYPES, Languages, ReportDefinition, ReportFormat
from guanxi.report.schedule_models import DeliveryStatus, Frequency, ReportDelivery, ReportSchedule
from guanxi.report.schedules import run_period, schedule_next_run

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_BASE_S = 60.0
RETRY_CAP_S = 3600.0
CLAIM_LEASE_S = 900.0  # making four files of a large report takes a while
CLAIM_BATCH = 20
ERROR_MAX_LENGTH = 500

REPORT_NOT_SENT = "report_not_sent"
MESSAGES = {
    REPORT_NOT_SENT: N_(
        "The scheduled report “{title}” could not be sent after {attempts} attempts: {error}"
    ),
}
notifications.register_kinds(MESSAGES)

NO_MAIL_SERVER = N_("E-mail is not set up on this server: set GUANXI_SMTP_HOST.")
NOT_MADE = N_("The report's files could not be made; the error is in the server's log.")
SUBJECT = N_("{title}: {start} to {end}")
BODY = N_(
    "Attached is the report “{title}” of {workspace} for {start} to {end}.\n\n"
    "It is sent by guanxi on a schedule; a manager of the workspace can change the schedule "
    "or remove you from it."
)
SCHEDULE_GONE = N_("The schedule was deleted before this report was sent.")
# Errors kept as message ids (shown translated); any other is the mail server's own text.
KNOWN_ERRORS = frozenset({NO_MAIL_SERVER, NOT_MADE, SCHEDULE_GONE})
FILE_GONE = N_("This file has been deleted after its retention period, or the link is wrong.")


# --- Firing the due schedules ---------------------------------------------------------------


def _recipients(db: Session, schedule: ReportSchedule) -> list[str]:
    """The addresses a firing goes to: the members still in the workspace, then the others."""
    members = db.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.workspace_id == schedule.workspace_id,
            User.id.in_(schedule.user_ids),
            User.is_active.is_(True),
        )
        .order_by(User.email)
    )
    return list(dict.fromkeys([*members, *schedule.outside_emails]))


def fire_due_schedules(db: Session, *, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Fire every active schedule due at ``now``: one pending delivery each, the schedule
    moved to its next time. Committed; returns the new deliveries' ids."""
    due = list(
        db.execute(
            select(ReportSchedule.id, ReportSchedule.next_run_at)
            .where(ReportSchedule.active.is_(True), ReportSchedule.next_run_at <= now)
            .order_by(ReportSchedule.next_run_at)
            .limit(limit)
        )
    )
    created = []
    for schedule_id, due_at in due:
        if due_at is None:  # the query's filter: for the type checker
            continue
        schedule = db.get_one(ReportSchedule, schedule_id)
        workspace = db.get_one(Workspace, schedule.workspace_id)
        following = schedule_next_run(schedule, time_zone=workspace.timezone, after=now)
        moved = db.execute(
            update(ReportSchedule)
            .where(ReportSchedule.id == schedule_id, ReportSchedule.next_run_at == due_at)
            .values(next_run_at=following)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            continue  # another worker fired it
        definition = db.get_one(ReportDefinition, schedule.definition_id)
        period = run_period(
            Frequency(schedule.frequency), definition, due_at=due_at, time_zone=workspace.timezone
        )
        delivery = ReportDelivery(
            workspace_id=schedule.workspace_id,
            definition_id=schedule.definition_id,
            schedule_id=schedule.id,
            due_at=due_at,
            start=period.start,
            end=period.end,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            recipients=_recipients(db, schedule),
            sent_to=[],
            files=[],
            created_at=now,
        )
        db.add(delivery)
        db.flush()
        created.append(delivery.id)
        db.commit()
    db.commit()
    return created


def claim_due_deliveries(db: Session, *, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Lease the pending deliveries due at ``now`` for ``CLAIM_LEASE_S`` (a second claim
    before the send ends skips them); committed; returns their ids."""
    return leases.claim_due(
        db,
        row_id=ReportDelivery.id,
        status=ReportDelivery.status,
        due_at=ReportDelivery.next_attempt_at,
        pending=DeliveryStatus.PENDING,
        now=now,
        lease_s=CLAIM_LEASE_S,
        limit=limit,
    )


# --- Making and sending one delivery -------------------------------------------------------


def link_signature(settings: Settings, delivery_id: int, index: int) -> str:
    """The signature in the download link of file ``index`` of delivery ``delivery_id``."""
    key = settings.all_secret_keys()[0].encode("utf-8")
    message = f"report-delivery-file:{delivery_id}:{index}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def file_link(settings: Settings, delivery_id: int, index: int) -> str:
    """The full download link of one file of a delivery."""
    signature = link_signature(settings, delivery_id, index)
    return f"{settings.base_url.rstrip('/')}/r/files/{delivery_id}/{index}/{signature}"


def make_files(
    db: Session,
    delivery: ReportDelivery,
    schedule: ReportSchedule,
    *,
    settings: Settings,
    now: datetime,
) -> None:
    """Make the delivery's files (one per language and format) and keep them."""
    workspace = db.get_one(Workspace, delivery.workspace_id)
    definition = db.get_one(ReportDefinition, delivery.definition_id)
    period = run_period(
        Frequency(schedule.frequency),
        definition,
        due_at=delivery.due_at,
        time_zone=workspace.timezone,
    )
    document = service.build(db, workspace=workspace, definition=definition, period=period, now=now)
    folder = service.reports_dir(settings.data_dir, workspace) / "sent"
    folder.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    try:
        for language in schedule_languages(schedule):
            for format_name in schedule.formats:
                report_format = ReportFormat(format_name)
                content = service.render(document, report_format=report_format, language=language)
                name = service.file_name(definition.title, period, language, report_format)
                path = folder / f"{delivery.id}_{name}"
                path.write_bytes(content)
                files.append(
                    {
                        "name": name,
                        "format": report_format.value,
                        "language": language,
                        "path": str(path.relative_to(settings.data_dir)),
                        "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
                )
    except Exception:
        for file in files:  # all or nothing: the next attempt makes them again
            (settings.data_dir / file["path"]).unlink(missing_ok=True)
        raise
    delivery.files = files
    delivery.total_size = sum(file["size"] for file in files)
    delivery.files_expire_at = now + timedelta(days=settings.report_retention_days)


def schedule_languages(schedule: ReportSchedule) -> tuple[str, ...]:
    """The report languages a schedule's files are made in."""
    return Languages(schedule.languages).codes()


def _emails(
    db: Session, delivery: ReportDelivery, *, settings: Settings, fallback_language: str
) -> list[OutgoingEmail]:
    """One e-mail per address not yet sent to, in the member's language (others get the
    schedule's first language)."""
    workspace = db.get_one(Workspace, delivery.workspace_id)
    definition = db.get_one(ReportDefinition, delivery.definition_id)
    rows = db.execute(select(User.email, User.language).where(User.email.in_(delivery.recipients)))
    languages: dict[str, str | None] = dict(rows.all())
    attachments = tuple(
        Attachment(
            name=file["name"],
            media_type=FORMAT_TYPES[ReportFormat(file["format"])],
            path=settings.data_dir / file["path"],
            link=file_link(settings, delivery.id, index),
        )
        for index, file in enumerate(delivery.files)
    )
    params = {
        "title": definition.title,
        "workspace": workspace.name,
        "start": delivery.start.isoformat(),
        "end": delivery.end.isoformat(),
    }
    emails = []
    for address in delivery.recipients:
        if address in delivery.sent_to:
            continue
        language = languages.get(address) or fallback_language
        gettext = get_translations(language).gettext
        emails.append(
            OutgoingEmail(
                to=address,
                subject=gettext(SUBJECT).format(**params),
                body=gettext(BODY).format(**params) + "\n",
                attachments=attachments,
                language=language,
            )
        )
    return emails


def backoff_s(attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [base, min(cap, base·2^attempt)]."""
    ceiling = min(RETRY_CAP_S, RETRY_BASE_S * 2**attempt)
    return random.uniform(RETRY_BASE_S, max(RETRY_BASE_S, ceiling))  # noqa: S311 - jitter


def send_delivery(
    db: Session, *, delivery_id: int, settings: Settings, now: datetime
) -> DeliveryStatus | None:
    """Make (once) and e-mail one claimed delivery, and record the attempt (committed).
    Returns its status, or None when it is gone or no longer pending."""
    delivery = db.get(ReportDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    schedule = db.get(ReportSchedule, delivery.schedule_id) if delivery.schedule_id else None
    if schedule is None:  # deleted since it fired: nobody wants this report any more
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = SCHEDULE_GONE
        db.commit()
        return DeliveryStatus.FAILED
    error = ""
    if not settings.smtp_host:
        error = NO_MAIL_SERVER
    else:
        try:
            if not delivery.files:
                make_files(db, delivery, schedule, settings=settings, now=now)
        except Exception:
            log.exception("scheduled report delivery %s: the files failed", delivery.id)
            db.rollback()
            delivery = db.get_one(ReportDelivery, delivery_id)
            error = NOT_MADE
        if not error:
            sent: list[OutgoingEmail] = []
            fallback = schedule_languages(schedule)[0]
            try:
                notifications.deliver_emails(
                    settings,
                    _emails(db, delivery, settings=settings, fallback_language=fallback),
                    sent=sent,
                )
            except EmailNotSentError as exc:
                error = str(exc) or "SMTP"
            delivery.sent_to = [*delivery.sent_to, *(email.to for email in sent)]
    _record_attempt(db, delivery, error=error, settings=settings, now=now)
    db.commit()
    return DeliveryStatus(delivery.status)


def _record_attempt(
    db: Session, delivery: ReportDelivery, *, error: str, settings: Settings, now: datetime
) -> None:
    delivery.attempts += 1
    if not error:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        return
    delivery.last_error = error[:ERROR_MAX_LENGTH]
    if delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s(delivery.attempts))
        return
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    log.warning("scheduled report delivery %s failed for good: %s", delivery.id, error)
    definition = db.get_one(ReportDefinition, delivery.definition_id)
    owners = db.scalars(
        select(Membership.user_id).where(
            Membership.workspace_id == delivery.workspace_id, Membership.role == Role.OWNER
        )
    )
    notifications.notify(
        db,
        settings=settings,
        workspace_id=delivery.workspace_id,
        kind=REPORT_NOT_SENT,
        params={"title": definition.title, "attempts": delivery.attempts, "error": error},
        recipients=list(owners),
        link=f"/w/{_slug(db, delivery.workspace_id)}/reports/{definition.id}#history",
    )


def _slug(db: Session, workspace_id: int) -> str:
    return db.get_one(Workspace, workspace_id).slug


# --- The files: downloaded, expired --------------------------------------------------------


def delivery_file(
    delivery: ReportDelivery, index: int, *, data_dir: Path
) -> tuple[bytes, dict[str, Any]]:
    """The content of file ``index`` of ``delivery`` and its record, checked against its
    digest; NotFoundError once expired or for a file that is not there."""
    if delivery.expired or not 0 <= index < len(delivery.files):
        raise NotFoundError(FILE_GONE)
    file = delivery.files[index]
    path = data_dir / file["path"]
    if not path.is_file():
        raise NotFoundError(FILE_GONE)
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != file["sha256"]:
        raise NotFoundError(FILE_GONE)
    return content, file


def linked_file(
    db: Session,
    *,
    settings: Settings,
    delivery_id: int,
    index: int,
    signature: str,
    now: datetime,
) -> tuple[bytes, dict[str, Any]]:
    """The file a download link opens; one NotFoundError for a wrong signature, an unknown
    delivery and an expired file alike."""
    delivery = db.get(ReportDelivery, delivery_id)
    expected = link_signature(settings, delivery_id, index)
    if (
        delivery is None
        or not constant_time_equal(signature, expected)
        or (delivery.files_expire_at is not None and delivery.files_expire_at <= now)
    ):
        raise NotFoundError(FILE_GONE)
    return delivery_file(delivery, index, data_dir=settings.data_dir)


def expire_files(db: Session, *, data_dir: Path, now: datetime) -> int:
    """Delete the files of deliveries past their retention period; the rows stay, marked
    expired. Committed; returns how many deliveries expired."""
    expired = list(
        db.scalars(
            select(ReportDelivery).where(
                ReportDelivery.files_expire_at <= now,
                ReportDelivery.files_deleted_at.is_(None),
            )
        )
    )
    for delivery in expired:
        for file in delivery.files:
            (data_dir / file["path"]).unlink(missing_ok=True)
        delivery.files_deleted_at = now
    db.commit()
    return len(expired)
