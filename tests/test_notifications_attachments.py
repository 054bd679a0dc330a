"""E-mails with files: attached up to GUANXI_EMAIL_ATTACHMENTS_MAX_MB together, linked above."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanxi.core.settings import Settings
from guanxi.notifications.service import (
    Attachment,
    EmailNotSentError,
    OutgoingEmail,
    deliver_emails,
    send_emails,
)
from tests.mail_support import Mailbox

MB = 1024 * 1024


def mail_settings(tmp_path: Path, port: int, max_mb: int = 1) -> Settings:
    return Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        email_attachments_max_mb=max_mb,
    )


def test_files_within_the_limit_are_attached_with_their_names_and_types(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7 the report")
    email = OutgoingEmail(
        to="head.office@example.com",
        subject="Weekly report",
        body="Here it is.",
        attachments=(
            Attachment("report.pdf", "application/pdf", path=pdf, link="https://x/1"),
            Attachment("data.csv", "text/csv; charset=utf-8", content=b"a,b\n1,2\n"),
        ),
    )

    assert send_emails(mail_settings(tmp_path, mailbox.port), [email]) == 1

    [(_to, message)] = mailbox.received
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(files) == {"report.pdf", "data.csv"}
    assert files["report.pdf"].get_content_type() == "application/pdf"
    assert files["report.pdf"].get_content() == b"%PDF-1.7 the report"
    assert "https://x/1" not in message.get_body().get_content()  # type: ignore[union-attr]


def test_files_over_the_limit_are_linked_in_the_recipients_language(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    """Two files of 0.6 MB make 1.2 MB, over a 1 MB limit: none is attached, both linked."""
    email = OutgoingEmail(
        to="team@example.cn",
        subject="周报",
        body="附件是本周报告。",
        attachments=(
            Attachment("a.pptx", "application/octet-stream", content=b"x" * (6 * MB // 10)),
            Attachment("b.xlsx", "application/octet-stream", content=b"y" * (6 * MB // 10)),
        ),
        language="zh_Hans",
    )

    send_emails(mail_settings(tmp_path, mailbox.port), [email])

    [(_to, message)] = mailbox.received
    assert list(message.iter_attachments()) == []
    body = message.get_content()
    assert "附件是本周报告。" in body
    assert "1 MB" in body
    assert "太大" in body  # the note is in Chinese
    assert "a.pptx" in body
    assert "b.xlsx" in body
    assert "0.6 MB" in body


def test_a_refused_message_raises_for_a_job_and_is_only_logged_for_a_notification(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    mailbox.refuse = True
    settings = mail_settings(tmp_path, mailbox.port)
    emails = [OutgoingEmail(to="a@example.com", subject="s", body="b")]

    assert send_emails(settings, emails) == 0
    sent: list[OutgoingEmail] = []
    with pytest.raises(EmailNotSentError, match="451"):
        deliver_emails(settings, emails, sent=sent)
    assert sent == []


def test_an_attachment_has_its_bytes_or_a_path_not_both() -> None:
    with pytest.raises(ValueError, match="either"):
        Attachment("a.pdf", "application/pdf")
