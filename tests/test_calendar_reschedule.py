"""Moving a post on the calendar: by dragging (a fetch with the CSRF header, JSON back) or
with the form on the post's calendar page (no JavaScript), under the same rules.

Rules: only variants the engine has not started on move; never into the past; only roles
that write; an approval is kept (the time is not content); every move is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import AuditEvent, Membership, Role
from guanxi.core.errors import ConflictError, NotFoundError, UserError
from guanxi.publishing import calendar
from guanxi.publishing.models import Approval, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.test_calendar import PARIS, SHANGHAI, Board, add_channel, add_variant, board, use_zone

__all__ = ["board"]  # the fixture, imported for these tests

# A Wednesday well in the future, so "not into the past" never depends on today's date.
MOVED = "The post was moved. Its approval, if any, still holds: the time is not content."
FUTURE = datetime(2031, 4, 9, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def move(client: TestClient, variant_id: int, day: str, at: str, *, json: bool = True) -> Response:
    headers = {"X-CSRF-Token": csrf_token(client)}
    if json:
        headers["Accept"] = "application/json"
    return client.post(
        f"/w/acme/calendar/variants/{variant_id}/reschedule",
        data={"date": day, "time": at},
        headers=headers,
        follow_redirects=False,
    )


def reloaded(db: Session, variant: Variant) -> Variant:
    db.expire_all()
    fresh = db.get(Variant, variant.id)
    assert fresh is not None
    return fresh


# --- The service -------------------------------------------------------------------------------


def test_moving_keeps_the_state_and_the_approval_and_is_audited(db: Session, board: Board) -> None:
    """Given an approved Weibo variant with its approval, when it is moved to 11 April 2031
    at 20:30 Shanghai time, then it goes out at 12:30 UTC, is still approved, its approval
    is untouched, and the audit log has the move with before and after."""
    variant = add_variant(db, board.weibo, at=FUTURE, state=VariantState.APPROVED)
    approval = Approval(
        variant_id=variant.id,
        step=1,
        approved=True,
        content_digest="d" * 64,
        decided_by_id=board.owner.id,
        reviewer_label=board.owner.email,
    )
    db.add(approval)
    db.commit()

    calendar.reschedule_variant(
        db,
        workspace=board.workspace,
        variant_id=variant.id,
        day="2031-04-11",
        at="20:30",
        zone=SHANGHAI,
        actor=board.owner,
    )
    db.commit()

    fresh = reloaded(db, variant)
    assert fresh.scheduled_at == datetime(2031, 4, 11, 12, 30, tzinfo=UTC)
    assert fresh.state == VariantState.APPROVED
    assert db.scalars(select(Approval)).all() == [approval]
    assert approval.content_digest == "d" * 64
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "variant.reschedule")).one()
    assert event.before == {"scheduled_at": "2031-04-09T02:00:00+00:00"}
    assert event.after == {
        "scheduled_at": "2031-04-11T12:30:00+00:00",
        "state": "approved",
        "zone": SHANGHAI,
    }


def test_a_pending_retry_and_a_manual_deadline_follow_the_move(db: Session, board: Board) -> None:
    """The engine picks a variant up at next_attempt_at: moving it moves that too, and a
    manual channel's due time with it."""
    variant = add_variant(db, board.xhs, at=FUTURE)
    variant.next_attempt_at = FUTURE
    variant.due_at = FUTURE
    db.commit()

    calendar.reschedule_variant(
        db,
        workspace=board.workspace,
        variant_id=variant.id,
        day="2031-04-12",
        at="09:00",
        zone=PARIS,
        actor=board.owner,
    )
    db.commit()

    fresh = reloaded(db, variant)
    expected = datetime(2031, 4, 12, 7, 0, tzinfo=UTC)  # 09:00 in Paris, summer time
    assert (fresh.scheduled_at, fresh.next_attempt_at, fresh.due_at) == (expected,) * 3


@pytest.mark.parametrize(
    "state",
    [
        VariantState.PUBLISHING,
        VariantState.PROCESSING,
        VariantState.PUBLISHED,
        VariantState.PENDING_REVIEW,
    ],
)
def test_a_variant_the_engine_started_on_cannot_move(
    db: Session, board: Board, state: VariantState
) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE, state=state)
    db.commit()

    with pytest.raises(ConflictError) as refused:
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day="2031-05-01",
            at="10:00",
            zone=SHANGHAI,
            actor=board.owner,
        )

    assert "its time can no longer change" in str(refused.value)
    assert reloaded(db, variant).scheduled_at == FUTURE


