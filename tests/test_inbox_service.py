"""The inbox service: filters, search in both scripts, status, assignment (by hand and by
rules), tags, notes, saved replies, unread counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role
from guanxi.core.errors import NotFoundError, PermissionDeniedError
from guanxi.inbox.items import search, service
from guanxi.inbox.items.models import ItemStatus
from guanxi.inbox.items.service import InvalidInboxInputError, ItemFilters, list_items
from guanxi.inbox.replies import saved
from guanxi.inbox.triage.assignment import InvalidAssignmentRuleError, create_assignment_rule
from guanxi.inbox.triage.moderation import moderate_new
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import FakePlatform, make_channel, make_item


@pytest.fixture
def team(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, Membership]:
    """acme's owner, two editors and an analyst, by role name."""
    owner = make_user("owner@acme.example", name="Owner")
    anna = make_user("anna@acme.example", name="Anna")
    ben = make_user("ben@acme.example", name="Ben")
    ana = make_user("analyst@acme.example", name="Analyst")
    workspace = make_workspace(
        "acme", owner=owner, members={anna: Role.EDITOR, ben: Role.EDITOR, ana: Role.ANALYST}
    )
    return {m.user.email.split("@")[0]: m for m in workspace.memberships}


def _ids(items: list) -> list[int]:  # type: ignore[type-arg]
    return [item.id for item in items]


def test_tokens_are_bigrams_of_han_and_words_of_latin() -> None:
    """Text is cut into overlapping Han pairs plus the last character, Latin words whole."""
    assert search.tokens("退款太慢 iPhone15!") == ["退款", "款太", "太慢", "慢", "iphone15"]
    assert search.tokens("頂級") == ["顶级", "级"]


def test_filters_and_search_across_platforms(db: Session, team: dict[str, Membership]) -> None:
    """One list over Weibo and Douyin; each filter narrows it; search finds phrases in either
    script, single characters, Latin words, and not words split apart."""
    owner = team["owner"]
    weibo = make_channel(db, owner.workspace, platform="weibo")
    douyin = make_channel(db, owner.workspace, platform="douyin")
    a = make_item(db, weibo, "退款太慢了，客服不理人")
    b = make_item(db, douyin, "iPhone 版本闪退，退款")
    c = make_item(db, weibo, "款式很好看，太喜欢了")
    moderate_new(
        db,
        workspace_id=owner.workspace_id,
        items=[a, b, c],
        platform=FakePlatform(),
        sentiment_of=lambda texts: ["negative", "negative", "positive"],
    )
    wid = owner.workspace_id

    def ids(**filters: object) -> set[int]:
        return set(_ids(list_items(db, workspace_id=wid, filters=ItemFilters(**filters))))  # type: ignore[arg-type]

    assert ids() == {a.id, b.id, c.id}
    assert ids(platform="douyin") == {b.id}
    assert ids(channel_id=weibo.id) == {a.id, c.id}
    assert ids(sentiment="positive") == {c.id}
    assert ids(query="退款") == {a.id, b.id}
    assert ids(query="退款太慢") == {a.id}
    assert ids(query="退款太快") == set()
    assert ids(query="退款慢") == set()  # the characters are there, but not as a phrase
    assert ids(query="款") == {a.id, b.id, c.id}
    assert ids(query="IPHONE") == {b.id}
    assert ids(query="客服 退款") == {a.id}
    assert ids(query="客服", platform="douyin") == set()
    assert ids(query="!!!") == set()
    service.set_status(db, membership=owner, item_ids=[a.id], status="pending")
    assert ids(status="pending") == {a.id}
    with pytest.raises(InvalidInboxInputError):
        ids(status="closed")


def test_traditional_text_is_found_by_a_simplified_query_and_the_reverse(
    db: Session, team: dict[str, Membership]
) -> None:
    """Search normalises both sides to Simplified."""
    owner = team["owner"]
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "這個產品質量很好")
    moderate_new(db, workspace_id=owner.workspace_id, items=[item], platform=FakePlatform())
    for query in ("质量", "質量"):
        assert _ids(
            list_items(db, workspace_id=owner.workspace_id, filters=ItemFilters(query=query))
        ) == [item.id]


