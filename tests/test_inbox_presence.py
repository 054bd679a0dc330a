"""The collision warning's rows: who has an item open, who is replying, and for how long."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from guanxi.accounts.models import Role
from guanxi.core.db import utcnow
from guanxi.inbox.items import presence
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_channel, make_item


def test_others_are_shown_while_their_page_refreshes_and_forgotten_after(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given Li Na replying to an item, Wang Fang sees her as replying (not herself); once
    Li Na's page stops refreshing for longer than the time to live, she is gone."""
    wang = make_user("wang@acme.example", name="Wang Fang")
    li = make_user("li@acme.example", name="Li Na")
    workspace = make_workspace("acme", owner=wang, members={li: Role.EDITOR})
    item = make_item(db, make_channel(db, workspace), "瓶子碎了")
    now = utcnow()
    presence.mark_present(db, item_id=item.id, user_id=li.id, replying=True, now=now)
    presence.mark_present(db, item_id=item.id, user_id=wang.id, replying=False, now=now)
    db.commit()
    seen = presence.others_present(db, item_id=item.id, user_id=wang.id, now=now)
    assert seen == [presence.Present(name="Li Na", replying=True)]
    presence.mark_present(db, item_id=item.id, user_id=li.id, replying=False, now=now)
    assert presence.others_present(db, item_id=item.id, user_id=wang.id, now=now) == [
        presence.Present(name="Li Na", replying=False)
    ]
    later = now + timedelta(seconds=presence.PRESENCE_SECONDS + 1)
    assert presence.others_present(db, item_id=item.id, user_id=wang.id, now=later) == []
