"""Ingest writes a page in bulk: each item row once, people and moderation in a few
statements. What it records must be what storing, then moderating the page recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Role
from guanxi.channels.models import Channel
from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind
from guanxi.core.db import utcnow
from guanxi.inbox import bulk
from guanxi.inbox.intake import service as ingest
from guanxi.inbox.intake import steps as ingest_steps
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.people import service as people
from guanxi.inbox.people.models import Person, PersonIdentity, PersonKind
from guanxi.inbox.triage import moderation as moderation_module
from guanxi.inbox.triage.assignment import create_assignment_rule, list_assignment_rules
from guanxi.inbox.triage.moderation import moderate_new
from guanxi.inbox.triage.rules import create_rule
from guanxi.inbox.triage.sla import priority_for, priority_level
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import FakePlatform, make_channel, make_item, moderation_outcome

# (text, author, followers, verified type): a known author, new ones, one twice, a KOL,
# an advertiser, abuse, a link, and the same text again from one author (a repeat).
PAGE: list[tuple[str, str, int, int]] = [
    ("加微信领优惠券", "a1", 10, -1),
    ("很喜欢，已经回购三次了", "a2", 50, -1),
    ("你们就是一群傻逼 http://t.cn/x", "a3", 10, -1),
    ("质量太差了，失望，退款", "kol", 300_000, 0),
    ("滚蛋，加微信", "a2", 60, -1),
    ("求关注求关注", "a4", 5, -1),
    ("求关注求关注", "a4", 5, -1),
    ("质量不错", "a5", 10, -1),
    ("物流太慢", "a1", 12, -1),
]


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The owner of workspace acme, with an editor, moderation and assignment rules."""
    user = make_user("owner@acme.example", name="Owner")
    editor = make_user("editor@acme.example", name="Editor")
    workspace = make_workspace("acme", owner=user, members={editor: Role.EDITOR})
    membership = next(m for m in workspace.memberships if m.user_id == user.id)
    rules: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = [
        ([("advertising", ""), ("link", "")], [("hide", ""), ("flag", ""), ("set_priority", "3")]),
        ([("abuse", "")], [("flag", ""), ("assign", str(editor.id))]),
        ([("repeated_text", "")], [("flag", "")]),
        ([("negative", "")], [("set_priority", "2")]),
    ]
    for conditions, actions in rules:
        create_rule(db, membership=membership, name="rule", conditions=conditions, actions=actions)
    create_assignment_rule(
        db,
        membership=membership,
        name="weibo",
        platform="weibo",
        topic="",
        assignee_ids=[user.id, editor.id],
    )
    db.commit()
    return membership


