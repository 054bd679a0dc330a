"""Two requests of the same moment never lose one to an error page.

Each test runs two service calls at once, in two threads with their own sessions, and holds
their first INSERT into the contested table until both have read (``race``): the case where
both find no row and both write one. The slower call must quietly use the row the faster
one wrote, or, where a second row is refused, say so as a person would be told.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role, User, UserCreate, Workspace, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.checks.models import SensitiveWord
from guanxi.checks.wordlist import add_word, ensure_default_words, import_words, parse_entry
from guanxi.core.errors import UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.debates import service as debates
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.intake.service import _cursor
from guanxi.inbox.items import service
from guanxi.inbox.items.models import InboxItem, ItemKind, ItemTag, ReadMark, Tag
from guanxi.inbox.people import service as people
from guanxi.inbox.people.models import Person, PersonIdentity, PersonTag
from guanxi.inbox.replies import saved
from guanxi.inbox.replies import service as replies
from guanxi.inbox.replies.models import InboxSettings
from guanxi.inbox.triage import sla
from guanxi.inbox.triage.models import SlaPolicy
from guanxi.listening.alerts.models import Alert, AlertRule
from guanxi.listening.alerts.service import RuleForm, check_rule, save_rule
from guanxi.listening.intake import service as listening
from guanxi.listening.intake.models import ListeningSource
from guanxi.listening.mentions import service as mention_service
from guanxi.listening.mentions.models import TrackedAccount
from guanxi.listening.topics.models import DailyRollup
from guanxi.listening.topics.service import TopicForm, create_topic, match_mentions, refresh_rollup
from guanxi.market import service as market
from guanxi.market.fetchers import ParsedChart, RankedApp
from guanxi.market.models import (
    Chart,
    ChartDataset,
    ChartEntry,
    ChartSnapshot,
    Store,
    TrackedApp,
)
from guanxi.publishing.models import PublishingPolicy
from guanxi.publishing.policy import get_policy
from tests.conftest import UserFactory, WorkspaceFactory, forget_default_words
from tests.inbox_ui_support import make_channel, make_item
from tests.listening_topics_support import add_mention
from tests.race_support import race, writes_meet

Factory = sessionmaker[Session]
ALERT_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The owner of workspace acme, committed."""
    return make_workspace("acme", owner=make_user("owner@acme.example")).memberships[0]


def _count(db: Session, entity: type, *where: object) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(entity).where(*where)) or 0)  # type: ignore[arg-type]


def _member(session: Session, membership: Membership) -> Membership:
    return session.get_one(Membership, membership.id)


def _workspace(session: Session, membership: Membership) -> Workspace:
    return session.get_one(Workspace, membership.workspace_id)


def _refused(session_call: object) -> object:
    """Call ``session_call`` and hand back the UserError it raised (the refusal a person
    sees), or its result."""
    try:
        return session_call()  # type: ignore[operator]
    except UserError as error:
        return error


# --- One row per key, shared by both ---------------------------------------------------


def test_the_inbox_and_its_live_poll_mark_it_read_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Given a member's first look at the inbox, when the page and its poll both mark the
    list read, then both succeed and the member has one read mark at the newest item."""
    channel = make_channel(db, owner.workspace)
    newest = make_item(db, channel, "你好")
    db.commit()
    uid, wid = owner.user_id, owner.workspace_id

    def look(session: Session) -> int:
        return service.mark_seen(session, user_id=uid, workspace_id=wid)

    assert race(session_factory, "inbox_read_marks", look, look) == [newest.id, newest.id]
    assert _count(db, ReadMark) == 1
    assert service.unread_count(db, user_id=uid, workspace_id=wid) == 0


def test_two_tabs_open_the_inbox_at_once(
    engine: Engine, signed_in: tuple[TestClient, Membership]
) -> None:
    """The issue as it was seen: a member's two tabs load the inbox for the first time at
    the same moment; both pages load (no 500) and the inbox has one read mark."""
    client, _membership = signed_in
    statuses: list[int] = []

    def load() -> None:
        statuses.append(client.get("/w/acme/inbox").status_code)

    with writes_meet(engine, "INSERT INTO inbox_read_marks", 2):
        tabs = [threading.Thread(target=load) for _ in range(2)]
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.join(30)
    assert statuses == [200, 200]
    with Session(engine) as db:
        assert _count(db, ReadMark) == 1


def test_a_read_mark_never_moves_back(db: Session, owner: Membership) -> None:
    """A poll that counted fewer items than the page does not undo the page's mark."""
    channel = make_channel(db, owner.workspace)
    make_item(db, channel, "一")
    service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    newest = make_item(db, channel, "二")
    service.mark_seen(db, user_id=owner.user_id, workspace_id=owner.workspace_id)
    mark = db.get_one(ReadMark, (owner.user_id, owner.workspace_id), populate_existing=True)
    assert mark.seen_item_id == newest.id


