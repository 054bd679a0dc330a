"""The inbox pages: list, thread, partials, settings pages, people and debates; isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.channels.models import Channel
from guanxi.inbox.items.models import InboxItem, ItemStatus
from guanxi.inbox.people.models import Person
from guanxi.inbox.people.service import link_authors
from guanxi.inbox.triage.models import ModerationAction
from guanxi.inbox.triage.moderation import moderate_new
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.inbox_ui_support import FakePlatform, make_channel, make_item


def _seed(db: Session, membership: Membership) -> list[InboxItem]:
    channel = make_channel(db, membership.workspace)
    items = [
        make_item(db, channel, "你们的客服太慢了，我要投诉", author="u1", name="老李"),
        make_item(
            db, channel, "新品很好看！#春季新品#", author="u2", name="小美", followers=52_000
        ),
    ]
    moderate_new(db, workspace_id=membership.workspace_id, items=items, platform=FakePlatform())
    db.commit()
    return items


def test_the_inbox_lists_items_with_filters_and_search(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given two items, the list shows both, a search finds one, a filter narrows."""
    client, membership = signed_in
    _seed(db, membership)
    page = client.get("/w/acme/inbox")
    assert page.status_code == 200
    assert "客服太慢" in page.text
    assert "新品很好看" in page.text
    assert 'hx-trigger="every 5s"' in page.text
    found = client.get("/w/acme/inbox", params={"q": "客服"})
    assert "客服太慢" in found.text
    assert "新品很好看" not in found.text
    negative = client.get("/w/acme/inbox", params={"sentiment": "negative"})
    assert "客服太慢" in negative.text
    assert "新品很好看" not in negative.text
    bad = client.get("/w/acme/inbox", params={"status": "closed"})
    assert bad.status_code == 400
    assert "choose open, pending or done" in bad.text


