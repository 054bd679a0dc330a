"""Helpers for the market tests: small charts, the demo dataset in a workspace, fixtures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.devtools.demo import market as demo
from guanxi.market import campaigns, service
from guanxi.market.fetchers import ParsedChart, RankedApp
from guanxi.market.models import Chart, ChartDataset, Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "market"
DAY = date(2013, 7, 27)


def chart(
    country: str, day: date, apps: list[str], store: Store = Store.GOOGLE_PLAY
) -> ParsedChart:
    """A chart of ``apps`` in rank order (app key = name)."""
    entries = tuple(RankedApp(rank, app, app.title(), "") for rank, app in enumerate(apps, 1))
    return ParsedChart(store, country, Chart.TOP_FREE, "", day, entries)


def dataset_with(
    db: Session, workspace: Workspace | None, charts: list[ParsedChart], name: str = "Test charts"
) -> ChartDataset:
    """A dataset holding ``charts`` (committed)."""
    dataset = service.find_or_create_dataset(db, workspace=workspace, name=name, source="csv")
    service.import_charts(db, dataset=dataset, charts=charts, alert=False)
    db.commit()
    return dataset


def load_market_demo(db: Session, workspace: Workspace) -> None:
    """The market demo in ``workspace`` (committed)."""
    demo.load_charts(db, workspace=workspace)
    db.commit()


def days(start: date, count: int) -> list[date]:
    """``count`` consecutive days from ``start``."""
    return [start + timedelta(days=n) for n in range(count)]


def small_market(db: Session, workspace: Workspace) -> ChartDataset:
    """A private dataset of 3 countries × 10 days and one campaign on it (committed)."""
    charts = [
        chart(country, day, ["whatsapp", "wechat", "line"] if n % 2 else ["wechat", "whatsapp"])
        for country in ("IT", "AR", "CL")
        for n, day in enumerate(days(DAY - timedelta(days=9), 10))
    ]
    dataset = dataset_with(db, workspace, charts, name="Small charts")
    data = campaigns.parse_campaign(
        name="Small push", app_key="wechat", countries="IT", starts_on=DAY.isoformat()
    )
    campaigns.create_campaign(db, workspace=workspace, data=data, dataset=dataset, actor=None)
    db.commit()
    return dataset