def test_status_assignment_tags_and_notes(db: Session, team: dict[str, Membership]) -> None:
    """Done stamps the resolution time and reopening clears it; only members who can reply
    are assignees; an analyst cannot change anything; another workspace's item is 404."""
    owner, anna, analyst = team["owner"], team["anna"], team["analyst"]
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "你好")
    service.set_status(db, membership=owner, item_ids=[item.id], status="done")
    db.refresh(item)
    assert item.status == ItemStatus.DONE
    assert item.resolved_at is not None
    service.set_status(db, membership=owner, item_ids=[item.id], status="open")
    db.refresh(item)
    assert item.resolved_at is None
    service.assign(db, membership=owner, item_ids=[item.id], assignee_id=anna.user_id)
    db.refresh(item)
    assert item.assignee_id == anna.user_id
    with pytest.raises(InvalidInboxInputError, match="who can reply"):
        service.assign(db, membership=owner, item_ids=[item.id], assignee_id=analyst.user_id)
    with pytest.raises(PermissionDeniedError):
        service.set_status(db, membership=analyst, item_ids=[item.id], status="done")
    service.tag_items(db, membership=anna, item_ids=[item.id], name="售后")
    service.tag_items(db, membership=anna, item_ids=[item.id], name="售后")
    assert service.tags_of(db, item_ids=[item.id]) == {item.id: ["售后"]}
    service.tag_items(db, membership=anna, item_ids=[item.id], name="售后", remove=True)
    assert service.tags_of(db, item_ids=[item.id]) == {}
    service.add_note(db, membership=anna, item_id=item.id, text="已电话联系")
    assert [n.text for n in service.notes_of(db, item_id=item.id)] == ["已电话联系"]
    with pytest.raises(NotFoundError):
        service.set_status(db, membership=owner, item_ids=[item.id + 1000], status="done")


def test_round_robin_assignment_by_platform_and_topic(
    db: Session, team: dict[str, Membership]
) -> None:
    """A topic rule catches its word first; the platform rule rotates between two editors."""
    owner, anna, ben = team["owner"], team["anna"], team["ben"]
    create_assignment_rule(
        db, membership=owner, name="退款", platform="", topic="退款", assignee_ids=[ben.user_id]
    )
    create_assignment_rule(
        db,
        membership=owner,
        name="微博",
        platform="weibo",
        topic="",
        assignee_ids=[anna.user_id, ben.user_id],
    )
    weibo = make_channel(db, owner.workspace, platform="weibo")
    douyin = make_channel(db, owner.workspace, platform="douyin")
    items = [make_item(db, weibo, f"第{n}条") for n in range(3)]
    refund = make_item(db, douyin, "我要退款")
    other = make_item(db, douyin, "抖音上的")
    moderate_new(
        db, workspace_id=owner.workspace_id, items=[*items, refund, other], platform=FakePlatform()
    )
    assert [i.assignee_id for i in items] == [anna.user_id, ben.user_id, anna.user_id]
    assert refund.assignee_id == ben.user_id
    assert other.assignee_id is None
    with pytest.raises(InvalidAssignmentRuleError):
        create_assignment_rule(
            db,
            membership=owner,
            name="x",
            platform="",
            topic="",
            assignee_ids=[team["analyst"].user_id],
        )


def test_saved_replies_in_two_languages_with_variables(
    db: Session, team: dict[str, Membership]
) -> None:
    """Variables fill from the item; unknown ones are refused when saving."""
    owner = team["owner"]
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "hi", name="Lily")
    zh = saved.save_saved_reply(
        db, membership=owner, title="感谢", language="zh", text="{name}，感谢支持！"
    )
    en = saved.save_saved_reply(
        db,
        membership=owner,
        title="Thanks",
        language="en",
        text="Thanks {name}, from {account} on {platform}",
    )
    assert saved.render_saved_reply(zh.text, item=item) == "Lily，感谢支持！"
    assert (
        saved.render_saved_reply(en.text, item=item, account="Acme")
        == "Thanks Lily, from Acme on weibo"
    )
    with pytest.raises(InvalidInboxInputError, match=r"\{nickname\}"):
        saved.save_saved_reply(
            db, membership=owner, title="x", language="zh", text="{nickname} 你好"
        )
    with pytest.raises(InvalidInboxInputError, match="exists"):
        saved.save_saved_reply(db, membership=owner, title="感谢", language="zh", text="再次感谢")
    assert [s.title for s in saved.list_saved_replies(db, workspace_id=owner.workspace_id)] == [
        "Thanks",
        "感谢",
    ]


