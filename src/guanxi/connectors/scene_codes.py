"""Scene codes: QR codes, mini-program codes and links that tell which code brought a person.

A connector with ``Capability.SCENE_CODES`` implements ``MakesSceneCodes``; the convert
capability calls only these methods and reads the platform's limits from
``scene_code_limits``, so it enforces them where a code is asked for without knowing the
platform. Errors are the usual ``ConnectorError`` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from guanxi.connectors.base import ChannelContext


@dataclass(frozen=True)
class SceneCodeLimits:
    """What the platform accepts: lengths, lifetimes and how many permanent codes."""

    scene_max: int  # characters of a QR code's scene
    temporary_max_s: int  # the longest a temporary QR code lives
    permanent_max: int  # permanent QR codes an account may ever make
    miniprogram_scene_max: int  # visible characters of a mini-program code's scene
    miniprogram_width_min: int
    miniprogram_width_max: int
    link_max_days: int  # the longest a URL Link lives


@dataclass(frozen=True)
class IssuedQr:
    """A QR code the platform made: its ticket, the address it encodes, when it expires."""

    ticket: str
    url: str
    expires_at: datetime | None  # None: permanent


@dataclass(frozen=True)
class IssuedLink:
    """A link into the mini program, and when it stops working."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class FollowerOrigin:
    """How a follower came, as the platform remembers it."""

    following: bool
    source: str  # the platform's way of following (e.g. ADD_SCENE_QR_CODE), "" unknown
    scene: str  # the scene of the code they followed through, "" when none
    followed_at: datetime | None


@runtime_checkable
class MakesSceneCodes(Protocol):
    """A connector that makes scene codes for an account and tells how followers came."""

    scene_code_limits: SceneCodeLimits

    def create_qr(
        self, channel: ChannelContext, *, scene: str, permanent: bool, expire_seconds: int
    ) -> IssuedQr:
        """A QR code carrying ``scene``; temporary ones live ``expire_seconds``."""
        ...

    def qr_image(self, ticket: str) -> bytes:
        """The PNG image of the QR code with ``ticket``."""
        ...

    def miniprogram_code(
        self, channel: ChannelContext, *, scene: str, page: str, width: int
    ) -> bytes:
        """The PNG of a mini-program code opening ``page`` with ``scene``."""
        ...

    def url_link(
        self, channel: ChannelContext, *, path: str, query: str, expire_days: int
    ) -> IssuedLink:
        """A link that opens the mini program at ``path``?``query`` for ``expire_days``."""
        ...

    def follower_origin(self, channel: ChannelContext, openid: str) -> FollowerOrigin:
        """How the follower ``openid`` came to follow the account."""
        ...
