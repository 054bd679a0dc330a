"""Tracked links that belong to a KOL: chosen on the links form and through the API, the
list filtered by KOL, another workspace's KOL refused, and the KOL leaderboard counting the
people's clicks on the KOL's links and crediting the KOL with the orders of those clicks as
well as of their promo code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership
from guanxi.convert import kols, links, reports
from guanxi.convert.models import Kol, LinkClick, Order, OrderStatus, PromoCode, TrackedLink
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token

ORDER_AT = datetime(2026, 11, 11, 4, tzinfo=UTC)  # noon in Shanghai


def _click(link: TrackedLink, click_id: str, at: datetime, *, counted: bool = True) -> LinkClick:
    return LinkClick(
        click_id=click_id,
        link_id=link.id,
        workspace_id=link.workspace_id,
        clicked_at=at,
        hour=int(at.timestamp()) // 3600,
        visitor=click_id,
        platform="xiaohongshu",
        bot=not counted,
        counted=counted,
    )


def test_a_link_is_given_a_kol_on_the_form_and_the_api_and_listed_by_kol(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given a KOL of acme and one of another workspace, when links are made with each on
    the page and through the API, then acme's KOL is kept and filters the list (page and
    API), and the other workspace's KOL is refused with a message on both."""
    client, membership = signed_in
    lina = kols.create_kol(db, workspace_id=membership.workspace_id, name="Lina")
    other = make_workspace("other", owner=make_user("owner@other.example"))
    stranger = kols.create_kol(db, workspace_id=other.id, name="Stranger")
    _token, plain = accounts.create_api_token(db, membership=membership, name="team")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}
    token = csrf_token(client)

    made = client.post(
        "/w/acme/links",
        data={"url": "https://shop.example.cn/lina", "kol_id": str(lina.id), "csrf_token": token},
        follow_redirects=False,
    )
    refused = client.post(
        "/w/acme/links",
        data={"url": "https://shop.example.cn/x", "kol_id": str(stranger.id), "csrf_token": token},
    )
    by_api = client.post(
        "/api/v1/w/acme/links",
        json={"url": "https://shop.example.cn/plain", "label": "No KOL"},
        headers=headers,
    )
    api_refused = client.post(
        "/api/v1/w/acme/links",
        json={"url": "https://shop.example.cn/y", "kol_id": stranger.id},
        headers=headers,
    )
    api_made = client.post(
        "/api/v1/w/acme/links",
        json={"url": "https://shop.example.cn/lina2", "label": "Lina 2", "kol_id": lina.id},
        headers=headers,
    )
    filtered = client.get(f"/w/acme/links?kol={lina.id}")
    everything = client.get("/w/acme/links")
    api_filtered = client.get(f"/api/v1/w/acme/links?kol_id={lina.id}", headers=headers)
    api_stranger = client.get(f"/api/v1/w/acme/links?kol_id={stranger.id}", headers=headers)

    assert made.status_code == 303
    assert refused.status_code == 400
    assert "That KOL is not in this workspace" in refused.text
    assert (by_api.status_code, by_api.json()["kol_id"]) == (201, None)
    assert api_refused.status_code == 400
    assert (api_made.status_code, api_made.json()["kol_id"]) == (201, lina.id)
    stored = db.scalars(select(TrackedLink.kol_id).order_by(TrackedLink.id)).all()
    assert stored == [lina.id, None, lina.id]
    assert "shop.example.cn/lina" in filtered.text
    assert "shop.example.cn/plain" not in filtered.text
    assert "shop.example.cn/plain" in everything.text
    assert sorted(row["url"] for row in api_filtered.json()) == [
        "https://shop.example.cn/lina",
        "https://shop.example.cn/lina2",
    ]
    assert api_stranger.status_code == 400


def test_the_leaderboard_counts_a_kols_link_clicks_and_credits_their_orders(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given Lina's link clicked by three people in November, once by a bot and once in
    October, and two orders (¥300 through a click on her link, ¥200 with her code), when
    November's leaderboard is made, then she has 3 clicks, 2 orders and ¥500, and the page
    shows her 3 clicks linked to her links."""
    client, membership = signed_in
    workspace_id = membership.workspace_id
    lina = Kol(workspace_id=workspace_id, name="Lina", platform="xiaohongshu")
    quiet = Kol(workspace_id=workspace_id, name="Quiet")
    db.add_all([lina, quiet])
    db.flush()
    db.add(PromoCode(workspace_id=workspace_id, code="LINA", kol_id=lina.id))
    link = links.create_link(
        db,
        workspace_id=workspace_id,
        link=links.LinkInput(url="https://shop.example.cn", kol_id=lina.id),
        created_by_id=None,
    )
    db.add_all(
        [
            _click(link, "c1", ORDER_AT - timedelta(days=2)),
            _click(link, "c2", ORDER_AT - timedelta(days=1)),
            _click(link, "c3", ORDER_AT - timedelta(hours=1)),
            _click(link, "bot", ORDER_AT - timedelta(hours=1), counted=False),
            _click(link, "old", datetime(2026, 10, 20, tzinfo=UTC)),
        ]
    )
    for external_id, fen, identifiers in (
        ("o1", 30_000, {"click_id": "c2"}),
        ("o2", 20_000, {"promo_code": "LINA"}),
    ):
        db.add(
            Order(
                workspace_id=workspace_id,
                source="csv",
                external_id=external_id,
                status=OrderStatus.PAID,
                ordered_at=ORDER_AT,
                amount_fen=fen,
                **identifiers,
            )
        )
    db.commit()

    report = reports.revenue_report(
        db,
        workspace_id=workspace_id,
        first_day=date(2026, 11, 1),
        last_day=date(2026, 11, 30),
        zone="Asia/Shanghai",
    )
    board = kols.leaderboard(db, workspace_id=workspace_id, report=report, zone="Asia/Shanghai")
    page = client.get("/w/acme/kols?from=2026-11-01&to=2026-11-30")

    assert [(row.kol.name, row.clicks, row.line.orders, row.line.revenue) for row in board] == [
        ("Lina", 3, 2, 500.0),
        ("Quiet", 0, 0, 0),
    ]
    row = page.text.split("<strong>Lina</strong>")[1].split("</tr>")[0]
    assert f'href="/w/acme/links?kol={lina.id}"' in row
    assert ">3</a>" in row
