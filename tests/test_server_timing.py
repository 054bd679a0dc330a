"""Every response says where its time went (``Server-Timing``); with
``GUANXI_SLOW_REQUEST_MS`` a slow request is logged with the queries that made it slow."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, User
from guanxi.core import querytiming
from guanxi.core.querytiming import QueryTimes
from guanxi.core.settings import Settings
from guanxi.shell.app import create_app
from tests.conftest import UserFactory, WorkspaceFactory, sign_in

TIMING = re.compile(
    r'^db;dur=(?P<db>[\d.]+);desc="database", '
    r"render;dur=(?P<render>[\d.]+), app;dur=(?P<app>[\d.]+)$"
)


def _timing(header: str | None) -> dict[str, float]:
    assert header is not None, "the response has a Server-Timing header"
    match = TIMING.match(header)
    assert match, header
    return {name: float(value) for name, value in match.groupdict().items()}


def test_an_html_page_says_how_long_the_database_and_the_templates_took(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """Given a signed-in member, when they open the inbox, then its Server-Timing header
    gives the time of the page's queries, of the rendering, and of the whole request."""
    client, _membership = signed_in
    response = client.get("/w/acme/inbox")
    assert response.status_code == 200
    timing = _timing(response.headers.get("server-timing"))
    assert timing["db"] > 0
    assert timing["render"] > 0
    assert timing["app"] >= timing["db"] + timing["render"]


def test_an_api_response_says_how_long_the_database_took(
    client: TestClient, db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """A JSON response has the header too, with no rendering."""
    _client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="timing")
    db.commit()
    response = client.get("/api/v1/w/acme/plan/plans", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200, response.text
    timing = _timing(response.headers.get("server-timing"))
    assert timing["db"] > 0
    assert timing["render"] == 0
    assert timing["app"] >= timing["db"]


def test_a_slow_request_is_logged_with_its_queries(
    settings: Settings,
    session_factory: sessionmaker[Session],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given GUANXI_SLOW_REQUEST_MS=1, when a page takes longer, then a warning names the
    request, its times and its statements, each with its count and total time."""
    make_workspace("acme", owner=make_user("owner@acme.example"))
    slow = settings.model_copy(update={"slow_request_ms": 1})
    with TestClient(create_app(slow, session_factory)) as client:
        sign_in(client, "owner@acme.example")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="guanxi.web.timing"):
            client.get("/w/acme/inbox")
    lines = [r.getMessage() for r in caplog.records if "GET /w/acme/inbox" in r.getMessage()]
    assert len(lines) == 1, caplog.text
    message = lines[0]
    assert re.search(
        r"slow request GET /w/acme/inbox: [\d.]+ ms \(database [\d.]+ ms in \d+ "
        r"queries, render [\d.]+ ms\)",
        message,
    )
    statements = message.splitlines()[1:]
    assert len(statements) == 5, message  # the five slowest
    for line in statements:
        assert re.match(r"  \d+× [\d.]+ ms  (SELECT|INSERT|UPDATE) \S", line), line
        assert len(line) < 260  # the statement shortened


def test_no_slow_request_log_by_default(
    signed_in: tuple[TestClient, Membership], caplog: pytest.LogCaptureFixture
) -> None:
    """Without the setting nothing is logged, however slow."""
    client, _membership = signed_in
    with caplog.at_level(logging.WARNING, logger="guanxi.web.timing"):
        client.get("/w/acme/inbox")
    assert not [r for r in caplog.records if r.name == "guanxi.web.timing"]


def test_queries_are_counted_only_where_tracked_and_statements_only_when_asked(
    engine: Engine, db: Session
) -> None:
    """Outside a request nothing is counted; inside, a count and a total, and the
    statements only for the slow-request log."""
    untracked = QueryTimes()
    db.scalar(select(User.id))
    assert untracked.count == 0

    counted = QueryTimes()
    token = querytiming.track(counted)
    try:
        db.scalar(select(User.id))
        db.scalar(select(User.id).where(User.id == 1))
    finally:
        querytiming.untrack(token)
    db.scalar(select(User.id))  # after untrack: not counted
    assert counted.count == 2
    assert counted.seconds > 0
    assert counted.by_statement is None

    kept = QueryTimes(by_statement={})
    token = querytiming.track(kept)
    try:
        for _ in range(3):
            db.scalar(select(User.id))
    finally:
        querytiming.untrack(token)
    [(statement, times)] = kept.slowest()
    assert statement.startswith("SELECT users.id")
    assert times.count == 3
