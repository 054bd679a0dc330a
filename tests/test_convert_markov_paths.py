"""The data-driven model over WeChat paths: people's scans and follows of scene codes, one
OpenID each, make the paths; their orders' revenue is shared among the codes by removal
effect, on a path set computed by hand; orders with no code on their buyer's path are
counted apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.channels.models import Channel
from guanxi.convert.attribution.paths import markov_attribution
from guanxi.convert.models import Order, OrderStatus
from guanxi.convert.scene_models import CodeEvent, CodeEventKind, CodeKind, SceneCode
from guanxi.publishing.models import Campaign

ORDER_AT = datetime(2026, 11, 11, 4, tzinfo=UTC)


def test_the_converting_paths_revenue_is_shared_by_removal_effect(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """Given paths A→B→¥100, A→(nothing), B→¥200, and a ¥50 order whose buyer touched no
    code: by hand, start→A 2/3, start→B 1/3, A→B 1/2, A→null 1/2, B→conversion 1, so
    P(conversion) = 2/3 · 1/2 + 1/3 = 2/3; without A it is 1/3 (effect 1/2), without B 0
    (effect 1). Normalised: A 1/3, B 2/3 of ¥300 and 2 orders; the ¥50 is off the paths,
    and the revenue page says so as a model estimate."""
    client, membership = signed_in
    workspace = membership.workspace
    account = Channel(
        workspace_id=workspace.id,
        connector="wechat_oa",
        platform="wechat",
        external_id="wx-acme",
        name="Acme",
    )
    tasting, festival = (
        Campaign(workspace_id=workspace.id, name="Tasting"),
        Campaign(workspace_id=workspace.id, name="Festival"),
    )
    db.add_all([account, tasting, festival])
    db.flush()
    code_a, code_b = (
        SceneCode(
            workspace_id=workspace.id,
            channel_id=account.id,
            kind=CodeKind.QR_PERMANENT,
            scene=scene,
            campaign_id=campaign.id,
        )
        for scene, campaign in (("a", tasting), ("b", festival))
    )
    db.add_all([code_a, code_b])
    db.flush()
    touches = [
        ("o1", code_a, 3),
        ("o1", code_b, 2),
        ("o2", code_a, 1),
        ("o3", code_b, 1),
    ]
    db.add_all(
        CodeEvent(
            workspace_id=workspace.id,
            channel_id=account.id,
            code_id=code.id,
            event_id=f"{openid}:{days}",
            openid=openid,
            scene=code.scene,
            kind=CodeEventKind.SCAN,
            occurred_at=ORDER_AT - timedelta(days=days),
        )
        for openid, code, days in touches
    )
    db.add_all(
        Order(
            workspace_id=workspace.id,
            source="wechat_pay",
            external_id=f"42000{n}",
            status=OrderStatus.PAID,
            ordered_at=ORDER_AT,
            amount_fen=fen,
            openid=openid,
        )
        for n, (openid, fen) in enumerate((("o1", 10_000), ("o3", 20_000), ("o4", 5_000)))
    )
    db.commit()

    found = markov_attribution(
        db,
        workspace_id=workspace.id,
        start=ORDER_AT - timedelta(days=7),
        end=ORDER_AT + timedelta(days=1),
    )

    assert found.effects == pytest.approx({code_a.id: 1 / 3, code_b.id: 2 / 3})
    assert (found.people, found.converting_paths) == (3, 2)
    assert (found.on_paths.revenue_fen, found.on_paths.orders) == (30_000, 2)
    assert (found.off_paths.revenue_fen, found.off_paths.orders) == (5_000, 1)
    assert found.by_campaign[tasting.id].revenue_fen == pytest.approx(10_000)
    assert found.by_campaign[festival.id].orders == pytest.approx(4 / 3)
    assert found.by_platform["wechat"].revenue_fen == pytest.approx(30_000)
    page = client.get("/w/acme/revenue?from=2026-11-01&to=2026-11-30")
    section = page.text.split('id="paths"')[1].split("</table>")[0]
    assert "model estimate" in section
    assert "3 people's paths, 2 of them ending in an order: ¥300 shared out." in section
    assert "1 WeChat orders (¥50)" in section
    assert section.index("Festival") < section.index("Tasting")  # ¥200 before ¥100
