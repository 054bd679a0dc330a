"""The posts list a page at a time: the database sorts and pages, only the page's posts are
built, every order pages through the same posts as the whole list sorted, and a sort or a
page link (htmx) gets the list alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, Workspace
from guanxi.connectors.metrics import Metric
from guanxi.measure import listing
from guanxi.measure.listing import PostOrder
from guanxi.measure.models import PostFiguresRead
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_measure_service import add_channel, add_days, add_post

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def many(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    """Given 23 posts in March: on Weibo with views (some equal, one with none reported at
    all), and on Douyin without views (rated per follower of the account that day)."""
    workspace = make_workspace("many", owner=make_user("o@many.example"))
    weibo = add_channel(db, workspace, "Many Weibo")
    douyin = add_channel(db, workspace, "Many Douyin", "douyin")
    add_days(db, douyin, date(2026, 2, 20), [{Metric.FOLLOWERS: 1000 + 50 * n} for n in range(30)])
    start = datetime(2026, 3, 2, 4, tzinfo=UTC)
    for n in range(15):
        figures = {Metric.VIEWS: 1000 * (n % 5 + 1), Metric.LIKES: 7 * n, Metric.SHARES: n % 3}
        add_post(db, weibo, f"w-{n}", start + timedelta(hours=20 * n), figures)
    add_post(db, weibo, "w-none", start + timedelta(days=3))  # not measured yet
    for n in range(7):
        figures = {Metric.LIKES: 30 * (n % 4), Metric.COMMENTS: n}
        add_post(db, douyin, f"d-{n}", start + timedelta(hours=31 * n), figures)
    db.commit()
    return workspace


def _expected(posts: list[PostFiguresRead], order: PostOrder) -> list[str]:
    """The whole list sorted as the page says: highest first, without the figure last, ties
    oldest first; by date, the newest first."""
    if order is PostOrder.PUBLISHED:
        return [p.external_id for p in reversed(posts)]
    field = {"views": "views", "engagements": "engagements", "rate": "engagement_rate"}
    name = field[order.value]
    ranked = sorted(posts, key=lambda p: (getattr(p, name) is None, -(getattr(p, name) or 0)))
    return [p.external_id for p in ranked]


@pytest.mark.parametrize("order", list(PostOrder))
def test_every_order_pages_through_the_whole_list_sorted(
    db: Session, many: Workspace, order: PostOrder
) -> None:
    """The pages of 4, one after the other, are the period's posts in the order asked for,
    with their figures as the whole list has them; past the last page is the last page."""
    whole = listing.post_figures(db, workspace=many, start=MARCH[0], end=MARCH[1])
    assert len(whole) == 23
    pages = [
        listing.posts_page(
            db, workspace=many, start=MARCH[0], end=MARCH[1], order=order, page=n, size=4
        )
        for n in range(1, 8)
    ]
    assert {(p.pages, p.total) for p in pages} == {(6, 23)}
    assert pages[6].page == 6
    assert pages[6].rows == pages[5].rows
    shown = [row for found in pages[:6] for row in found.rows]
    assert [row.external_id for row in shown] == _expected(whole, order)
    by_id = {row.post_id: row for row in whole}
    assert all(row == by_id[row.post_id] for row in shown)


def test_a_page_builds_only_its_own_posts(
    db: Session, many: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sorting a month by any figure builds the 4 posts shown, not the 23 of the period."""
    built: list[int] = []
    original: Callable[..., PostFiguresRead] = listing.PostFiguresRead

    def counting(**fields: Any) -> PostFiguresRead:
        built.append(fields["post_id"])
        return original(**fields)

    monkeypatch.setattr(listing, "PostFiguresRead", counting)
    for order in PostOrder:
        built.clear()
        found = listing.posts_page(
            db, workspace=many, start=MARCH[0], end=MARCH[1], order=order, page=2, size=4
        )
        assert built == [row.post_id for row in found.rows]
        assert len(built) == 4


def test_another_workspaces_posts_are_not_listed(
    db: Session, many: Workspace, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other", owner=make_user("o@other.example"))
    found = listing.posts_page(db, workspace=other, start=MARCH[0], end=MARCH[1])
    assert (found.total, found.rows, found.pages) == (0, [], 1)


def test_a_sort_link_answers_htmx_with_the_list_alone(
    client: TestClient, db: Session, many: Workspace, make_user: UserFactory
) -> None:
    """The analyst clicks "Engagement rate": the page answers the link's request with the
    list alone, sorted, and its links keep the period."""
    analyst = make_user("analyst@many.example")
    accounts.add_member(db, workspace=many, user=analyst, role=Role.ANALYST, actor=None)
    db.commit()
    sign_in(client, analyst.email)
    query = "start=2026-03-01&end=2026-03-31&sort=rate&page=2"
    headers = {"HX-Request": "true", "HX-Target": "posts-list"}
    partial = client.get(f"/w/many/analytics/posts?{query}", headers=headers)
    assert partial.status_code == 200, partial.text
    assert "<html" not in partial.text
    assert 'id="posts-list"' in partial.text
    assert 'aria-current="true" class="current">Engagement rate</a>' in partial.text
    assert 'hx-get="/w/many/analytics/posts?start=2026-03-01&amp;end=2026-03-31' in partial.text
    whole = client.get(f"/w/many/analytics/posts?{query}")
    assert "<html" in whole.text
    assert 'id="posts-list"' in whole.text
