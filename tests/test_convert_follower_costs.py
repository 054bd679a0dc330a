"""Cost per follower: the follows through a campaign's WeChat scene codes set against its
cost (attributed: a scan, then a follow), the accounts' own new followers (every source)
against a platform's cost, kept apart; no code made means no figure, never 0."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.convert import costs, funnel, reports
from guanxi.convert.models import CostKind, CostTarget
from guanxi.convert.scene_models import CodeEvent, CodeEventKind, CodeKind, SceneCode
from guanxi.measure.models import AccountDay
from guanxi.publishing.models import Campaign
from tests.conftest import UserFactory, WorkspaceFactory

DAY = date(2026, 11, 11)
NOON = datetime(2026, 11, 11, 4, tzinfo=UTC)  # in Shanghai


def test_cost_per_follower_per_campaign_and_platform_as_computed_by_hand(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a ¥1,000 campaign whose QR code brought 4 follows and 1 scan in November (and a
    follow in October), a campaign whose code brought 1 follow at no cost, a ¥300 campaign
    with a mini-program code only (nobody follows through one), ¥600 of WeChat ad spend and
    the account's 30 new followers reported for November, then: ¥250 a follower for the
    first campaign, no figure for the one without a QR code, ¥120 a follower (5 follows) and
    ¥20 a new follower (30, all sources) on WeChat, and the first campaign's funnel has 5
    follows and scans."""
    workspace: Workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    account = Channel(
        workspace_id=workspace.id,
        connector="wechat_oa",
        platform="wechat",
        external_id="wx-demo",
        name="普罗旺斯葡萄酒",
    )
    coded, free, uncoded = (
        Campaign(workspace_id=workspace.id, name=name) for name in ("Tasting", "Free", "Print")
    )
    db.add_all([account, coded, free, uncoded])
    db.flush()
    code, other = (
        SceneCode(
            workspace_id=workspace.id,
            channel_id=account.id,
            kind=CodeKind.QR_PERMANENT,
            scene=scene,
            campaign_id=campaign.id,
        )
        for scene, campaign in (("tasting", coded), ("free", free))
    )
    mini_program = SceneCode(
        workspace_id=workspace.id,
        channel_id=account.id,
        kind=CodeKind.MINIPROGRAM_CODE,
        scene="print",
        campaign_id=uncoded.id,
    )
    db.add_all([code, other, mini_program])
    db.flush()
    events = [(code, CodeEventKind.FOLLOW, NOON - timedelta(days=n)) for n in range(4)] + [
        (code, CodeEventKind.SCAN, NOON),
        (code, CodeEventKind.FOLLOW, datetime(2026, 10, 20, tzinfo=UTC)),
        (other, CodeEventKind.FOLLOW, NOON),
    ]
    db.add_all(
        CodeEvent(
            workspace_id=workspace.id,
            channel_id=account.id,
            code_id=row.id,
            event_id=f"event-{n}",
            openid=f"o{n}",
            scene=row.scene,
            kind=kind,
            occurred_at=at,
        )
        for n, (row, kind, at) in enumerate(events)
    )
    db.add_all(
        AccountDay(channel_id=account.id, day=day, new_followers=gained)
        for day, gained in ((DAY, 20), (DAY + timedelta(days=1), 10), (date(2026, 10, 1), 99))
    )
    for target, kind, fen, reference in (
        (CostTarget.CAMPAIGN, CostKind.CAMPAIGN_BUDGET, 100_000, {"campaign_id": coded.id}),
        (CostTarget.CAMPAIGN, CostKind.CAMPAIGN_BUDGET, 30_000, {"campaign_id": uncoded.id}),
        (CostTarget.PLATFORM, CostKind.AD_SPEND, 60_000, {"platform": "wechat"}),
    ):
        costs.record_cost(
            db,
            workspace_id=workspace.id,
            cost=costs.CostInput(
                target=target, kind=kind, amount_fen=fen, starts_on=DAY, **reference
            ),
        )
    db.commit()

    report = reports.revenue_report(
        db,
        workspace_id=workspace.id,
        first_day=date(2026, 11, 1),
        last_day=date(2026, 11, 30),
        zone="Asia/Shanghai",
    )
    start, end = reports.period_bounds(date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")
    stages = funnel.campaign_funnel(
        db, workspace_id=workspace.id, campaign_id=coded.id, report=report, start=start, end=end
    )
    document = reports.report_document(report, workspace="acme", zone="Asia/Shanghai")

    campaigns = {line.name: line for line in report.campaigns}
    assert (campaigns["Tasting"].followers, campaigns["Tasting"].cost_per_follower) == (4, 250.0)
    assert (campaigns["Print"].followers, campaigns["Print"].cost_per_follower) == (None, None)
    assert "Free" not in campaigns  # no revenue and no cost: nothing to set a follow against
    (wechat,) = report.platforms
    assert (wechat.followers, wechat.cost_per_follower) == (5, 120.0)
    assert (wechat.new_followers, wechat.cost_per_new_follower) == (30, 20.0)
    assert stages.follows == 5
    assert document["followers_basis"] == {
        "followers": "attributed",
        "new_followers": "all_sources",
    }
    assert document["platforms"][0]["cost_per_new_follower"] == 20.0