def test_a_variant_whose_outcome_is_unknown_cannot_move(db: Session, board: Board) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE)
    variant.outcome_unknown = True
    db.commit()

    with pytest.raises(ConflictError, match="still checking whether this post already went out"):
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day="2031-05-01",
            at="10:00",
            zone=SHANGHAI,
            actor=board.owner,
        )


@pytest.mark.parametrize("state", [VariantState.FAILED, VariantState.NEEDS_ATTENTION])
def test_a_variant_that_needs_a_person_is_sent_to_its_post(
    db: Session, board: Board, state: VariantState
) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE, state=state)
    db.commit()

    with pytest.raises(ConflictError, match="Open the post to retry it"):
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day="2031-05-01",
            at="10:00",
            zone=SHANGHAI,
            actor=board.owner,
        )


@pytest.mark.parametrize(
    ("day", "at", "zone", "message"),
    [
        ("2020-01-01", "10:00", SHANGHAI, "That time has already passed."),
        ("2031-13-01", "10:00", SHANGHAI, "2031-13-01 is not a date."),
        ("tomorrow", "10:00", SHANGHAI, "tomorrow is not a date."),
        ("2031-05-01", "25:00", SHANGHAI, "25:00 is not a time of day."),
        ("2031-05-01", "", SHANGHAI, '"" is not a time of day.'),
        ("2031-03-30", "02:15", PARIS, "02:15 does not exist on 2031-03-30 in Europe/Paris"),
    ],
)
def test_bad_times_are_refused_with_a_message(
    db: Session, board: Board, day: str, at: str, zone: str, message: str
) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE)
    db.commit()

    with pytest.raises(UserError) as refused:
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day=day,
            at=at,
            zone=zone,
            actor=board.owner,
        )

    assert message in str(refused.value)
    assert reloaded(db, variant).scheduled_at == FUTURE


def test_a_minute_ago_is_the_past(db: Session, board: Board) -> None:
    """The boundary: now itself is refused, one minute later is fine."""
    variant = add_variant(db, board.weibo, at=FUTURE)
    db.commit()
    now = datetime(2031, 4, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

    def at(clock: str) -> None:
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day="2031-04-01",
            at=clock,
            zone=SHANGHAI,
            actor=board.owner,
            now=now,
        )

    with pytest.raises(UserError, match="already passed"):
        at("10:00")
    at("10:01")
    assert variant.scheduled_at == datetime(2031, 4, 1, 2, 1, tzinfo=UTC)


def test_another_workspaces_variant_is_not_found(
    db: Session, board: Board, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other-brand", owner=make_user("o@other.example"))
    foreign = add_variant(db, add_channel(db, other), at=FUTURE)
    db.commit()

    with pytest.raises(NotFoundError):
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=foreign.id,
            day="2031-05-01",
            at="10:00",
            zone=SHANGHAI,
            actor=board.owner,
        )


# --- Over HTTP ------------------------------------------------------------------------------------


def test_a_drag_posts_and_gets_json_back(db: Session, board: Board) -> None:
    """Given a Paris viewer dragging a chip to Friday 11 April 2031 at 18:00 (their time),
    then the answer is JSON with the new UTC time, and the grid shows it there."""
    variant = add_variant(db, board.weibo, at=FUTURE, title="Apéro")
    db.commit()
    use_zone(board.client, "acme", PARIS)

    response = move(board.client, variant.id, "2031-04-11", "18:00")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": MOVED,
        "scheduled_at": "2031-04-11T16:00:00+00:00",
    }
    week = board.client.get("/w/acme/calendar?view=week&date=2031-04-11").text
    assert 'data-drop-date="2031-04-11" data-drop-hour="18">' in week
    assert "Account: 04-12 00:00 Asia/Shanghai" in week


def test_a_refused_drag_says_why_in_json(db: Session, board: Board) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE, state=VariantState.PUBLISHED)
    variant.published_at = FUTURE
    db.commit()

    response = move(board.client, variant.id, "2031-05-01", "10:00")

    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert "already publishing or published" in response.json()["message"]