def test_two_members_create_the_same_tag_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Both get the one tag "VIP"."""
    wid = owner.workspace_id

    def tag(session: Session) -> int:
        return service.ensure_tag(session, workspace_id=wid, name="VIP").id

    first, second = race(session_factory, "inbox_tags", tag, tag)
    assert first == second
    assert _count(db, Tag) == 1


def test_two_members_tag_the_same_item_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """The item carries the tag once; both members' requests succeed."""
    item = make_item(db, make_channel(db, owner.workspace), "退款")
    service.ensure_tag(db, workspace_id=owner.workspace_id, name="VIP")
    db.commit()

    def tag(session: Session) -> int:
        return service.tag_items(
            session, membership=_member(session, owner), item_ids=[item.id], name="VIP"
        )

    assert race(session_factory, "inbox_item_tags", tag, tag) == [1, 1]
    assert _count(db, ItemTag) == 1


def test_two_members_tag_the_same_person_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """The person carries the tag once."""
    person = Person(workspace_id=owner.workspace_id, name="小红")
    db.add(person)
    service.ensure_tag(db, workspace_id=owner.workspace_id, name="KOL")
    db.commit()

    def tag(session: Session) -> None:
        people.tag_person(
            session, membership=_member(session, owner), person_id=person.id, name="KOL"
        )

    race(session_factory, "inbox_person_tags", tag, tag)
    assert _count(db, PersonTag) == 1


def test_two_saves_turn_reply_approval_on_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """The workspace has one inbox settings row, with approval on."""
    wid = owner.workspace_id

    def turn_on(session: Session) -> None:
        replies.update_reply_approval(
            session,
            membership=_member(session, owner),
            required=True,
            approver_role=Role.MANAGER,
        )

    race(session_factory, "inbox_settings", turn_on, turn_on)
    assert _count(db, InboxSettings) == 1
    assert db.get_one(InboxSettings, wid, populate_existing=True).reply_approval is True


def test_two_managers_save_response_targets_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One SLA policy row; the targets are one of the two saved (here both the same)."""
    wid = owner.workspace_id

    def save(session: Session) -> None:
        sla.save_targets(
            session,
            workspace_id=wid,
            first_response_minutes=30,
            resolution_minutes=240,
            business_hours_only=True,
            day_start_minute=540,
            day_end_minute=1080,
            business_days=[0, 1, 2, 3, 4],
            crisis_words=["投诉"],
        )

    race(session_factory, "inbox_sla_policies", save, save)
    assert _count(db, SlaPolicy) == 1
    policy = db.get_one(SlaPolicy, wid, populate_existing=True)
    assert (policy.first_response_minutes, policy.crisis_words) == (30, ["投诉"])


def test_two_syncs_of_a_channel_start_its_cursor_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """A channel's first two syncs (the schedule and a click on "sync now") share one cursor."""
    channel = make_channel(db, owner.workspace)
    db.commit()

    def start(session: Session) -> None:
        _cursor(session, channel.id, ItemKind.COMMENT)
        session.flush()

    race(session_factory, "inbox_sync_cursors", start, start)
    assert _count(db, SyncCursor) == 1


