"""Team-chat robots: each platform's webhook JSON and signature, checked by a local server
that verifies them as the platform does; delivery through the guarded client, retried with
backoff and failed for good after the last attempt; the robots page for managers only, per
workspace; each person's notification settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, User
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.notifications import preferences, robots, tasks, teamchat
from guanxi.notifications.models import TeamChatDelivery, TeamChatRobot
from guanxi.notifications.teamchat import RobotKind
from guanxi.outbound.addresses import AddressPolicy
from guanxi.outbound.client import OutboundClient
from guanxi.publishing import notices
from tests.composer_support import Team, make_team
from tests.conftest import csrf_token, sign_in

SECRET = "SECtest-secret-0123456789"
TEXT = "[guanxi] “春季上新” waits for your approval"


@dataclass
class Robot:
    """A local stand-in for a platform's robot endpoint that verifies what it receives."""

    kind: RobotKind
    secret: str
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    answer_status: int = 200

    def url(self) -> str:
        if self.kind is RobotKind.DINGTALK:
            return f"http://127.0.0.1:{self.port}/robot/send?access_token=tok"
        if self.kind is RobotKind.WECOM:
            return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key=k"
        return f"http://127.0.0.1:{self.port}/open-apis/bot/v2/hook/abc"

    def verdict(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """What the platform would answer: code 0, or its error for a bad request."""
        query = parse_qs(urlsplit(path).query)
        if self.kind is RobotKind.WECOM:
            ok = body == {"msgtype": "text", "text": {"content": body["text"]["content"]}}
            return {"errcode": 0 if ok else 40008, "errmsg": "ok" if ok else "invalid"}
        if self.kind is RobotKind.DINGTALK:
            if body.get("msgtype") != "text" or "content" not in body.get("text", {}):
                return {"errcode": 400, "errmsg": "bad body"}
            if self.secret:
                timestamp, sign = query["timestamp"][0], query["sign"][0]
                message = f"{timestamp}\n{self.secret}".encode()
                expected = base64.b64encode(
                    hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
                ).decode()
                if sign != expected or len(timestamp) != 13:
                    return {"errcode": 310000, "errmsg": "sign not match"}
            return {"errcode": 0, "errmsg": "ok"}
        if body.get("msg_type") != "text" or "text" not in body.get("content", {}):
            return {"code": 9499, "msg": "Bad Request"}
        if self.secret:
            key = f"{body['timestamp']}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if body["sign"] != expected or len(body["timestamp"]) != 10:
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
        return {"code": 0, "msg": "success"}


@pytest.fixture
def serve() -> Iterator[Callable[[RobotKind, str], Robot]]:
    servers: list[ThreadingHTTPServer] = []

    def start(kind: RobotKind, secret: str = "") -> Robot:
        robot = Robot(kind, secret)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.received.append({"path": self.path, "body": body})
                answer = json.dumps(robot.verdict(self.path, body)).encode()
                self.send_response(robot.answer_status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        robot.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return robot

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client_local() -> Iterator[OutboundClient]:
    with OutboundClient(AddressPolicy.from_text("127.0.0.0/8")) as client:
        yield client


@pytest.mark.parametrize("kind", list(RobotKind))
@pytest.mark.parametrize("secret", ["", SECRET])
def test_each_robot_gets_its_documented_json_and_signature(
    serve: Callable[[RobotKind, str], Robot],
    client_local: OutboundClient,
    kind: RobotKind,
    secret: str,
) -> None:
    if kind is RobotKind.WECOM and secret:
        pytest.skip("a WeCom group robot does not sign")
    robot = serve(kind, secret)
    teamchat.send(client_local, kind, url=robot.url(), secret=secret, text=TEXT)
    (request,) = robot.received
    assert robot.verdict(request["path"], request["body"]) in (
        {"errcode": 0, "errmsg": "ok"},
        {"code": 0, "msg": "success"},
    )
    text = request["body"].get("text", request["body"].get("content", {}))
    assert TEXT in json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize("kind", [RobotKind.DINGTALK, RobotKind.FEISHU])
def test_a_wrong_secret_is_reported_with_the_robots_own_code(
    serve: Callable[[RobotKind, str], Robot], client_local: OutboundClient, kind: RobotKind
) -> None:
    robot = serve(kind, SECRET)
    with pytest.raises(teamchat.RobotRefused) as refused:
        teamchat.send(client_local, kind, url=robot.url(), secret="SECwrong", text=TEXT)
    assert str(refused.value.params["detail"]).split()[0] in {"310000", "19021"}


def test_the_signatures_match_the_platforms_published_examples() -> None:
    """Fixed inputs, computed by the documented recipe (HMAC-SHA256, base64)."""
    assert (
        teamchat.dingtalk_sign("this is secret", 1577262236757)
        == base64.b64encode(
            hmac.new(b"this is secret", b"1577262236757\nthis is secret", hashlib.sha256).digest()
        ).decode()
    )
    assert (
        teamchat.feishu_sign("abc", 1599360473)
        == base64.b64encode(hmac.new(b"1599360473\nabc", b"", hashlib.sha256).digest()).decode()
    )
    request = teamchat.robot_request(
        RobotKind.DINGTALK,
        url="https://oapi.dingtalk.com/robot/send?access_token=t",
        secret="s",
        text="hi",
        now=1577262236.757,
    )
    assert request.url.startswith(
        "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1577262236757&sign="
    )


# --- Delivery: the worker's side ----------------------------------------------------------------


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    return make_team(db, make_user, make_workspace)


def manager_of(db: Session, team: Team) -> Membership:
    found = db.scalar(
        select(Membership).where(
            Membership.user_id == team.manager.id, Membership.workspace_id == team.workspace.id
        )
    )
    assert found is not None
    return found


def local_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allow_networks": "127.0.0.0/8"})


def test_a_queued_message_is_claimed_sent_signed_and_marked_sent(
    db: Session,
    team: Team,
    settings: Settings,
    serve: Callable[[RobotKind, str], Robot],
    client_local: OutboundClient,
) -> None:
    robot = serve(RobotKind.DINGTALK, SECRET)
    settings = local_settings(settings)
    saved = robots.add_robot(
        db,
        membership=manager_of(db, team),
        form=robots.RobotForm("dingtalk", "市场部群", robot.url(), SECRET),
        settings=settings,
    )
    assert SECRET not in saved.secret_encrypted
    assert "tok" not in saved.url_encrypted
    delivery = robots.queue_test(db, membership=manager_of(db, team), robot_id=saved.id)
    db.commit()
    assert robots.claim_due(db, now=utcnow()) == [delivery.id]
    assert robots.claim_due(db, now=utcnow()) == []  # leased: no second send
    status = robots.send_delivery(
        db,
        delivery_id=delivery.id,
        client=client_local,
        box=SecretBox.from_settings(settings),
        now=utcnow(),
    )
    assert status == robots.DeliveryStatus.SENT
    assert "test message" in robot.received[0]["body"]["text"]["content"] or (
        "测试" in robot.received[0]["body"]["text"]["content"]
    )


def test_a_failing_robot_is_retried_with_backoff_then_failed_and_the_page_shows_why(
    db: Session, team: Team, settings: Settings, client_local: OutboundClient
) -> None:
    settings = local_settings(settings)
    saved = robots.add_robot(
        db,
        membership=manager_of(db, team),
        form=robots.RobotForm("wecom", "群", "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"),
        settings=settings,
    )
    delivery = robots.queue_test(db, membership=manager_of(db, team), robot_id=saved.id)
    db.commit()
    box = SecretBox.from_settings(settings)
    now = utcnow()
    for attempt in range(1, robots.MAX_ATTEMPTS + 1):
        robots.send_delivery(db, delivery_id=delivery.id, client=client_local, box=box, now=now)
        db.refresh(delivery)
        assert delivery.attempts == attempt
        if attempt < robots.MAX_ATTEMPTS:
            assert delivery.status == robots.DeliveryStatus.PENDING
            assert delivery.next_attempt_at is not None
            assert delivery.next_attempt_at >= now + timedelta(seconds=robots.RETRY_BASE_S)
    assert delivery.status == robots.DeliveryStatus.FAILED
    assert "Could not deliver" in robots.error_text(delivery, lambda message: message)


def test_only_public_addresses_are_saved_unless_the_operator_admits_a_network(
    db: Session, team: Team, settings: Settings
) -> None:
    with pytest.raises(Exception, match="public internet addresses"):
        robots.add_robot(
            db,
            membership=manager_of(db, team),
            form=robots.RobotForm("feishu", "群", "http://127.0.0.1/hook"),
            settings=settings,
        )


def test_a_wecom_robot_refuses_a_sign_secret(db: Session, team: Team, settings: Settings) -> None:
    with pytest.raises(Exception, match="no sign secret"):
        robots.add_robot(
            db,
            membership=manager_of(db, team),
            form=robots.RobotForm("wecom", "群", "https://qyapi.weixin.qq.com/x?key=1", "s"),
            settings=settings,
        )


# --- The pages ----------------------------------------------------------------------------------


def open_as(app: Any, user: User) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    client.__enter__()
    sign_in(client, user.email)
    return client


def test_managers_add_and_test_a_robot_and_an_editor_cannot(
    app: Any, db: Session, team: Team
) -> None:
    manager = open_as(app, team.manager)
    page = f"/w/{team.workspace.slug}/notifications/team-chat"
    answer = manager.post(
        page,
        data={
            "csrf_token": csrf_token(manager),
            "kind": "feishu",
            "name": "市场部群",
            "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
            "secret": SECRET,
            "language": "zh_Hans",
        },
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "市场部群" in answer.text
    assert SECRET not in answer.text
    assert "hook/abc" not in answer.text
    robot = db.scalars(select(TeamChatRobot)).one()
    tested = manager.post(
        f"{page}/{robot.id}/test", data={"csrf_token": csrf_token(manager)}, follow_redirects=True
    )
    assert 'id="test-queued"' in tested.text
    assert db.scalars(select(TeamChatDelivery)).one().robot_id == robot.id
    editor = open_as(app, team.editor)
    assert editor.get(page).status_code == 403


def test_another_workspaces_robot_answers_404(
    app: Any, db: Session, team: Team, make_user: Any, make_workspace: Any
) -> None:
    other = make_team(db, make_user, make_workspace, slug="other")
    theirs = TeamChatRobot(
        workspace_id=other.workspace.id, kind="wecom", name="他们的", url_encrypted="x"
    )
    db.add(theirs)
    db.commit()
    manager = open_as(app, team.manager)
    base = f"/w/{team.workspace.slug}/notifications/team-chat/{theirs.id}"
    for action in ("test", "remove"):
        answer = manager.post(f"{base}/{action}", data={"csrf_token": csrf_token(manager)})
        assert answer.status_code == 404
    assert "他们的" not in manager.get(f"/w/{team.workspace.slug}/notifications/team-chat").text
    assert db.get(TeamChatRobot, theirs.id) is not None


def test_a_person_saves_their_channels_and_the_page_shows_them(
    app: Any, db: Session, team: Team
) -> None:
    editor = open_as(app, team.editor)
    page = editor.get("/me/notifications")
    assert page.status_code == 200
    assert "My post was rejected" in page.text
    answer = editor.post(
        "/me/notifications",
        data={
            "csrf_token": csrf_token(editor),
            "on": [f"{notices.APPROVAL_REJECTED}.email", f"{notices.POST_PUBLISHED}.in_app"],
        },
        follow_redirects=True,
    )
    assert 'id="prefs-saved"' in answer.text
    choices = preferences.all_choices(db, user_id=team.editor.id)
    assert choices[notices.APPROVAL_REJECTED] == preferences.Choice(False, True, False)
    assert choices[notices.POST_PUBLISHED] == preferences.Choice(True, False, False)
    assert re.search(rf'value="{notices.APPROVAL_REJECTED}\.email"[^>]*checked', answer.text)
    assert not re.search(rf'value="{notices.APPROVAL_REJECTED}\.in_app"[^>]*checked', answer.text)


def test_the_worker_job_sends_what_is_due_through_the_queue(
    db: Session,
    team: Team,
    settings: Settings,
    session_factory: Any,
    serve: Callable[[RobotKind, str], Robot],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The schedule's job claims the due deliveries and the queued send posts each one."""
    robot = serve(RobotKind.FEISHU, SECRET)
    settings = local_settings(settings)
    saved = robots.add_robot(
        db,
        membership=manager_of(db, team),
        form=robots.RobotForm("feishu", "群", robot.url(), SECRET),
        settings=settings,
    )
    delivery = robots.queue_test(db, membership=manager_of(db, team), robot_id=saved.id)
    db.commit()
    monkeypatch.setattr(tasks, "sessions", lambda: session_factory)
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(tasks.huey, "immediate", True)
    assert [job.name for job in tasks.SCHEDULE] == ["team_chat"]

    assert tasks.run_team_chat() == [delivery.id]

    db.refresh(delivery)
    assert delivery.status == robots.DeliveryStatus.SENT
    assert robot.received[0]["body"]["sign"]
