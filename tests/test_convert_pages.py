"""The tracked links page and API: make a link, see its short address and clicks; readers
read, writers make; the API speaks the same service."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role
from guanxi.convert.models import Order, TrackedLink
from tests.conftest import UserFactory, csrf_token, sign_in


def test_a_writer_makes_a_link_and_sees_its_short_address(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _membership = signed_in

    response = client.post(
        "/w/acme/links",
        data={
            "url": "https://shop.example.cn/",
            "label": "Tmall store",
            "csrf_token": csrf_token(client),
        },
        follow_redirects=True,
    )

    link = db.scalars(select(TrackedLink)).one()
    assert response.status_code == 200
    assert "Link made." in response.text
    assert f"http://127.0.0.1:8000/l/{link.key}" in response.text
    assert "Tmall store" in response.text


def test_a_bad_address_is_shown_with_the_form_kept(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _membership = signed_in

    response = client.post(
        "/w/acme/links",
        data={"url": "shop.example.cn", "label": "kept label", "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 400
    assert "is not a web address" in response.text
    assert 'value="kept label"' in response.text


def test_the_page_speaks_chinese(signed_in: tuple[TestClient, Membership]) -> None:
    client, _membership = signed_in
    client.post("/language", data={"language": "zh_Hans", "csrf_token": csrf_token(client)})

    page = client.get("/w/acme/links")

    assert "跟踪链接" in page.text


def test_an_analyst_reads_links_but_cannot_make_one(
    client: TestClient,
    signed_in: tuple[TestClient, Membership],
    db: Session,
    make_user: UserFactory,
) -> None:
    owner_client, membership = signed_in
    analyst = make_user("ana@acme.example")
    accounts.add_member(
        db, workspace=membership.workspace, user=analyst, role=Role.ANALYST, actor=None
    )
    db.commit()
    owner_client.cookies.clear()
    sign_in(owner_client, analyst.email)

    page = owner_client.get("/w/acme/links")
    refused = owner_client.post(
        "/w/acme/links",
        data={"url": "https://a.example.cn", "csrf_token": csrf_token(owner_client)},
    )

    assert page.status_code == 200
    assert "Make the link" not in page.text
    assert refused.status_code == 403


def test_the_api_makes_and_lists_links(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="shop")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}

    made = client.post(
        "/api/v1/w/acme/links",
        json={"url": "https://shop.example.cn/x", "label": "API"},
        headers=headers,
    )
    listed = client.get("/api/v1/w/acme/links", headers=headers)
    bad = client.post("/api/v1/w/acme/links", json={"url": "nope"}, headers=headers)

    assert made.status_code == 201, made.text
    assert made.json()["short_url"].endswith("/l/" + made.json()["key"])
    assert "utm_medium=social" in made.json()["destination"]
    assert [row["label"] for row in listed.json()] == ["API"]
    assert listed.json()[0]["clicks"] == 0
    assert bad.status_code == 400
    assert "is not a web address" in bad.text


def test_the_conversion_api_is_idempotent_on_the_order_id(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="mini program")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}
    order = {
        "order_id": "MP-42",
        "ordered_at": "2026-11-11T20:00:00+08:00",
        "amount": 268.5,
        "click_id": "abc123",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    }

    first = client.post("/api/v1/w/acme/conversions", json=order, headers=headers)
    again = client.post(
        "/api/v1/w/acme/conversions", json={**order, "refunded": 68.5}, headers=headers
    )
    refused = client.post(
        "/api/v1/w/acme/conversions", json={**order, "amount": -1}, headers=headers
    )
    anonymous = client.post("/api/v1/w/acme/conversions", json=order)

    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["amount_fen"]) == (True, 26850)
    assert (again.json()["created"], again.json()["refunded_fen"]) == (False, 6850)
    assert again.json()["id"] == first.json()["id"]
    assert refused.status_code == 422
    assert anonymous.status_code == 401
    stored = db.scalars(select(Order)).one()
    assert (stored.source, stored.click_id, stored.openid) == ("api", "abc123", order["openid"])