def test_two_ingests_meet_the_same_new_author_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two channels' pages with a comment of the same new author, stored at once, give
    the author one identity and one person (no person left without an identity)."""
    channels = [make_channel(db, owner.workspace), make_channel(db, owner.workspace)]
    db.commit()
    wid = owner.workspace_id

    def link(channel_id: int) -> Callable[[Session], object]:
        def call(session: Session) -> object:
            item = InboxItem(
                platform="weibo",
                channel_id=channel_id,
                author_external_id="fan-7",
                author_name="小李",
                author_followers=10,
                author_verified_type=-1,
                author_url="",
            )
            return people.link_authors(session, workspace_id=wid, items=[item])

        return call

    race(session_factory, "inbox_people", link(channels[0].id), link(channels[1].id))
    assert _count(db, PersonIdentity) == 1
    assert _count(db, Person) == 1


def test_two_members_link_the_same_post_to_a_debate_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """The debate lists the post once; both get the link."""
    debate = debates.create_debate(db, membership=owner, hashtag="#新品发布#")
    db.commit()

    def link(session: Session) -> int:
        return debates.link_post(
            session,
            membership=_member(session, owner),
            debate_id=debate.id,
            post_external_id="post-9",
        ).id

    first, second = race(session_factory, "inbox_debate_posts", link, link)
    assert first == second


def test_the_publishing_policy_is_created_once_on_two_first_reads(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two pages that read the policy first create it once, both with the defaults."""

    def read(session: Session) -> int:
        return get_policy(session, workspace=_workspace(session, owner)).approval_steps

    first, second = race(session_factory, "publishing_policies", read, read)
    assert first == second
    assert _count(db, PublishingPolicy) == 1


