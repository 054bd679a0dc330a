"""The convert store's contract: the SQL store and the ClickHouse store give the same
answer to every question, on the same clicks and code events, after every kind of write.

Given golden clicks copied from journal lines by the redirect's copier (``journal_store``),
scans and follows received by the WeChat push handler, and orders pointing back to some,
each test asks every query of the store, on the SQL database (SQLite, and PostgreSQL with
``GUANXI_TEST_DATABASE_URL``) and on ClickHouse (embedded chDB, and a server with
``GUANXI_TEST_CLICKHOUSE_URL``), and expects the same answers, some stated outright:
periods cut at midnight in Beijing (+08:00), New York (−05:00) and Mumbai (+05:30, where
a day starts inside an hour), an empty period, a re-sent batch, repeats in one hour, the
origins job, retention, and a copy from SQL to ClickHouse.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.connectors.push import CodeScanned
from guanxi.connectors.scene_codes import FollowerOrigin
from guanxi.convert import code_events, kols, links, retention
from guanxi.convert.attribution.engine import attribute
from guanxi.convert.attribution.paths import markov_attribution
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.models import Kol, Order, OrderStatus, TrackedLink
from guanxi.convert.scene_models import CodeKind, SceneCode
from guanxi.convert.store import convert_store
from guanxi.convert.store.base import ClickTouch, ConvertStore, LinkCounts
from guanxi.convert.store.clickhouse import ClickHouseConvertStore
from guanxi.convert.store.copy import TABLES
from guanxi.convert.store.sql import SqlConvertStore
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.publishing.models import Campaign
from tests.analytics.conftest import fresh_database, use_convert_store
from tests.conftest import UserFactory, WorkspaceFactory

BEIJING = timezone(timedelta(hours=8))
NEW_YORK = timezone(timedelta(hours=-5))
MUMBAI = timezone(timedelta(hours=5, minutes=30))
WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)
WEIBO = (
    "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/108.0 Mobile Safari/537.36 Weibo (vivo-V2227A__weibo__13.11.3__android__android13)"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
BAIDU = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
CUTOFF = datetime(2026, 2, 1, tzinfo=UTC)  # retention: the January facts are old


def at(day: str, clock: str, zone: timezone = UTC) -> datetime:
    """A moment: ``at("2026-03-01", "15:30")``."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone)


def day_of(day: str, zone: timezone) -> tuple[datetime, datetime]:
    """The period of one day in ``zone``."""
    start = at(day, "00:00", zone)
    return start, start + timedelta(days=1)


WINDOWS: dict[str, tuple[datetime, datetime]] = {
    "all": (at("2026-01-01", "00:00"), at("2026-04-01", "00:00")),
    "beijing_mar_1": day_of("2026-03-01", BEIJING),
    "beijing_mar_2": day_of("2026-03-02", BEIJING),
    "new_york_feb_28": day_of("2026-02-28", NEW_YORK),
    "new_york_mar_1": day_of("2026-03-01", NEW_YORK),
    "mumbai_mar_1": day_of("2026-03-01", MUMBAI),
    "mumbai_mar_2": day_of("2026-03-02", MUMBAI),
    "mumbai_jan_10": day_of("2026-01-10", MUMBAI),
    "cut_after_old_hour": (at("2026-01-10", "10:15"), at("2026-01-11", "00:00")),
    "cut_before_old_hour": (at("2026-01-09", "00:00"), at("2026-01-10", "10:15")),
    "empty": (at("2025-01-01", "00:00"), at("2025-02-01", "00:00")),
}


