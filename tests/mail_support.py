"""A local SMTP server for tests that keeps every message it receives, parsed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """What the server received: (recipients, message) in order; ``refuse`` makes it
    answer every message with a temporary failure."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False

    def to(self) -> list[str]:
        """The recipients of each message, in order."""
        return [",".join(rcpt) for rcpt, _message in self.received]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A running SMTP server on a free local port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port)

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's hook name
            if box.refuse:
                return "451 Try again later"
            message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
            box.received.append((list(envelope.rcpt_tos), message))  # type: ignore[attr-defined, arg-type]
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()
