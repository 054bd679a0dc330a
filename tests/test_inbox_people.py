"""The relationship book: people from authors, merges, suggestions, influence, export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership
from guanxi.inbox.people import service as people
from guanxi.inbox.people.influence import guess_kind, influence
from guanxi.inbox.people.models import Person, PersonIdentity, PersonKind
from guanxi.inbox.replies.models import Reply, ReplyState
from guanxi.inbox.triage.moderation import moderate_new
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import FakePlatform, make_channel, make_item


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The owner of workspace acme."""
    return make_workspace("acme", owner=make_user("owner@acme.example")).memberships[0]


def _person(db: Session, name: str) -> Person:
    return db.scalars(select(Person).where(Person.name == name)).one()


def test_authors_become_people_once_per_account(db: Session, owner: Membership) -> None:
    """Two comments of one author make one person; a big account is guessed a KOL."""
    channel = make_channel(db, owner.workspace)
    items = [
        make_item(db, channel, "一", author="a1", name="小红"),
        make_item(db, channel, "二", author="a1", name="小红"),
        make_item(
            db, channel, "三", author="k1", name="美妆达人", followers=300_000, verified_type=0
        ),
    ]
    moderate_new(db, workspace_id=owner.workspace_id, items=items, platform=FakePlatform())
    assert db.scalars(select(PersonIdentity)).all().__len__() == 2
    assert _person(db, "小红").kind == PersonKind.FAN
    assert _person(db, "美妆达人").kind == PersonKind.KOL


def test_influence_reasons_add_up_to_the_score() -> None:
    """Followers, verification and repeated conversations each give points with a reason."""
    shown = influence(followers=1_000_000, verified_type=3, interactions=3)
    assert [r.points for r in shown.reasons] == [36, 30, 8]
    assert shown.score == 74
    assert shown.reasons[1].message.startswith("Verified media")
    assert influence(followers=None, verified_type=-1).score == 0
    assert guess_kind(followers=5, verified_type=3) == PersonKind.MEDIA


def test_suggestions_and_a_merge_join_two_platform_accounts(db: Session, owner: Membership) -> None:
    """Given 小美 on Weibo and on Douyin, the book suggests one person; merging moves the
    account, the notes and the history, and is audited."""
    weibo = make_channel(db, owner.workspace, platform="weibo")
    douyin = make_channel(db, owner.workspace, platform="douyin")
    items = [
        make_item(db, weibo, "微博上的评论", author="w-1", name="小美"),
        make_item(db, douyin, "抖音上的评论", author="d-1", name="小美"),
        make_item(db, douyin, "无关", author="d-2", name="路人"),
    ]
    moderate_new(db, workspace_id=owner.workspace_id, items=items, platform=FakePlatform())
    suggestions = people.merge_suggestions(db, workspace_id=owner.workspace_id)
    assert len(suggestions) == 1
    assert suggestions[0].reason == "Same name on another platform"
    first, second = suggestions[0].first, suggestions[0].second
    people.add_person_note(db, membership=owner, person_id=second.id, text="抖音粉丝群群主")
    kept = people.merge_people(db, membership=owner, keep_id=first.id, merge_id=second.id)
    db.commit()
    assert {i.platform for i in people.identities_of(db, person_id=kept.id)} == {"weibo", "douyin"}
    assert db.get(Person, second.id) is None
    texts = {
        entry.item.text
        for entry in people.history(db, workspace_id=owner.workspace_id, person_id=kept.id)
    }
    assert texts == {"微博上的评论", "抖音上的评论"}
    assert [n.text for n in people.person_notes(db, person_id=kept.id)] == ["抖音粉丝群群主"]
    assert people.merge_suggestions(db, workspace_id=owner.workspace_id) == []
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "inbox.person.merge")).one()
    with pytest.raises(people.InvalidPersonError):
        people.merge_people(db, membership=owner, keep_id=kept.id, merge_id=kept.id)


def test_the_same_linked_id_is_suggested(db: Session, owner: Membership) -> None:
    """Two accounts with one WeChat unionid are suggested even with different names."""
    channel = make_channel(db, owner.workspace, platform="wechat")
    items = [
        make_item(db, channel, "a", author="o1", name="甲"),
        make_item(db, channel, "b", author="o2", name="乙"),
    ]
    moderate_new(db, workspace_id=owner.workspace_id, items=items, platform=FakePlatform())
    for identity in db.scalars(select(PersonIdentity)):
        identity.linked_id = "union-1"
    assert [s.reason for s in people.merge_suggestions(db, workspace_id=owner.workspace_id)] == [
        "Same linked account id"
    ]


def test_history_includes_our_replies(db: Session, owner: Membership) -> None:
    """A person's history holds what they wrote and what we answered."""
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "请问什么时候发货？", author="c1", name="顾客")
    moderate_new(db, workspace_id=owner.workspace_id, items=[item], platform=FakePlatform())
    db.add(Reply(item_id=item.id, text="明天发货", state=ReplyState.SENT, idempotency_key="k1"))
    db.flush()
    db.refresh(item)
    entries = people.history(db, workspace_id=owner.workspace_id, person_id=_person(db, "顾客").id)
    assert [(e.item.text, e.reply.text if e.reply else None) for e in entries] == [
        ("请问什么时候发货？", None),
        ("请问什么时候发货？", "明天发货"),
    ]


def test_kind_by_hand_and_the_kol_export(db: Session, owner: Membership) -> None:
    """A person marked KOL by hand is exported with influence and reasons; a formula-like
    name is neutralised for spreadsheets."""
    channel = make_channel(db, owner.workspace)
    items = [
        make_item(db, channel, "x", author="k", name="=HYPERLINK(1)", followers=20_000),
        make_item(
            db, channel, "y", author="m", name="科技日报", followers=5_000_000, verified_type=3
        ),
        make_item(db, channel, "z", author="f", name="普通粉丝", followers=12),
    ]
    moderate_new(db, workspace_id=owner.workspace_id, items=items, platform=FakePlatform())
    fan = _person(db, "普通粉丝")
    people.update_person(db, membership=owner, person_id=fan.id, kind="kol", segment="校园")
    people.tag_person(db, membership=owner, person_id=fan.id, name="校园大使")
    assert people.person_tags(db, person_id=fan.id) == ["校园大使"]
    people.tag_person(db, membership=owner, person_id=fan.id, name="校园大使", remove=True)
    assert people.person_tags(db, person_id=fan.id) == []
    assert fan.kind_by_hand
    assert fan.segment == "校园"
    rows = list(csv.reader(io.StringIO(people.export_kols(db, workspace_id=owner.workspace_id))))
    assert rows[0][:3] == ["influence", "name", "kind"]
    assert [row[1] for row in rows[1:]] == ["科技日报", "'=HYPERLINK(1)", "普通粉丝"]
    assert rows[1][2] == "media"
    assert "Verified media" in rows[1][7]
    with pytest.raises(people.InvalidPersonError):
        people.update_person(db, membership=owner, person_id=fan.id, kind="alien", segment="")
