"""Telling people what they should know (a failed publish, an alert): in the app, and by e-mail.

A notification is a row per recipient (shown in the app) and, when ``GUANXI_SMTP_HOST`` is
set, an e-mail in the recipient's language. E-mails go out only after the transaction that
created the notification commits, and a failure to send is logged: it never breaks the
work that notified (publishing, an alert check). Each capability registers its kinds of
notification with ``register_kinds``.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role, User
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError
from guanxi.core.i18n import get_translations
from guanxi.core.in_lists import scalars_among
from guanxi.core.settings import Settings
from guanxi.notifications import preferences, robots
from guanxi.notifications.models import Notification

log = logging.getLogger(__name__)

OUTBOX_KEY = "guanxi_outbox"
SMTP_TIMEOUT_S = 10
# The list shows the most recent ones; older ones are still counted while unread.
PAGE_SIZE = 200

# Each kind of notification and its message (a translatable id with {params}), as the
# capabilities register them.
MESSAGES: dict[str, str] = {}
SUBJECT = N_("guanxi: {message}")
LINKED_FILES = N_(
    "The files are too large to attach (over {limit} MB together); download them here:"
)
LINK_LINE = N_("{name} ({size}): {link}")
FILE_LEFT_OUT = N_("{name} ({size}) is too large to attach and has no download link.")
MB = 1024 * 1024
TEAM_CHAT_LINE = N_("For: {people}")
NO_SUCH_NOTIFICATION = N_("You have no notification with this number in this workspace.")


def register_kinds(messages: dict[str, str]) -> None:
    """Add other capabilities' kinds of notification (kind → translatable message with
    {params}); a kind registered twice must keep its message."""
    for kind, message in messages.items():
        if MESSAGES.setdefault(kind, message) != message:
            raise ValueError(f"notification kind {kind!r} is already registered")


@dataclass(frozen=True)
class Attachment:
    """A file an e-mail carries: its bytes or the path of a file holding them, and where to
    download it instead when the e-mail's files are too large to attach."""

    name: str
    media_type: str
    content: bytes | None = None
    path: Path | None = None
    link: str = ""

    def __post_init__(self) -> None:
        if (self.content is None) == (self.path is None):
            msg = "an attachment has either its content or the path of its file"
            raise ValueError(msg)

    @property
    def size(self) -> int:
        """How many bytes the file has."""
        return len(self.content) if self.content is not None else self.path.stat().st_size  # type: ignore[union-attr]

    def read(self) -> bytes:
        """The file's bytes."""
        return self.content if self.content is not None else self.path.read_bytes()  # type: ignore[union-attr]


@dataclass(frozen=True)
class OutgoingEmail:
    """An e-mail waiting for its transaction to commit (or sent at once by a job)."""

    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()
    language: str = "en"  # of the lines added about files too large to attach


class EmailNotSentError(RuntimeError):
    """The mail server could not be reached or refused an e-mail."""


def managers_of(db: Session, *, workspace_id: int) -> list[int]:
    """The ids of the workspace's owners and managers."""
    query = select(Membership.user_id).where(
        Membership.workspace_id == workspace_id,
        Membership.role.in_([Role.OWNER, Role.MANAGER]),
    )
    return list(db.scalars(query))


def render(message: str, params: dict[str, Any], language: str) -> str:
    """``message`` translated into ``language`` and filled with ``params``."""
    text = get_translations(language).gettext(message)
    return text.format(**params)


def notify(
    db: Session,
    *,
    settings: Settings,
    workspace_id: int,
    kind: str,
    params: dict[str, Any],
    recipients: Iterable[int | None],
    link: str = "",
) -> list[Notification]:
    """Notify each recipient (user ids; None and duplicates skipped) where they chose to hear
    of ``kind``: in the app (the rows returned), by e-mail after the commit, and, once for
    all of them, in the workspace's team chats. Kinds nobody can tune go to the app and by
    e-mail."""
    message = MESSAGES[kind]
    user_ids = list(dict.fromkeys(r for r in recipients if r is not None))
    choices = preferences.choices_for(db, user_ids=user_ids, kind=kind)
    created = []
    in_team_chat: list[User] = []
    # One query for everyone (an approval step waits for every manager: a hundred people),
    # read before any row is added, so the notifications go in one batch at the next flush.
    users = {user.id: user for user in scalars_among(db, select(User), User.id, user_ids)}
    for user_id in user_ids:
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        choice = choices[user_id]
        if choice.in_app:
            note = Notification(
                workspace_id=workspace_id,
                user_id=user_id,
                kind=kind,
                message=message,
                params=params,
                link=link,
            )
            db.add(note)
            created.append(note)
        if choice.email and settings.smtp_host:
            _queue_email(db, settings, email_for(user, message, params, link, settings))
        if choice.team_chat:
            in_team_chat.append(user)
    if in_team_chat:
        texts = {
            language: team_chat_text(message, params, link, in_team_chat, language, settings)
            for language in robots.LANGUAGES
        }
        robots.queue_message(db, workspace_id=workspace_id, texts=texts)
    return created