@dataclass
class World:
    """The golden workspace: its links, codes, journal lines, pushed events and orders."""

    db: Session
    sessions: sessionmaker[Session]
    workspace: Workspace
    channel: Channel
    links: dict[str, TrackedLink] = field(default_factory=dict)
    codes: dict[str, SceneCode] = field(default_factory=dict)
    kols: dict[str, Kol] = field(default_factory=dict)

    @property
    def ws(self) -> int:
        return self.workspace.id

    def line(
        self, click_id: str, link: str, moment: datetime, visitor: str, agent: str
    ) -> dict[str, Any]:
        """A journal line as the redirect writes it."""
        return {
            "click_id": click_id,
            "link_id": self.links[link].id,
            "workspace_id": self.ws,
            "clicked_at": moment.isoformat(),
            "hour": int(moment.timestamp()) // 3600,
            "visitor": visitor,
            "network": "203.0.113.0/24",
            "referrer_host": "",
            "agent": agent,
            "head": False,
        }

    def batches(self) -> list[list[dict[str, Any]]]:
        """The journal's batches, the first sent twice (a copier that died before it
        recorded its progress), one click twice in the last."""
        first = [
            self.line("c01", "L1", at("2026-03-01", "15:30"), "v1", WECHAT),  # 23:30 Beijing
            self.line("c02", "L1", at("2026-03-01", "15:50"), "v1", WECHAT),  # repeat: hour
            self.line("c03", "L1", at("2026-03-01", "16:10"), "v1", WECHAT),  # next hour
            self.line("c04", "L1", at("2026-03-01", "16:20"), "v2", WEIBO),
            self.line("c05", "L2", at("2026-03-01", "04:50"), "v3", DESKTOP),  # 23:50 New York
            self.line("c06", "L2", at("2026-03-01", "05:10"), "v3", DESKTOP),
            self.line("c07", "L2", at("2026-03-01", "05:20"), "bot", BAIDU),
        ]
        second = [
            self.line("c08", "L3", at("2026-03-01", "18:15"), "v4", WECHAT),  # 23:45 Mumbai
            self.line("c09", "L3", at("2026-03-01", "18:45"), "v5", WEIBO),  # 00:15 Mumbai
            self.line("c10", "L1", at("2026-01-10", "10:00"), "v6", WECHAT),
            self.line("c11", "L1", at("2026-01-10", "10:30"), "v6", WECHAT),
            self.line("c12", "L2", at("2026-01-11", "09:00"), "v7", WEIBO),  # an order's
            self.line("c13", "L3", at("2026-01-12", "09:00"), "bot", BAIDU),
            self.line("c04", "L1", at("2026-03-01", "16:20"), "v2", WEIBO),
        ]
        return [first, first, second]

    def events(self) -> list[CodeScanned]:
        """The pushes, the first retried twice by WeChat."""

        def pushed(openid: str, scene: str, followed: bool, moment: datetime) -> CodeScanned:
            name = "subscribe" if followed else "SCAN"
            return CodeScanned(openid, scene, followed, moment, f"{openid}:{moment:%s}:{name}")

        first = pushed("oA", "s1", False, at("2026-03-01", "15:40"))
        return [
            first,
            first,
            first,
            pushed("oA", "s2", True, at("2026-03-01", "16:05")),
            pushed("oB", "", True, at("2026-03-01", "05:30")),  # no scene: asked later
            pushed("oC", "s1", False, at("2026-03-01", "18:20")),
            pushed("oD", "s2", False, at("2026-01-10", "10:00")),  # old, never ordered
            pushed("oE", "s1", False, at("2026-01-10", "11:00")),  # old, ordered
            pushed("oF", "", True, at("2026-03-01", "06:00")),  # the origins job names s1
        ]

    def write(self) -> None:
        """Every batch through the journal copier, every push through the handler."""
        store = links.journal_store(self.sessions)
        for batch in self.batches():
            store(copy.deepcopy(batch))
        for event in self.events():
            code_events.receive(self.db, self.channel, event)

    def kept_clicks(self) -> set[str]:
        return {"c12"}

    def kept_openids(self) -> set[str]:
        return {"oE", "oA"}


def _session_of(db: Session) -> sessionmaker[Session]:
    def sessions() -> AbstractContextManager[Session]:
        return nullcontext(db)

    return sessions  # type: ignore[return-value]  # the copier only opens a session


