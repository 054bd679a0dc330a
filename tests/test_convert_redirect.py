"""The tracked links' redirect: a 302 to the destination with the click id, the click
journalled before the answer and copied into the database, and no click lost when the
process that answered is killed."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.convert import links
from guanxi.convert.journal import BATCH_LINES, ClickJournal, journal_dir, recover_orphans
from guanxi.convert.models import LinkClick, TrackedLink
from guanxi.convert.redirect import CLICK_PARAMETER, SWITCH_INTERVAL_S, ShortLinks
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import local_client
from tests.test_convert_links import BAIDU, WECHAT_IPHONE


@pytest.fixture
def link(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> TrackedLink:
    workspace: Workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    made = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(url="https://shop.example.cn/p?id=7"),
        created_by_id=None,
    )
    db.commit()
    return made


def _copy(app: FastAPI) -> None:
    for middleware in app.user_middleware:
        if middleware.cls is ShortLinks:
            break
    stack = app.middleware_stack
    while stack is not None and not isinstance(stack, ShortLinks):
        stack = getattr(stack, "app", None)
    assert isinstance(stack, ShortLinks)
    assert stack._copier is not None
    stack._copier.journal.copy_new()


def test_a_click_is_redirected_with_its_id_and_stored(
    client: TestClient, app: FastAPI, db: Session, link: TrackedLink
) -> None:
    response = client.get(
        f"/l/{link.key}",
        headers={"user-agent": WECHAT_IPHONE, "referer": "https://weixin.qq.com/x"},
        follow_redirects=False,
    )

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert (location.netloc, location.path) == ("shop.example.cn", "/p")
    assert query["id"] == ["7"]
    assert query["utm_medium"] == ["social"]
    click_id = query[CLICK_PARAMETER][0]
    assert response.headers["cache-control"] == "no-store"

    _copy(app)
    click = db.scalars(select(LinkClick)).one()
    assert click.click_id == click_id
    assert (click.platform, click.device, click.bot, click.counted) == (
        "wechat",
        "phone",
        False,
        True,
    )
    assert click.referrer_host == "weixin.qq.com"
    assert click.network == ""  # the test client's address, "testclient", is no IP address


def test_bots_and_link_checks_are_logged_but_not_counted(
    client: TestClient, app: FastAPI, db: Session, link: TrackedLink
) -> None:
    client.get(f"/l/{link.key}", headers={"user-agent": BAIDU}, follow_redirects=False)
    client.head(f"/l/{link.key}", headers={"user-agent": WECHAT_IPHONE}, follow_redirects=False)

    _copy(app)
    assert [(c.bot, c.counted) for c in db.scalars(select(LinkClick))] == [(True, False)] * 2


@pytest.mark.parametrize("path", ["/l/NoSuchKey", "/l/bad-key!", "/l/"])
def test_an_unknown_link_is_a_404_in_both_languages(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 404
    assert "链接不存在" in response.text
    assert "This link does not exist" in response.text


def test_a_post_to_a_link_is_refused(client: TestClient, link: TrackedLink) -> None:
    assert client.post(f"/l/{link.key}").status_code == 404


def test_the_journal_of_a_killed_process_is_stored_by_the_next(
    tmp_path: Path, session_factory: sessionmaker[Session], db: Session, link: TrackedLink
) -> None:
    """Given a process that journalled clicks and was killed before copying them, when a
    journal is recovered, then every complete line is stored, once."""
    directory = tmp_path / "clicks"
    line = {
        "link_id": link.id,
        "workspace_id": link.workspace_id,
        "clicked_at": "2026-12-06T12:00:00+00:00",
        "hour": 493116,
        "network": "",
        "platform": "",
        "device": "phone",
        "referrer_host": "",
        "bot": False,
    }
    script = (
        "import json, os, pathlib, signal, sys\n"
        "from guanxi.convert.journal import ClickJournal\n"
        "journal = ClickJournal(pathlib.Path(sys.argv[1]), lambda batch: None)\n"
        "line = json.loads(sys.argv[2])\n"
        "for n in range(50):\n"
        "    journal.append({**line, 'click_id': f'k{n}', 'visitor': f'v{n}'})\n"
        'os.write(journal._fd, b\'{"click_id": "cut\')\n'  # a line cut short by the kill
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(directory), json.dumps(line)], check=False
    )
    assert done.returncode == -signal.SIGKILL

    store = links.journal_store(session_factory)
    assert recover_orphans(directory, store) == 50
    assert recover_orphans(directory, store) == 0, "a recovered journal is deleted"
    assert len(db.scalars(select(LinkClick)).all()) == 50


def test_who_made_a_click_is_read_from_its_agent_when_it_is_stored(
    session_factory: sessionmaker[Session], db: Session, link: TrackedLink
) -> None:
    """Given journal lines that carry the user agent (the redirect leaves the crawler list
    out of its answer), when they are stored, then each click gets its app, device and bot
    verdict: WeChat on a phone is a person, a crawler and a HEAD are bots, not counted."""
    base = {
        "link_id": link.id,
        "workspace_id": link.workspace_id,
        "clicked_at": "2026-12-06T12:00:00+00:00",
        "hour": 493116,
        "network": "",
        "referrer_host": "",
    }
    lines = [
        {**base, "click_id": "person", "visitor": "v1", "agent": WECHAT_IPHONE, "head": False},
        {**base, "click_id": "crawler", "visitor": "v2", "agent": BAIDU, "head": False},
        {**base, "click_id": "checker", "visitor": "v3", "agent": WECHAT_IPHONE, "head": True},
    ]
    links.journal_store(session_factory)(lines)
    stored = {click.click_id: click for click in db.scalars(select(LinkClick))}
    assert (stored["person"].platform, stored["person"].device) == ("wechat", "phone")
    assert (stored["person"].bot, stored["person"].counted) == (False, True)
    assert (stored["crawler"].bot, stored["crawler"].counted) == (True, False)
    assert (stored["checker"].bot, stored["checker"].counted) == (True, False)


def test_a_living_processs_journal_is_left_to_it(tmp_path: Path) -> None:
    stored: list[object] = []
    journal = ClickJournal(tmp_path, stored.extend)
    journal.append({"click_id": "a"})

    assert recover_orphans(tmp_path, stored.extend) == 0
    assert journal.copy_new() == 1
    assert stored == [{"click_id": "a"}]
    journal.close()
    assert not list(tmp_path.iterdir()), "a closed journal whose lines are stored is deleted"


def test_the_copier_stores_a_burst_in_small_batches(tmp_path: Path) -> None:
    """Given more lines than a batch, when they are copied, then every line is stored once,
    in batches of at most BATCH_LINES (the redirects wait while a batch holds the
    interpreter), and the next copy finds nothing new."""
    batches: list[list[dict[str, object]]] = []
    journal = ClickJournal(tmp_path, batches.append)
    for n in range(BATCH_LINES * 2 + 7):
        journal.append({"click_id": f"c{n}"})

    assert journal.copy_new() == BATCH_LINES * 2 + 7
    assert [len(batch) for batch in batches] == [BATCH_LINES, BATCH_LINES, 7]
    assert journal.copy_new() == 0
    journal.close()


def test_the_first_click_lets_the_event_loop_take_the_interpreter_back_sooner(
    client: TestClient, link: TrackedLink
) -> None:
    before = sys.getswitchinterval()
    try:
        client.get(f"/l/{link.key}", follow_redirects=False)
        assert sys.getswitchinterval() <= SWITCH_INTERVAL_S
    finally:
        sys.setswitchinterval(before)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_click_answered_is_lost_when_the_web_process_is_killed(
    tmp_path: Path,
    database_url: str,
    session_factory: sessionmaker[Session],
    db: Session,
    link: TrackedLink,
) -> None:
    """Given the web app serving a link, when it is SIGKILLed right after answering clicks,
    then the next process to start stores every click it answered."""
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "GUANXI_DATABASE_URL": database_url,
        "GUANXI_DATA_DIR": str(data_dir),
        "GUANXI_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "guanxi", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered: list[str] = []
        with local_client(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 120  # a loaded 2-core machine starts it slowly
            while time.monotonic() < deadline:
                try:
                    http.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            for _ in range(40):
                response = http.get(f"/l/{link.key}", headers={"user-agent": f"Mozilla/5.0 n{_}"})
                assert response.status_code == 302
                answered.append(
                    parse_qs(urlsplit(response.headers["location"]).query)[CLICK_PARAMETER][0]
                )
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()

    recover_orphans(journal_dir(data_dir), links.journal_store(session_factory))
    db.expire_all()
    stored = set(db.scalars(select(LinkClick.click_id)))
    assert set(answered) <= stored
    assert len(answered) == 40


def test_redirects_are_left_out_of_the_access_log(app: FastAPI) -> None:
    """uvicorn's access log keeps the app's pages, not every click of a campaign."""
    log = logging.getLogger("uvicorn.access")

    def line(path: str) -> logging.LogRecord:
        args = ("127.0.0.1:5000", "GET", path, "1.1", 302)
        return log.makeRecord(
            log.name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
        )

    assert not log.filter(line("/l/Ab12cd"))
    assert log.filter(line("/w/acme/links"))
