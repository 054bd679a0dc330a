"""``guanxi analytics migrate`` for measure's and convert's facts: every copy they declare
walks its months and finds the same checksums on both sides, a rerun copies nothing, a
month that differs is reported, and the hourly counts of clicks and of scans and follows a
retention deleted are carried over. The demo has no breakdowns and no scene-code events, so
a second world holds them: accounts' follower sources and search words, and a WeChat
account's scans and follows, with and without a scene, several in one hour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.analytics import copy as analytics_copy
from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.cli.analytics_migrate import declared_copies
from guanxi.connectors.metrics import AccountDay as ReportedDay
from guanxi.connectors.metrics import Metric
from guanxi.connectors.push import CodeScanned
from guanxi.convert import code_events
from guanxi.convert import retention as convert_retention
from guanxi.convert.models import LinkClick, Order, OrderStatus
from guanxi.convert.rollup_models import ClickHour, CodeEventHour
from guanxi.convert.scene_models import CodeKind, SceneCode
from guanxi.convert.store.base import ConvertStore
from guanxi.convert.store.clickhouse import ClickHouseConvertStore
from guanxi.convert.store.sql import SqlConvertStore
from guanxi.core.db import utcnow
from guanxi.devtools.demo.analytics import load_demo as load_analytics_demo
from guanxi.devtools.demo.convert import load_demo as load_convert_demo
from guanxi.measure.days import store_days
from guanxi.measure.store.base import MeasureStore
from guanxi.measure.store.clickhouse import ClickHouseMeasureStore
from guanxi.measure.store.sql import SqlMeasureStore
from tests.analytics.conftest import use_convert_store, use_measure_store
from tests.conftest import UserFactory, WorkspaceFactory
from tests.measure_support import make_channel

COPIED = {
    "measure_post_snapshots",
    "measure_account_days",
    "measure_account_day_breakdowns",
    "convert_clicks",
    "convert_click_hours",
    "convert_code_events",
    "convert_code_event_hours",
}


@pytest.fixture
def demo(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    """The demo's accounts, posts and conversions on the SQL stores, with the clicks older
    than 60 days deleted by the retention (their hours counted)."""
    use_measure_store(monkeypatch, None)
    use_convert_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    for platform in ("weibo", "wechat", "douyin"):
        db.add(
            Channel(
                workspace_id=workspace.id,
                connector="manual",
                platform=platform,
                external_id=f"demo-{platform}",
                name=f"Demo {platform}",
            )
        )
    db.commit()
    load_analytics_demo(db, workspace=workspace)
    load_convert_demo(db, workspace=workspace)
    db.commit()
    while convert_retention.prune_clicks(
        db, workspace_id=workspace.id, before=utcnow() - timedelta(days=60), limit=5_000
    ):
        db.commit()
    db.commit()
    return workspace


def _copies() -> list[analytics_copy.AnalyticsCopy]:
    return [copy for copy in declared_copies() if copy.name in COPIED]


def test_measure_and_convert_copy_verify_and_resume(
    db: Session, demo: Workspace, clickhouse: AnalyticsClient
) -> None:
    """Given the demo's facts in SQL (some clicks already counted into hours and deleted),
    when every declared copy of measure and convert runs in small batches, then every month
    of every copy has the same count and checksum in ClickHouse; a second run copies
    nothing; a click deleted from ClickHouse makes its month differ."""
    assert int(db.scalar(select(func.count()).select_from(ClickHour)) or 0) > 0
    copies = _copies()
    assert {copy.name for copy in copies} == COPIED  # declared by the capabilities

    copied = {
        copy.name: analytics_copy.copy_months(db, clickhouse, copy, batch=400) for copy in copies
    }
    assert copied["measure_post_snapshots"] > 0
    assert copied["measure_account_days"] > 0
    assert copied["convert_clicks"] > 0
    assert copied["convert_click_hours"] > 0
    for copy in copies:
        checks = analytics_copy.verify(db, clickhouse, copy)
        assert checks or copied[copy.name] == 0, copy.name  # the demo has no breakdowns
        assert [check for check in checks if not check.matches] == [], copy.name
        assert sum(check.sql_count for check in checks) == sum(
            check.store_count for check in checks
        )

    assert all(analytics_copy.copy_months(db, clickhouse, copy) == 0 for copy in copies)

    clicks = next(copy for copy in copies if copy.name == "convert_clicks")
    newest = db.scalars(select(LinkClick).order_by(LinkClick.clicked_at.desc()).limit(1)).one()
    clickhouse.command(
        "DELETE FROM convert_clicks WHERE click_id = {c:String}", {"c": newest.click_id}
    )
    differing = [
        check for check in analytics_copy.verify(db, clickhouse, clicks) if not check.matches
    ]
    assert [check.month for check in differing] == [f"{newest.clicked_at:%Y-%m}"]


# --- Breakdowns, scene-code events and their hourly counts ----------------------------

SPLIT_COPIES = ("measure_account_day_breakdowns", "convert_code_events", "convert_code_event_hours")
RETAINED_BEFORE = datetime(2027, 1, 25, tzinfo=UTC)  # scans and follows before it go
BEIJING = timezone(timedelta(hours=8))
PERIODS = {
    "december": (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    "january": (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
    "february in Beijing": (
        datetime(2027, 2, 1, tzinfo=BEIJING),
        datetime(2027, 3, 1, tzinfo=BEIJING),
    ),
    "all": (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)),
    "empty": (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
}


@dataclass
class Splits:
    """Two accounts' follower sources and search words from 20 December to 10 February,
    and a WeChat account's scans and follows of two scene codes from Christmas to
    mid-February, on the SQL stores."""

    workspace: Workspace
    accounts: list[Channel]
    wechat: Channel
    codes: list[int]


def _reported_days(number: int) -> list[ReportedDay]:
    """Every day's follower count, split by source and by search word (account 1 reports
    its words every other day only)."""
    days = []
    day = date(2026, 12, 20)
    while day <= date(2027, 2, 10):
        breakdowns: dict[str, dict[str, int]] = {
            "follower_source": {"search": day.day + number, "article": 2 * day.day},
        }
        if number == 0 or day.day % 2:
            breakdowns["search"] = {"口红": day.day % 5 + 1, "新品": 7 * (number + 1)}
        days.append(ReportedDay(day, {Metric.FOLLOWERS: 1_000 + day.day}, breakdowns))
        day += timedelta(days=1)
    return days


def _pushes() -> list[CodeScanned]:
    """Sixty scans and follows, two in each hour, every 45 hours: of the code s1, of s2,
    and without a scene (a follow from search, a scan of a code not tracked)."""
    start = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    pushes = []
    for n in range(60):
        moment = start + timedelta(hours=45 * (n // 2), minutes=10 + 20 * (n % 2))
        scene = ("s1", "s2", "")[n % 3]
        followed = n % 4 == 0
        openid = f"o{n % 9}"
        pushes.append(CodeScanned(openid, scene, followed, moment, f"{openid}:{n}"))
    return pushes


@pytest.fixture
def splits(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Splits:
    """The facts written through the collector and the push handler to the SQL stores,
    then the scans and follows before 25 January of people who never ordered deleted by the
    retention, in batches of five (their hours counted)."""
    use_measure_store(monkeypatch, None)
    use_convert_store(monkeypatch, None)
    workspace = make_workspace("splits", owner=make_user("owner@splits.example"))
    accounts = [
        make_channel(db, workspace, external_id=f"account-{n}", name=f"Account {n}")
        for n in range(2)
    ]
    wechat = Channel(
        workspace_id=workspace.id,
        connector="manual",
        platform="wechat",
        external_id="wx-splits",
        name="WeChat",
    )
    db.add(wechat)
    db.flush()
    codes = [
        SceneCode(workspace_id=workspace.id, channel_id=wechat.id, kind=kind, scene=scene)
        for scene, kind in (("s1", CodeKind.QR_TEMPORARY), ("s2", CodeKind.QR_PERMANENT))
    ]
    db.add_all(codes)
    db.add(
        Order(
            workspace_id=workspace.id,
            source="api",
            external_id="W1",
            status=OrderStatus.PAID,
            ordered_at=datetime(2027, 2, 14, tzinfo=UTC),
            amount_fen=9_900,
            openid="o4",  # their old scans and follows stay
        )
    )
    db.commit()
    for number, account in enumerate(accounts):
        store_days(
            db,
            workspace_id=workspace.id,
            channel_id=account.id,
            days=_reported_days(number),
            now=datetime(2027, 2, 11, tzinfo=UTC),
        )
    db.commit()
    for push in _pushes():
        code_events.receive(db, wechat, push)
    while convert_retention.prune_code_events(
        db, workspace_id=workspace.id, before=RETAINED_BEFORE, limit=5
    ):
        db.commit()
    return Splits(workspace, accounts, wechat, [code.id for code in codes])


def _split_answers(splits: Splits, measure: MeasureStore, convert: ConvertStore) -> dict[str, Any]:
    """What the follower-source and search panels, the codes list, the funnels, the
    attribution and the Markov paths ask the stores, over every period."""
    ws = splits.workspace.id
    openids = {f"o{n}" for n in range(10)}
    found: dict[str, Any] = {
        "codes all time": convert.code_event_counts(workspace_id=ws),
        "codes of s1": convert.code_event_counts(workspace_id=ws, code_ids=splits.codes[:1]),
        "old events": convert.count_code_events_before(
            workspace_id=ws, before=RETAINED_BEFORE, kept=lambda: {"o4"}
        ),
        "pending": sorted(
            (event.channel_id, event.event_id, event.openid, event.occurred_at)
            for event in convert.pending_origins(limit=100)
        ),
    }
    for name, (start, end) in PERIODS.items():
        for account in splits.accounts:
            found[f"breakdowns {account.id} {name}"] = sorted(
                measure.breakdown_sums(account.id, start.date(), (end - timedelta(days=1)).date())
            )
        found[f"codes {name}"] = convert.code_event_counts(workspace_id=ws, start=start, end=end)
        found[f"scans {name}"] = dict(
            convert.scans_of(workspace_id=ws, openids=openids, since=start, until=end)
        )
        found[f"paths {name}"] = list(convert.code_paths(workspace_id=ws, since=start, until=end))
    return found


def _dies_after_batch(
    monkeypatch: pytest.MonkeyPatch, copy: analytics_copy.AnalyticsCopy, batches: int
) -> None:
    """Make the copy's process die right after its ``batches``-th batch reached ClickHouse,
    before the batch's progress was recorded."""
    write_rows = copy.write_rows
    written: list[str] = []

    def then_dies(client: AnalyticsClient, rows: Sequence[Any], token: str) -> None:
        write_rows(client, rows, token)
        written.append(token)
        if len(written) == batches:
            raise KeyboardInterrupt

    monkeypatch.setattr(copy, "write_rows", then_dies)


