"""What a platform pushes to guanxi, as typed events every capability can read.

A connector whose platform calls back (WeChat's server configuration URL) implements
``ReceivesPushes``: it checks that a request comes from the platform, and turns the body into
platform-neutral events (a message arrived, a publish finished). The webhook entry
(``guanxi.channels.webhooks``) hands each event to the handlers capabilities register; it
never reads the platform's format itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from guanxi.connectors.base import FetchedItem, PublishResult


class PushRefusedError(Exception):
    """The request is not the platform's (bad or old signature, a replay): answer 403.

    The message says why, for the log; the platform is told nothing more than "forbidden".
    """


class PushUnreadableError(ValueError):
    """The body is not something the platform sends (malformed or hostile): answer 400."""


@dataclass(frozen=True)
class SignedRequest:
    """What identifies one signed request: seen twice on a channel, it is a replay."""

    nonce: str
    timestamp: str


@dataclass(frozen=True)
class MessageArrived:
    """A person wrote to the account (a private message, or an event that speaks for one)."""

    item: FetchedItem
    request: SignedRequest


@dataclass(frozen=True)
class PublishFinished:
    """The platform says where a publish it was running stands now."""

    external_id: str  # the id ``publish`` returned (a job id)
    result: PublishResult


@dataclass(frozen=True)
class CodeScanned:
    """A person scanned one of the account's scene codes, or followed the account.

    ``followed``: the scan made them a follower (or they followed another way, then
    ``scene`` is empty). ``event_id`` is the same for the platform's retries of one push.
    """

    openid: str
    scene: str
    followed: bool
    at: datetime
    event_id: str


PushEvent = MessageArrived | PublishFinished | CodeScanned


@runtime_checkable
class ReceivesPushes(Protocol):
    """A connector whose platform calls guanxi back, on ``/hooks/<push_path>/<channel id>``."""

    push_path: str  # the URL segment the platform is configured with ("wechat")
    push_acknowledgement: str  # the answer to an accepted push ("success" for WeChat)

    def verify_push(
        self, credentials: Mapping[str, str], query: Mapping[str, str], *, now: float
    ) -> SignedRequest:
        """Check the request is the platform's for the account with ``credentials``;
        raise ``PushRefusedError`` (with the reason) otherwise."""
        ...

    def push_check_answer(self, query: Mapping[str, str]) -> str:
        """The answer to the platform's check of a verified URL (e.g. its ``echostr``)."""
        ...

    def parse_push(self, body: bytes, request: SignedRequest) -> list[PushEvent]:
        """The events a verified request carries (none for what guanxi ignores).

        Raises ``PushUnreadableError`` for a body that is not the platform's format, and
        ``guanxi.core.values.InvalidValue`` for a value that cannot be stored.
        """
        ...
