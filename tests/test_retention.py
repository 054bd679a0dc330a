"""Retention of raw analytics rows: each workspace's periods (checked where they enter),
the deletions in resumable batches, and every figure of the days deleted kept as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import (
    AuditEvent,
    Membership,
    UserCreate,
    Workspace,
    WorkspaceCreate,
)
from guanxi.convert import codes, kols, links, reports
from guanxi.convert.follows import code_follows
from guanxi.convert.models import Kol, LinkClick, Order, OrderStatus
from guanxi.convert.scene_models import CodeEvent, CodeEventKind, CodeKind, SceneCode
from guanxi.core.db import make_session_factory, utcnow
from guanxi.core.errors import NotFoundError, UserError
from guanxi.listening.insight import service as dashboards
from guanxi.listening.mentions.models import Mention, MentionEnrichment
from guanxi.listening.topics.models import MentionFacet, TopicMatch, TopicQuery
from guanxi.listening.topics.service import (
    TopicForm,
    create_topic,
    refresh_rollup,
    rematch_topic,
)
from guanxi.measure import curves
from guanxi.measure.models import FoundBy, MeasuredPost, PostSnapshot
from guanxi.retention import service as retention
from guanxi.retention.models import RetentionSetting
from tests.cli import run, upgraded
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token
from tests.listening_topics_support import add_mention
from tests.measure_support import make_channel

OLD_DAY = datetime(2026, 8, 1, 9, tzinfo=UTC)
RECENT_DAY = datetime(2026, 11, 20, 9, tzinfo=UTC)
# Keeping 100 days on this day deletes what came before 2026-08-29 00:00 UTC.
NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def _keep(db: Session, workspace: Workspace, kind: str, days: int | None) -> None:
    retention.set_retention(db, workspace=workspace, actor=None, kind=kind, keep_days=days)
    db.commit()


# --- The periods ---------------------------------------------------------------------------


def test_every_capability_declares_its_kinds_with_a_minimum() -> None:
    kinds = {kind.key: kind for kind in retention.retention_kinds()}
    assert set(kinds) == {
        "listening.mentions",
        "measure.snapshots",
        "convert.clicks",
        "convert.code_events",
    }
    assert kinds["convert.clicks"].minimum_days == 30  # the longest attribution window
    assert kinds["measure.snapshots"].minimum_days == 90
    assert kinds["listening.mentions"].minimum_days == 97  # an alert's window and baseline


def test_a_period_below_the_kinds_minimum_is_refused_with_its_reason(
    db: Session, workspace: Workspace
) -> None:
    with pytest.raises(UserError, match="at least 30 days: orders are attributed"):
        _keep(db, workspace, "convert.clicks", 29)
    with pytest.raises(UserError, match="at most 3650 days"):
        _keep(db, workspace, "convert.clicks", 3651)
    with pytest.raises(NotFoundError, match=r"listening\.mentions"):
        _keep(db, workspace, "listening.posts", 60)


def test_without_a_period_nothing_is_deleted(db: Session, workspace: Workspace) -> None:
    add_mention(db, workspace_id=workspace.id, text="很久以前", posted_at=OLD_DAY)
    db.commit()
    assert retention.prune(db, now=NOW) == []
    assert db.scalar(select(func.count()).select_from(Mention)) == 1


# --- Listening: the dashboards' counts stay ------------------------------------------------


def _listening_world(db: Session, workspace: Workspace) -> None:
    ws = workspace.id
    create_topic(db, workspace_id=ws, form=TopicForm(name="Starbucks", query="星巴克"))
    for n in range(5):
        add_mention(
            db, workspace_id=ws, text=f"星巴克 旧 {n}", posted_at=OLD_DAY, sentiment="negative"
        )
    add_mention(db, workspace_id=ws, text="星巴克 新", posted_at=RECENT_DAY, sentiment="positive")
    add_mention(db, workspace_id=ws, text="天气不错", posted_at=RECENT_DAY)
    db.commit()


def _volume(db: Session, workspace: Workspace) -> object:
    filters = dashboards.DashboardFilters(start=OLD_DAY.date(), end=RECENT_DAY.date())
    return {
        name: dashboards.PANELS[name](db, workspace_id=workspace.id, filters=filters)  # type: ignore[call-arg]
        for name in ("volume", "sentiment")
    }


def test_pruned_mentions_leave_the_dashboards_figures_unchanged(
    db: Session, workspace: Workspace
) -> None:
    """Given five old mentions and two recent ones, when a 100-day retention is applied, then
    the old ones go with their enrichment, facets and matches, the dashboards show the same
    figures, and neither a topic's rematch nor a full recount erases the old days."""
    _listening_world(db, workspace)
    before = _volume(db, workspace)
    _keep(db, workspace, "listening.mentions", 100)

    results = retention.prune(db, now=NOW, batch_rows=2)

    assert [(r.kind, r.rows) for r in results] == [("listening.mentions", 5)]
    assert results[0].before == datetime(2026, 8, 29, tzinfo=UTC)
    for table, left in ((Mention, 2), (MentionEnrichment, 2), (MentionFacet, 2), (TopicMatch, 1)):
        assert db.scalar(select(func.count()).select_from(table)) == left, table
    assert _volume(db, workspace) == before
    rematch_topic(db, topic=db.scalars(select(TopicQuery)).one())
    refresh_rollup(db, workspace_id=workspace.id)
    refresh_rollup(db, workspace_id=workspace.id, days={OLD_DAY.date(), RECENT_DAY.date()})
    db.commit()
    assert _volume(db, workspace) == before


