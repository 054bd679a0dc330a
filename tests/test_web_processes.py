"""Several web processes: what one process changes, the next request to another sees.

Two ``create_app`` instances on one database, each with its own engine, stand for two
processes: a person signed in through one is signed in on the other, and a change to a
workspace's data through one shows in the other's next answer, whatever either caches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role
from guanxi.checks.models import SensitiveWord
from guanxi.core.db import make_engine, make_session_factory, session_scope
from guanxi.core.settings import Settings
from guanxi.listening.topics.models import TopicQuery
from guanxi.listening.topics.queries import MentionFacts
from guanxi.listening.topics.service import workspace_matcher
from guanxi.shell.app import create_app
from tests.conftest import CSRF_RE, UserFactory, WorkspaceFactory, sign_in

TERM = "限时秒杀"


@pytest.fixture
def other_process(settings: Settings, database_url: str) -> Iterator[TestClient]:
    """A second application on the same database, with an engine of its own."""
    engine = make_engine(database_url)
    with TestClient(create_app(settings, make_session_factory(engine))) as client:
        yield client
    engine.dispose()


def _token(client: TestClient, path: str) -> str:
    found = CSRF_RE.search(client.get(path).text)
    assert found, f"{path} carries a CSRF token"
    return found.group(1)


def _preview(client: TestClient, text: str) -> str:
    response = client.post(
        "/w/acme/checks/preview",
        data={"text": text, "audience": "mainland"},
        headers={"X-CSRF-Token": _token(client, "/w/acme/checks/words"), "HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    return response.text


def _flagged(page: str) -> bool:
    return re.search(rf"<mark[^>]*>{TERM}</mark>", page) is not None


def test_a_word_added_through_one_process_is_flagged_by_the_other(
    client: TestClient,
    other_process: TestClient,
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given two processes that have each checked a text (and compiled the word list),
    when an editor adds a term through the first, then the second flags it in its next
    check; and once the term is removed through the first, the second stops flagging it."""
    editor = make_user("cm@acme.example", name="Li Na")
    make_workspace("acme", owner=make_user("owner@acme.example"), members={editor: Role.EDITOR})
    sign_in(client, "cm@acme.example")
    other_process.cookies = client.cookies  # the same browser, answered by the other process
    text = f"今天{TERM}，快来抢购"
    assert not _flagged(_preview(other_process, text))
    assert not _flagged(_preview(client, text))

    added = client.post(
        "/w/acme/checks/words",
        data={
            "term": TERM,
            "category": "promotion",
            "severity": "block",
            "csrf_token": _token(client, "/w/acme/checks/words"),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert _flagged(_preview(other_process, text))

    word = db.query(SensitiveWord).filter_by(term=TERM).one()
    removed = client.post(
        f"/w/acme/checks/words/{word.id}/delete",
        data={"csrf_token": _token(client, "/w/acme/checks/words")},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert not _flagged(_preview(other_process, text))


def test_a_sign_out_through_one_process_signs_the_browser_out_of_the_other(
    client: TestClient, other_process: TestClient, make_user: UserFactory
) -> None:
    """Given a person signed in through one process, the other serves them too; when they
    sign out through the first, the second no longer lets the same cookie in."""
    make_user("li@example.com", name="Li")
    sign_in(client, "li@example.com")
    cookies = dict(client.cookies)
    other_process.cookies = cookies
    assert other_process.get("/", follow_redirects=False).status_code == 200
    out = client.post("/logout", data={"csrf_token": _token(client, "/")}, follow_redirects=False)
    assert out.status_code == 303
    other_process.cookies = cookies
    answer = other_process.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_processes_started_together_keep_the_first_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a fresh data directory and two processes that both find no key file (they
    start together), when each makes one, then the second uses the first one's key instead
    of overwriting it: sessions signed by either are read by both."""
    first = Settings(data_dir=tmp_path / "data").resolved_secret_key()
    monkeypatch.setattr(Path, "exists", lambda _self: False)  # the second looked before
    second = Settings(data_dir=tmp_path / "data").resolved_secret_key()
    assert second == first
    assert (tmp_path / "data" / "secret_key").read_text(encoding="utf-8") == first
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["secret_key"]


def test_a_topic_query_edited_through_one_process_matches_in_the_other(
    database_url: str, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given two processes (two engines) that have each compiled the workspace's topic
    queries, when the query is edited through one, then the other matches with the new
    query at once: compiled matchers are keyed by the queries read from the database."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        with session_scope(make_session_factory(first)) as db:
            topic = TopicQuery(
                workspace_id=workspace.id, name="Wine", category="brand", query="葡萄酒"
            )
            db.add(topic)
            db.flush()
            topic_id = topic.id
        wine, beer = MentionFacts(text="这瓶葡萄酒很好喝"), MentionFacts(text="冰啤酒配烧烤")

        def matched(engine: Engine, facts: MentionFacts) -> bool:
            with make_session_factory(engine)() as db:
                return bool(workspace_matcher(db, workspace_id=workspace.id).match(facts))

        assert matched(second, wine)
        assert not matched(second, beer)
        with session_scope(make_session_factory(first)) as db:
            edited = db.get(TopicQuery, topic_id)
            assert edited is not None
            edited.query = "啤酒"
        assert matched(second, beer)
        assert not matched(second, wine)
    finally:
        first.dispose()
        second.dispose()
