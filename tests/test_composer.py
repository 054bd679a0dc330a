"""The composer: a post with a variant per account, checked against the platform's rules and
the Chinese-first checks, with overrides and scheduling gated by the checks."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import AuditEvent, Membership
from guanxi.connectors.base import ConnectorConfig
from guanxi.core.db import utcnow
from guanxi.core.errors import PermissionDeniedError, UserError
from guanxi.core.settings import Settings
from guanxi.publishing import engine, media, scheduling, service, variants
from guanxi.publishing.models import Post, Variant, VariantState
from guanxi.publishing.tags import set_tags
from tests.composer_support import (
    ArticleConnector,
    MicroConnector,
    Team,
    make_team,
    png_bytes,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.usefixtures("test_connectors")

TEXT = "春季新品上市，欢迎来店里看看。"


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def member(db: Session, team: Team, user_id: int) -> Membership:
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == team.workspace.id
        )
    )
    assert membership is not None
    return membership


def new_post(db: Session, team: Team, *channels: int, body: str = TEXT) -> Post:
    post = service.create_post(
        db,
        workspace=team.workspace,
        actor=team.editor,
        title="春季上新",
        body=body,
        campaign="",
        channel_ids=[str(c) for c in channels],
    )
    db.commit()
    return post


def add_image(db: Session, team: Team, settings: Settings) -> int:
    asset, _ = media.store_media(
        db,
        workspace=team.workspace,
        filename="cover.png",
        stream=io.BytesIO(png_bytes()),
        data_dir=settings.data_dir,
        actor=team.editor,
    )
    db.commit()
    return asset.id


def test_a_post_gets_a_variant_per_account_prefilled_from_the_master(
    db: Session, team: Team
) -> None:
    """Given two accounts chosen, when the post is created, then each gets a draft variant
    whose text is the master's, with its own idempotency key."""
    post = new_post(db, team, team.micro.id, team.article.id)
    assert [t.channel_id for t in post.variants] == [team.micro.id, team.article.id]
    assert all(t.text == TEXT and t.state == VariantState.DRAFT for t in post.variants)
    assert len({t.idempotency_key for t in post.variants}) == 2
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "post.create"))


@pytest.mark.parametrize(
    ("title", "body", "channels", "message"),
    [
        ("", TEXT, "micro", "internal title"),
        ("x" * 201, TEXT, "micro", "internal title"),
        ("标题", "   ", "micro", "Write the post's text"),
        ("标题", TEXT, "", "at least one connected account"),
        ("标题", TEXT, "999", "not connected to this workspace"),
    ],
)
def test_a_bad_post_is_refused_with_a_message_and_nothing_is_saved(
    db: Session, team: Team, title: str, body: str, channels: str, message: str
) -> None:
    ids = {"micro": [str(team.micro.id)], "": [], "999": ["999"]}[channels]
    with pytest.raises(UserError, match=message):
        service.create_post(
            db,
            workspace=team.workspace,
            actor=team.editor,
            title=title,
            body=body,
            campaign="",
            channel_ids=ids,
        )
    db.rollback()
    assert db.scalar(select(Post)) is None


def test_an_account_of_another_workspace_cannot_be_targeted(
    db: Session, team: Team, make_user: object, make_workspace: object
) -> None:
    other = make_team(db, make_user, make_workspace, slug="rival")
    with pytest.raises(UserError, match="not connected"):
        new_post(db, team, other.micro.id)


def test_checks_combine_platform_rules_and_chinese_first_checks(
    db: Session, team: Team, settings: Settings
) -> None:
    """Platform errors (the article lacks a title and cover) and a Chinese-first warning (a
    link unreachable from the mainland) are stored on the variant, each with its source."""
    post = new_post(db, team, team.article.id)
    variant = post.variants[0]
    variants.update_variant(
        db, variant=variant, actor=team.editor, text=TEXT, link="https://www.facebook.com/brand"
    )
    variants.check_variant(db, variant=variant, settings=settings)
    found = {(f["source"], f["code"], f["severity"]) for f in variant.checks}
    assert ("platform", "title.required", "error") in found
    assert ("platform", "cover.required", "error") in found
    assert ("checks", "links.unreachable:facebook.com", "warning") in found


def test_the_fields_a_channel_shows_are_the_ones_its_connector_declares() -> None:
    """The article platform uses a title, summary and cover; the microblog none of them."""
    config = ConnectorConfig(base_url="http://127.0.0.1:1", http=httpx.Client())
    assert variants.variant_fields(ArticleConnector(config)) == ["title", "digest", "cover"]
    assert variants.variant_fields(MicroConnector(config)) == []
    assert variants.variant_fields(None) == []