@pytest.fixture
def world(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    settings: Settings,
) -> World:
    """The golden workspace, before any fact is written."""
    workspace = make_workspace("golden", owner=make_user("owner@golden.example"))
    channel = create_channel(
        db,
        workspace=workspace,
        connector="wechat_oa",
        platform="wechat",
        external_id="wx-golden",
        name="金色葡萄园",
        credentials={"app_id": "wx-golden", "app_secret": "s", "server_token": "t"},
        box=SecretBox.from_settings(settings),
        actor=None,
    )
    campaign = Campaign(workspace_id=workspace.id, name="春季新品")
    db.add(campaign)
    db.flush()
    found = World(db, _session_of(db), workspace, channel)
    for name in ("A", "B"):
        found.kols[name] = Kol(workspace_id=workspace.id, name=name, platform="weibo", handle=name)
        db.add(found.kols[name])
    db.flush()
    for key, kol, campaign_id in (("L1", "A", campaign.id), ("L2", "B", None), ("L3", None, None)):
        found.links[key] = TrackedLink(
            workspace_id=workspace.id,
            key=f"gold{key}",
            original_url="https://shop.example.cn/",
            destination="https://shop.example.cn/",
            campaign_id=campaign_id,
            kol_id=found.kols[kol].id if kol else None,
        )
        db.add(found.links[key])
    for scene, kind, kol in (
        ("s1", CodeKind.QR_TEMPORARY, "A"),
        ("s2", CodeKind.QR_PERMANENT, None),
    ):
        found.codes[scene] = SceneCode(
            workspace_id=workspace.id,
            channel_id=channel.id,
            kind=kind,
            scene=scene,
            campaign_id=campaign.id if kol else None,
            kol_id=found.kols[kol].id if kol else None,
        )
        db.add(found.codes[scene])
    for n, (moment, click_id, openid) in enumerate(
        (
            (at("2026-03-01", "17:00"), "c01", ""),
            (at("2026-03-02", "01:00"), "", "oA"),
            (at("2026-01-11", "12:00"), "c12", "oE"),
            (at("2026-03-01", "20:00"), "c07", ""),  # a bot's click
            (at("2026-03-01", "21:00"), "c99", ""),  # a click never stored
        )
    ):
        db.add(
            Order(
                workspace_id=workspace.id,
                source="api",
                external_id=f"G{n}",
                status=OrderStatus.PAID,
                ordered_at=moment,
                paid_at=moment,
                amount_fen=10_000 * (n + 1),
                click_id=click_id,
                openid=openid,
            )
        )
    db.commit()
    return found


def answers(world: World, store: ConvertStore) -> dict[str, Any]:
    """Every question of the store, over every window."""
    ws = world.ws
    link_ids = sorted(link.id for link in world.links.values())
    code_ids = sorted(code.id for code in world.codes.values())
    click_ids = [f"c{n:02d}" for n in range(1, 15)]
    openids = {"oA", "oB", "oC", "oD", "oE", "oF", "oZ"}
    orders = (
        select(Order.external_id, Order.amount_fen)
        .where(Order.workspace_id == ws)
        .order_by(Order.external_id)
    )
    found: dict[str, Any] = {
        "order_clicks": [
            list(chunk) for chunk in store.order_clicks(orders, workspace_id=ws, chunk=2)
        ],
        "order_clicks_with_bots": [
            list(chunk)
            for chunk in store.order_clicks(orders, workspace_id=ws, chunk=2, with_bots=True)
        ],
        "link_counts": store.link_counts(link_ids=link_ids),
        "by_platform": {i: store.counted_by_platform(link_id=i) for i in link_ids},
        "illustrative": store.has_illustrative_clicks(workspace_id=ws),
        "touches": store.click_touches(workspace_id=ws, click_ids=click_ids),
        "touches_with_bots": store.click_touches(
            workspace_id=ws, click_ids=click_ids, with_bots=True
        ),
        "codes_all_time": store.code_event_counts(workspace_id=ws),
        "codes_of_s1": store.code_event_counts(workspace_id=ws, code_ids=code_ids[:1]),
        "codes_of_none": store.code_event_counts(workspace_id=ws, code_ids=[]),
        "old_clicks": store.count_clicks_before(
            workspace_id=ws, before=CUTOFF, kept=world.kept_clicks
        ),
        "old_events": store.count_code_events_before(
            workspace_id=ws, before=CUTOFF, kept=world.kept_openids
        ),
        "pending": sorted(
            (event.channel_id, event.event_id, event.openid)
            for event in store.pending_origins(limit=10)
        ),
    }
    for name, (start, end) in WINDOWS.items():
        found[f"counted {name}"] = store.counted_by_link(
            workspace_id=ws, link_ids=link_ids, start=start, end=end
        )
        found[f"codes {name}"] = store.code_event_counts(workspace_id=ws, start=start, end=end)
        found[f"scans {name}"] = dict(
            store.scans_of(workspace_id=ws, openids=openids, since=start, until=end)
        )
        found[f"paths {name}"] = list(store.code_paths(workspace_id=ws, since=start, until=end))
    return found


