"""Round-robin assignment with several workers: two ingests of one workspace at the same
moment (two channels synced by two worker processes) take turns of their own."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership
from guanxi.inbox.triage.assignment import create_assignment_rule, rotate_rows
from tests.test_inbox_service import team as team  # noqa: PLC0414 - the same fixture


def _row() -> dict[str, Any]:
    return {"platform": "weibo", "text": "桃红到货了", "assignee_id": None}


def test_two_workers_ingesting_at_once_give_the_rotation_s_turns_to_different_people(
    database_url: str,
    db: Session,
    session_factory: sessionmaker[Session],
    team: dict[str, Membership],
) -> None:
    """Given a Weibo rule rotating between Anna and Ben, when one worker assigns its page's
    item and, before it commits, a second worker assigns another page's item, then the
    second waits for the first and the two items go to Anna and Ben (not both to Anna)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two writers at once: SQLite lets one write at a time")
    owner, anna, ben = team["owner"], team["anna"], team["ben"]
    create_assignment_rule(
        db,
        membership=owner,
        name="微博",
        platform="weibo",
        topic="",
        assignee_ids=[anna.user_id, ben.user_id],
    )
    db.commit()
    first, second = [_row()], [_row()]

    def other_worker() -> None:
        with session_factory() as other:
            rotate_rows(other, workspace_id=owner.workspace_id, rows=second)
            other.commit()

    with session_factory() as one:
        rotate_rows(one, workspace_id=owner.workspace_id, rows=first)  # its page, uncommitted
        other = threading.Thread(target=other_worker)
        other.start()
        other.join(timeout=0.5)  # it waits for this page's commit (or runs ahead)
        one.commit()
    other.join()
    assert first[0]["assignee_id"] == anna.user_id
    assert second[0]["assignee_id"] == ben.user_id
