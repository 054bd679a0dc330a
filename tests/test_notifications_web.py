"""In-app notifications: what the engine tells people shows up on their notifications page
and as a count in the top bar, in their language; each person reads and marks only their own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, User, Workspace
from guanxi.channels.models import Channel
from guanxi.core.settings import Settings
from guanxi.listening.alerts import service as listening_alerts
from guanxi.market import alerts as market_alerts
from guanxi.notifications import service as notify
from guanxi.notifications.models import Notification
from guanxi.notifications.views import notification_text
from guanxi.publishing import outcomes
from guanxi.publishing.models import Post, Variant, VariantState
from tests.conftest import csrf_token, sign_in

BELL_RE = re.compile(r'<a class="notification-bell[^"]*"[^>]*>\s*([^<]*?)\s*</a>')


@dataclass
class Team:
    """Workspace ``acme``: Olivia owns it, Mia manages, Eddie writes, Ann only reads."""

    db: Session
    app: FastAPI
    settings: Settings
    workspace: Workspace
    owner: User
    manager: User
    author: User
    analyst: User

    def failed_publish(self, *, title: str = "新品上市", error: str = "content refused") -> int:
        """Eddie's post fails on Brand Weibo through the engine's own path; its post id."""
        channel = Channel(
            workspace_id=self.workspace.id,
            connector="weibo",
            platform="weibo",
            external_id=uuid.uuid4().hex[:10],
            name="Brand Weibo",
        )
        self.db.add(channel)
        post = Post(workspace_id=self.workspace.id, title=title, created_by_id=self.author.id)
        self.db.add(post)
        self.db.flush()
        variant = Variant(
            workspace_id=self.workspace.id,
            post_id=post.id,
            channel_id=channel.id,
            text="普罗旺斯桃红葡萄酒今日上市",
            state=VariantState.PUBLISHING,
            idempotency_key=uuid.uuid4().hex,
        )
        self.db.add(variant)
        self.db.flush()
        outcomes.fail(self.db, variant, error, settings=self.settings)
        self.db.commit()
        return post.id

    def notes_of(self, user: User) -> list[Notification]:
        self.db.expire_all()
        query = select(Notification).where(Notification.user_id == user.id)
        return list(self.db.scalars(query.order_by(Notification.id)))


@pytest.fixture
def team(
    db: Session,
    app: FastAPI,
    settings: Settings,
    make_user: Callable[..., User],
    make_workspace: Callable[..., Workspace],
) -> Team:
    owner = make_user("olivia@acme.example", name="Olivia")
    manager = make_user("mia@acme.example", name="Mia")
    author = make_user("eddie@acme.example", name="Eddie")
    analyst = make_user("ann@acme.example", name="Ann")
    workspace = make_workspace(
        "acme",
        owner=owner,
        members={manager: Role.MANAGER, author: Role.EDITOR, analyst: Role.ANALYST},
    )
    return Team(db, app, settings, workspace, owner, manager, author, analyst)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Callable[[User], TestClient]]:
    """A separate signed-in client per person: ``browser(team.author)``."""
    clients: list[TestClient] = []

    def open_as(user: User) -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        sign_in(client, user.email)
        return client

    yield open_as
    for client in clients:
        client.__exit__(None, None, None)


def bell(page_html: str) -> str:
    """The top bar's notifications link text, as the user reads it."""
    match = BELL_RE.search(page_html)
    assert match, "the top bar has a notifications link"
    return match.group(1)