def test_unread_counts_items_since_the_list_was_seen(
    db: Session, team: dict[str, Membership]
) -> None:
    """Each member has their own unread count."""
    owner, anna = team["owner"], team["anna"]
    channel = make_channel(db, owner.workspace)
    make_item(db, channel, "1")
    service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    make_item(db, channel, "2")
    make_item(db, channel, "3")
    assert service.unread_count(db, user_id=owner.user_id, workspace_id=owner.workspace_id) == 2
    assert service.unread_count(db, user_id=anna.user_id, workspace_id=owner.workspace_id) == 3


def test_bulk_limits(db: Session, team: dict[str, Membership]) -> None:
    """No selection, or too large a one, is refused with a message."""
    owner = team["owner"]
    with pytest.raises(InvalidInboxInputError, match="at least one"):
        service.set_status(db, membership=owner, item_ids=[], status="done")
    with pytest.raises(InvalidInboxInputError, match="at most"):
        service.set_status(db, membership=owner, item_ids=list(range(1, 600)), status="done")


def test_a_common_phrase_is_found_the_same_way(
    db: Session, team: dict[str, Membership], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a phrase with more matches than the probe takes the other plan (the
    newest items, filtered): the answer is the same, newest first."""
    monkeypatch.setattr(search, "PG_PROBE", 1)
    owner = team["owner"]
    channel = make_channel(db, owner.workspace)
    items = [make_item(db, channel, text) for text in ("物流太慢", "物流太慢了吧", "物流很快")]
    moderate_new(db, workspace_id=owner.workspace_id, items=items, platform=FakePlatform())
    found = list_items(db, workspace_id=owner.workspace_id, filters=ItemFilters(query="物流太慢"))
    assert _ids(found) == [items[1].id, items[0].id]
    nothing = ItemFilters(query="不存在")
    assert list_items(db, workspace_id=owner.workspace_id, filters=nothing) == []


def test_marking_the_list_seen_shows_at_once_and_a_visit_with_nothing_new_writes_nothing(
    db: Session, team: dict[str, Membership]
) -> None:
    """Given a read mark behind the newest item, marking the list makes the unread count
    0 in the same session; a visit with nothing new writes no statement."""
    owner = team["owner"]
    channel = make_channel(db, owner.workspace)
    make_item(db, channel, "1")
    service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    make_item(db, channel, "2")
    assert service.unread_count(db, user_id=owner.user_id, workspace_id=owner.workspace_id) == 1
    service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    assert service.unread_count(db, user_id=owner.user_id, workspace_id=owner.workspace_id) == 0
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.get_bind(), "before_cursor_execute", record)
    try:
        service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", record)
    assert statements  # it looked
    assert not [sql for sql in statements if sql.lstrip().upper().startswith(("INSERT", "UPDATE"))]


@pytest.mark.parametrize("few", [service.FEW_NEW_ITEMS, 0])
def test_the_live_poll_brings_the_newer_items_in_the_lists_order(
    db: Session, team: dict[str, Membership], monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Given items that arrived after the page was drawn, one of them written earlier (an
    import of older comments), the poll brings exactly those that match the filters, newest
    written first as the list shows them, whether it finds them by id (a few arrived) or
    walks the list (many arrived)."""
    monkeypatch.setattr(service, "FEW_NEW_ITEMS", few)
    owner = team["owner"]
    weibo = make_channel(db, owner.workspace, platform="weibo")
    douyin = make_channel(db, owner.workspace, platform="douyin")
    seen = make_item(db, weibo, "早就看过了", created_at=datetime(2026, 12, 1, 8, tzinfo=UTC))
    late = make_item(db, weibo, "新的评论", created_at=datetime(2026, 12, 2, 9, tzinfo=UTC))
    old = make_item(db, weibo, "导入的旧评论", created_at=datetime(2026, 11, 20, tzinfo=UTC))
    other = make_item(db, douyin, "抖音上的", created_at=datetime(2026, 12, 2, 10, tzinfo=UTC))
    wid = owner.workspace_id

    def poll(**filters: str) -> list[int]:
        found = service.items_after(
            db, workspace_id=wid, filters=ItemFilters(**filters), after=seen.id
        )
        return _ids(found)

    assert poll() == [other.id, late.id, old.id]
    assert poll(platform="weibo") == [late.id, old.id]
    every = _ids(list_items(db, workspace_id=wid, filters=ItemFilters()))
    assert poll() == [item_id for item_id in every if item_id > seen.id]
    row = service.items_after(db, workspace_id=wid, filters=ItemFilters(), after=late.id)[-1]
    assert (row.text, row.platform, row.author_name) == ("导入的旧评论", "weibo", "小王")
