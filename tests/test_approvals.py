"""Approvals: steps and roles from the workspace's policy, approvals valid only for the content
they saw, and the external reviewer's signed, expiring link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Role
from guanxi.core.db import utcnow
from guanxi.core.errors import PermissionDeniedError, UserError
from guanxi.core.settings import Settings
from guanxi.publishing import approvals, scheduling, service, variants
from guanxi.publishing.approvals import REVIEW_SALT, ReviewLinkError
from guanxi.publishing.models import Post, ReviewLink, VariantState
from guanxi.publishing.policy import get_policy
from tests.approvals_support import (
    TEXT,
    member,
    submitted_post,
)
from tests.composer_support import (
    Team,
    make_team,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.usefixtures("test_connectors")


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def test_one_step_a_manager_approves_and_the_variant_is_approved(db: Session, team: Team) -> None:
    post = submitted_post(db, team)
    variant = post.variants[0]
    assert variant.state == VariantState.IN_REVIEW
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=member(db, team, team.manager.id),
        approved=True,
        comment="好",
    )
    assert variant.state == VariantState.APPROVED
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"variant.in_review", "variant.approve", "variant.approved"} <= actions


def test_the_author_cannot_approve_their_own_post(
    db: Session, team: Team, make_user: object
) -> None:
    """A manager who wrote the post is told to ask another approver."""
    post = service.create_post(
        db,
        workspace=team.workspace,
        actor=team.manager,
        title="t",
        body=TEXT,
        campaign="",
        channel_ids=[str(team.micro.id)],
    )
    manager = member(db, team, team.manager.id)
    approvals.submit_for_review(db, post=post, membership=manager)
    with pytest.raises(PermissionDeniedError, match="You wrote this"):
        approvals.decide(
            db, variant=post.variants[0], post=post, membership=manager, approved=True, comment=""
        )
    assert post.variants[0].state == VariantState.IN_REVIEW


def test_roles_below_the_policy_cannot_approve(db: Session, team: Team) -> None:
    """Managers approve by default; with owners-only, a manager may not."""
    post = submitted_post(db, team)
    assert not approvals.may_approve(
        member(db, team, team.editor.id), get_policy(db, workspace=team.workspace)
    )
    policy = get_policy(db, workspace=team.workspace)
    policy.approver_role = Role.OWNER.value
    db.commit()
    with pytest.raises(PermissionDeniedError, match="Only members with the role Owner"):
        approvals.decide(
            db,
            variant=post.variants[0],
            post=post,
            membership=member(db, team, team.manager.id),
            approved=True,
            comment="",
        )
    approvals.decide(
        db,
        variant=post.variants[0],
        post=post,
        membership=member(db, team, team.owner.id),
        approved=True,
        comment="",
    )
    assert post.variants[0].state == VariantState.APPROVED


def test_two_steps_need_two_different_approvers(db: Session, team: Team) -> None:
    set_steps(db, team.workspace, 2)
    post = submitted_post(db, team)
    variant = post.variants[0]
    first = member(db, team, team.manager.id)
    approvals.decide(db, variant=variant, post=post, membership=first, approved=True, comment="")
    assert variant.state == VariantState.IN_REVIEW
    with pytest.raises(PermissionDeniedError, match="another approver"):
        approvals.decide(
            db, variant=variant, post=post, membership=first, approved=True, comment=""
        )
    second = member(db, team, team.manager2.id)
    approvals.decide(db, variant=variant, post=post, membership=second, approved=True, comment="")
    assert variant.state == VariantState.APPROVED
    assert [a.step for a in approvals.list_approvals(db, variant=variant)] == [1, 2]


def test_a_rejection_needs_a_comment_and_returns_the_variant_to_draft(
    db: Session, team: Team
) -> None:
    post = submitted_post(db, team)
    variant = post.variants[0]
    manager = member(db, team, team.manager.id)
    with pytest.raises(UserError, match="rejection needs a comment"):
        approvals.decide(
            db, variant=variant, post=post, membership=manager, approved=False, comment=""
        )
    approvals.decide(
        db, variant=variant, post=post, membership=manager, approved=False, comment="语气太硬"
    )
    assert variant.state == VariantState.DRAFT
    assert variant.state_reason == "语气太硬"


def test_editing_an_approved_variant_invalidates_its_approval(
    db: Session, team: Team, settings: Settings
) -> None:
    """Given an approved variant, when its text changes, then it is back in review, its
    approval no longer counts and it cannot be scheduled."""
    post = submitted_post(db, team)
    variant = post.variants[0]
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=member(db, team, team.manager.id),
        approved=True,
        comment="",
    )
    assert approvals.approvals_complete(
        db, variant=variant, policy=get_policy(db, workspace=team.workspace)
    )
    stale = variants.update_variant(db, variant=variant, actor=team.editor, text=TEXT + "！")
    assert stale
    assert variant.state == VariantState.IN_REVIEW
    assert "no longer counts" in variant.state_reason
    assert not approvals.approvals_complete(
        db, variant=variant, policy=get_policy(db, workspace=team.workspace)
    )
    with pytest.raises(UserError, match="approved"):
        scheduling.schedule_variant(
            db,
            variant=variant,
            membership=member(db, team, team.editor.id),
            when=None,
            settings=settings,
        )


def test_saving_the_same_content_keeps_the_approval(db: Session, team: Team) -> None:
    post = submitted_post(db, team)
    variant = post.variants[0]
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=member(db, team, team.manager.id),
        approved=True,
        comment="",
    )
    assert not variants.update_variant(db, variant=variant, actor=team.editor, text=TEXT)
    assert variant.state == VariantState.APPROVED


def test_without_steps_there_is_nothing_to_submit(db: Session, team: Team) -> None:
    set_steps(db, team.workspace, 0)
    post = service.create_post(
        db,
        workspace=team.workspace,
        actor=team.editor,
        title="t",
        body=TEXT,
        campaign="",
        channel_ids=[str(team.micro.id)],
    )
    with pytest.raises(UserError, match="without approval"):
        approvals.submit_for_review(db, post=post, membership=member(db, team, team.editor.id))


# --- External review links ------------------------------------------------------------------


def link_for(
    db: Session, team: Team, post: Post, settings: Settings, days: str = "7", name: str = "王律师"
) -> str:
    token, _ = approvals.review_link_token(
        db,
        post=post,
        membership=member(db, team, team.manager.id),
        reviewer=name,
        days=days,
        settings=settings,
    )
    return token


def test_a_valid_link_leads_to_its_post_and_approves_as_a_step(
    db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team)
    token = link_for(db, team, post, settings)
    assert approvals.post_for_review_token(db, token=token, settings=settings) is post
    link = approvals.review_link_for_token(db, token=token, settings=settings)
    approvals.external_decide(db, link=link, approved=True, comment="")
    assert post.variants[0].state == VariantState.APPROVED
    assert (
        approvals.list_approvals(db, variant=post.variants[0])[0].reviewer_label
        == "王律师 (external)"
    )


def test_an_expired_link_is_refused(db: Session, team: Team, settings: Settings) -> None:
    post = submitted_post(db, team)
    serializer = URLSafeSerializer(settings.all_secret_keys(), salt=REVIEW_SALT)
    past = int((utcnow() - timedelta(minutes=1)).timestamp())
    link = approvals.review_link_for_token(
        db, token=link_for(db, team, post, settings), settings=settings
    )
    token = serializer.dumps({"w": team.workspace.id, "p": post.id, "l": link.id, "exp": past})
    with pytest.raises(ReviewLinkError, match="expired"):
        approvals.post_for_review_token(db, token=token, settings=settings)


def test_after_a_key_rotation_new_links_use_the_new_key_and_old_links_still_open(
    db: Session, team: Team, settings: Settings
) -> None:
    """Given a link made before the secret key was rotated, when the old key is listed in
    GUANXI_PREVIOUS_SECRET_KEYS, then the old link still opens, and a new link is signed
    with the new key (an old key may be why it was rotated)."""
    post = submitted_post(db, team)
    old_link = link_for(db, team, post, settings)
    old_key = settings.secret_key.get_secret_value()
    rotated = settings.model_copy(
        update={
            "secret_key": SecretStr("new-secret-key-that-is-long-enough-0123456789"),
            "previous_secret_keys": SecretStr(f"{old_key},even-older-key-0123456789"),
        }
    )

    new_link = link_for(db, team, post, rotated)

    assert approvals.post_for_review_token(db, token=old_link, settings=rotated) is post
    assert approvals.post_for_review_token(db, token=new_link, settings=rotated) is post
    new_key_only = rotated.model_copy(update={"previous_secret_keys": SecretStr("")})
    assert approvals.post_for_review_token(db, token=new_link, settings=new_key_only) is post


def test_a_tampered_link_is_refused(db: Session, team: Team, settings: Settings) -> None:
    post = submitted_post(db, team)
    token = link_for(db, team, post, settings)
    with pytest.raises(ReviewLinkError, match="not valid"):
        approvals.post_for_review_token(db, token=token[:-2] + "xx", settings=settings)


def test_a_link_naming_another_workspace_is_refused(
    db: Session, team: Team, settings: Settings, make_user: object, make_workspace: object
) -> None:
    """A link signed for workspace B but naming a post of workspace A shows nothing."""
    post = submitted_post(db, team)
    other = make_team(db, make_user, make_workspace, slug="rival")
    serializer = URLSafeSerializer(settings.all_secret_keys(), salt=REVIEW_SALT)
    future = int((utcnow() + timedelta(days=1)).timestamp())
    link = approvals.review_link_for_token(
        db, token=link_for(db, team, post, settings), settings=settings
    )
    token = serializer.dumps({"w": other.workspace.id, "p": post.id, "l": link.id, "exp": future})
    with pytest.raises(ReviewLinkError, match="not valid"):
        approvals.post_for_review_token(db, token=token, settings=settings)


def test_only_approvers_create_links_and_only_for_allowed_durations(
    db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team)
    with pytest.raises(PermissionDeniedError):
        approvals.review_link_token(
            db,
            post=post,
            membership=member(db, team, team.editor.id),
            reviewer="王律师",
            days="7",
            settings=settings,
        )
    with pytest.raises(UserError, match="how long"):
        link_for(db, team, post, settings, days="365")


def test_a_review_link_is_issued_for_a_named_reviewer(
    db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team)
    with pytest.raises(UserError, match="reviewer's name"):
        link_for(db, team, post, settings, name=" ")
    assert db.scalars(select(ReviewLink)).all() == []