def test_a_failed_publish_notifies_the_author_and_the_managers_on_their_pages(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    """Given Eddie's post failed on Brand Weibo,
    when Eddie, Mia and Olivia open their notifications, each sees it with a link to the post;
    Ann, who only reads, was not told."""
    post_id = team.failed_publish()

    for person in (team.author, team.manager, team.owner):
        client = browser(person)
        page = client.get("/w/acme/notifications")
        assert page.status_code == 200
        assert "“新品上市” could not be published on Brand Weibo: content refused" in page.text
        assert f'href="/w/acme/posts/{post_id}"' in page.text
        assert bell(page.text) == "Notifications (1)"
        assert 'action="/w/acme/notifications/read-all"' in page.text

    page = browser(team.analyst).get("/w/acme/notifications")
    assert "could not be published" not in page.text
    assert "No notifications yet" in page.text
    assert bell(page.text) == "Notifications"


def test_the_notification_reads_in_each_persons_language(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    """Given Eddie reads guanxi in Chinese, the same failure reads in Chinese for him
    and in English for Olivia."""
    team.author.language = "zh_Hans"
    team.db.commit()
    team.failed_publish()

    chinese = browser(team.author).get("/w/acme/notifications").text
    assert "“新品上市”无法在Brand Weibo上发布：content refused" in chinese
    assert "could not be published" not in chinese

    english = browser(team.owner).get("/w/acme/notifications").text
    assert "“新品上市” could not be published on Brand Weibo: content refused" in english


def test_a_reason_given_as_a_message_is_translated_too(team: Team) -> None:
    """A post held after downtime names its reason in the reader's language."""
    (note,) = notify.notify(
        team.db,
        settings=team.settings,
        workspace_id=team.workspace.id,
        kind=outcomes.NEEDS_ATTENTION,
        recipients=[team.owner.id],
        params={"post": "新品上市", "channel": "Brand Weibo", "reason": outcomes.MISSED_REASON},
    )
    assert notification_text(note, "zh_Hans") == (
        "Brand Weibo上的“新品上市”需要您处理：guanxi 停止运行期间错过"
    )
    assert notification_text(note, "en") == (
        "“新品上市” on Brand Weibo needs your attention: missed while guanxi was down"
    )


def test_a_notification_whose_parameters_no_longer_fit_still_shows(team: Team) -> None:
    note = Notification(
        workspace_id=team.workspace.id,
        user_id=team.owner.id,
        kind=outcomes.PUBLISH_FAILED,
        message=notify.MESSAGES[outcomes.PUBLISH_FAILED],
        params={"post": "新品上市"},
    )
    assert notification_text(note, "en") == notify.MESSAGES[outcomes.PUBLISH_FAILED]


def test_newest_notifications_come_first_and_unread_ones_are_highlighted(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    team.failed_publish(title="第一篇")
    team.failed_publish(title="第二篇")
    page = browser(team.owner).get("/w/acme/notifications").text
    assert page.index("第二篇") < page.index("第一篇")
    assert page.count('class="unread"') == 2
    assert bell(page) == "Notifications (2)"


def test_marking_one_as_read(team: Team, browser: Callable[[User], TestClient]) -> None:
    """When Olivia marks the failure read, it is no longer highlighted and her count drops;
    Mia's copy stays unread."""
    team.failed_publish(title="第一篇")
    team.failed_publish(title="第二篇")
    first, second = team.notes_of(team.owner)
    client = browser(team.owner)

    response = client.post(
        f"/w/acme/notifications/{first.id}/read",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/w/acme/notifications"

    page = client.get("/w/acme/notifications").text
    assert f'class="read" id="notification-{first.id}"' in page
    assert f'class="unread" id="notification-{second.id}"' in page
    assert bell(page) == "Notifications (1)"
    assert [n.read_at is not None for n in team.notes_of(team.owner)] == [True, False]
    assert all(n.read_at is None for n in team.notes_of(team.manager))


def test_marking_all_as_read(team: Team, browser: Callable[[User], TestClient]) -> None:
    team.failed_publish(title="第一篇")
    team.failed_publish(title="第二篇")
    client = browser(team.owner)

    response = client.post(
        "/w/acme/notifications/read-all",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303

    page = client.get("/w/acme/notifications").text
    assert 'class="unread"' not in page
    assert "第一篇" in page  # still listed, only read
    assert "第二篇" in page
    assert bell(page) == "Notifications"
    assert 'action="/w/acme/notifications/read-all"' not in page
    assert all(n.read_at is not None for n in team.notes_of(team.owner))
    assert all(n.read_at is None for n in team.notes_of(team.manager))


def test_marking_without_the_form_token_changes_nothing(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    team.failed_publish()
    (note,) = team.notes_of(team.owner)
    client = browser(team.owner)
    assert client.post(f"/w/acme/notifications/{note.id}/read").status_code == 403
    assert client.post("/w/acme/notifications/read-all").status_code == 403
    assert team.notes_of(team.owner)[0].read_at is None


def test_someone_elses_notification_cannot_be_seen_or_marked(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    """Mia cannot mark Olivia's notification: it answers 404 and stays unread."""
    team.failed_publish()
    (olivias,) = team.notes_of(team.owner)
    client = browser(team.manager)
    response = client.post(
        f"/w/acme/notifications/{olivias.id}/read", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 404
    assert "no notification with this number" in response.text
    assert team.notes_of(team.owner)[0].read_at is None
    unknown = client.post(
        "/w/acme/notifications/999999/read", data={"csrf_token": csrf_token(client)}
    )
    assert unknown.status_code == 404


def test_another_workspaces_notifications_stay_in_that_workspace(
    team: Team,
    browser: Callable[[User], TestClient],
    make_user: Callable[..., User],
    make_workspace: Callable[..., Workspace],
) -> None:
    """Given Olivia also belongs to ``globex``, where a notification waits for her,
    acme's page and count do not show it and acme's address cannot mark it;
    a stranger to acme gets 404 for acme's page and badge."""
    other_owner = make_user("gus@globex.example", name="Gus")
    make_workspace("globex", owner=other_owner, members={team.owner: Role.MANAGER})
    globex = team.db.scalars(select(Workspace).where(Workspace.slug == "globex")).one()
    (note,) = notify.notify(
        team.db,
        settings=team.settings,
        workspace_id=globex.id,
        kind=outcomes.PUBLISH_FAILED,
        params={"post": "Globex launch", "channel": "Globex Weibo", "error": "refused"},
        recipients=[team.owner.id],
        link="/w/globex/posts/1",
    )
    team.db.commit()
    client = browser(team.owner)

    acme = client.get("/w/acme/notifications").text
    assert "Globex launch" not in acme
    assert bell(acme) == "Notifications"
    response = client.post(
        f"/w/acme/notifications/{note.id}/read", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 404
    client.post("/w/acme/notifications/read-all", data={"csrf_token": csrf_token(client)})
    assert team.notes_of(team.owner)[0].read_at is None

    globex_page = client.get("/w/globex/notifications").text
    assert "Globex launch" in globex_page
    assert bell(globex_page) == "Notifications (1)"

    stranger = browser(other_owner)
    assert stranger.get("/w/acme/notifications").status_code == 404
    assert stranger.get("/w/acme/notifications/badge").status_code == 404


def test_the_badge_fragment_shows_new_notifications_without_a_reload(
    team: Team, browser: Callable[[User], TestClient]
) -> None:
    """Every page polls the badge every 30 s; the badge counts what arrived since."""
    client = browser(team.owner)
    page = client.get("/w/acme/").text
    assert 'hx-get="/w/acme/notifications/badge"' in page
    assert 'hx-trigger="every 30s"' in page
    assert bell(page) == "Notifications"

    team.failed_publish()
    badge = client.get("/w/acme/notifications/badge", headers={"HX-Request": "true"})
    assert badge.status_code == 200
    assert badge.headers["cache-control"] == "no-store"
    assert "<html" not in badge.text  # a fragment, not a page
    assert bell(badge.text) == "Notifications (1)"
    assert 'hx-trigger="every 30s"' in badge.text  # it keeps polling after the swap


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, team: Team) -> None:
    response = client.get("/w/acme/notifications", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    poll = client.get("/w/acme/notifications/badge", headers={"HX-Request": "true"})
    assert poll.status_code == 401
    assert poll.headers["HX-Redirect"] == "/login"


def test_capabilities_register_their_kinds_of_notification_once() -> None:
    """Listening and market alerts add their kinds; a kind cannot change its message."""
    assert listening_alerts.VOLUME_SPIKE in notify.MESSAGES
    assert market_alerts.ENTERED_TOP in notify.MESSAGES
    notify.register_kinds({market_alerts.ENTERED_TOP: market_alerts.MESSAGES["market_entered_top"]})
    with pytest.raises(ValueError, match="already registered"):
        notify.register_kinds({outcomes.PUBLISH_FAILED: "something else"})