def test_breakdowns_and_code_events_copy_verify_resume_and_answer_the_same(
    db: Session,
    splits: Splits,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given accounts' follower sources and search words and a WeChat account's scans and
    follows on SQL (some counted into hours and deleted), when each copy dies right after
    its third batch reached ClickHouse and is run again with another batch size, then every
    month of every copy has the same count and checksum on both sides (nothing counted
    twice), every question the pages ask the stores has the same answer, a further run
    copies nothing, and a restart from the first month changes nothing."""
    copies = [copy for copy in declared_copies() if copy.name in SPLIT_COPIES]
    assert [copy.name for copy in copies] == list(SPLIT_COPIES)  # facts before their hours
    assert int(db.scalar(select(func.count()).select_from(CodeEventHour)) or 0) > 0

    for copy in copies:
        with monkeypatch.context() as dying:
            _dies_after_batch(dying, copy, 3)
            with pytest.raises(KeyboardInterrupt):
                analytics_copy.copy_months(db, clickhouse, copy, batch=4)
        # Resumed with another batch size: the month it stopped in keeps the first run's.
        assert analytics_copy.copy_months(db, clickhouse, copy, batch=7) > 0

    months: dict[str, list[str]] = {}
    for copy in copies:
        checks = analytics_copy.verify(db, clickhouse, copy)
        assert [check for check in checks if not check.matches] == [], copy.name
        assert all(check.sql_count == check.store_count for check in checks), copy.name
        months[copy.name] = [check.month for check in checks]
    assert months == {
        "measure_account_day_breakdowns": ["2026-12", "2027-01", "2027-02"],
        "convert_code_events": ["2026-12", "2027-01", "2027-02"],
        "convert_code_event_hours": ["2026-12", "2027-01"],
    }

    on_sql = _split_answers(splits, SqlMeasureStore(db), SqlConvertStore(db))
    on_clickhouse = _split_answers(
        splits, ClickHouseMeasureStore(clickhouse, db), ClickHouseConvertStore(clickhouse, db)
    )
    assert on_clickhouse == on_sql
    first, second = splits.accounts
    s1, s2 = splits.codes
    assert on_sql[f"breakdowns {first.id} december"] == [
        ("follower_source", "article", 2 * sum(range(20, 32))),
        ("follower_source", "search", sum(range(20, 32))),
        ("search", "口红", sum(day % 5 + 1 for day in range(20, 32))),
        ("search", "新品", 7 * 12),
    ]
    assert ("search", "新品", 14 * 16) in on_sql[f"breakdowns {second.id} january"]
    assert on_sql["breakdowns " + str(first.id) + " empty"] == []
    # 60 pushes, a third without a scene: 40 counted, those deleted included.
    assert sum(on_sql["codes all time"].values()) == 40
    assert on_sql["codes all time"][(s1, "follow")] > 0
    assert on_sql["codes all time"][(s2, "scan")] > 0
    assert on_sql["old events"] == 0
    assert len(on_sql["pending"]) > 0  # follows without a scene, not yet asked about
    assert on_sql["codes empty"] == {}

    assert all(analytics_copy.copy_months(db, clickhouse, copy) == 0 for copy in copies)
    for copy in copies:
        analytics_copy.forget_state(clickhouse, copy.name)
        assert analytics_copy.copy_months(db, clickhouse, copy, batch=4) > 0
        assert all(check.matches for check in analytics_copy.verify(db, clickhouse, copy))
    assert (
        _split_answers(
            splits,
            ClickHouseMeasureStore(clickhouse, db),
            ClickHouseConvertStore(clickhouse, db),
        )
        == on_sql
    )