def test_the_form_without_javascript_moves_and_returns_to_the_week(
    db: Session, board: Board
) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE)
    db.commit()
    detail = board.client.get(f"/w/acme/calendar/variants/{variant.id}")
    assert 'name="date" required value="2031-04-09"' in detail.text
    assert 'name="time" required value="10:00"' in detail.text
    assert "Moving a post keeps its approval" in detail.text

    response = move(board.client, variant.id, "2031-04-10", "08:15", json=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/w/acme/calendar?view=week&date=2031-04-10"
    page = board.client.get(response.headers["location"])
    assert "The post was moved." in page.text
    assert reloaded(db, variant).scheduled_at == datetime(2031, 4, 10, 0, 15, tzinfo=UTC)


def test_the_form_shows_a_refusal_on_the_posts_page(db: Session, board: Board) -> None:
    variant = add_variant(db, board.weibo, at=FUTURE)
    db.commit()

    response = move(board.client, variant.id, "2020-01-01", "10:00", json=False)

    assert response.status_code == 400
    assert "That time has already passed. Choose a time in the future." in response.text
    assert reloaded(db, variant).scheduled_at == FUTURE


def test_an_analyst_cannot_move_and_a_stranger_gets_404(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    analyst = make_user("ana@acme.example")
    editor = make_user("ed@acme.example")
    acme = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST, editor: Role.EDITOR})
    other = make_workspace("other-brand", owner=make_user("stranger@other.example"))
    variant = add_variant(db, add_channel(db, acme), at=FUTURE)
    db.commit()

    sign_in(client, analyst.email)
    refused = move(client, variant.id, "2031-05-01", "10:00")
    assert refused.status_code == 403
    assert "Your role (Analyst) does not allow this." in refused.text
    detail = client.get(f"/w/acme/calendar/variants/{variant.id}")
    assert "Your role can read the calendar but not move posts." in detail.text

    sign_in(client, "stranger@other.example")
    assert move(client, variant.id, "2031-05-01", "10:00").status_code == 404
    sign_in(client, owner.email)
    foreign = add_variant(db, add_channel(db, other), at=FUTURE)
    db.commit()
    unknown = move(client, foreign.id, "2031-05-01", "10:00")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "message": "No such post on this workspace's calendar."}
    assert move(client, foreign.id, "2031-05-01", "10:00", json=False).status_code == 404
    assert reloaded(db, foreign).scheduled_at == FUTURE
    sign_in(client, "stranger@other.example")
    assert client.get(f"/w/acme/calendar/variants/{variant.id}").status_code == 404
    assert client.get(f"/w/other-brand/calendar/variants/{variant.id}").status_code == 404

    sign_in(client, editor.email)
    assert move(client, variant.id, "2031-05-01", "10:00").status_code == 200
    assert reloaded(db, variant).scheduled_at == datetime(2031, 5, 1, 2, tzinfo=UTC)


def test_a_published_post_has_no_move_form(db: Session, board: Board) -> None:
    variant = add_variant(
        db,
        board.weibo,
        at=FUTURE - timedelta(days=3650),
        state=VariantState.PUBLISHED,
        published=True,
    )
    db.commit()

    detail = board.client.get(f"/w/acme/calendar/variants/{variant.id}")

    assert "This post can no longer be moved" in detail.text
    assert "/reschedule" not in detail.text


def test_a_move_that_races_the_engine_is_refused(
    db: Session, board: Board, session_factory: sessionmaker[Session]
) -> None:
    """Given the calendar has loaded a scheduled variant, when the dispatcher claims it
    (another session: state publishing, version bumped) before the move is saved, then the
    move is refused as a conflict instead of overwriting the claim."""
    variant = add_variant(db, board.weibo, at=FUTURE)
    db.commit()
    calendar.find_variant(db, workspace=board.workspace, variant_id=variant.id)  # loaded, as shown
    with session_factory() as engine_side:
        claimed = engine_side.get(Variant, variant.id)
        assert claimed is not None
        claimed.state = VariantState.PUBLISHING
        engine_side.commit()

    with pytest.raises(ConflictError, match="changed while you were moving it"):
        calendar.reschedule_variant(
            db,
            workspace=board.workspace,
            variant_id=variant.id,
            day="2031-05-01",
            at="10:00",
            zone=SHANGHAI,
            actor=board.owner,
        )
    db.rollback()

    assert reloaded(db, variant).state == VariantState.PUBLISHING
    assert reloaded(db, variant).scheduled_at == FUTURE


def test_old_calendar_links_lead_to_the_variant(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """A link saved when the calendar said "variants" still opens, by the variant's URL (for
    the workspace's members: to anyone else the address does not exist)."""
    client, _membership = signed_in
    response = client.get("/w/acme/calendar/targets/7", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/w/acme/calendar/variants/7"
