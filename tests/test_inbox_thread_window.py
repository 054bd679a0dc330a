"""A thread centred on the chosen item, and people's readable names."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.inbox.items.service import thread_of
from guanxi.inbox.people.names import readable_name
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_channel, make_item


def test_a_busy_thread_is_read_around_the_chosen_comment(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given 300 comments on a post, the thread of comment 250 holds 225..275 (not the 100
    oldest) and says more lie on both sides; centred on the first, nothing lies before."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    channel = make_channel(db, workspace)
    start = utcnow() - timedelta(days=1)
    items = [
        make_item(db, channel, f"#{n}", author=f"fan-{n}", created_at=start + timedelta(minutes=n))
        for n in range(300)
    ]
    window = thread_of(db, item=items[250])
    assert [entry.text for entry in window.entries] == [f"#{n}" for n in range(225, 276)]
    assert window.earlier
    assert window.later
    first = thread_of(db, item=items[250], around=items[0])
    assert [entry.text for entry in first.entries] == [f"#{n}" for n in range(26)]
    assert not first.earlier
    assert first.later


def test_a_person_without_a_nickname_is_named_by_platform_and_id_end() -> None:
    """WeChat gives an Official Account no nickname: "WeChat fan ·Q7kz", not the OpenID;
    a remark the team sets wins over everything; a nickname is kept."""
    open_id = "oWx1a2b3c4d5e6f7g8h9Q7kz"
    assert readable_name(name="", platform="wechat", external_id=open_id) == "WeChat fan ·Q7kz"
    assert readable_name(name=open_id, platform="wechat", external_id=open_id) == (
        "WeChat fan ·Q7kz"
    )
    assert readable_name(name="", platform="wechat", external_id=open_id, remark="王先生") == (
        "王先生"
    )
    assert readable_name(name="红酒控", platform="weibo", external_id="123") == "红酒控"
    i18n.set_language("zh_Hans")
    try:
        assert readable_name(name="", platform="wechat", external_id=open_id) == "微信粉丝 ·Q7kz"
    finally:
        i18n.set_language("en")


def test_the_centre_is_shown_once_whatever_format_ingest_stored_its_time_in(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given items whose times ingest stored as text with an offset ("…+00:00", as its bulk
    inserts do on SQLite), the centre is still shown once, between its neighbours."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    channel = make_channel(db, workspace)
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    items = [
        make_item(db, channel, f"#{n}", author=f"fan-{n}", created_at=start + timedelta(minutes=n))
        for n in range(5)
    ]
    if db.get_bind().dialect.name == "sqlite":
        for item in items:
            stored = item.created_at.strftime("%Y-%m-%d %H:%M:%S+00:00")
            db.execute(
                text("UPDATE inbox_items SET created_at = :at WHERE id = :id"),
                {"at": stored, "id": item.id},
            )
        db.expire_all()
    window = thread_of(db, item=items[2])
    assert [entry.text for entry in window.entries] == ["#0", "#1", "#2", "#3", "#4"]
