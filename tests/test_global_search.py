"""Global search: one box finds posts, campaigns, inbox items, people, topics, mentions,
tracked links and platforms of the workspace, in Chinese or English, with % and _ taken
literally, bounded counts, only what the member may open, and a dropdown while typing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, Workspace
from guanxi.core.search import COUNT_CAP, QUERY_MAX_LENGTH, escape_like
from guanxi.inbox.items.search import index_items
from guanxi.inbox.people.models import Person
from guanxi.listening.mentions.models import Mention
from guanxi.listening.topics.models import TopicQuery
from guanxi.publishing.models import Campaign, Post
from guanxi.shell.search import run_search
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.inbox_ui_support import make_channel, make_item


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory, db: Session) -> Workspace:
    """Workspace acme (owner, editor Li, analyst Ana) with a little of everything about a
    Bordeaux wine, and workspace other with a post that must never show."""
    owner = make_user("owner@acme.example", name="Owner")
    li = make_user("li@acme.example", name="Li")
    ana = make_user("ana@acme.example", name="Ana")
    workspace = make_workspace("acme", owner=owner, members={li: Role.EDITOR, ana: Role.ANALYST})
    other = make_workspace("other", owner=make_user("x@other.example"))
    db.add_all(
        [
            Post(workspace_id=workspace.id, title="中秋礼盒", body="波尔多红酒配月饼，送礼首选"),
            Post(workspace_id=workspace.id, title="Rosé launch", body="100% Grenache, 50_50 blend"),
            Post(workspace_id=other.id, title="波尔多 elsewhere", body="not ours"),
            Campaign(workspace_id=workspace.id, name="中秋波尔多", description=""),
            Person(workspace_id=workspace.id, name="波尔多爱好者"),
            TopicQuery(workspace_id=workspace.id, name="波尔多", query="波尔多 OR Bordeaux"),
            Mention(
                workspace_id=workspace.id,
                platform="weibo",
                external_id="m1",
                text="今天喝了一瓶波尔多，很好喝",
                posted_at=datetime(2026, 12, 1, tzinfo=UTC),
            ),
        ]
    )
    item = make_item(db, make_channel(db, workspace), "请问波尔多什么时候发货？")
    index_items(db, items=[item])
    db.commit()
    return workspace


def keys(page: str) -> set[str]:
    return {
        key
        for key in ("posts", "campaigns", "inbox", "people", "topics", "mentions", "catalog")
        if f'id="search-{key}"' in page
    }


def test_chinese_text_is_found_in_every_section(client: TestClient, acme: Workspace) -> None:
    """When the owner searches 波尔多, each kind of thing that holds it has a section with
    its count and links, and the other workspace's post is not among them."""
    sign_in(client, "owner@acme.example")

    page = client.get("/w/acme/search", params={"q": "波尔多"}).text

    assert keys(page) == {"posts", "campaigns", "inbox", "people", "topics", "mentions"}
    assert "中秋礼盒" in page
    assert "elsewhere" not in page
    assert "/w/acme/inbox/items/" in page
    assert "/w/acme/listen/mentions/" in page


def test_an_analyst_sees_no_topic_forms_and_a_stranger_sees_nothing(
    client: TestClient, acme: Workspace, make_user: UserFactory
) -> None:
    """Topics open as the form that changes them: an analyst, who may not, is not shown
    them; someone outside the workspace gets a 404."""
    sign_in(client, "ana@acme.example")
    page = client.get("/w/acme/search", params={"q": "波尔多"}).text
    assert "topics" not in keys(page)
    assert "posts" in keys(page)

    make_user("stranger@else.example")
    sign_in(client, "stranger@else.example")
    assert client.get("/w/acme/search", params={"q": "波尔多"}).status_code == 404


def test_percent_and_underscore_are_taken_literally(
    client: TestClient, acme: Workspace, db: Session
) -> None:
    sign_in(client, "owner@acme.example")

    assert "Rosé launch" in client.get("/w/acme/search", params={"q": "100%"}).text
    assert "Rosé launch" in client.get("/w/acme/search", params={"q": "50_50"}).text
    percent = client.get("/w/acme/search", params={"q": "%"}).text
    assert "Rosé launch" in percent
    assert "中秋礼盒" not in percent  # a % is not "anything"
    assert escape_like("a%b_c\\") == "a\\%b\\_c\\\\"


def test_latin_text_ignores_case_and_the_catalog_answers(
    client: TestClient, acme: Workspace
) -> None:
    sign_in(client, "owner@acme.example")

    assert "Rosé launch" in client.get("/w/acme/search", params={"q": "GRENACHE"}).text
    weibo = client.get("/w/acme/search", params={"q": "微博"}).text
    assert "catalog" in keys(weibo)
    assert "/catalog/weibo" in weibo


def test_a_too_long_query_is_refused_with_what_to_do(client: TestClient, acme: Workspace) -> None:
    sign_in(client, "owner@acme.example")

    response = client.get("/w/acme/search", params={"q": "长" * (QUERY_MAX_LENGTH + 1)})

    assert response.status_code == 400
    assert f"Search for at most {QUERY_MAX_LENGTH} characters" in response.text


def test_the_dropdown_shows_a_few_and_links_to_the_page(
    client: TestClient, acme: Workspace
) -> None:
    sign_in(client, "owner@acme.example")

    fragment = client.get("/w/acme/search", params={"q": "波尔多", "dropdown": "1"}).text

    assert "<html" not in fragment
    assert "中秋礼盒" in fragment
    assert "/w/acme/search?q=%E6%B3%A2%E5%B0%94%E5%A4%9A" in fragment
    assert 'id="global-search"' in client.get("/w/acme/").text


def test_counts_stop_at_the_cap_and_queries_stay_few(db: Session, acme: Workspace) -> None:
    """Given more matching posts than the cap, the section lists the limit, counts up to the
    cap and says there are more; the whole search is a bounded number of queries."""
    db.add_all(
        Post(workspace_id=acme.id, title=f"波尔多 {number}", body="")
        for number in range(COUNT_CAP + 5)
    )
    db.commit()
    membership = next(m for m in acme.memberships if m.role == Role.OWNER)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.get_bind(), "before_cursor_execute", count)
    try:
        sections = run_search(db, membership=membership, text="波尔多", limit=10)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", count)

    posts = next(s for s in sections if s.key == "posts")
    assert (len(posts.hits), posts.count, posts.capped) == (10, COUNT_CAP + 1, True)
    assert len(statements) <= 12