def test_errors_block_scheduling_until_fixed(db: Session, team: Team, settings: Settings) -> None:
    """Given no approval needed, a variant over the platform's length limit cannot be
    scheduled; shortened (and its image warning overridden), it can."""
    set_steps(db, team.workspace, 0)
    post = new_post(db, team, team.micro.id, body="长" * 150)
    variant = post.variants[0]
    editor = member(db, team, team.editor.id)
    with pytest.raises(UserError, match="Fix the 1 error"):
        scheduling.schedule_variant(
            db, variant=variant, membership=editor, when=None, settings=settings
        )
    db.rollback()
    assert variant.state == VariantState.DRAFT

    variants.update_variant(db, variant=variant, actor=team.editor, text=TEXT)
    db.commit()
    with pytest.raises(UserError, match="1 warning"):
        scheduling.schedule_variant(
            db, variant=variant, membership=editor, when=None, settings=settings
        )
    db.rollback()

    variants.check_variant(db, variant=variant, settings=settings)
    manager = member(db, team, team.manager.id)
    variants.override_warning(
        db, variant=variant, membership=manager, code="media.none", reason="纯文字公告"
    )
    scheduling.schedule_variant(
        db, variant=variant, membership=editor, when=None, settings=settings
    )
    db.commit()
    assert variant.state == VariantState.SCHEDULED
    assert variant.next_attempt_at is not None
    assert variant.overrides[0]["by"] == team.manager.email
    assert variant.overrides[0]["reason"] == "纯文字公告"


def test_an_editor_cannot_override_a_warning_and_errors_cannot_be_overridden(
    db: Session, team: Team, settings: Settings
) -> None:
    post = new_post(db, team, team.micro.id, body="长" * 150)
    variant = post.variants[0]
    variants.check_variant(db, variant=variant, settings=settings)
    with pytest.raises(PermissionDeniedError):
        variants.override_warning(
            db,
            variant=variant,
            membership=member(db, team, team.editor.id),
            code="media.none",
            reason="ok",
        )
    with pytest.raises(UserError, match="cannot be overridden"):
        variants.override_warning(
            db,
            variant=variant,
            membership=member(db, team, team.manager.id),
            code="text.too_long",
            reason="ok",
        )
    with pytest.raises(UserError, match="reason"):
        variants.override_warning(
            db,
            variant=variant,
            membership=member(db, team, team.manager.id),
            code="media.none",
            reason="  ",
        )
    assert variant.overrides == []


def test_a_variant_with_its_image_passes_the_microblog_rules(
    db: Session, team: Team, settings: Settings
) -> None:
    set_steps(db, team.workspace, 0)
    image = add_image(db, team, settings)
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    variants.update_variant(
        db, variant=variant, actor=team.editor, text=TEXT, media_ids=[str(image)]
    )
    later = utcnow() + timedelta(hours=3)
    scheduling.schedule_variant(
        db,
        variant=variant,
        membership=member(db, team, team.editor.id),
        when=later,
        settings=settings,
    )
    db.commit()
    assert variant.checks == []
    assert variant.scheduled_at == later


def test_a_time_in_the_past_is_refused(db: Session, team: Team, settings: Settings) -> None:
    set_steps(db, team.workspace, 0)
    image = add_image(db, team, settings)
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    variants.update_variant(
        db, variant=variant, actor=team.editor, text=TEXT, media_ids=[str(image)]
    )
    with pytest.raises(UserError, match="passed"):
        scheduling.schedule_variant(
            db,
            variant=variant,
            membership=member(db, team, team.editor.id),
            when=utcnow() - timedelta(hours=1),
            settings=settings,
        )


def test_unscheduling_returns_to_approved_and_failed_can_be_retried(
    db: Session, team: Team, settings: Settings
) -> None:
    set_steps(db, team.workspace, 0)
    image = add_image(db, team, settings)
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    editor = member(db, team, team.editor.id)
    variants.update_variant(
        db, variant=variant, actor=team.editor, text=TEXT, media_ids=[str(image)]
    )
    scheduling.schedule_variant(
        db, variant=variant, membership=editor, when=None, settings=settings
    )
    scheduling.unschedule_variant(db, variant=variant, membership=editor)
    assert variant.state == VariantState.APPROVED
    assert variant.scheduled_at is None

    variant.state = VariantState.FAILED  # as the engine leaves it
    scheduling.retry_variant(db, variant=variant, membership=editor, confirmed=False)
    assert variant.state == VariantState.SCHEDULED


def test_needs_attention_is_retried_only_by_a_manager_who_confirms(db: Session, team: Team) -> None:
    post = new_post(db, team, team.micro.id)
    variant: Variant = post.variants[0]
    variant.state = VariantState.NEEDS_ATTENTION  # as the engine leaves it
    with pytest.raises(PermissionDeniedError):
        scheduling.retry_variant(
            db, variant=variant, membership=member(db, team, team.editor.id), confirmed=True
        )
    manager = member(db, team, team.manager.id)
    with pytest.raises(UserError, match="confirm"):
        scheduling.retry_variant(db, variant=variant, membership=manager, confirmed=False)
    scheduling.retry_variant(db, variant=variant, membership=manager, confirmed=True)
    assert variant.state == VariantState.SCHEDULED


