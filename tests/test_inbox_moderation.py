"""Moderation rules: every condition, every action, reversal and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role, User
from guanxi.channels.models import Channel
from guanxi.checks.models import SensitiveWord
from guanxi.checks.words import CompiledWordList, WordEntry, WordSeverity
from guanxi.connectors.base import Capability, ChannelContext, FetchedKind
from guanxi.core.errors import ConflictError
from guanxi.inbox.items.models import InboxItem, ItemTag
from guanxi.inbox.items.service import ItemFilters, list_items
from guanxi.inbox.people.models import Person, PersonKind
from guanxi.inbox.triage import platform as platform_module
from guanxi.inbox.triage.models import ActionState, ModerationAction
from guanxi.inbox.triage.moderation import ActionKind, moderate_new, reverse_action
from guanxi.inbox.triage.rules import InvalidRuleError, create_rule
from guanxi.inbox.triage.screening import ConditionKind, Facts, Screen, phrase_list, rule_matches
from tests.conftest import UserFactory, WorkspaceFactory, forget_default_words
from tests.inbox_ui_support import FakePlatform, make_channel, make_item, moderation_outcome


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The owner's membership of workspace acme, with an editor colleague."""
    user = make_user("owner@acme.example", name="Owner")
    editor = make_user("editor@acme.example", name="Editor")
    workspace = make_workspace("acme", owner=user, members={editor: Role.EDITOR})
    return next(m for m in workspace.memberships if m.user_id == user.id)


def _rule(
    db: Session,
    owner: Membership,
    conditions: list[tuple[str, str]],
    actions: list[tuple[str, str]],
    **kw: Any,
) -> None:
    create_rule(db, membership=owner, name="rule", conditions=conditions, actions=actions, **kw)
    db.commit()


def _screen(words: list[tuple[str, str]] | None = None) -> Screen:
    return Screen(
        words=CompiledWordList(
            WordEntry(term, category, WordSeverity.WARN) for term, category in words or []
        )
    )


@pytest.mark.parametrize(
    ("kind", "value", "text", "hit"),
    [
        (
            ConditionKind.SENSITIVE_WORD,
            "",
            "這個產品是頂級的",
            True,
        ),  # Traditional text, Simplified term
        (ConditionKind.SENSITIVE_WORD, "politics", "这个产品是顶级的", False),  # other category
        (ConditionKind.LINK, "", "看这里 http://t.cn/abc", True),
        (ConditionKind.LINK, "", "没有链接", False),
        (ConditionKind.REPEATED_TEXT, "", "好评返现好评返现好评返现好评返现", True),
        (ConditionKind.REPEATED_TEXT, "", "哈哈哈，真好", False),
        (ConditionKind.ADVERTISING, "", "低价代购，加微信 abc123", True),
        (ConditionKind.ABUSE, "", "你们就是一群傻逼", True),
        (ConditionKind.ABUSE, "", "谢谢你们", False),
        (ConditionKind.NEGATIVE, "", "whatever", False),
    ],
)
def test_conditions_over_plain_text(kind: ConditionKind, value: str, text: str, hit: bool) -> None:
    """Each condition recognises its case and leaves innocent text alone."""
    screen = _screen([("顶级", "ads-law")])
    assert bool(screen.reasons(kind, value, Facts(text=text))) is hit


def test_negative_and_author_kind_and_match_all() -> None:
    """Sentiment and author kind come from the facts; "all" needs every condition."""
    screen = _screen()
    facts = Facts(text="太差了 http://x.com", sentiment="negative", author_kind="kol")
    both = [{"kind": "negative"}, {"kind": "author_kind", "value": "kol"}]
    assert rule_matches(screen, conditions=both, match_all=True, facts=facts)
    other = [{"kind": "negative"}, {"kind": "author_kind", "value": "media"}]
    assert not rule_matches(screen, conditions=other, match_all=True, facts=facts)
    assert rule_matches(screen, conditions=other, match_all=False, facts=facts) == [
        "sentiment:negative"
    ]


def test_the_same_text_again_from_one_author_is_a_repeat() -> None:
    """Given an author posting the same text twice in a batch, the second is spam."""
    screen = _screen()
    facts = Facts(text="求关注", author_key="weibo:1")
    screen.remember(facts)
    assert not screen.reasons(ConditionKind.REPEATED_TEXT, "", facts)
    screen.remember(facts)
    assert screen.reasons(ConditionKind.REPEATED_TEXT, "", facts)


def test_ten_thousand_terms_are_one_automaton_matching_both_scripts() -> None:
    """Given 10,000 terms, one compiled list finds a Traditional spelling of one of them."""
    terms = (*(f"词{index:05d}" for index in range(10_000)), "发票")
    compiled = phrase_list(terms, "test")
    assert len(compiled) == 10_001
    assert [hit.entry.term for hit in compiled.hits("可以開發票嗎")] == ["发票"]


