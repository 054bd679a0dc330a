"""A workspace's own metrics: defined on their page (names in English and Chinese, a formula
checked with the column of a mistake, a preview on the last 30 days, deleted) and through
the API; shown as a column of the posts list, which sorts by them in the database, and of
the posts export; another workspace's are never seen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User, Workspace
from guanxi.connectors.metrics import Metric
from guanxi.measure import custom_metrics, listing, metrics_views
from guanxi.measure.formulas import FormulaError
from guanxi.measure.models import CustomMetric, CustomMetricCreate
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_i18n import choose_language
from tests.test_measure_service import add_channel, add_days, add_post

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 1)


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("owner@brand.example")


@pytest.fixture
def brand(db: Session, owner: User, make_workspace: WorkspaceFactory) -> Workspace:
    """Given March's posts of a Weibo account: shares and views vary, one has no views
    (its share rate is unknown), one has 0 views (a division by zero); and its days."""
    workspace = make_workspace("brand", owner=owner)
    weibo = add_channel(db, workspace, "Brand Weibo")
    add_days(
        db,
        weibo,
        date(2026, 3, 2),
        [{Metric.FOLLOWERS: 500 + n, Metric.SHARES: n} for n in range(30)],
    )
    start = datetime(2026, 3, 3, 4, tzinfo=UTC)
    for n in range(9):
        figures = {Metric.VIEWS: 100 * (n % 4 + 1), Metric.SHARES: 3 * n, Metric.LIKES: n}
        add_post(db, weibo, f"w-{n}", start + timedelta(days=2 * n), figures)
    add_post(db, weibo, "no-views", start + timedelta(hours=5), {Metric.SHARES: 50})
    add_post(
        db, weibo, "zero-views", start + timedelta(hours=7), {Metric.VIEWS: 0, Metric.SHARES: 1}
    )
    db.commit()
    return workspace


def define(db: Session, workspace: Workspace, owner: User, formula: str, name: str) -> CustomMetric:
    data = CustomMetricCreate(name=name, name_zh="分享率", formula=formula)
    metric = custom_metrics.create_custom_metric(db, workspace=workspace, data=data, actor=owner)
    db.commit()
    return metric


@pytest.mark.parametrize(
    "formula", ["shares / views", "(likes + shares) / views * 100", "-engagements / (views - 100)"]
)
def test_the_posts_list_sorts_by_a_custom_metric_in_the_database(
    db: Session, brand: Workspace, owner: User, formula: str
) -> None:
    """Pages of 3 sorted by the metric are the posts ranked by its value as computed for
    each post (highest first, the ones without a value last), each carrying the value."""
    metric = define(db, brand, owner, formula, "Mine")
    whole = listing.post_figures(
        db, workspace=brand, start=MARCH[0], end=MARCH[1], metrics=[metric]
    )
    ranked = sorted(whole, key=lambda p: (p.custom["Mine"] is None, -(p.custom["Mine"] or 0)))
    shown = []
    for page in range(1, 5):
        found = listing.posts_page(
            db,
            workspace=brand,
            start=MARCH[0],
            end=MARCH[1],
            order=metric,
            page=page,
            size=3,
            metrics=[metric],
        )
        assert found.sort == f"metric-{metric.id}"
        shown += found.rows
    assert [p.custom["Mine"] for p in shown] == [p.custom["Mine"] for p in ranked]
    assert [p.custom["Mine"] for p in shown][-1] is None


def test_a_preview_computes_the_formula_on_the_last_30_days(db: Session, brand: Workspace) -> None:
    """The share rate of March's posts (9 of 11 have one) and of the accounts' days."""
    found = custom_metrics.preview(db, workspace=brand, formula="shares / views", today=TODAY)
    assert (found.start, found.end) == (date(2026, 3, 2), date(2026, 3, 31))
    assert (found.posts.rows, found.posts.valued) == (11, 9)
    assert found.posts.highest == pytest.approx(24 / 100)  # w-8: 24 shares, 100 views
    assert found.highest_posts[0].text == "post w-8"
    assert (found.days.rows, found.days.valued) == (30, 0)  # days report no views
    per_follower = custom_metrics.preview(
        db, workspace=brand, formula="shares / followers", today=TODAY
    )
    assert per_follower.days.valued == 30
    assert per_follower.days.highest == pytest.approx(29 / 529)
    with pytest.raises(FormulaError) as error:
        custom_metrics.preview(db, workspace=brand, formula="shares / veiws", today=TODAY)
    assert error.value.column == 10


def test_a_metric_is_named_in_the_readers_language(
    db: Session, brand: Workspace, owner: User
) -> None:
    metric = define(db, brand, owner, "shares / views", "Share rate")
    assert custom_metrics.label(metric, "zh_Hans") == "分享率"
    assert custom_metrics.label(metric, "en") == "Share rate"
    metric.name_zh = ""
    assert custom_metrics.label(metric, "zh_Hans") == "Share rate"


# --- The page ------------------------------------------------------------------------------


def _editor(
    client: TestClient, db: Session, workspace: Workspace, make_user: UserFactory, role: Role
) -> None:
    person = make_user(f"{role.value}@brand.example")
    accounts.add_member(db, workspace=workspace, user=person, role=role, actor=None)
    db.commit()
    sign_in(client, person.email)


def test_an_editor_defines_previews_and_deletes_a_metric_on_its_page(
    client: TestClient,
    db: Session,
    brand: Workspace,
    make_user: UserFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong name in the formula is shown with a caret under its column; the preview
    answers htmx with the values; once saved the metric is a column and a sort of the posts
    list and a column of its export; deleted, it is gone."""
    monkeypatch.setattr(metrics_views, "utcnow", lambda: datetime(2026, 4, 1, 2, tzinfo=UTC))
    _editor(client, db, brand, make_user, Role.EDITOR)
    token = client.get("/w/brand/analytics/metrics").text.split('name="csrf_token" value="')[1]
    csrf = token.split('"')[0]
    form = {"csrf_token": csrf, "name": "Share rate", "name_zh": "分享率", "display": "percent"}
    wrong = client.post("/w/brand/analytics/metrics", data=form | {"formula": "shares / veiws"})
    assert wrong.status_code == 400
    assert "column 10" in wrong.text
    assert "shares / veiws\n         ^</pre>" in wrong.text
    preview = client.post(
        "/w/brand/analytics/metrics/preview",
        data=form | {"formula": "shares / views"},
        headers={"HX-Request": "true"},
    )
    assert preview.status_code == 200
    assert "<html" not in preview.text
    assert "9 / 11" in preview.text
    assert "24.00%" in preview.text
    saved = client.post(
        "/w/brand/analytics/metrics",
        data=form | {"formula": "shares / views"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get("/w/brand/analytics/metrics?saved=1")
    assert "Share rate" in page.text
    assert "<code>shares / views</code>" in page.text
    [metric] = custom_metrics.list_custom_metrics(db, workspace=brand)
    posts = client.get(
        f"/w/brand/analytics/posts?start=2026-03-01&end=2026-03-31&sort=metric-{metric.id}"
    )
    assert '<th title="shares / views">Share rate</th>' in posts.text
    assert 'aria-current="true" class="current">Share rate</a>' in posts.text
    assert "24.00%" in posts.text.split("<tbody>")[1].split("</tr>")[0]  # the highest first
    export = client.get("/w/brand/analytics/posts/export.csv?start=2026-03-01&end=2026-03-31")
    assert export.content.decode("utf-8-sig").splitlines()[0].endswith(",url,Share rate")
    deleted = client.post(
        f"/w/brand/analytics/metrics/{metric.id}/delete",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert custom_metrics.list_custom_metrics(db, workspace=brand) == []


def test_the_page_is_in_chinese_for_a_chinese_reader(
    client: TestClient, db: Session, brand: Workspace, owner: User, make_user: UserFactory
) -> None:
    define(db, brand, owner, "shares / views", "Share rate")
    _editor(client, db, brand, make_user, Role.EDITOR)
    choose_language(client, "zh_Hans")
    page = client.get("/w/brand/analytics/metrics")
    assert "自定义指标" in page.text
    assert "<td>分享率 <span" in page.text


def test_an_analyst_sees_the_metrics_but_cannot_define_or_delete_one(
    client: TestClient, db: Session, brand: Workspace, owner: User, make_user: UserFactory
) -> None:
    metric = define(db, brand, owner, "shares / views", "Share rate")
    _editor(client, db, brand, make_user, Role.ANALYST)
    page = client.get("/w/brand/analytics/metrics")
    assert page.status_code == 200
    assert "Share rate" in page.text
    assert "Define a metric" not in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post(
        f"/w/brand/analytics/metrics/{metric.id}/delete", data={"csrf_token": csrf}
    )
    assert refused.status_code == 403


def test_another_workspaces_metrics_are_not_seen_nor_deleted(
    client: TestClient,
    db: Session,
    brand: Workspace,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    stranger = make_user("o@other.example")
    other = make_workspace("other", owner=stranger)
    theirs = define(db, other, stranger, "likes / views", "Their rate")
    _editor(client, db, brand, make_user, Role.EDITOR)
    page = client.get("/w/brand/analytics/metrics")
    assert "Their rate" not in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post(
            f"/w/brand/analytics/metrics/{theirs.id}/delete", data={"csrf_token": csrf}
        ).status_code
        == 404
    )
    assert client.get("/w/other/analytics/metrics").status_code == 404
    assert client.get(f"/w/brand/analytics/posts?sort=metric-{theirs.id}").status_code == 200


# --- The API -------------------------------------------------------------------------------


def _bearer(
    db: Session, workspace: Workspace, make_user: UserFactory, role: Role
) -> dict[str, str]:
    person = make_user(f"api-{role.value}@brand.example")
    membership = accounts.add_member(db, workspace=workspace, user=person, role=role, actor=None)
    _token, plain = accounts.create_api_token(db, membership=membership, name="script")
    db.commit()
    return {"authorization": f"Bearer {plain}"}


def test_the_api_lists_creates_and_deletes_metrics(
    client: TestClient,
    db: Session,
    brand: Workspace,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """An editor's token defines a metric (a bad formula is a 400 naming the column, a
    taken name a 409), the posts sort by it, and deletes it; an analyst's only reads;
    another workspace's address is a 404."""
    editor = _bearer(db, brand, make_user, Role.EDITOR)
    base = "/api/v1/w/brand/analytics"
    bad = client.post(
        f"{base}/metrics", json={"name": "Rate", "formula": "shares /"}, headers=editor
    )
    assert bad.status_code == 400
    assert "column" in bad.json()["detail"]
    body = {
        "name": "Share rate",
        "name_zh": "分享率",
        "formula": "shares / views",
        "display": "percent",
    }
    created = client.post(f"{base}/metrics", json=body, headers=editor)
    assert created.status_code == 201, created.text
    assert created.json()["name_zh"] == "分享率"
    assert client.post(f"{base}/metrics", json=body, headers=editor).status_code == 409
    metric_id = created.json()["id"]
    listed = client.get(f"{base}/metrics", headers=editor).json()
    assert [m["name"] for m in listed] == ["Share rate"]
    posts = client.get(
        f"{base}/posts?start=2026-03-01&end=2026-03-31&sort=metric-{metric_id}", headers=editor
    ).json()
    assert posts["sort"] == f"metric-{metric_id}"
    assert posts["rows"][0]["custom"]["Share rate"] == pytest.approx(0.24)
    unknown = client.get(f"{base}/posts?sort=metric-999999", headers=editor)
    assert unknown.status_code == 400
    analyst = _bearer(db, brand, make_user, Role.ANALYST)
    assert client.get(f"{base}/metrics", headers=analyst).status_code == 200
    assert client.delete(f"{base}/metrics/{metric_id}", headers=analyst).status_code == 403
    stranger = make_user("o@other.example")
    other = make_workspace("other", owner=stranger)
    theirs = define(db, other, stranger, "likes / views", "Their rate")
    assert client.delete(f"{base}/metrics/{theirs.id}", headers=editor).status_code == 404
    assert client.get("/api/v1/w/other/analytics/metrics", headers=editor).status_code == 404
    assert client.delete(f"{base}/metrics/{metric_id}", headers=editor).status_code == 204
    assert client.get(f"{base}/metrics", headers=editor).json() == []