def test_a_prune_is_audited_counted_and_idempotent(db: Session, workspace: Workspace) -> None:
    _listening_world(db, workspace)
    _keep(db, workspace, "listening.mentions", 100)

    retention.prune(db, now=NOW)
    again = retention.prune(db, now=NOW)

    assert [(r.kind, r.rows) for r in again] == [("listening.mentions", 0)]
    setting = db.get_one(RetentionSetting, (workspace.id, "listening.mentions"))
    assert setting.rows_deleted == 5
    assert setting.pruned_before == datetime(2026, 8, 29, tzinfo=UTC)
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.workspace_id == workspace.id, AuditEvent.action == "retention.prune"
        )
    ).all()
    assert len(events) == 1  # the second run deleted nothing
    assert events[0].after == {"kind": "listening.mentions", "rows": 5, "before": "2026-08-29"}


def test_a_dry_run_counts_and_deletes_nothing(db: Session, workspace: Workspace) -> None:
    _listening_world(db, workspace)
    _keep(db, workspace, "listening.mentions", 100)

    results = retention.prune(db, now=NOW, dry_run=True)

    assert [(r.kind, r.rows, r.dry_run) for r in results] == [("listening.mentions", 5, True)]
    assert db.scalar(select(func.count()).select_from(Mention)) == 7
    assert (
        retention.detail_kept_from(db, workspace_id=workspace.id, kind="listening.mentions") is None
    )


# --- Convert: clicks counted per hour, the ones orders point to kept -----------------------


def _click(
    link_id: int, workspace_id: int, n: int, at: datetime, **extra: object
) -> dict[str, object]:
    return {
        "click_id": f"click-{n}",
        "link_id": link_id,
        "workspace_id": workspace_id,
        "clicked_at": at,
        "hour": int(at.timestamp()) // 3600,
        "visitor": extra.pop("visitor", f"v{n}"),
        "network": "203.0.113.0/24",
        "platform": extra.pop("platform", "wechat"),
        "device": "phone",
        "referrer_host": "",
        "bot": extra.pop("bot", False),
    }


def test_pruned_clicks_keep_every_count_and_the_clicks_orders_point_to(
    db: Session, workspace: Workspace
) -> None:
    """Given old and recent clicks on a KOL's link (one old click brought an order), when a
    prune is stopped after its first batch and run again, then the link's counts, its apps
    and the KOL's clicks of any period are those before, and the ordered click is kept."""
    kol = Kol(workspace_id=workspace.id, name="小红")
    db.add(kol)
    db.flush()
    link = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(url="https://a.example.cn", kol_id=kol.id),
        created_by_id=None,
    )
    db.commit()
    old = OLD_DAY.replace(minute=10)
    clicks = [
        _click(link.id, workspace.id, 1, old),
        _click(link.id, workspace.id, 2, old + timedelta(minutes=5), visitor="v1"),  # repeat
        _click(link.id, workspace.id, 3, old, bot=True),
        _click(link.id, workspace.id, 4, old + timedelta(hours=3), platform="weibo"),
        _click(link.id, workspace.id, 5, old + timedelta(hours=3, minutes=1)),
        _click(link.id, workspace.id, 6, RECENT_DAY),
    ]
    links.store_clicks(db, clicks)
    db.add(
        Order(
            workspace_id=workspace.id,
            source="wechat_pay",
            external_id="o1",
            status=OrderStatus.PAID,
            ordered_at=old + timedelta(hours=4),
            amount_fen=9900,
            click_id="click-5",
        )
    )
    db.commit()
    periods = [
        (OLD_DAY.replace(hour=0), OLD_DAY.replace(hour=12)),
        (OLD_DAY.replace(hour=12), OLD_DAY.replace(hour=13)),  # after the clicks: none
        (OLD_DAY.replace(hour=9), RECENT_DAY + timedelta(days=1)),
    ]

    def figures() -> object:
        counts = links.click_counts(db, link_ids=[link.id])[link.id]
        return (
            (counts.counted, counts.visits, counts.bots),
            links.clicks_by_platform(db, link_id=link.id),
            [kols.kol_clicks(db, workspace_id=workspace.id, start=s, end=e) for s, e in periods],
        )

    before = figures()
    _keep(db, workspace, "convert.clicks", 30)

    class StoppedError(Exception):
        pass

    def stop_after_the_first_batch(kind: str, done: int, total: int) -> None:
        if done:
            raise StoppedError

    with pytest.raises(StoppedError):
        retention.prune(db, now=NOW, batch_rows=2, progress=stop_after_the_first_batch)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(LinkClick)) == 4  # one batch went
    assert figures() == before
    retention.prune(db, now=NOW, batch_rows=2)

    remaining = set(db.scalars(select(LinkClick.click_id)))
    assert remaining == {"click-5", "click-6"}  # the ordered click and the recent one
    assert figures() == before
    setting = db.get_one(RetentionSetting, (workspace.id, "convert.clicks"))
    assert setting.rows_deleted == 4