def test_hide_flag_priority_and_assign_are_applied_logged_and_audited(
    db: Session, owner: Membership
) -> None:
    """Given a rule with four actions, a matching item is hidden on the platform, flagged,
    prioritised and assigned; each action is logged with its reasons and audited."""
    editor = next(m for m in owner.workspace.memberships if m.role == Role.EDITOR)
    _rule(
        db,
        owner,
        [("advertising", "")],
        [("hide", ""), ("flag", ""), ("set_priority", "3"), ("assign", str(editor.user_id))],
    )
    channel = make_channel(db, owner.workspace)
    spam = make_item(db, channel, "加微信领优惠券")
    fine = make_item(db, channel, "很喜欢", author="fan-2")
    fake = FakePlatform()
    moderate_new(db, workspace_id=owner.workspace_id, items=[spam, fine], platform=fake)
    db.commit()
    assert fake.hidden == [spam.external_id]
    assert spam.hidden_on_platform
    assert spam.priority == 3
    assert spam.assignee_id == editor.user_id
    assert not fine.hidden_on_platform
    assert fine.assignee_id is None
    flagged = list_items(db, workspace_id=owner.workspace_id, filters=ItemFilters(tag="flagged"))
    assert [item.id for item in flagged] == [spam.id]
    logged = db.scalars(select(ModerationAction).order_by(ModerationAction.id)).all()
    assert [a.action for a in logged] == ["hide", "flag", "set_priority", "assign"]
    assert all(a.reasons == ["ad:加微信", "ad:优惠券"] for a in logged)
    audited = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("inbox.moderation.%"))
    ).all()
    assert sorted(audited) == sorted(
        f"inbox.moderation.{a}" for a in ("hide", "flag", "set_priority", "assign")
    )


@pytest.mark.parametrize("refuse", [False, True])
def test_a_batch_gets_exactly_the_audited_actions_of_one_by_one_runs(
    db: Session, owner: Membership, refuse: bool
) -> None:
    """Given rules that hide, flag, prioritise and assign, moderating five items as one batch
    logs and audits the same actions as moderating each alone (a refused hide included),
    and leaves the items in the same state."""
    editor = next(m for m in owner.workspace.memberships if m.role == Role.EDITOR)
    _rule(
        db,
        owner,
        [("advertising", ""), ("link", "")],
        [("hide", ""), ("flag", ""), ("set_priority", "3")],
    )
    _rule(db, owner, [("abuse", "")], [("flag", ""), ("assign", str(editor.user_id))])
    texts = [
        "加微信领优惠券",
        "你们就是一群傻逼 http://t.cn/x",
        "很喜欢",
        "滚蛋，加微信",
        "质量不错",
    ]

    def run(batches: Callable[[list[InboxItem]], list[list[InboxItem]]]) -> list[InboxItem]:
        channel = make_channel(db, owner.workspace)
        items = [
            make_item(db, channel, text, author=f"{channel.id}-{index}")
            for index, text in enumerate(texts)
        ]
        for batch in batches(items):
            moderate_new(
                db,
                workspace_id=owner.workspace_id,
                items=batch,
                platform=FakePlatform(refuse=refuse),
            )
        db.commit()
        return items

    together = run(lambda items: [items])
    alone = run(lambda items: [[item] for item in items])
    assert moderation_outcome(db, together) == moderation_outcome(db, alone)
    assert sum(len(entry["audited"]) for entry in moderation_outcome(db, together)) == 13


def test_a_refused_hide_is_logged_as_failed_and_ingest_goes_on(
    db: Session, owner: Membership
) -> None:
    """Given the platform refuses to hide, the action is failed with its reason and the
    item is still flagged by the next action."""
    _rule(db, owner, [("link", "")], [("hide", ""), ("flag", "")])
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "www.spam.com")
    moderate_new(
        db, workspace_id=owner.workspace_id, items=[item], platform=FakePlatform(refuse=True)
    )
    db.commit()
    hide, flag = db.scalars(select(ModerationAction).order_by(ModerationAction.id)).all()
    assert hide.state == ActionState.FAILED
    assert "20101" in hide.error
    assert flag.state == ActionState.APPLIED
    assert not item.hidden_on_platform


def test_auto_reply_fills_variables(db: Session, owner: Membership) -> None:
    """Given an auto-reply rule, the reply goes out with the author's name filled in."""
    _rule(db, owner, [("negative", "")], [("auto_reply", "{name}您好，我们已收到，会尽快处理")])
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "质量太差了，失望", name="老王")
    fake = FakePlatform()
    moderate_new(
        db,
        workspace_id=owner.workspace_id,
        items=[item],
        platform=fake,
        sentiment_of=lambda texts: ["negative"] * len(texts),
    )
    assert fake.replied == [(item.external_id, "老王您好，我们已收到，会尽快处理")]


