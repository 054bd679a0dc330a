"""The demo's sales of its posts: every other published demo post carries a tracked link
to the mini program, its clicks come in the days after it went out, and some end in orders
that carry their click ids, so the revenue page has a "by post" table from `guanxi demo`
(its ten best posts, then every post on request); a second demo adds nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.convert import reports
from guanxi.convert.models import LinkClick, Order, TrackedLink
from guanxi.convert.revenue_views import TOP_POSTS
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.devtools.demo.stack import load_demo_channels
from guanxi.devtools.demo.workspace import DEMO_PASSWORD, load_demo
from guanxi.publishing.models import Variant, VariantState
from tests.conftest import sign_in

BOX = SecretBox("demo-convert-test-secret-key-0123456789ab")


def _post_sales(db: Session) -> tuple[int, int]:
    links = db.scalar(select(func.count()).where(TrackedLink.post_id.is_not(None))) or 0
    orders = db.scalar(
        select(func.count())
        .select_from(Order)
        .join(LinkClick, LinkClick.click_id == Order.click_id)
        .join(TrackedLink, TrackedLink.id == LinkClick.link_id)
        .where(TrackedLink.post_id.is_not(None))
    )
    return links, orders or 0


@pytest.mark.postgres_only  # the whole demo: a minute; test_measure_demo loads it on both
def test_the_demo_sells_through_its_posts_links_and_the_page_shows_the_best_posts(
    db: Session, client: TestClient
) -> None:
    workspace = load_demo(db)
    load_demo_channels(db, workspace=workspace, box=BOX)
    db.commit()

    links, orders = _post_sales(db)
    assert links >= 20
    assert orders >= 50
    linked_posts = db.scalars(select(TrackedLink.post_id).where(TrackedLink.post_id.is_not(None)))
    published = set(
        db.scalars(select(Variant.post_id).where(Variant.state == VariantState.PUBLISHED))
    )
    assert set(linked_posts) <= published

    today = utcnow().date()
    report = reports.revenue_report(
        db,
        workspace_id=workspace.id,
        first_day=today - timedelta(days=180),
        last_day=today,
        zone=workspace.timezone,
    )
    by_post = [line for line in report.posts if line.key]
    assert len(by_post) > TOP_POSTS
    assert sum(line.revenue for line in by_post) > 0  # a refunded order may leave one at 0

    sign_in(client, "owner@provence-wines.example", DEMO_PASSWORD)
    period = f"from={today - timedelta(days=180)}&to={today}"
    page = client.get(f"/w/provence-wines/revenue?{period}")
    assert page.status_code == 200
    post_rows = re.findall(r'<td><a href="/w/provence-wines/posts/\d+">', page.text)
    assert len(post_rows) == TOP_POSTS
    assert "Show every post" in page.text
    every = client.get(f"/w/provence-wines/revenue?{period}&posts=all")
    assert len(re.findall(r'<td><a href="/w/provence-wines/posts/\d+">', every.text)) == len(
        by_post
    )
    assert "Show every post" not in every.text

    load_demo_channels(db, workspace=load_demo(db), box=BOX)
    db.commit()
    assert _post_sales(db) == (links, orders)