# --- Measure: the curve's oldest points go, the post's figures stay --------------------------


def test_pruned_snapshots_leave_the_posts_figures_and_say_where_the_curve_starts(
    db: Session, workspace: Workspace
) -> None:
    channel = make_channel(db, workspace)
    post = MeasuredPost(
        workspace_id=workspace.id,
        channel_id=channel.id,
        external_id="p1",
        published_at=OLD_DAY,
        found_by=FoundBy.TIMELINE,
        views=900,
        snapshot_count=3,
    )
    db.add(post)
    db.flush()
    for hours, views in ((1, 100), (24, 500)):
        db.add(
            PostSnapshot(post_id=post.id, observed_at=OLD_DAY + timedelta(hours=hours), views=views)
        )
    db.add(PostSnapshot(post_id=post.id, observed_at=RECENT_DAY, views=900))
    db.commit()
    _keep(db, workspace, "measure.snapshots", 90)

    retention.prune(db, now=NOW)

    curve = curves.post_curve(db, workspace=workspace, post_id=post.id)
    assert [point.views for point in curve.points] == [900]
    assert curve.detail_kept_from == datetime(2026, 9, 8, tzinfo=UTC)
    db.refresh(post)
    assert post.views == 900


# --- The page and the API ------------------------------------------------------------------


def test_an_owner_sets_a_period_on_the_settings_page(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, membership = signed_in
    page = client.get("/w/acme/settings/retention")
    assert page.status_code == 200
    assert 'name="keep_days.convert.clicks"' in page.text
    token = csrf_token(client)

    refused = client.post(
        "/w/acme/settings/retention",
        data={"csrf_token": token, "keep_days.convert.clicks": "7"},
    )
    assert refused.status_code == 400
    assert "at least 30 days" in refused.text
    nonsense = client.post(
        "/w/acme/settings/retention",
        data={"csrf_token": token, "keep_days.convert.clicks": "a month"},
    )
    assert "Enter a whole number of days" in nonsense.text
    saved = client.post(
        "/w/acme/settings/retention",
        data={
            "csrf_token": token,
            "keep_days.convert.clicks": "45",
            "keep_days.listening.mentions": "",
        },
    )
    assert saved.status_code == 200  # followed to the page
    shown = {
        k.kind.key: k.keep_days
        for k in retention.workspace_retention(db, workspace_id=membership.workspace_id)
    }
    assert shown == {
        "listening.mentions": None,
        "measure.snapshots": None,
        "convert.clicks": 45,
        "convert.code_events": None,
    }


def test_the_api_reads_and_sets_a_period_with_the_same_rules(
    client: TestClient, db: Session, workspace: Workspace
) -> None:
    _token, plain = accounts.create_api_token(
        db, membership=workspace.memberships[0], name="script"
    )
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}

    refused = client.put(
        "/api/v1/w/acme/retention/measure.snapshots", json={"keep_days": 30}, headers=headers
    )
    assert refused.status_code == 400
    assert "at least 90 days" in refused.json()["detail"]
    saved = client.put(
        "/api/v1/w/acme/retention/measure.snapshots", json={"keep_days": 120}, headers=headers
    )
    assert saved.status_code == 200
    assert saved.json()["keep_days"] == 120
    listed = client.get("/api/v1/w/acme/retention", headers=headers).json()
    assert {row["kind"]: row["keep_days"] for row in listed}["measure.snapshots"] == 120


# --- The command line ----------------------------------------------------------------------