def test_the_default_word_list_is_seeded_once_on_two_first_checks(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two seeds at once of a workspace that never had the default list (one created before
    new workspaces got it) add it once: one of them says it seeded it, and each term is
    listed once."""
    forget_default_words(db, owner.workspace)

    def seed(session: Session) -> bool:
        return ensure_default_words(session, workspace=_workspace(session, owner))

    assert sorted(race(session_factory, "sensitive_words", seed, seed)) == [False, True]
    terms = db.scalars(select(SensitiveWord.term)).all()
    assert terms
    assert len(terms) == len(set(terms))


def test_two_members_list_the_same_word_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """The term is listed once, with the severity of the later request."""
    ensure_default_words(db, workspace=owner.workspace)
    db.commit()

    def add(session: Session) -> str:
        entry = parse_entry("竞品名", "brand", "block")
        return add_word(session, membership=_member(session, owner), entry=entry).term

    assert race(session_factory, "sensitive_words", add, add) == ["竞品名", "竞品名"]
    assert _count(db, SensitiveWord, SensitiveWord.term == "竞品名") == 1


def test_two_imports_of_one_word_list_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two members import the same file at once: each term is listed once; the later import
    finds them listed. (The later one waits for the earlier: the test lets it go on alone
    after a second.)"""
    ensure_default_words(db, workspace=owner.workspace)
    db.commit()
    before = _count(db, SensitiveWord)

    def load(session: Session) -> int:
        content = "竞品甲,brand,block\n竞品乙,brand,warn\n".encode()
        return import_words(session, membership=_member(session, owner), content=content).added

    added = race(session_factory, "sensitive_words", load, load, serialized_after=1.0)
    assert sorted(added) == [0, 2]
    assert _count(db, SensitiveWord) == before + 2


def test_the_same_account_connected_twice_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two connect flows of the same account (two tabs) leave one channel, connected."""
    box = SecretBox("test-secret-key-that-is-long-enough-0123456789")

    def connect(session: Session) -> int:
        return create_channel(
            session,
            workspace=_workspace(session, owner),
            connector="weibo",
            platform="weibo",
            external_id="brand-1",
            name="品牌",
            credentials={"uid": "1"},
            box=box,
            actor=None,
        ).id

    first, second = race(session_factory, "channels", connect, connect)
    assert first == second
    assert _count(db, Channel) == 1


def test_two_imports_name_the_same_new_source_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two files imported under a new source name create that source once."""
    wid = owner.workspace_id

    def name(session: Session) -> int:
        return listening.source_named(
            session, workspace_id=wid, name="crawler", file_format="csv"
        ).id

    first, second = race(session_factory, "listening_sources", name, name)
    assert first == second
    assert _count(db, ListeningSource) == 1


def test_the_same_official_account_tracked_twice_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One tracked account, the later relation kept."""
    wid = owner.workspace_id

    def track(session: Session) -> int:
        return mention_service.track_account(
            session,
            workspace_id=wid,
            platform="weibo",
            external_id="brand",
            name="Brand",
            relation="competitor",
        ).id

    first, second = race(session_factory, "listening_tracked_accounts", track, track)
    assert first == second
    assert _count(db, TrackedAccount) == 1


def test_two_imports_create_the_same_dataset_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two chart imports into a new dataset name create one dataset (workspace and public)."""

    def create(workspace_owned: bool) -> object:
        def call(session: Session) -> int:
            workspace = _workspace(session, owner) if workspace_owned else None
            return market.find_or_create_dataset(
                session, workspace=workspace, name="Charts", source="import"
            ).id

        return call

    for owned in (True, False):
        first, second = race(session_factory, "market_datasets", create(owned), create(owned))  # type: ignore[arg-type]
        assert first == second
    assert _count(db, ChartDataset) == 2


def _chart(day: date) -> ParsedChart:
    return ParsedChart(
        store=Store.APPLE,
        country="CN",
        chart=Chart.TOP_FREE,
        category="",
        day=day,
        entries=(RankedApp(rank=1, app_key="com.tencent.mm", app_name="WeChat"),),
    )


def test_two_fetches_store_the_same_chart_of_a_day_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One snapshot of the day, with its ranks; or its failure noted once."""
    dataset = market.find_or_create_dataset(db, workspace=None, name="Public", source="fetch")
    db.commit()

    def store(session: Session) -> int:
        stored = session.get_one(ChartDataset, dataset.id)
        return market.record_chart(
            session, dataset=stored, chart=_chart(date(2026, 1, 5))
        ).snapshot.id

    def fail(session: Session) -> int:
        stored = session.get_one(ChartDataset, dataset.id)
        return market.record_failure(
            session,
            dataset=stored,
            store=Store.APPLE,
            country="CN",
            chart=Chart.TOP_FREE,
            category="",
            day=date(2026, 1, 6),
            error="timeout",
        ).id

    first, second = race(session_factory, "market_snapshots", store, store)
    assert first == second
    first, second = race(session_factory, "market_snapshots", fail, fail)
    assert first == second
    assert _count(db, ChartSnapshot) == 2
    assert db.get_one(ChartSnapshot, first, populate_existing=True).attempts == 2


def test_two_rollup_refreshes_at_once_count_every_mention_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two refreshes of a workspace's daily rollup (an import's end and the schedule) leave
    the counts one refresh gives, not twice them.

    The second refresh waits for the first (a lock), so the two cannot both reach the
    DELETE: the test lets a refresh go on alone after waiting a second for the other.
    """
    wid = owner.workspace_id
    create_topic(db, workspace_id=wid, form=TopicForm(name="品牌", query="星巴克"))
    add_mention(db, workspace_id=wid, text="星巴克的拿铁")
    add_mention(db, workspace_id=wid, text="瑞幸")
    refresh_rollup(db, workspace_id=wid)
    db.commit()
    once = _count(db, DailyRollup)
    assert once > 0

    def refresh(session: Session) -> int:
        return refresh_rollup(session, workspace_id=wid)

    race(
        session_factory,
        "listening_daily_rollups",
        refresh,
        refresh,
        write="DELETE FROM",
        serialized_after=1.0,
    )
    assert _count(db, DailyRollup) == once


def test_two_imports_of_the_same_charts_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """Two imports of one file into a dataset store its chart once, with its ranks once:
    the later one replaces what the earlier stored, as an import of known charts does."""
    dataset = market.find_or_create_dataset(db, workspace=None, name="Public", source="csv")
    db.commit()

    def load(session: Session) -> int:
        stored = session.get_one(ChartDataset, dataset.id)
        return market.import_charts(
            session, dataset=stored, charts=[_chart(date(2026, 1, 7))]
        ).replaced

    assert sorted(race(session_factory, "market_snapshots", load, load)) == [0, 1]
    assert _count(db, ChartSnapshot) == 1
    assert _count(db, ChartEntry) == 1


def test_two_checks_of_an_alert_rule_at_once_fire_one_alert(
    db: Session, session_factory: Factory, owner: Membership, settings: Settings
) -> None:
    """The schedule and an import's end check a rule during a spike at once: one alert
    (and one notification), not two."""
    wid = owner.workspace_id
    topic = create_topic(db, workspace_id=wid, form=TopicForm(name="食品", query="食品安全"))
    quiet = [ALERT_NOW - timedelta(days=day) for day in range(1, 8)]
    spike = [ALERT_NOW - timedelta(minutes=50 - i) for i in range(30)]
    mentions = [
        add_mention(db, workspace_id=wid, text=text, match=False, posted_at=posted_at)
        for text, times in (("关注食品安全", quiet), ("食品安全出事了", spike))
        for posted_at in times
    ]
    match_mentions(db, workspace_id=wid, mentions=mentions)
    form = RuleForm(topic_id=topic.id, notify_email=False, min_mentions=10)  # type: ignore[call-arg]
    rule_id = save_rule(db, workspace_id=wid, form=form).id
    db.commit()

    def check(session: Session) -> bool:
        rule = session.get_one(AlertRule, rule_id)
        return check_rule(session, settings=settings, rule=rule, now=ALERT_NOW) is not None

    assert sorted(race(session_factory, "listening_alert_rules", check, check, write="UPDATE")) == [
        False,
        True,
    ]
    assert _count(db, Alert) == 1


# --- One row per key, the second request refused with a message ------------------------


def _one_refused(results: list[object], message: str) -> None:
    refusals = [r for r in results if isinstance(r, UserError)]
    assert len(refusals) == 1, results
    assert message in str(refusals[0].message)


def test_two_sign_ups_with_one_address_at_once(db: Session, session_factory: Factory) -> None:
    """One account is created; the other sign-up is told the address is taken."""

    def sign_up(session: Session) -> object:
        data = UserCreate(email="a@example.com", name="A", password="correct horse battery")
        return _refused(lambda: accounts.create_user(session, data=data))

    _one_refused(race(session_factory, "users", sign_up, sign_up), "already exists")
    assert _count(db, User) == 1


def test_two_workspaces_with_one_address_at_once(
    db: Session, session_factory: Factory, make_user: UserFactory
) -> None:
    """One workspace is created; the other request is told the address is taken."""
    user = make_user("a@example.com")

    def create(session: Session) -> object:
        data = WorkspaceCreate(slug="acme", name="Acme")
        return _refused(
            lambda: accounts.create_workspace(
                session, data=data, owner=session.get_one(User, user.id)
            )
        )

    _one_refused(race(session_factory, "workspaces", create, create), "is taken")
    assert _count(db, Workspace) == 1


def test_the_same_person_added_to_a_workspace_twice_at_once(
    db: Session, session_factory: Factory, owner: Membership, make_user: UserFactory
) -> None:
    """One membership, with the role asked."""
    anna = make_user("anna@example.com")

    def add(session: Session) -> int:
        return accounts.add_member(
            session,
            workspace=_workspace(session, owner),
            user=session.get_one(User, anna.id),
            role=Role.EDITOR,
            actor=None,
        ).id

    first, second = race(session_factory, "memberships", add, add)
    assert first == second
    assert _count(db, Membership, Membership.user_id == anna.id) == 1


def test_two_saved_replies_with_one_title_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One is saved; the other is told to choose another title."""

    def save(session: Session) -> object:
        return _refused(
            lambda: saved.save_saved_reply(
                session,
                membership=_member(session, owner),
                title="感谢",
                language="zh",
                text="谢谢{name}！",
            )
        )

    _one_refused(race(session_factory, "inbox_saved_replies", save, save), "choose another title")


def test_two_debates_on_one_topic_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One debate; the other request is told the topic is followed."""

    def follow(session: Session) -> object:
        return _refused(
            lambda: debates.create_debate(
                session, membership=_member(session, owner), hashtag="#新品#"
            )
        )

    _one_refused(race(session_factory, "inbox_debates", follow, follow), "followed already")


def test_two_topics_with_one_name_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One topic; the other request is told to pick another name."""
    wid = owner.workspace_id

    def create(session: Session) -> object:
        form = TopicForm(name="品牌", query="品牌")
        return _refused(lambda: create_topic(session, workspace_id=wid, form=form))

    _one_refused(race(session_factory, "listening_topic_queries", create, create), "Pick another")


def test_the_same_app_tracked_twice_at_once(
    db: Session, session_factory: Factory, owner: Membership
) -> None:
    """One tracked app; the other request is told it is tracked already."""

    def track(session: Session) -> object:
        return _refused(
            lambda: market.track_app(
                session,
                workspace=_workspace(session, owner),
                app_key="com.tencent.mm",
                name="WeChat",
            )
        )

    _one_refused(race(session_factory, "market_tracked_apps", track, track), "already tracked")
    assert _count(db, TrackedApp) == 1