def email_for(
    user: User, message: str, params: dict[str, Any], link: str, settings: Settings
) -> OutgoingEmail:
    """The e-mail telling ``user`` of a notification, in their language."""
    language = user.language or settings.default_language
    text = render(message, params, language)
    subject = get_translations(language).gettext(SUBJECT).format(message=text[:80])
    body = f"{text}\n\n{settings.base_url.rstrip('/')}{link}\n" if link else f"{text}\n"
    return OutgoingEmail(to=user.email, subject=subject, body=body)


def team_chat_text(
    message: str,
    params: dict[str, Any],
    link: str,
    people: list[User],
    language: str,
    settings: Settings,
) -> str:
    """The team-chat message: what happened, for whom, and the link into guanxi."""
    names = ", ".join(user.name or user.email for user in people)
    lines = [
        f"[guanxi] {render(message, params, language)}",
        get_translations(language).gettext(TEAM_CHAT_LINE).format(people=names),
    ]
    if link:
        lines.append(f"{settings.base_url.rstrip('/')}{link}")
    return "\n".join(lines)


def _queue_email(db: Session, settings: Settings, email: OutgoingEmail) -> None:
    outbox: list[OutgoingEmail] | None = db.info.get(OUTBOX_KEY)
    if outbox is None:
        outbox = []
        db.info[OUTBOX_KEY] = outbox

        def _after_commit(session: Session) -> None:
            pending = session.info.pop(OUTBOX_KEY, [])
            send_emails(settings, pending)

        def _after_rollback(session: Session, _previous: object) -> None:
            session.info.pop(OUTBOX_KEY, None)

        event.listen(db, "after_commit", _after_commit, once=True)
        event.listen(db, "after_soft_rollback", _after_rollback, once=True)
    outbox.append(email)


def send_emails(settings: Settings, emails: Iterable[OutgoingEmail]) -> int:
    """Send ``emails`` through the configured SMTP server; return how many went out.

    Errors are logged, never raised: an unreachable mail server must not stop publishing.
    """
    emails = list(emails)
    sent: list[OutgoingEmail] = []
    try:
        deliver_emails(settings, emails, sent=sent)
    except EmailNotSentError:
        log.exception("could not send %d notification e-mail(s)", len(emails) - len(sent))
    return len(sent)


def deliver_emails(
    settings: Settings, emails: Iterable[OutgoingEmail], *, sent: list[OutgoingEmail]
) -> None:
    """Send ``emails`` through the configured SMTP server, appending each one that went out
    to ``sent``; raise EmailNotSentError at the first failure (a job retries the rest later).

    Nothing is sent when ``GUANXI_SMTP_HOST`` is empty."""
    emails = list(emails)
    if not emails or not settings.smtp_host:
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            password = settings.smtp_password.get_secret_value()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, password)
            for email in emails:
                smtp.send_message(email_message(settings, email))
                sent.append(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise EmailNotSentError(str(exc) or type(exc).__name__) from exc


def email_message(settings: Settings, email: OutgoingEmail) -> EmailMessage:
    """``email`` as a MIME message: its files attached when together they fit within
    ``GUANXI_EMAIL_ATTACHMENTS_MAX_MB``, otherwise listed with their download links."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = email.to
    message["Subject"] = email.subject
    limit = settings.email_attachments_max_mb
    attach = sum(file.size for file in email.attachments) <= limit * MB
    body = email.body if attach else _with_links(email, limit)
    message.set_content(body)
    if attach:
        for file in email.attachments:
            main, _slash, sub = file.media_type.split(";")[0].strip().partition("/")
            message.add_attachment(
                file.read(), maintype=main, subtype=sub or "octet-stream", filename=file.name
            )
    return message


def _with_links(email: OutgoingEmail, limit: int) -> str:
    gettext = get_translations(email.language).gettext
    lines = [email.body.rstrip("\n"), "", gettext(LINKED_FILES).format(limit=limit)]
    for file in email.attachments:
        size = f"{file.size / MB:.1f} MB"
        if file.link:
            lines.append(gettext(LINK_LINE).format(name=file.name, size=size, link=file.link))
        else:
            lines.append(gettext(FILE_LEFT_OUT).format(name=file.name, size=size))
    return "\n".join(lines) + "\n"


def count_unread(db: Session, *, user_id: int, workspace_id: int) -> int:
    """How many of the user's notifications in the workspace are unread (one COUNT query)."""
    query = select(func.count(Notification.id)).where(
        Notification.user_id == user_id,
        Notification.workspace_id == workspace_id,
        Notification.read_at.is_(None),
    )
    return db.scalar(query) or 0


def list_notifications(
    db: Session, *, user_id: int, workspace_id: int, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The user's notifications in the workspace, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.workspace_id == workspace_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def mark_read(db: Session, *, user_id: int, workspace_id: int, notification_id: int) -> None:
    """Mark one of the user's notifications read; NotFound for anyone else's."""
    note = db.get(Notification, notification_id)
    if note is None or note.user_id != user_id or note.workspace_id != workspace_id:
        raise NotFoundError(NO_SUCH_NOTIFICATION)
    if note.read_at is None:
        note.read_at = utcnow()


def mark_all_read(db: Session, *, user_id: int, workspace_id: int) -> int:
    """Mark every unread notification of the user in the workspace read; return how many."""
    statement = (
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.workspace_id == workspace_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