def test_db_prune_counts_then_deletes_one_workspaces_old_rows(cli_database: Engine) -> None:
    upgraded(cli_database)
    with make_session_factory(cli_database)() as db:
        owner = accounts.create_user(
            db, data=UserCreate(email="o@acme.example", name="O", password="a long password 1")
        )
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="acme", name="Acme"), owner=owner
        )
        for n in range(3):
            add_mention(
                db,
                workspace_id=workspace.id,
                text=f"旧 {n}",
                posted_at=utcnow() - timedelta(days=200),
            )
        add_mention(db, workspace_id=workspace.id, text="新", posted_at=utcnow())
        _keep(db, workspace, "listening.mentions", 100)

    dry = run("db", "prune", "--workspace", "acme", "--dry-run")
    assert dry.exit_code == 0
    assert "rows to delete" in dry.output
    assert "listening.mentions" in dry.output
    done = run("db", "prune", "--workspace", "acme")
    assert done.exit_code == 0
    assert "deleted" in done.output
    with cli_database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Mention.__table__)) == 1
    unknown = run("db", "prune", "--workspace", "nobody")
    assert unknown.exit_code == 1
    assert "no workspace nobody" in unknown.output


def test_the_listening_pages_say_from_which_day_posts_are_kept(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, membership = signed_in
    workspace = membership.workspace
    assert "detail-kept-from" not in client.get("/w/acme/listen/dashboard").text
    _listening_world(db, workspace)
    _keep(db, workspace, "listening.mentions", 100)
    retention.prune(db, now=NOW)

    for page in ("/w/acme/listen/dashboard", "/w/acme/listen/mentions"):
        text = client.get(page).text
        assert 'id="detail-kept-from"' in text, page
        assert "Posts before 2026-08-29 were deleted" in text, page


def test_pruned_code_events_keep_the_codes_counts_and_the_events_of_people_who_ordered(
    db: Session, workspace: Workspace
) -> None:
    channel = make_channel(db, workspace)
    code = SceneCode(
        workspace_id=workspace.id,
        channel_id=channel.id,
        kind=CodeKind.QR_PERMANENT,
        scene="s1",
        label="门店海报",
    )
    db.add(code)
    db.flush()
    happened = [
        ("e1", "o-anna", CodeEventKind.SCAN, OLD_DAY),
        ("e2", "o-anna", CodeEventKind.FOLLOW, OLD_DAY + timedelta(minutes=3)),
        ("e3", "o-bo", CodeEventKind.FOLLOW, OLD_DAY + timedelta(hours=2)),
        ("e4", "o-chen", CodeEventKind.FOLLOW, RECENT_DAY),
    ]
    for event_id, openid, kind, at in happened:
        db.add(
            CodeEvent(
                workspace_id=workspace.id,
                channel_id=channel.id,
                code_id=code.id,
                event_id=event_id,
                openid=openid,
                scene="s1",
                kind=kind,
                occurred_at=at,
            )
        )
    db.add(  # Bo ordered: his path stays whole for attribution
        Order(
            workspace_id=workspace.id,
            source="wechat_pay",
            external_id="o2",
            status=OrderStatus.PAID,
            ordered_at=OLD_DAY + timedelta(days=1),
            amount_fen=5000,
            openid="o-bo",
        )
    )
    db.commit()
    periods = [(OLD_DAY.replace(hour=0), OLD_DAY.replace(hour=10)), (OLD_DAY, NOW)]

    def figures() -> object:
        counts = {c.id: n for c, n in codes.list_codes(db, workspace_id=workspace.id)}
        follows = [code_follows(db, workspace_id=workspace.id, start=s, end=e) for s, e in periods]
        return counts, [(f.by_code, f.scans_by_campaign) for f in follows]

    before = figures()
    _keep(db, workspace, "convert.code_events", 30)

    retention.prune(db, now=NOW, batch_rows=1)

    assert set(db.scalars(select(CodeEvent.event_id))) == {"e3", "e4"}
    assert figures() == before

    def paths_kept_from(first: date) -> datetime | None:
        estimate = reports.path_estimate(
            db,
            workspace_id=workspace.id,
            first_day=first,
            last_day=first + timedelta(days=6),
            zone="Asia/Shanghai",
            window_days=30,
        )
        return estimate.paths_kept_from

    # Events before Nov 7 went. A week from Dec 8 (Shanghai) reads paths from Nov 7, 16:00
    # UTC (30 days before): all kept. A week from Nov 20 reads the deleted days.
    assert paths_kept_from(date(2026, 12, 8)) is None
    assert paths_kept_from(date(2026, 11, 20)) == datetime(2026, 11, 7, tzinfo=UTC)
