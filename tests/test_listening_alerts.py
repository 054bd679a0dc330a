"""Spike alerts: detection against the baseline, one alert per crisis, and delivery."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import UserError
from guanxi.core.settings import Settings
from guanxi.listening.alerts import scheduled as alert_jobs
from guanxi.listening.alerts.models import Alert, AlertMetric, AlertRule
from guanxi.listening.alerts.scheduled import SCHEDULE as SCHEDULE_ALERTS
from guanxi.listening.alerts.service import RuleForm, check_alerts, check_rule, save_rule
from guanxi.listening.topics.models import TopicQuery
from guanxi.listening.topics.service import TopicForm, create_topic, match_mentions
from guanxi.notifications.models import Notification
from guanxi.outbound.addresses import AddressPolicy
from guanxi.outbound.client import COULD_NOT_DELIVER, OutboundClient
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_topics_support import add_author, add_mention

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    """Workspace ``acme`` with its owner (the alerts' recipient)."""
    return make_workspace("acme", owner=make_user("owner@acme.example", name="Owner"))


@pytest.fixture
def topic(db: Session, workspace: Workspace) -> TopicQuery:
    """The theme 食品安全 (food safety)."""
    return create_topic(
        db,
        workspace_id=workspace.id,
        form=TopicForm(name="Food safety", query="食品安全", category="theme"),
    )


def baseline(db: Session, workspace: Workspace, *, per_day: int = 4, days: int = 7) -> None:
    """A quiet week: ``per_day`` neutral mentions of food safety each day before NOW."""
    mentions = [
        add_mention(
            db,
            workspace_id=workspace.id,
            text="关注食品安全",
            match=False,
            posted_at=NOW - timedelta(days=day, hours=hour),
        )
        for day in range(1, days + 1)
        for hour in range(per_day)
    ]
    match_mentions(db, workspace_id=workspace.id, mentions=mentions)


def burst(db: Session, workspace: Workspace, count: int, *, sentiment: str = "neutral") -> None:
    """``count`` mentions in the hour before NOW; the first has the most likes."""
    author = add_author(db, workspace_id=workspace.id, name="新闻大V", followers=2_000_000)
    mentions = [
        add_mention(
            db,
            workspace_id=workspace.id,
            text=f"某品牌食品安全出事了 {index}",
            posted_at=NOW - timedelta(minutes=50 - index),
            sentiment=sentiment,
            author=author,
            likes=1000 - index,
            match=False,
        )
        for index in range(count)
    ]
    match_mentions(db, workspace_id=workspace.id, mentions=mentions)


def rule(db: Session, workspace: Workspace, topic: TopicQuery, **changes: object) -> AlertRule:
    """A volume rule (6 h window, 7-day baseline) without e-mail or webhook unless asked."""
    policy = changes.pop("policy", None)
    values: dict[str, object] = {"topic_id": topic.id, "notify_email": False, "min_mentions": 10}
    values.update(changes)
    form = RuleForm(**values)  # type: ignore[arg-type]
    return save_rule(db, workspace_id=workspace.id, form=form, policy=policy)  # type: ignore[arg-type]


def test_a_burst_far_above_the_baseline_is_one_explained_alert(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """Given a quiet week (1 mention per 6 h), when 30 mentions arrive in an hour,
    then one alert fires with baseline, now and the posts that drive it, in the app."""
    baseline(db, workspace)
    burst(db, workspace, 30)
    watch = rule(db, workspace, topic)

    alert = check_rule(db, settings=settings, rule=watch, now=NOW)

    assert alert is not None
    assert alert.current_mentions == 30
    assert alert.baseline_value == pytest.approx(28 * 6 / (7 * 24))
    assert "30 mentions in the last 6 h" in alert.explanation
    assert alert.driving_posts[0]["text"] == "某品牌食品安全出事了 0"
    assert alert.driving_posts[0]["engagement"] == 1000
    assert [d["channel"] for d in alert.deliveries] == ["app"]
    notes = db.scalars(select(Notification).where(Notification.kind == "listening_volume_spike"))
    assert [note.params["topic"] for note in notes] == ["Food safety"]


def test_normal_volume_is_no_spike(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """Given the same rate as the baseline, no alert fires."""
    baseline(db, workspace, per_day=40)
    burst(db, workspace, 10)
    assert check_rule(db, settings=settings, rule=rule(db, workspace, topic), now=NOW) is None


def test_a_crisis_is_one_alert_not_a_hundred(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """Given a spike that lasts, checks every 5 minutes add no alert (they count as
    suppressed); after it ends, a new spike within the cooldown stays quiet too."""
    baseline(db, workspace)
    burst(db, workspace, 30)
    watch = rule(db, workspace, topic, cooldown_hours=24)

    results = [
        check_rule(db, settings=settings, rule=watch, now=NOW + timedelta(minutes=5 * i))
        for i in range(12)
    ]
    assert sum(alert is not None for alert in results) == 1
    assert results[0] is not None
    assert results[0].suppressed == 11

    later = NOW + timedelta(hours=12)
    assert check_rule(db, settings=settings, rule=watch, now=later) is None  # spike over
    assert watch.in_spike is False
    burst_at = later - timedelta(minutes=30)
    again = [
        add_mention(
            db, workspace_id=workspace.id, text="食品安全又出事", posted_at=burst_at, match=False
        )
        for _ in range(30)
    ]
    match_mentions(db, workspace_id=workspace.id, mentions=again)
    assert check_rule(db, settings=settings, rule=watch, now=later) is None  # cooling down
    alerts = db.scalars(select(Alert)).all()
    assert len(alerts) == 1
    assert alerts[0].suppressed == 12


def test_negative_share_spike(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """Given a neutral baseline, 25 negative mentions make the negative-share rule fire."""
    baseline(db, workspace, per_day=40)
    burst(db, workspace, 25, sentiment="negative")
    watch = rule(db, workspace, topic, metric=AlertMetric.NEGATIVE_SHARE)
    alert = check_rule(db, settings=settings, rule=watch, now=NOW)
    assert alert is not None
    assert alert.metric == "negative_share"
    assert alert.baseline_value == 0.0
    assert alert.current_value > 0.5
    assert all(post["sentiment"] == "negative" for post in alert.driving_posts)


def test_webhook_gets_the_json_and_a_failure_is_recorded_not_raised(
    db: Session,
    settings: Settings,
    workspace: Workspace,
    topic: TopicQuery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A webhook receives the alert as JSON; an unreachable one is written on the alert with
    the one generic message (the reason goes to the server log only)."""
    baseline(db, workspace)
    burst(db, workspace, 30)
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    ok_rule = rule(db, workspace, topic, webhook_url="https://hooks.example/ok")
    public = OutboundClient(
        AddressPolicy(),
        resolver=lambda _name, _port: ["93.184.216.34"],
        transport=httpx.MockTransport(hook),
    )
    with public:
        alert = check_rule(db, settings=settings, rule=ok_rule, now=NOW, outbound=public)
    assert alert is not None
    sent = json.loads(received[0].content)
    assert sent["topic"] == "Food safety"
    assert sent["mentions"] == 30
    assert received[0].url.host == "93.184.216.34"  # the address checked, not a new lookup
    assert received[0].headers["host"] == "hooks.example"
    assert alert.deliveries[-1] == {
        **alert.deliveries[-1],
        "channel": "webhook",
        "ok": True,
        "detail": "HTTP 204",
    }

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    bad_rule = rule(
        db,
        workspace,
        topic,
        webhook_url=f"http://127.0.0.1:{closed}/hook",
        policy=AddressPolicy.from_text("127.0.0.0/8"),
    )
    local = settings.model_copy(update={"outbound_allow_networks": "127.0.0.0/8"})
    with caplog.at_level(logging.WARNING):
        alert = check_rule(db, settings=local, rule=bad_rule, now=NOW)
    assert alert is not None
    webhook = alert.deliveries[-1]
    assert webhook["channel"] == "webhook"
    assert webhook["ok"] is False
    assert webhook["detail"] == COULD_NOT_DELIVER
    assert "ConnectError" in caplog.text


def test_a_webhook_to_the_server_itself_is_refused_and_reads_like_any_failure(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """Given a rule whose webhook names this machine by a name (localhost) and the default
    settings, when it fires, the delivery fails with the generic message."""
    baseline(db, workspace)
    burst(db, workspace, 30)
    local_rule = rule(db, workspace, topic, webhook_url="http://localhost:8100/admin/revoke")
    alert = check_rule(db, settings=settings, rule=local_rule, now=NOW)
    assert alert is not None
    assert alert.deliveries[-1]["ok"] is False
    assert alert.deliveries[-1]["detail"] == COULD_NOT_DELIVER


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """A local SMTP server that keeps what it receives: (recipients, message)."""
    received: list[tuple[str, str]] = []

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            content = envelope.content  # type: ignore[attr-defined]
            received.append((",".join(envelope.rcpt_tos), content.decode("utf-8")))  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_alert_is_e_mailed_to_the_managers_after_the_commit(
    db: Session,
    settings: Settings,
    workspace: Workspace,
    topic: TopicQuery,
    smtp_sink: tuple[int, list[tuple[str, str]]],
) -> None:
    """With SMTP configured, the owner gets the alert by e-mail once the check commits."""
    port, received = smtp_sink
    mail = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    baseline(db, workspace)
    burst(db, workspace, 30)
    rule(db, workspace, topic, notify_email=True)
    db.commit()

    fired = check_alerts(db, settings=mail, workspace_id=workspace.id, now=NOW)
    assert received == []  # nothing leaves before the commit
    db.commit()

    assert len(fired) == 1
    assert [to for to, _body in received] == ["owner@acme.example"]
    assert "is spiking" in received[0][1]
    assert fired[0].deliveries[-1]["channel"] == "email"


def test_rules_are_checked_and_the_job_is_scheduled(
    db: Session, settings: Settings, workspace: Workspace, topic: TopicQuery
) -> None:
    """The worker's schedule carries the alert job; a bad rule is refused with a reason."""
    assert [job.name for job in SCHEDULE_ALERTS] == ["listening-alerts"]

    with pytest.raises(UserError, match="webhook address"):
        rule(db, workspace, topic, webhook_url="ftp://example")
    with pytest.raises(UserError, match="user name and password"):
        rule(db, workspace, topic, webhook_url="https://bot:secret@hooks.example/x")
    with pytest.raises(UserError, match="public internet addresses"):
        rule(db, workspace, topic, webhook_url="http://169.254.169.254/latest/meta-data")
    with pytest.raises(UserError, match="window"):
        rule(db, workspace, topic, window_hours=0)


def test_the_schedule_and_check_now_queue_the_check_for_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Webhooks are delivered by the queue's consumers: the schedule thread and the page only
    queue ``check_alerts_job``, which checks all workspaces or the one asked for."""
    checked: list[int | None] = []
    monkeypatch.setattr(alert_jobs, "run_alert_checks", lambda ws=None: checked.append(ws) or 0)
    monkeypatch.setattr(alert_jobs.huey, "immediate", True)  # jobs run as they are queued
    SCHEDULE_ALERTS[0].run()
    alert_jobs.enqueue_alert_checks(7)
    assert checked == [None, 7]