def test_new_items_arrive_through_the_poll_partial_with_an_unread_count(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given the list was opened, when an item arrives, the poll partial carries it and the
    unread count."""
    client, membership = signed_in
    complaint, praise = _seed(db, membership)
    page = client.get("/w/acme/inbox")
    # Each row once: the poll region in the header starts empty.
    assert page.text.count("客服太慢") == 1
    assert "· Sina Weibo" in page.text  # the platform's name, not its slug
    assert "hx-swap-oob" not in page.text
    quiet = client.get("/w/acme/inbox/poll", params={"after": praise.id})
    assert "hx-swap-oob" not in quiet.text
    assert ">0<" in quiet.text.replace(" ", "")
    channel_id = complaint.channel_id
    channel = db.get(Channel, channel_id)
    assert channel is not None
    late = make_item(db, channel, "刚买的，怎么退货？", author="u3")
    moderate_new(db, workspace_id=membership.workspace_id, items=[late], platform=FakePlatform())
    db.commit()
    fresh = client.get("/w/acme/inbox/poll", params={"after": praise.id})
    assert "怎么退货" in fresh.text
    assert 'hx-swap-oob="afterbegin:#inbox-rows"' in fresh.text
    assert f"after={late.id}" in fresh.text
    assert "1 new item" in fresh.text


def test_bulk_actions_set_status_assign_and_tag(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given two selected items, bulk done, assign and tag apply to both."""
    client, membership = signed_in
    items = _seed(db, membership)
    token = csrf_token(client)
    ids = [str(item.id) for item in items]
    for action, value in (("done", ""), ("assign", str(membership.user_id)), ("tag", "vip")):
        response = client.post(
            "/w/acme/inbox/bulk",
            data={"item": ids, "action": action, "value": value, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
    db.expire_all()
    stored = db.scalars(select(InboxItem).order_by(InboxItem.id)).all()
    assert {item.status for item in stored} == {ItemStatus.DONE}
    assert {item.assignee_id for item in stored} == {membership.user_id}
    assert all(item.resolved_at is not None for item in stored)
    tagged = client.get("/w/acme/inbox", params={"tag": "vip", "status": "all"})
    assert "客服太慢" in tagged.text
    assert "新品很好看" in tagged.text


def test_the_thread_page_shows_the_post_thread_and_takes_notes(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given an item, its page shows the thread and the work panel; a note is kept, an
    empty one is refused with a message."""
    client, membership = signed_in
    complaint, _praise = _seed(db, membership)
    page = client.get(f"/w/acme/inbox/items/{complaint.id}")
    assert page.status_code == 200
    assert "新品很好看" in page.text
    assert "First response due" in page.text
    token = csrf_token(client)
    empty = client.post(
        f"/w/acme/inbox/items/{complaint.id}/note", data={"text": " ", "csrf_token": token}
    )
    assert empty.status_code == 400
    assert "Write the note first." in empty.text
    client.post(
        f"/w/acme/inbox/items/{complaint.id}/note",
        data={"text": "老客户，优先处理", "csrf_token": token},
    )
    assert "老客户，优先处理" in client.get(f"/w/acme/inbox/items/{complaint.id}").text


def test_a_reply_on_a_platform_without_reply_api_is_kept_and_can_be_recorded(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a manual channel, "record it" stores the reply as sent by hand."""
    client, membership = signed_in
    complaint, _ = _seed(db, membership)
    token = csrf_token(client)
    response = client.post(
        f"/w/acme/inbox/items/{complaint.id}/reply",
        data={"text": "您好，已为您加急处理", "manual": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/w/acme/inbox/items/{complaint.id}")
    assert "已为您加急处理" in page.text
    assert "Sent" in page.text


def test_settings_people_and_debate_pages_render(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given seeded items, every inbox sub-page answers and shows its data."""
    client, membership = signed_in
    _seed(db, membership)
    token = csrf_token(client)
    for path in ("rules", "sla", "saved-replies", "report", "people", "debates"):
        assert client.get(f"/w/acme/inbox/{path}").status_code == 200, path
    person = db.scalars(select(Person).where(Person.name == "小美")).one()
    profile = client.get(f"/w/acme/inbox/people/{person.id}")
    assert "52000 followers" in profile.text
    assert "Influence" in profile.text
    created = client.post(
        "/w/acme/inbox/debates",
        data={"hashtag": "#春季新品#", "csrf_token": token},
        follow_redirects=True,
    )
    assert created.status_code == 200
    assert "unique participants" in created.text
    assert "data-chart-option" in created.text
    csv = client.get("/w/acme/inbox/people/kols.csv")
    assert csv.status_code == 200
    assert "小美" in csv.text


def test_another_workspace_gets_404(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given an item of acme, a member of another workspace cannot see or change it."""
    client, membership = signed_in
    complaint, _ = _seed(db, membership)
    stranger = make_user("stranger@other.example")
    make_workspace("other", owner=stranger)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    sign_in(client, stranger.email)
    assert client.get(f"/w/other/inbox/items/{complaint.id}").status_code == 404
    assert client.get("/w/acme/inbox").status_code == 404
    assert "客服太慢" not in client.get("/w/other/inbox", params={"q": "客服"}).text
    token = csrf_token(client)
    response = client.post(
        "/w/other/inbox/bulk",
        data={"item": [str(complaint.id)], "action": "done", "csrf_token": token},
    )
    assert response.status_code == 404
    db.expire_all()
    assert db.get(InboxItem, complaint.id).status == ItemStatus.OPEN  # type: ignore[union-attr]


def test_rules_sla_and_saved_replies_are_edited_through_their_forms(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """A moderation rule made in the form acts on the next item and can be undone from the
    item's page; bad SLA input comes back explained with what was typed; a saved reply
    appears in the reply box with its variables filled."""
    client, membership = signed_in
    token = csrf_token(client)
    made = client.post(
        "/w/acme/inbox/rules",
        data={
            "name": "广告",
            "condition": ["advertising"],
            "rule_action": ["flag"],
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert made.status_code == 200
    assert "广告" in made.text
    refused = client.post("/w/acme/inbox/rules", data={"name": "空", "csrf_token": token})
    assert refused.status_code == 400
    assert "between 1 and" in refused.text
    complaint, _ = _seed(db, membership)
    channel = db.get(Channel, complaint.channel_id)
    assert channel is not None
    spam = make_item(db, channel, "加微信领红包", author="spam-1")
    moderate_new(db, workspace_id=membership.workspace_id, items=[spam], platform=FakePlatform())
    db.commit()
    action = db.scalars(select(ModerationAction)).one()
    page = client.get(f"/w/acme/inbox/items/{spam.id}")
    assert "Advertising phrase “加微信”" in page.text
    undone = client.post(
        f"/w/acme/inbox/actions/{action.id}/reverse",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert undone.status_code == 200
    assert "Undone" in undone.text
    bad = client.post(
        "/w/acme/inbox/sla",
        data={
            "first_response": "120",
            "resolution": "30",
            "day_start": "09:00",
            "day_end": "18:00",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 400
    assert "must not be shorter" in bad.text
    assert 'value="120"' in bad.text
    client.post(
        "/w/acme/inbox/saved-replies",
        data={"title": "感谢", "language": "zh", "text": "{name}，谢谢！", "csrf_token": token},
    )
    thread = client.get(f"/w/acme/inbox/items/{complaint.id}")
    assert 'data-text="老李，谢谢！"' in thread.text


def test_bulk_actions_say_what_they_did_and_done_items_leave_the_default_list(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given two items marked done in bulk, the list says "2 items marked done." and no
    longer shows them; the "done" filter does, with "Reopen" among the bulk actions."""
    client, membership = signed_in
    items = _seed(db, membership)
    response = client.post(
        "/w/acme/inbox/bulk",
        data={
            "item": [str(item.id) for item in items],
            "action": "done",
            "next": "/w/acme/inbox?done=open&changed=9",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 200
    assert "2 items marked done." in response.text
    assert "9 items" not in response.text
    assert "客服太慢" not in response.text
    assert 'value="open"' not in response.text.split('id="bulk-action"')[1].split("</select>")[0]
    done = client.get("/w/acme/inbox", params={"status": "done"})
    assert "客服太慢" in done.text
    assert 'value="open"' in done.text.split('id="bulk-action"')[1].split("</select>")[0]


def test_the_thread_comes_alone_for_the_lists_right_hand_pane(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Asked by htmx for the pane, the thread comes without the page around it, with its
    author's card; the same address opened as a page is the whole page."""
    client, membership = signed_in
    item = _seed(db, membership)[0]
    pane = client.get(
        f"/w/acme/inbox/items/{item.id}", params={"pane": "1"}, headers={"HX-Request": "true"}
    )
    assert pane.status_code == 200
    assert "<html" not in pane.text
    assert 'id="pane-full"' in pane.text
    assert "客服太慢" in pane.text
    assert 'id="person-card"' in pane.text
    page = client.get(f"/w/acme/inbox/items/{item.id}")
    assert "<html" in page.text
    assert 'id="pane-full"' not in page.text


def test_nameless_fans_are_named_in_the_pages_language(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a WeChat follower without a nickname, the Chinese inbox, thread and people
    pages call them "微信粉丝 ·Q7kz" (never the raw OpenID, never in English)."""
    client, membership = signed_in
    open_id = "oWx1a2b3c4d5e6f7g8h9Q7kz"
    channel = make_channel(db, membership.workspace, platform="wechat")
    item = make_item(db, channel, "请问怎么买", author=open_id, name="", followers=None)
    link_authors(db, workspace_id=membership.workspace_id, items=[item])
    db.commit()
    chinese = {"accept-language": "zh-CN"}
    for address in ("/w/acme/inbox", f"/w/acme/inbox/items/{item.id}", "/w/acme/inbox/people"):
        page = client.get(address, headers=chinese)
        assert "微信粉丝 ·Q7kz" in page.text, address
        assert "WeChat fan" not in page.text, address
        assert open_id not in page.text, address