def test_author_kind_condition_reads_the_relationship_book(db: Session, owner: Membership) -> None:
    """Given a competitor marked in the book, their next comment is flagged."""
    _rule(db, owner, [("author_kind", "competitor")], [("flag", "")])
    channel = make_channel(db, owner.workspace)
    first = make_item(db, channel, "你好", author="rival")
    moderate_new(db, workspace_id=owner.workspace_id, items=[first], platform=FakePlatform())
    person = db.scalars(select(Person)).one()
    person.kind = PersonKind.COMPETITOR
    second = make_item(db, channel, "我们家的更便宜", author="rival")
    moderate_new(db, workspace_id=owner.workspace_id, items=[second], platform=FakePlatform())
    assert [a.item_id for a in db.scalars(select(ModerationAction))] == [second.id]


def test_sensitive_words_from_the_workspace_list(db: Session, owner: Membership) -> None:
    """Given the workspace lists 顶级 (Simplified), a Traditional 頂級 is caught."""
    forget_default_words(db, owner.workspace)  # its own list, without the default terms
    db.add(
        SensitiveWord(
            workspace_id=owner.workspace_id, term="顶级", category="ads-law", severity="block"
        )
    )
    _rule(db, owner, [("sensitive_word", "ads-law")], [("flag", "")])
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "頂級好用")
    moderate_new(db, workspace_id=owner.workspace_id, items=[item], platform=FakePlatform())
    action = db.scalars(select(ModerationAction)).one()
    assert action.reasons == ["word:顶级"]


def test_reversal_restores_the_state_before_and_is_audited(db: Session, owner: Membership) -> None:
    """Given flag, priority and assign actions, undoing each restores the item; a hide
    cannot be undone and says so."""
    _rule(
        db,
        owner,
        [("link", "")],
        [("hide", ""), ("flag", ""), ("set_priority", "2"), ("assign", str(owner.user_id))],
    )
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "http://a.cn")
    moderate_new(db, workspace_id=owner.workspace_id, items=[item], platform=FakePlatform())
    db.commit()
    hide, flag, priority, assign = db.scalars(
        select(ModerationAction).order_by(ModerationAction.id)
    ).all()
    for action in (flag, priority, assign):
        reverse_action(db, membership=owner, action_id=action.id)
    db.commit()
    assert item.priority == 0
    assert item.assignee_id is None
    assert db.scalars(select(ItemTag)).all() == []
    assert {flag.state, priority.state, assign.state} == {ActionState.REVERSED}
    with pytest.raises(ConflictError, match="cannot undo"):
        reverse_action(db, membership=owner, action_id=hide.id)
    with pytest.raises(ConflictError, match="Only an applied action"):
        reverse_action(db, membership=owner, action_id=flag.id)
    reversals = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "inbox.moderation.reverse")
    ).all()
    assert len(reversals) == 3
    assert reversals[0].actor_id == owner.user_id


def test_rules_are_validated(db: Session, owner: Membership) -> None:
    """A rule without conditions, with an unknown action or a non-member assignee is refused."""
    with pytest.raises(InvalidRuleError, match="between 1 and"):
        create_rule(db, membership=owner, name="x", conditions=[], actions=[("flag", "")])
    with pytest.raises(InvalidRuleError, match="Unknown action"):
        create_rule(
            db, membership=owner, name="x", conditions=[("link", "")], actions=[("ban", "")]
        )
    with pytest.raises(InvalidRuleError, match="member who can reply"):
        create_rule(
            db, membership=owner, name="x", conditions=[("link", "")], actions=[("assign", "99999")]
        )


class _HidingConnector:
    capabilities = frozenset({Capability.HIDE})

    def __init__(self) -> None:
        self.calls: list[tuple[str, FetchedKind]] = []

    def hide(self, channel: ChannelContext, *, item_external_id: str, kind: FetchedKind) -> None:
        self.calls.append((item_external_id, kind))


def test_hide_goes_through_the_channel_connector(
    db: Session, owner: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the real platform actions, hide calls the channel connector's ``hide``."""
    connector = _HidingConnector()
    monkeypatch.setattr(platform_module, "connector_for", lambda channel: connector)
    context: Callable[[Channel], object] = lambda channel: object()  # noqa: E731
    monkeypatch.setattr(platform_module.replies, "default_context_for", lambda db: context)
    _rule(db, owner, [("abuse", "")], [("hide", "")])
    channel = make_channel(db, owner.workspace)
    item = make_item(db, channel, "滚蛋吧你")
    moderate_new(db, workspace_id=owner.workspace_id, items=[item])
    assert connector.calls == [(item.external_id, FetchedKind.COMMENT)]
    assert item.hidden_on_platform
    assert ActionKind.HIDE in {a.action for a in db.scalars(select(ModerationAction))}


def test_nothing_is_done_for_an_unknown_workspace(db: Session, owner: Membership) -> None:
    """moderate_new with no items or no workspace does nothing."""
    moderate_new(db, workspace_id=owner.workspace_id, items=[])
    assert db.scalars(select(ModerationAction)).all() == []
    assert isinstance(owner.user, User)