def service_answers(world: World) -> dict[str, Any]:
    """What the services built on the store answer (the configured store)."""
    start, end = WINDOWS["all"]
    ws = world.ws
    return {
        "kol_clicks": kols.kol_clicks(world.db, workspace_id=ws, start=start, end=end),
        "links": [
            (link.key, counts) for link, counts in links.list_links(world.db, workspace_id=ws)
        ],
        "platforms": links.clicks_by_platform(world.db, link_id=world.links["L1"].id),
        **{
            f"attribution {model}": attribute(
                world.db, workspace_id=ws, start=start, end=end, model=model, window_days=30
            )
            for model in (AttributionModel.LAST_TOUCH, AttributionModel.LINEAR)
        },
        "markov": markov_attribution(world.db, workspace_id=ws, start=start, end=end),
    }


def write_both(world: World, monkeypatch: pytest.MonkeyPatch, client: AnalyticsClient) -> None:
    """The world's facts through the real write paths, to each store."""
    for target in (None, client):
        use_convert_store(monkeypatch, target)
        world.write()
    use_convert_store(monkeypatch, None)


def test_every_question_has_the_same_answer_on_both_stores(
    world: World, clickhouse: AnalyticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the golden facts written to each store (a batch twice, a push three times),
    every query answers the same; the counting rule and the retries hold."""
    write_both(world, monkeypatch, clickhouse)
    sql, ch = SqlConvertStore(world.db), ClickHouseConvertStore(clickhouse, world.db)

    on_sql = answers(world, sql)
    assert answers(world, ch) == on_sql

    l1, l2, l3 = (world.links[key].id for key in ("L1", "L2", "L3"))
    assert on_sql["link_counts"] == {
        l1: LinkCounts(counted=4, visits=6, bots=0),  # c02, c11: repeats in their hours
        l2: LinkCounts(counted=3, visits=4, bots=1),
        l3: LinkCounts(counted=2, visits=3, bots=1),
    }
    assert on_sql["counted beijing_mar_1"] == {l1: 1, l2: 2}  # c01 (23:30), c05 and c06
    assert on_sql["counted beijing_mar_2"] == {l1: 2, l3: 2}
    assert on_sql["counted new_york_feb_28"] == {l2: 1}  # c05 at 23:50
    assert on_sql["counted mumbai_mar_1"] == {l1: 3, l2: 2, l3: 1}  # c08 at 23:45
    assert on_sql["counted empty"] == {}
    s1, s2 = world.codes["s1"].id, world.codes["s2"].id
    assert on_sql["codes_all_time"] == {(s1, "scan"): 3, (s2, "follow"): 1, (s2, "scan"): 1}
    assert len(on_sql["pending"]) == 2  # oB and oF
    c01 = ClickTouch(l1, at("2026-03-01", "15:30"), "wechat")
    c12 = ClickTouch(l2, at("2026-01-11", "09:00"), "weibo")
    assert on_sql["order_clicks"] == [  # chunks of two orders, in the selection's order
        [(("G0", 10_000), c01), (("G1", 20_000), None)],
        [(("G2", 30_000), c12), (("G3", 40_000), None)],  # a bot's click is no touch
        [(("G4", 50_000), None)],
    ]
    assert on_sql["order_clicks_with_bots"][1][1][1] == ClickTouch(
        l2, at("2026-03-01", "05:20"), ""
    )

    use_convert_store(monkeypatch, None)
    services_on_sql = service_answers(world)
    use_convert_store(monkeypatch, clickhouse)
    assert service_answers(world) == services_on_sql
    assert services_on_sql["attribution last_touch"].attributed.orders > 0


def test_retention_deletes_the_same_facts_and_keeps_every_count(
    world: World, clickhouse: AnalyticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the golden facts, when retention prunes before February in batches of one on
    each store, then both answer the same, the old facts no order points back to are gone
    from the lists, and every count is what it was."""
    write_both(world, monkeypatch, clickhouse)
    before = answers(world, SqlConvertStore(world.db))
    deleted: dict[str, tuple[int, int]] = {}
    for name, target in (("sql", None), ("clickhouse", clickhouse)):
        use_convert_store(monkeypatch, target)
        clicks = events = 0
        while n := retention.prune_clicks(world.db, workspace_id=world.ws, before=CUTOFF, limit=1):
            clicks += n
        while n := retention.prune_code_events(
            world.db, workspace_id=world.ws, before=CUTOFF, limit=1
        ):
            events += n
        world.db.commit()
        deleted[name] = (clicks, events)
    use_convert_store(monkeypatch, None)

    on_sql = answers(world, SqlConvertStore(world.db))
    assert answers(world, ClickHouseConvertStore(clickhouse, world.db)) == on_sql
    assert deleted == {"sql": (3, 1), "clickhouse": (3, 1)}  # c10, c11, c13; oD's scan
    assert (on_sql["old_clicks"], on_sql["old_events"]) == (0, 0)
    assert set(on_sql["touches_with_bots"]) == set(before["touches_with_bots"]) - {
        "c10",
        "c11",
        "c13",
    }
    unchanged = ("link_counts", "by_platform", "codes_all_time", "codes_of_s1")
    assert {key: on_sql[key] for key in unchanged} == {key: before[key] for key in unchanged}
    for name in WINDOWS:  # deleted facts are counted in their hours
        assert on_sql[f"counted {name}"] == before[f"counted {name}"], name


def test_the_origins_job_names_the_same_code_on_both_stores(
    world: World, clickhouse: AnalyticsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two follows without a scene, when the origins job learns that oF followed
    through s1, then both stores count that follow for s1 and ask about neither again."""
    write_both(world, monkeypatch, clickhouse)

    class Origins:
        def follower_origin(self, context: object, openid: str) -> FollowerOrigin:
            return FollowerOrigin(True, "ADD_SCENE_QR_CODE", "s1" if openid == "oF" else "", None)

    named = {}
    for name, target in (("sql", None), ("clickhouse", clickhouse)):
        use_convert_store(monkeypatch, target)
        named[name] = code_events.fill_origins(world.db, maker_for=lambda _c: (Origins(), None))  # type: ignore[arg-type, return-value]
    use_convert_store(monkeypatch, None)

    on_sql = answers(world, SqlConvertStore(world.db))
    assert answers(world, ClickHouseConvertStore(clickhouse, world.db)) == on_sql
    assert named == {"sql": 1, "clickhouse": 1}
    assert on_sql["pending"] == []
    assert on_sql["codes_all_time"][(world.codes["s1"].id, "follow")] == 1


def copy_to(
    client: AnalyticsClient,
    db: Session,
    *,
    tables: tuple[str, ...] = tuple(TABLES),
    token_suffix: str = "",
) -> None:
    """Copy SQL tables of convert's facts to ``client``, month by month, in batches."""
    for name in tables:
        table = TABLES[name]
        for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
            after = 0
            while rows := table.sql_rows(db, month, after, 4):
                table.write_rows(
                    client, rows, f"{name}:{month:%Y-%m}:{rows[0]['id']}{token_suffix}"
                )
                after = rows[-1]["id"]


def test_a_copy_from_sql_answers_the_same_and_a_second_copy_changes_nothing(
    world: World, chdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the golden facts on SQL, some deleted by retention, when they are copied to a
    fresh ClickHouse database, twice (the second under other tokens), then every answer is
    the same."""
    world.write()
    retention.prune_clicks(world.db, workspace_id=world.ws, before=CUTOFF, limit=2)
    retention.prune_code_events(world.db, workspace_id=world.ws, before=CUTOFF, limit=5)
    world.db.commit()
    on_sql = answers(world, SqlConvertStore(world.db))
    for client in fresh_database(chdb_url):
        copy_to(client, world.db)
        assert answers(world, ClickHouseConvertStore(client, world.db)) == on_sql
        # Facts already stored are skipped whatever the token (the hourly counts of deleted
        # facts are added: their copy relies on the token alone).
        copy_to(
            client,
            world.db,
            tables=("convert_clicks", "convert_code_events"),
            token_suffix=":again",
        )
        assert answers(world, ClickHouseConvertStore(client, world.db)) == on_sql


def test_the_configured_store_is_sql_by_default(db: Session) -> None:
    """Without GUANXI_ANALYTICS_URL the facts stay in the SQL database."""
    assert isinstance(convert_store(db), SqlConvertStore)