@pytest.fixture(autouse=True)
def fake_platform(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    """Moderation's platform actions recorded instead of sent."""
    fake = FakePlatform()
    monkeypatch.setattr(moderation_module, "connector_actions", lambda: fake)
    return fake


def _fetched(
    channel: Channel, index: int, text: str, author: str, followers: int, verified: int
) -> FetchedItem:
    return FetchedItem(
        FetchedKind.COMMENT,
        f"c{index}",
        text,
        FetchedAuthor(f"{channel.id}-{author}", f"name-{author}", followers, verified),
        utcnow() - timedelta(minutes=100 - index),
        post_external_id="p1",
    )


def _restart_rotation(db: Session, workspace_id: int) -> None:
    for rule in list_assignment_rules(db, workspace_id=workspace_id):
        rule.next_index = 0
    db.commit()


def _outcome(db: Session, items: list[InboxItem], channel: Channel) -> list[Any]:
    """Per item: its state, its actions and their audit; then the people of the channel."""
    db.expire_all()
    outcome: list[Any] = [
        (item.text, entry) for item, entry in zip(items, moderation_outcome(db, items), strict=True)
    ]
    prefix = f"{channel.id}-"
    people = db.execute(
        select(
            PersonIdentity.external_id,
            PersonIdentity.name,
            PersonIdentity.followers,
            Person.name,
            Person.kind,
        )
        .join(Person, Person.id == PersonIdentity.person_id)
        .where(PersonIdentity.external_id.startswith(prefix))
        .order_by(PersonIdentity.external_id)
    ).all()
    outcome.append([(e.removeprefix(prefix), n, f, p, k) for e, n, f, p, k in people])
    return outcome


def _through_ingest(db: Session, owner: Membership) -> tuple[list[InboxItem], Channel]:
    """Page 1 (two items) then page 2 (all of PAGE, the first two again) through ingest."""
    channel = make_channel(db, owner.workspace)
    db.commit()
    pages = [PAGE[:2], PAGE]
    stored: list[InboxItem] = []
    for page in pages:
        fetched = [_fetched(channel, index, *entry) for index, entry in enumerate(page)]
        new = ingest.store_items(db, channel=channel, items=fetched)
        db.commit()
        ingest.after_insert(db, workspace_id=owner.workspace_id, items=new)
        stored.extend(new)
    return stored, channel


def _as_before(db: Session, owner: Membership) -> tuple[list[InboxItem], Channel]:
    """The same pages the way ingest stored them before: the new items inserted as they
    came, then moderated as one batch per page (sentiment, priority, people, assignment)."""
    channel = make_channel(db, owner.workspace)
    items = []
    for page in (PAGE[:2], PAGE[2:]):
        batch = [
            make_item(
                db,
                channel,
                text,
                author=f"{channel.id}-{author}",
                name=f"name-{author}",
                followers=followers,
                verified_type=verified,
            )
            for text, author, followers, verified in page
        ]
        db.commit()
        moderate_new(db, workspace_id=owner.workspace_id, items=batch)
        db.commit()
        items.extend(batch)
    return items, channel


def test_a_page_records_what_it_recorded_before(db: Session, owner: Membership) -> None:
    """Given rules that hide, flag, prioritise and assign, and a round robin over two
    members, a page through ingest (two of its items stored by an earlier page: their
    authors are known, and the insert turns them away) leaves the items, their logged and
    audited actions and the relationship book as storing them and then moderating each
    page's new items as one batch did."""
    bulk_items, first = _through_ingest(db, owner)
    assert len(bulk_items) == len(PAGE)
    _restart_rotation(db, owner.workspace_id)
    before, second = _as_before(db, owner)
    assert _outcome(db, bulk_items, first) == _outcome(db, before, second)
    # The page itself: sentiment, priority and assignee arrived with the insert.
    assert {item.assignee_id for item in bulk_items} == {
        m.user_id for m in owner.workspace.memberships
    }
    assert all(item.sentiment for item in bulk_items)


def test_a_page_read_again_does_not_turn_the_rotation(db: Session, owner: Membership) -> None:
    """Given a round robin [owner, editor] and an item already stored (assigned to the
    owner), a page with it and two new items gives the new ones editor then owner."""
    editor = next(m.user_id for m in owner.workspace.memberships if m.role == Role.EDITOR)
    channel = make_channel(db, owner.workspace)
    db.commit()
    first = _fetched(channel, 1, "第一次买", "b1", 10, -1)
    (stored,) = ingest.store_items(db, channel=channel, items=[first])
    assert stored.assignee_id == owner.user_id
    page = [
        first,
        _fetched(channel, 2, "颜色很好看", "b2", 10, -1),
        _fetched(channel, 3, "味道很好", "b3", 10, -1),
    ]
    new = ingest.store_items(db, channel=channel, items=page)
    db.commit()
    assert [item.external_id for item in new] == ["c2", "c3"]
    assert [item.assignee_id for item in new] == [editor, owner.user_id]
    db.expire_all()
    assert [db.get_one(InboxItem, item.id).assignee_id for item in new] == [
        editor,
        owner.user_id,
    ]


def test_each_step_reports_what_it_did(db: Session, owner: Membership) -> None:
    """Given a stored item and a page with it, two new items (one listed twice) and the
    account's own reply, each step says how many rows it handled and which it left out."""
    channel = make_channel(db, owner.workspace)
    db.commit()
    first = _fetched(channel, 1, "第一次买", "b1", 10, -1)
    ingest.store_items(db, channel=channel, items=[first])
    db.commit()
    new = _fetched(channel, 2, "颜色很好看", "b2", 10, -1)
    own = FetchedItem(
        FetchedKind.COMMENT,
        "c9",
        "谢谢",
        FetchedAuthor(channel.external_id, "品牌"),
        utcnow(),
        post_external_id="p1",
    )
    fetched = [first, new, _fetched(channel, 3, "味道很好", "b3", 10, -1), new, own]
    page = ingest_steps.Page(db, owner.workspace_id, channel=channel, fetched=fetched)
    ingest_steps.run_steps(page, ingest_steps.INGEST_STEPS)
    assert [(r.step, r.done, r.left_out) for r in page.results] == [
        ("check", 3, {"written by the account": 1, "repeated in the page": 1}),
        ("drop stored", 2, {"in the inbox": 1}),
        ("score", 2, {}),
        ("assign", 2, {}),
        ("insert", 2, {}),
        ("moderate", 2, {}),
        ("commit", 2, {}),
    ]
    assert [item.external_id for item in page.stored] == ["c2", "c3"]


def test_the_same_item_twice_in_a_page_is_stored_once(db: Session, owner: Membership) -> None:
    """Given a page listing one comment twice, it is stored once, the first time."""
    channel = make_channel(db, owner.workspace)
    db.commit()
    twice = _fetched(channel, 1, "赞", "c1", 10, -1)
    again = FetchedItem(twice.kind, twice.external_id, "改过的文字", twice.author, twice.created_at)
    new = ingest.store_items(db, channel=channel, items=[twice, again])
    assert [item.text for item in new] == ["赞"]


def test_authors_are_linked_in_bulk(db: Session, owner: Membership) -> None:
    """Given one known author whose name and followers changed and new authors (one of
    them twice), each new author becomes one person with one identity, and the known
    identity takes what the platform says now."""
    channel = make_channel(db, owner.workspace)
    old = make_item(db, channel, "一", author="known", name="旧名", followers=10)
    people.link_authors(db, workspace_id=owner.workspace_id, items=[old])
    items = [
        make_item(db, channel, "二", author="known", name="新名", followers=20_000),
        make_item(db, channel, "三", author="new-1", name="小红", followers=None),
        make_item(db, channel, "四", author="new-2", name="", followers=5, verified_type=3),
        make_item(db, channel, "五", author="new-1", name="小红", followers=7),
    ]
    kinds = people.link_authors(db, workspace_id=owner.workspace_id, items=items)
    assert kinds == {
        ("weibo", "known"): PersonKind.FAN,  # the guess of its first sighting stays
        ("weibo", "new-1"): PersonKind.FAN,
        ("weibo", "new-2"): PersonKind.MEDIA,
    }
    db.expire_all()
    rows = db.execute(
        select(
            PersonIdentity.external_id, PersonIdentity.name, PersonIdentity.followers, Person.name
        )
        .join(Person, Person.id == PersonIdentity.person_id)
        .order_by(PersonIdentity.external_id)
    ).all()
    assert [tuple(row) for row in rows] == [
        ("known", "新名", 20_000, "旧名"),
        ("new-1", "小红", 7, "小红"),  # the page's latest sighting
        ("new-2", "", 5, "new-2"),
    ]
    assert len(set(db.scalars(select(PersonIdentity.person_id)))) == 3


def test_bulk_inserts_and_updates_by_id(db: Session, owner: Membership) -> None:
    """``insert_with_ids`` gives the ids the rows got, in order; ``update_by_id`` changes
    the named rows and columns only."""
    table = cast(Table, Person.__table__)
    now = utcnow()
    rows = [
        {
            "workspace_id": owner.workspace_id,
            "name": f"p{index}",
            "kind": "fan",
            "kind_by_hand": False,
            "segment": "",
            "created_at": now,
            "updated_at": now,
        }
        for index in range(5)
    ]
    ids = bulk.insert_with_ids(db, table, rows)
    assert ids == sorted(ids)
    names: Callable[[], dict[int, tuple[str, str]]] = lambda: {  # noqa: E731
        person.id: (person.name, person.segment) for person in db.scalars(select(Person))
    }
    assert names() == {id_: (f"p{index}", "") for index, id_ in enumerate(ids)}
    bulk.update_by_id(db, table, [{"id": ids[1], "segment": "vip"}, {"id": ids[3], "segment": "x"}])
    db.expire_all()
    assert names()[ids[1]] == ("p1", "vip")
    assert names()[ids[3]] == ("p3", "x")
    assert names()[ids[0]] == ("p0", "")
    more = bulk.insert_with_ids(db, table, rows[:1])
    assert more[0] > ids[-1]


@pytest.mark.parametrize("sentiment", ["negative", "neutral", None])
@pytest.mark.parametrize("followers", [None, 0, 1, 9, 10_000, 99_999, 2_000_000, 10**9])
@pytest.mark.parametrize("verified_type", [None, -1, 0, 1, 3, 4, 7, 200, 220])
def test_the_level_ingest_stores_is_the_priority_level(
    sentiment: str | None, followers: int | None, verified_type: int | None
) -> None:
    """The level worked out for each stored row is ``priority_for``'s, reasons left out."""
    for text in ("好看", "我要去消协投诉"):
        shown = priority_for(
            text=text, sentiment=sentiment, followers=followers, verified_type=verified_type
        )
        assert shown.level == priority_level(
            text=text, sentiment=sentiment, followers=followers, verified_type=verified_type
        )


def test_the_page_is_committed_before_the_platform_is_called(
    db: Session,
    owner: Membership,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a rule that hides advertising, ingest commits the page before it asks the
    platform to hide (no write transaction is held across the call, and a failure after
    it loses nothing): another session sees the item and its cursor's page already."""
    seen: list[tuple[str, int]] = []

    class Watching(FakePlatform):
        def hide(self, db: Session, *, item: InboxItem) -> None:
            with session_factory() as other:
                stored = other.get(InboxItem, item.id)
                seen.append((item.external_id, stored.priority if stored else -1))
            super().hide(db, item=item)

    watching = Watching()
    monkeypatch.setattr(moderation_module, "connector_actions", lambda: watching)
    channel = make_channel(db, owner.workspace)
    db.commit()
    fetched = [_fetched(channel, index, *entry) for index, entry in enumerate(PAGE[:3])]
    new = ingest.store_items(db, channel=channel, items=fetched)
    ingest.after_insert(db, workspace_id=owner.workspace_id, items=new)
    assert watching.hidden == ["c0", "c2"]
    assert [external_id for external_id, _ in seen] == ["c0", "c2"]
    assert all(priority >= 0 for _, priority in seen)


def test_a_failing_moderation_leaves_the_page_committed(
    db: Session, owner: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given moderation fails half-way through a page, its items are committed without any
    of moderation's changes (the savepoint is rolled back)."""

    def failing(db: Session, *, items: list[InboxItem], **_: object) -> None:
        people.link_authors(db, workspace_id=owner.workspace_id, items=items)
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(moderation_module, "moderate_new", failing)
    channel = make_channel(db, owner.workspace)
    db.commit()
    fetched = [_fetched(channel, index, *entry) for index, entry in enumerate(PAGE[:3])]
    new = ingest.store_items(db, channel=channel, items=fetched)
    ingest.after_insert(db, workspace_id=owner.workspace_id, items=new)
    db.rollback()
    assert len(db.scalars(select(InboxItem).where(InboxItem.channel_id == channel.id)).all()) == 3
    prefix = f"{channel.id}-"
    assert not db.scalars(
        select(PersonIdentity).where(PersonIdentity.external_id.startswith(prefix))
    ).all()
