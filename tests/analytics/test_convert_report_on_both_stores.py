"""End to end: the conversion report and the figures beside it are the same on either store.

Given the demo's conversions (180 days of clicks and orders) on the SQL store, copied to
ClickHouse the way ``guanxi analytics migrate`` copies them (``convert.store.copy``), the
revenue API (the JSON ``guanxi convert report`` prints), the links and codes APIs, the KOL
leaderboard and each campaign's funnel answer the same, under two attribution models.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership
from guanxi.analytics.client import AnalyticsClient
from guanxi.convert import funnel, kols, reports
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.store.copy import TABLES
from guanxi.core.db import utcnow
from guanxi.devtools.demo.convert import load_demo
from guanxi.publishing.models import Campaign
from tests.analytics.conftest import use_convert_store
from tests.conftest import UserFactory, WorkspaceFactory

MODELS = (AttributionModel.LAST_TOUCH, AttributionModel.LINEAR)


def _figures(web: TestClient, db: Session, workspace_id: int, zone: str) -> dict[str, Any]:
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    first, last = today - timedelta(days=120), today
    found: dict[str, Any] = {}
    for path in ("links", "codes", "kols"):
        response = web.get(f"/api/v1/w/demo/{path}")
        assert response.status_code == 200, (path, response.text)
        found[path] = response.json()
    for model in MODELS:
        response = web.get(f"/api/v1/w/demo/revenue?from={first}&to={last}&model={model}")
        assert response.status_code == 200, response.text
        found[f"revenue {model}"] = response.json()
        report = reports.revenue_report(
            db, workspace_id=workspace_id, first_day=first, last_day=last, zone=zone, model=model
        )
        found[f"leaderboard {model}"] = [
            (row.kol.name, row.line, row.clicks, row.codes)
            for row in kols.leaderboard(db, workspace_id=workspace_id, report=report, zone=zone)
        ]
        start, end = reports.period_bounds(first, last, zone)
        for campaign_id in db.scalars(
            select(Campaign.id).where(Campaign.workspace_id == workspace_id).order_by(Campaign.id)
        ):
            found[f"funnel {model} {campaign_id}"] = funnel.campaign_funnel(
                db,
                workspace_id=workspace_id,
                campaign_id=campaign_id,
                report=report,
                start=start,
                end=end,
            )
    return found


def _months(first: date, last: date) -> list[date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def test_the_demo_conversions_are_the_same_on_clickhouse(
    db: Session,
    client: TestClient,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo's conversions on the SQL store, when its clicks and code events are
    copied to ClickHouse and ClickHouse is the store, every figure is the same."""
    use_convert_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    load_demo(db, workspace=workspace)
    db.commit()
    membership = db.scalar(select(Membership).where(Membership.workspace_id == workspace.id))
    assert membership is not None
    _token, plain = accounts.create_api_token(db, membership=membership, name="bi")
    db.commit()
    client.headers["authorization"] = f"Bearer {plain}"
    on_sql = _figures(client, db, workspace.id, workspace.timezone)

    today = utcnow().date()
    for name, table in TABLES.items():
        for month in _months(today - timedelta(days=400), today):
            after = 0
            while rows := table.sql_rows(db, month, after, 500):
                table.write_rows(clickhouse, rows, f"{name}:{month:%Y-%m}:{rows[0]['id']}")
                after = rows[-1]["id"]
    use_convert_store(monkeypatch, clickhouse)
    on_clickhouse = _figures(client, db, workspace.id, workspace.timezone)

    assert on_clickhouse == on_sql
    assert sum(link["clicks"] for link in on_sql["links"]) > 1000  # over real figures
    assert on_sql[f"revenue {MODELS[0]}"] != on_sql[f"revenue {MODELS[1]}"]
