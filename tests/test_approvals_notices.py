"""Approvals in the service: blocking check errors stop submission and approval with a
message listing them, and each step tells the people concerned (the approvers a step waits
for, the authors when it is approved, rejected or published), where each chose to hear."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.connectors.base import PublishResult, PublishState
from guanxi.core.i18n import get_translations
from guanxi.core.settings import Settings
from guanxi.notifications import preferences, service
from guanxi.notifications.models import Notification, TeamChatDelivery, TeamChatRobot
from guanxi.publishing import approvals, notices, outcomes, variants
from guanxi.publishing.approvals import BlockingChecksError
from guanxi.publishing.models import VariantState
from tests.approvals_support import (
    member,
    new_post,
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


def kinds_for(db: Session, user_id: int) -> list[str]:
    query = select(Notification.kind).where(Notification.user_id == user_id)
    return list(db.scalars(query.order_by(Notification.id)))


# --- Blocking errors ----------------------------------------------------------------------------


def test_a_variant_with_blocking_errors_cannot_be_submitted_and_the_message_lists_them(
    db: Session, team: Team, settings: Settings
) -> None:
    """Given an article with no title and no cover, when the editor submits it, then the
    service refuses, names each error with its account, and the variant stays a draft."""
    post = new_post(db, team, team.article.id)
    with pytest.raises(BlockingChecksError) as refused:
        approvals.submit_for_review(
            db, post=post, membership=member(db, team, team.editor.id), settings=settings
        )
    message = refused.value.translated(get_translations("en").gettext)
    assert message.startswith("2 blocking error(s) stop this post from going to approval.")
    assert "• 品牌公众号: An article needs a title." in message
    assert "• 品牌公众号: An article needs a cover image." in message
    db.rollback()
    assert post.variants[0].state == VariantState.DRAFT
    assert kinds_for(db, team.manager.id) == []


def test_the_list_of_errors_reads_in_chinese_for_a_chinese_reader(
    db: Session, team: Team, settings: Settings
) -> None:
    post = new_post(db, team, team.article.id)
    with pytest.raises(BlockingChecksError) as refused:
        approvals.submit_for_review(
            db, post=post, membership=member(db, team, team.editor.id), settings=settings
        )
    message = refused.value.translated(get_translations("zh_Hans").gettext)
    assert "blocking error" not in message
    assert "2" in message.splitlines()[0]


def test_a_variant_edited_into_an_error_during_review_cannot_be_approved_but_can_be_rejected(
    db: Session, team: Team, settings: Settings
) -> None:
    post = new_post(db, team, team.micro.id)
    editor = member(db, team, team.editor.id)
    approvals.submit_for_review(db, post=post, membership=editor, settings=settings)
    variant = post.variants[0]
    variants.update_variant(db, variant=variant, actor=team.editor, text="长" * 141)
    manager = member(db, team, team.manager.id)
    with pytest.raises(BlockingChecksError, match="cannot be approved"):
        approvals.decide(
            db,
            variant=variant,
            post=post,
            membership=manager,
            approved=True,
            comment="",
            settings=settings,
        )
    assert variant.state == VariantState.IN_REVIEW
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=manager,
        approved=False,
        comment="太长了",
        settings=settings,
    )
    assert variant.state == VariantState.DRAFT


def test_warnings_alone_do_not_stop_submission(db: Session, team: Team, settings: Settings) -> None:
    """A microblog post without an image only warns: it goes to review."""
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    assert post.variants[0].state == VariantState.IN_REVIEW


# --- Who is told what ---------------------------------------------------------------------------


def test_submitting_tells_every_approver_of_the_step_and_not_the_author_or_analyst(
    db: Session, team: Team, settings: Settings
) -> None:
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    db.commit()
    for approver in (team.owner, team.manager, team.manager2):
        assert kinds_for(db, approver.id) == [notices.APPROVAL_WAITING]
    assert kinds_for(db, team.editor.id) == []
    assert kinds_for(db, team.analyst.id) == []
    note = db.scalars(select(Notification).where(Notification.user_id == team.manager.id)).one()
    text = service.render(note.message, note.params, "en")
    assert text == "“春季上新” waits for your approval on 品牌微博 (step 1 of 1)."
    assert note.link == f"/w/{team.workspace.slug}/posts/{post.id}"


def test_with_two_steps_the_first_approver_is_not_asked_again_and_the_author_hears_at_the_end(
    db: Session, team: Team, settings: Settings
) -> None:
    set_steps(db, team.workspace, 2)
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    variant = post.variants[0]
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=member(db, team, team.manager.id),
        approved=True,
        comment="",
        settings=settings,
    )
    db.commit()
    assert kinds_for(db, team.manager.id) == [notices.APPROVAL_WAITING]  # only the first
    assert kinds_for(db, team.manager2.id) == [notices.APPROVAL_WAITING] * 2
    assert kinds_for(db, team.editor.id) == []  # not approved yet
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=member(db, team, team.manager2.id),
        approved=True,
        comment="",
        settings=settings,
    )
    db.commit()
    assert kinds_for(db, team.editor.id) == [notices.APPROVAL_APPROVED]
    note = db.scalars(select(Notification).where(Notification.user_id == team.editor.id)).one()
    assert service.render(note.message, note.params, "en") == (
        "“春季上新” on 品牌微博 was approved by Max Manager."
    )


def test_a_rejection_tells_the_author_who_rejected_and_why(
    db: Session, team: Team, settings: Settings
) -> None:
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    approvals.decide(
        db,
        variant=post.variants[0],
        post=post,
        membership=member(db, team, team.manager.id),
        approved=False,
        comment="换一张图",
        settings=settings,
    )
    db.commit()
    note = db.scalars(select(Notification).where(Notification.user_id == team.editor.id)).one()
    assert note.kind == notices.APPROVAL_REJECTED
    assert service.render(note.message, note.params, "zh_Hans").endswith("换一张图")


def test_a_published_variant_tells_its_author(db: Session, team: Team, settings: Settings) -> None:
    post = new_post(db, team, team.micro.id)
    variant = post.variants[0]
    variant.state = VariantState.PUBLISHING
    db.commit()
    outcomes.apply_result(
        db,
        variant,
        PublishResult(state=PublishState.PUBLISHED, external_id="1", url="https://weibo.com/1"),
        now=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
        settings=settings,
    )
    db.commit()
    assert kinds_for(db, team.editor.id) == [notices.POST_PUBLISHED]


# --- Preferences --------------------------------------------------------------------------------


def test_a_person_who_turned_off_the_app_for_a_kind_gets_no_row_but_others_do(
    db: Session, team: Team, settings: Settings
) -> None:
    preferences.save_choices(
        db,
        user_id=team.manager.id,
        choices={notices.APPROVAL_WAITING: preferences.Choice(False, False, False)},
    )
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    db.commit()
    assert kinds_for(db, team.manager.id) == []
    assert kinds_for(db, team.manager2.id) == [notices.APPROVAL_WAITING]


def test_e_mail_goes_only_to_those_who_want_it(
    db: Session, team: Team, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(
        service, "send_emails", lambda _settings, emails: sent.extend(e.to for e in emails)
    )
    preferences.save_choices(
        db,
        user_id=team.manager.id,
        choices={notices.APPROVAL_WAITING: preferences.Choice(True, False, True)},
    )
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=mail
    )
    db.commit()
    assert sorted(sent) == sorted([team.owner.email, team.manager2.email])
    assert kinds_for(db, team.manager.id) == [notices.APPROVAL_WAITING]  # still in the app


def test_the_team_chat_gets_one_message_naming_who_it_is_for_when_anyone_wants_it(
    db: Session, team: Team, settings: Settings
) -> None:
    robot = TeamChatRobot(
        workspace_id=team.workspace.id,
        kind="wecom",
        name="群",
        language="en",
        url_encrypted="x",
        address_hint="",
    )
    db.add(robot)
    for user in (team.owner, team.manager):
        preferences.save_choices(
            db,
            user_id=user.id,
            choices={notices.APPROVAL_WAITING: preferences.Choice(True, True, False)},
        )
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    db.commit()
    deliveries = list(db.scalars(select(TeamChatDelivery)))
    assert len(deliveries) == 1
    assert "waits for your approval" in deliveries[0].text
    assert "For: Max Manager" in deliveries[0].text
    assert f"/w/{team.workspace.slug}/posts/{post.id}" in deliveries[0].text


def test_kinds_nobody_tunes_still_go_to_the_app_and_never_to_the_team_chat(
    db: Session, team: Team, settings: Settings
) -> None:
    """A channel to reconnect is not a tunable kind: the app as before, no chat message."""
    db.add(
        TeamChatRobot(workspace_id=team.workspace.id, kind="wecom", name="群", url_encrypted="x")
    )
    service.notify(
        db,
        settings=settings,
        workspace_id=team.workspace.id,
        kind=outcomes.CHANNEL_NEEDS_RECONNECT,
        params={"channel": "品牌微博"},
        recipients=[team.manager.id],
    )
    db.commit()
    assert kinds_for(db, team.manager.id) == [outcomes.CHANNEL_NEEDS_RECONNECT]
    assert db.scalars(select(TeamChatDelivery)).all() == []


def test_the_approvers_of_one_step_share_one_team_chat_message(
    db: Session, team: Team, settings: Settings
) -> None:
    db.add(
        TeamChatRobot(
            workspace_id=team.workspace.id,
            kind="wecom",
            name="群",
            url_encrypted="x",
            language="en",
        )
    )
    post = new_post(db, team, team.micro.id)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    db.commit()
    (delivery,) = db.scalars(select(TeamChatDelivery))
    for name in ("Owner", "Mia Manager", "Max Manager"):
        assert name in delivery.text
