"""Attribution: every model on hand-computed cases, the Markov removal effect on planted
paths, and the engine joining orders to touches only through identifiers (clicks within the
window, promo codes, Douyin creators), with refunds and the unattributed kept apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.convert import links
from guanxi.convert.attribution.engine import attribute
from guanxi.convert.attribution.markov import markov_removal_effects
from guanxi.convert.attribution.weights import AttributionModel, shares
from guanxi.convert.models import Kol, LinkClick, Order, OrderRefund, OrderStatus, PromoCode
from guanxi.core.settings import get_settings
from guanxi.publishing.models import Campaign, Post
from tests.cli import PREFIX, run
from tests.conftest import UserFactory, WorkspaceFactory, sign_in

ORDER_AT = datetime(2026, 11, 11, 12, tzinfo=UTC)
THREE = [ORDER_AT - timedelta(days=14), ORDER_AT - timedelta(days=7), ORDER_AT]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (AttributionModel.LAST_TOUCH, [0, 0, 1]),
        (AttributionModel.FIRST_TOUCH, [1, 0, 0]),
        (AttributionModel.LINEAR, [1 / 3, 1 / 3, 1 / 3]),
        # half-life 7 days: weights 1/4, 1/2, 1 → divided by 7/4
        (AttributionModel.TIME_DECAY, [1 / 7, 2 / 7, 4 / 7]),
        (AttributionModel.POSITION_BASED, [0.4, 0.2, 0.4]),
    ],
)
def test_each_model_shares_three_touches_as_computed_by_hand(
    model: AttributionModel, expected: list[float]
) -> None:
    assert shares(model, THREE, ordered_at=ORDER_AT) == pytest.approx(expected)


def test_position_based_gives_the_middle_touches_twenty_percent_together() -> None:
    five = [ORDER_AT - timedelta(days=n) for n in (4, 3, 2, 1, 0)]

    got = shares(AttributionModel.POSITION_BASED, five, ordered_at=ORDER_AT)

    assert got == pytest.approx([0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])
    assert shares(AttributionModel.POSITION_BASED, five[:2], ordered_at=ORDER_AT) == [0.5, 0.5]


@pytest.mark.parametrize("model", list(AttributionModel))
def test_one_touch_gets_everything_and_none_gets_nothing(model: AttributionModel) -> None:
    assert shares(model, [ORDER_AT], ordered_at=ORDER_AT) == [1.0]
    assert shares(model, [], ordered_at=ORDER_AT) == []


def test_markov_credits_each_channel_by_the_conversions_its_removal_loses() -> None:
    """By hand: start→A 10/25, start→B 15/25; A converts always; B leads to A 5/15 of the
    time. P(conversion) = 0.4 + 0.6 × 1/3 = 0.6. Without A: 0 (effect 1); without B: 0.4
    (effect 1/3). Normalised: A 0.75, B 0.25."""
    paths = [(["A"], True)] * 10 + [(["B"], False)] * 10 + [(["B", "A"], True)] * 5

    effects = markov_removal_effects(paths)

    assert effects == pytest.approx({"A": 0.75, "B": 0.25})


def test_markov_splits_evenly_between_interchangeable_channels() -> None:
    paths = [(["A"], True), (["B"], True), (["A"], False), (["B"], False)]

    assert markov_removal_effects(paths) == pytest.approx({"A": 0.5, "B": 0.5})


def test_markov_on_a_planted_chain_matches_the_removal_effects() -> None:
    """Given every conversion passes A then B (C leads nowhere), removing A or B loses all
    of them: the credit is half each, none to C."""
    paths = [(["A", "B"], True)] * 6 + [(["C"], False)] * 6 + [(["A", "C"], False)] * 3

    effects = markov_removal_effects(paths)

    assert effects == pytest.approx({"A": 0.5, "B": 0.5, "C": 0.0})


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def _order(workspace: Workspace, external_id: str, fen: int, **identifiers: str) -> Order:
    return Order(
        workspace_id=workspace.id,
        source="csv",
        external_id=external_id,
        status=OrderStatus.PAID,
        ordered_at=ORDER_AT,
        amount_fen=fen,
        **identifiers,
    )


def _click(link_id: int, workspace: Workspace, click_id: str, days_before: int) -> LinkClick:
    at = ORDER_AT - timedelta(days=days_before)
    return LinkClick(
        click_id=click_id,
        link_id=link_id,
        workspace_id=workspace.id,
        clicked_at=at,
        hour=int(at.timestamp()) // 3600,
        visitor=click_id,
        platform="wechat",
        device="phone",
        counted=True,
    )


def test_orders_are_credited_only_through_their_identifiers(
    db: Session, workspace: Workspace
) -> None:
    campaign = Campaign(workspace_id=workspace.id, name="Double 11")
    db.add(campaign)
    db.flush()
    post = Post(workspace_id=workspace.id, title="Rosé", campaign_id=campaign.id)
    kol = Kol(workspace_id=workspace.id, name="小王", platform="douyin", handle="71234567")
    db.add_all([post, kol])
    db.flush()
    db.add(
        PromoCode(workspace_id=workspace.id, code="LINA88", kol_id=kol.id, campaign_id=campaign.id)
    )
    link = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(url="https://shop.example.cn", post_id=post.id),
        created_by_id=None,
    )
    db.add_all(
        [
            _click(link.id, workspace, "c-recent", 3),
            _click(link.id, workspace, "c-old", 40),  # outside a 30-day window
            _order(workspace, "o1", 10_000, click_id="c-recent"),
            _order(workspace, "o2", 20_000, click_id="c-recent", promo_code="LINA88"),
            _order(workspace, "o3", 40_000, click_id="c-old"),
            _order(workspace, "o4", 80_000),  # no identifier
            _order(workspace, "o5", 5_000, author_id="71234567"),
            OrderRefund(
                workspace_id=workspace.id,
                source="csv",
                external_id="o1:refund",
                order_external_id="o1",
                amount_fen=4_000,
            ),
        ]
    )
    db.commit()
    period = {"start": ORDER_AT - timedelta(days=1), "end": ORDER_AT + timedelta(days=1)}

    last = attribute(db, workspace_id=workspace.id, **period)
    linear = attribute(db, workspace_id=workspace.id, model=AttributionModel.LINEAR, **period)

    assert last.total.revenue_fen == 6_000 + 20_000 + 40_000 + 80_000 + 5_000
    assert (last.unattributed.revenue_fen, last.unattributed.orders) == (120_000, 2)
    # o1 (net 6,000) and o2 (its last touch: the promo code at the order) → the campaign
    assert last.by_campaign[campaign.id].revenue_fen == 26_000
    assert last.by_post[post.id].revenue_fen == 6_000
    assert last.by_kol[kol.id].revenue_fen == 25_000
    assert last.by_platform["wechat"].revenue_fen == 6_000
    assert last.by_platform["douyin"].revenue_fen == 25_000
    # linear: o2's 20,000 is half the click's (the post), half the code's (the KOL)
    assert linear.by_post[post.id].revenue_fen == pytest.approx(16_000)
    assert linear.by_kol[kol.id].revenue_fen == pytest.approx(15_000)
    assert linear.attributed.orders == pytest.approx(3)


def _two_campaigns(db: Session, workspace: Workspace) -> tuple[Campaign, Campaign]:
    """Orders of Double 11 (a click) and Mid-Autumn (a promo code), one shared, one bare."""
    double, autumn = (
        Campaign(workspace_id=workspace.id, name="Double 11"),
        Campaign(workspace_id=workspace.id, name="中秋 Mid-Autumn"),
    )
    db.add_all([double, autumn])
    db.flush()
    db.add(PromoCode(workspace_id=workspace.id, code="MOON", campaign_id=autumn.id))
    link = links.create_link(
        db,
        workspace_id=workspace.id,
        link=links.LinkInput(url="https://shop.example.cn", campaign_id=double.id),
        created_by_id=None,
    )
    db.add_all(
        [
            _click(link.id, workspace, "c1", 2),
            _order(workspace, "o1", 30_000, click_id="c1"),
            _order(workspace, "o2", 10_000, click_id="c1", promo_code="MOON"),
            _order(workspace, "o3", 7_000),
        ]
    )
    db.commit()
    return double, autumn


def test_the_report_command_prints_revenue_per_campaign_and_the_unattributed(
    db: Session,
    workspace: Workspace,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _two_campaigns(db, workspace)
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = run(
            "convert",
            "report",
            "--workspace",
            "acme",
            "--from",
            "2026-11-11",
            "--to",
            "2026-11-11",
            "--model",
            "linear",
        )
        backwards = run(
            "convert", "report", "--workspace", "acme", "--from", "2026-11-12", "--to", "2026-11-11"
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["model"], report["window_days"], report["basis"]) == ("linear", 30, "attributed")
    assert report["revenue"] == 470.0
    assert report["unattributed"] == {"revenue": 70.0, "orders": 1}
    by_name = {line["name"]: line["revenue"] for line in report["campaigns"]}
    assert by_name == {"Double 11": 350.0, "中秋 Mid-Autumn": 50.0}
    assert backwards.exit_code != 0
    assert "ends before it starts" in backwards.output


def test_the_revenue_page_shows_every_model_side_by_side(
    client: TestClient, db: Session, workspace: Workspace
) -> None:
    _two_campaigns(db, workspace)
    sign_in(client, "owner@acme.example")

    page = client.get("/w/acme/revenue?from=2026-11-11&to=2026-11-11&model=first_touch&window=15")

    assert page.status_code == 200
    assert "Revenue from social" in page.text
    assert "15-day window" in page.text
    assert "Unattributed (no identifier)" in page.text
    assert "Double 11" in page.text
    assert "Position-based 40/20/40" in page.text
    assert "30-day window" in client.get("/w/acme/revenue?window=9").text
