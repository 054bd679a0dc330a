"""A manager overrides a warning with a recorded reason; errors cannot be overridden."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role
from guanxi.channels.models import Channel, ChannelAudience
from guanxi.checks import service
from guanxi.checks.findings import Finding
from guanxi.checks.words import CompiledWordList, WordEntry, WordSeverity
from guanxi.connectors.base import HashtagStyle
from guanxi.core.errors import NotFoundError, PermissionDeniedError, UserError
from guanxi.publishing import variants
from guanxi.publishing.models import Post, Variant
from tests.conftest import UserFactory, WorkspaceFactory


@pytest.fixture
def team(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, Membership]:
    """Workspace acme with an owner, a manager and an editor."""
    owner = make_user("owner@acme.example")
    manager = make_user("boss@acme.example")
    editor = make_user("cm@acme.example")
    workspace = make_workspace(
        "acme", owner=owner, members={manager: Role.MANAGER, editor: Role.EDITOR}
    )
    return {m.user.email.split("@")[0]: m for m in workspace.memberships}


@pytest.fixture
def variant(db: Session, team: dict[str, Membership]) -> Variant:
    """A Weibo variant with a Traditional character (a warning) and a block term (an error),
    its checks stored as the composer stores them."""
    workspace = team["owner"].workspace
    channel = Channel(
        workspace_id=workspace.id,
        connector="weibo",
        platform="weibo",
        external_id="1001",
        name="Acme 官方微博",
        audience=ChannelAudience.MAINLAND.value,
    )
    post = Post(workspace_id=workspace.id, title="Spring launch", body="")
    db.add_all([channel, post])
    db.flush()
    variant = Variant(
        workspace_id=workspace.id,
        post_id=post.id,
        channel_id=channel.id,
        text="最佳新品，歡迎光臨",
        idempotency_key=uuid.uuid4().hex,
    )
    words = CompiledWordList([WordEntry("最佳", "absolute_terms", WordSeverity.BLOCK)])
    findings = service.run_checks(
        text=variant.text,
        audience=ChannelAudience.MAINLAND,
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        words=words,
    )
    variant.checks = [finding.to_dict() for finding in findings]
    db.add(variant)
    db.commit()
    return variant


def test_a_manager_overrides_a_warning_with_a_reason(
    db: Session, team: dict[str, Membership], variant: Variant
) -> None:
    """Given the script warning, when the manager overrides it with a reason, then the
    override is on the variant with who and when, it is audited, and only the error still
    blocks."""
    variants.override_warning(
        db,
        variant=variant,
        code="script.traditional",
        reason="Quoting the shop sign, which is in Traditional characters",
        membership=team["boss"],
    )
    db.commit()
    db.refresh(variant)
    [override] = variant.overrides
    assert override["code"] == "script.traditional"
    assert override["by"] == "boss@acme.example"
    assert override["reason"].startswith("Quoting the shop sign")
    assert override["at"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "check.override")).one()
    assert event.entity_id == str(variant.id)
    assert event.after == {"code": "script.traditional", "reason": override["reason"]}
    stored = [Finding.from_dict(item) for item in variant.checks]
    assert [f.code for f in service.blocking_findings(stored, variant.overrides)] == [
        "words.hit:最佳"
    ]


def test_errors_cannot_be_overridden(
    db: Session, team: dict[str, Membership], variant: Variant
) -> None:
    with pytest.raises(service.OverrideNotAllowedError) as raised:
        variants.override_warning(
            db,
            variant=variant,
            code="words.hit:最佳",
            reason="We mean it",
            membership=team["owner"],
        )
    assert "is an error, which cannot be overridden" in str(raised.value)
    assert variant.overrides == []


def test_an_editor_cannot_override(
    db: Session, team: dict[str, Membership], variant: Variant
) -> None:
    with pytest.raises(PermissionDeniedError):
        variants.override_warning(
            db, variant=variant, code="script.traditional", reason="ok", membership=team["cm"]
        )


def test_a_reason_is_required_and_the_finding_must_exist(
    db: Session, team: dict[str, Membership], variant: Variant
) -> None:
    with pytest.raises(UserError, match="Give a reason"):
        variants.override_warning(
            db, variant=variant, code="script.traditional", reason="   ", membership=team["boss"]
        )
    with pytest.raises(NotFoundError, match="did not fire on this variant"):
        variants.override_warning(
            db,
            variant=variant,
            code="links.unreachable:x.com",
            reason="ok",
            membership=team["boss"],
        )
    assert variant.overrides == []


def test_a_manager_of_another_workspace_cannot_override(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    variant: Variant,
) -> None:
    other = make_workspace("other", owner=make_user("owner@other.example"))
    with pytest.raises(NotFoundError):
        variants.override_warning(
            db,
            variant=variant,
            code="script.traditional",
            reason="ok",
            membership=other.memberships[0],
        )