def test_times_typed_in_the_viewers_zone_are_stored_in_utc() -> None:
    at = scheduling.parse_local_time("2026-12-01T09:30", "Europe/Paris")
    assert at.isoformat() == "2026-12-01T08:30:00+00:00"
    with pytest.raises(UserError, match="YYYY-MM-DD"):
        scheduling.parse_local_time("tomorrow", "Asia/Shanghai")


def test_posts_are_listed_newest_first_and_filtered(db: Session, team: Team) -> None:
    first = new_post(db, team, team.micro.id)
    second = new_post(db, team, team.article.id)
    assert service.list_posts(db, workspace=team.workspace) == [second, first]
    assert service.list_posts(db, workspace=team.workspace, channel_id=team.micro.id) == [first]
    assert service.list_posts(db, workspace=team.workspace, state="scheduled") == []
    with pytest.raises(UserError, match="Unknown state"):
        service.list_posts(db, workspace=team.workspace, state="bogus")


def test_editing_a_scheduled_variant_takes_it_off_the_queue(
    db: Session, team: Team, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Given a scheduled variant, When its text is edited, Then it leaves the queue and goes
    back to draft (no approval steps), keeping its time; a published one stays locked."""
    set_steps(db, team.workspace, 0)
    image = add_image(db, team, settings)
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    variants.update_variant(
        db, variant=variant, actor=team.editor, text=TEXT, media_ids=[str(image)]
    )
    when = utcnow() + timedelta(days=1)
    scheduling.schedule_variant(
        db,
        variant=variant,
        membership=member(db, team, team.editor.id),
        when=when,
        settings=settings,
    )
    db.commit()

    assert variants.update_variant(db, variant=variant, actor=team.editor, text="改了")
    db.commit()
    assert (variant.state, variant.text, variant.next_attempt_at) == (
        VariantState.DRAFT,
        "改了",
        None,
    )
    assert variant.scheduled_at is not None
    assert "left the queue" in variant.state_reason
    assert engine.dispatch_due(session_factory, now=when, limit=5, worker_id="w") == []

    variant.state = VariantState.PUBLISHED
    db.commit()
    with pytest.raises(UserError, match="cannot be edited any more"):
        variants.update_variant(db, variant=variant, actor=team.editor, text="再改")


def test_an_edit_racing_the_dispatcher_is_refused_not_lost(
    db: Session, team: Team, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Given a scheduled variant loaded for editing, When the dispatcher claims it first,
    Then the edit is refused with what to do, and the claim stands."""
    set_steps(db, team.workspace, 1)
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    variant.state = VariantState.SCHEDULED
    variant.scheduled_at = variant.next_attempt_at = utcnow() - timedelta(seconds=5)
    db.commit()
    assert variant.text == TEXT  # loaded, version 1 as the editor saw it

    assert engine.dispatch_due(session_factory, now=utcnow(), limit=5, worker_id="w") == [
        variant.id
    ]
    with pytest.raises(UserError, match="started publishing this variant"):
        variants.update_variant(db, variant=variant, actor=team.editor, text="抢着改")
    db.rollback()
    db.expire_all()
    assert db.get_one(Variant, variant.id).state == VariantState.PUBLISHING


def test_the_posts_list_reads_each_posts_line_as_the_post_shows_it(db: Session, team: Team) -> None:
    """The list's lines are ``list_posts``' posts, in the same order and filters, each with
    its title, start of text, tags (alphabetical) and variants' accounts and states in order."""
    first = new_post(db, team, team.micro.id, team.article.id)
    second = new_post(db, team, team.article.id)
    set_tags(db, post=first, tags=["新品", "春季"])
    db.commit()
    lines = service.post_lines(db, workspace=team.workspace, limit=50)
    posts = service.list_posts(db, workspace=team.workspace)
    assert [line.id for line in lines] == [post.id for post in posts] == [second.id, first.id]
    for line, post in zip(lines, posts, strict=True):
        assert (line.title, line.body, line.created_at) == (post.title, post.body, post.created_at)
        assert line.tags == post.tags
        assert line.variants == [(v.channel_id, v.state) for v in post.variants]
    assert len(lines[1].variants) == 2
    assert lines[1].tags == sorted(["新品", "春季"])
    micro = service.post_lines(db, workspace=team.workspace, channel_id=team.micro.id, limit=50)
    assert [line.id for line in micro] == [first.id]
    assert service.post_lines(db, workspace=team.workspace, limit=1, offset=1)[0].id == first.id
    assert service.post_lines(db, workspace=team.workspace, state="scheduled", limit=50) == []
