"""Shared arrangements for the composer, approvals and media tests: two test connectors
(a microblog and an article platform, told apart by their rules and the fields they use), a
workspace with one member per role, and its two connected accounts."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, User, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors import registry
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectorConfig,
    HashtagStyle,
    PublishRequest,
    PublishResult,
    ReadNotSupported,
    RuleViolation,
    Severity,
    VariantDraft,
    VariantField,
)
from guanxi.core.settings import Settings
from guanxi.publishing.policy import get_policy

MICRO_LIMIT = 140


class _TestConnector(ReadNotSupported):
    """The parts of a connector the composer uses; publishing is the engine's business."""

    name = ""
    platforms: tuple[str, ...] = ()
    capabilities = frozenset({Capability.PUBLISH})
    hashtag_style = HashtagStyle.DOUBLE_HASH
    variant_fields: frozenset[VariantField] = frozenset()

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> _TestConnector:
        return cls(ConnectorConfig(base_url="http://127.0.0.1:1", http=http))

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        raise NotImplementedError

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        raise NotImplementedError

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        raise NotImplementedError

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        raise NotImplementedError

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        raise NotImplementedError


class MicroConnector(_TestConnector):
    """A microblog: text up to 140 characters; a post without an image only warns."""

    name = "test_micro"
    platforms = ("weibo",)

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        found = []
        if len(variant.text) > MICRO_LIMIT:
            params = {"count": len(variant.text), "limit": MICRO_LIMIT}
            message = "The text has {count} characters; the limit is {limit}."
            found.append(RuleViolation("text.too_long", message, params=params))
        if not variant.media:
            found.append(
                RuleViolation(
                    "media.none", "Posts with an image reach more readers.", Severity.WARNING
                )
            )
        return found


class ArticleConnector(_TestConnector):
    """An article platform: needs a title (at most 64), a summary (at most 120), a cover."""

    name = "test_article"
    platforms = ("wechat",)
    hashtag_style = HashtagStyle.NONE
    variant_fields = frozenset({VariantField.TITLE, VariantField.DIGEST, VariantField.COVER})

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        found = []
        if not variant.title:
            found.append(RuleViolation("title.required", "An article needs a title."))
        elif len(variant.title) > 64:
            found.append(RuleViolation("title.too_long", "The title is too long."))
        if len(variant.digest) > 120:
            found.append(RuleViolation("digest.too_long", "The summary is too long."))
        if variant.cover is None:
            found.append(RuleViolation("cover.required", "An article needs a cover image."))
        return found


@pytest.fixture
def test_connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the two test connectors are installed."""
    factories: dict[str, Any] = {"test_micro": MicroConnector, "test_article": ArticleConnector}
    monkeypatch.setattr(registry, "connector_factories", lambda: factories)


@dataclass
class Team:
    """A workspace with a member per role and two connected accounts."""

    workspace: Workspace
    owner: User
    manager: User
    manager2: User
    editor: User
    analyst: User
    micro: Channel
    article: Channel


def make_team(db: Session, make_user: Any, make_workspace: Any, slug: str = "acme") -> Team:
    """Arrange a team in workspace ``slug`` (users' e-mails are prefixed with it)."""
    owner = make_user(f"owner@{slug}.example", name="Owner")
    manager = make_user(f"manager@{slug}.example", name="Mia Manager")
    manager2 = make_user(f"manager2@{slug}.example", name="Max Manager")
    editor = make_user(f"editor@{slug}.example", name="Eddie Editor")
    analyst = make_user(f"analyst@{slug}.example", name="Ann Analyst")
    workspace = make_workspace(
        slug,
        owner=owner,
        members={
            manager: Role.MANAGER,
            manager2: Role.MANAGER,
            editor: Role.EDITOR,
            analyst: Role.ANALYST,
        },
    )
    micro = Channel(
        workspace_id=workspace.id,
        connector="test_micro",
        platform="weibo",
        external_id="u1",
        name="品牌微博",
        timezone="Asia/Shanghai",
        audience="mainland",
    )
    article = Channel(
        workspace_id=workspace.id,
        connector="test_article",
        platform="wechat",
        external_id="wx1",
        name="品牌公众号",
        timezone="Asia/Shanghai",
        audience="mainland",
    )
    db.add_all([micro, article])
    db.commit()
    return Team(workspace, owner, manager, manager2, editor, analyst, micro, article)


def set_steps(db: Session, workspace: Workspace, steps: int) -> None:
    """Give the workspace a policy with ``steps`` approval steps (managers approve)."""
    policy = get_policy(db, workspace=workspace)
    policy.approval_steps = steps
    db.commit()


def png_bytes(width: int = 8, height: int = 6, color: str = "red") -> bytes:
    """A real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 10, height: int = 4) -> bytes:
    """A real JPEG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, format="JPEG")
    return buffer.getvalue()


def mp4_bytes(duration_units: int = 5000, timescale: int = 1000) -> bytes:
    """A minimal MP4: an ftyp box and a moov box holding an mvhd with the duration."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    ftyp = box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2mp41")
    mvhd_payload = (
        bytes(4)  # version 0, flags
        + bytes(8)  # creation and modification times
        + timescale.to_bytes(4, "big")
        + duration_units.to_bytes(4, "big")
        + bytes(80)
    )
    moov = box(b"moov", box(b"mvhd", mvhd_payload))
    return ftyp + moov + box(b"mdat", b"\x00" * 64)
