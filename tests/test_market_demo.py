"""The market demo belongs to the app publisher's workspace, not to the wine brand's."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.devtools.demo.workspace import (
    APP_PUBLISHER_WORKSPACE,
    DEMO_PEOPLE,
    DEMO_WORKSPACE,
    load_demo,
)
from guanxi.market.models import ChartDataset, MarketCampaign, TrackedApp


def _count(db: Session, model: type, workspace: Workspace) -> int:
    return int(db.scalar(select(func.count()).where(model.workspace_id == workspace.id)) or 0)  # type: ignore[attr-defined]


def test_the_app_store_charts_are_the_app_publishers_and_the_wine_brand_sees_none(
    db: Session,
) -> None:
    """Given the demo, the app publisher (WeChat abroad) has the seed's charts, tracked apps
    and its two app-store campaigns; the wine brand has none; every demo person is in both."""
    wine = load_demo(db)
    db.commit()
    publisher = db.scalar(select(Workspace).where(Workspace.slug == APP_PUBLISHER_WORKSPACE.slug))
    assert publisher is not None
    assert wine.slug == DEMO_WORKSPACE.slug
    for model in (ChartDataset, TrackedApp, MarketCampaign):
        assert _count(db, model, wine) == 0
    assert _count(db, ChartDataset, publisher) == 1
    assert _count(db, TrackedApp, publisher) == 3
    assert _count(db, MarketCampaign, publisher) == 2
    members = db.scalar(select(func.count()).where(Membership.workspace_id == publisher.id))
    assert members == len(DEMO_PEOPLE)
    load_demo(db)  # again: nothing more
    db.commit()
    assert _count(db, MarketCampaign, publisher) == 2
