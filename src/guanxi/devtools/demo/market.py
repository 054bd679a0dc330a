"""The market demo: the seed's chat-app charts around July 27, 2013, in the app publisher's
workspace (a wine brand has no app-store charts to read).

The dataset is private to that workspace and flagged illustrative (market_charts says what
is the seed's and what is made up); WhatsApp, WeChat and Line are tracked, and the two
campaigns the seed tells of (Messi for WeChat in Italy, the TV commercial in India) are
annotated, so the matrix of July 27 and the Messi effect show from ``make run``.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.devtools.demo import DemoStep
from guanxi.devtools.demo.market_charts import (
    DATASET_NAME,
    DATASET_NOTE,
    DEMO_CAMPAIGNS,
    LINE,
    SEED_DAY,
    WECHAT,
    WHATSAPP,
    demo_charts,
)
from guanxi.devtools.demo.workspace import APP_PUBLISHER_WORKSPACE
from guanxi.market import campaigns, service
from guanxi.market.models import ChartSnapshot, MarketCampaign, TrackedApp

TRACKED = (
    (WHATSAPP, "WhatsApp", "#25d366"),
    (WECHAT, "WeChat", "#1aad19"),
    (LINE, "LINE", "#00b900"),
)


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add the market demo to the app publisher's workspace (not to ``workspace``, the wine
    brand's); running it again changes nothing."""
    del workspace  # the step is given the wine brand's workspace; the charts are the publisher's
    publisher = db.scalar(select(Workspace).where(Workspace.slug == APP_PUBLISHER_WORKSPACE.slug))
    if publisher is None:
        msg = f"the demo workspace {APP_PUBLISHER_WORKSPACE.slug} is missing: load the demo first"
        raise LookupError(msg)
    load_charts(db, workspace=publisher)


def load_charts(db: Session, *, workspace: Workspace) -> None:
    """The seed's charts, tracked apps and app-store campaigns in ``workspace`` (idempotent)."""
    dataset = service.find_or_create_dataset(
        db,
        workspace=workspace,
        name=DATASET_NAME,
        source="demo",
        illustrative=True,
        note=DATASET_NOTE,
    )
    dataset.focus_day = SEED_DAY
    stored = db.scalar(
        select(func.count(ChartSnapshot.id)).where(ChartSnapshot.dataset_id == dataset.id)
    )
    if not stored:
        service.import_charts(db, dataset=dataset, charts=demo_charts(), alert=False)
    tracked = set(
        db.scalars(select(TrackedApp.app_key).where(TrackedApp.workspace_id == workspace.id))
    )
    for app_key, name, color in TRACKED:
        if app_key not in tracked:
            service.track_app(db, workspace=workspace, app_key=app_key, name=name, color=color)
    names = set(
        db.scalars(select(MarketCampaign.name).where(MarketCampaign.workspace_id == workspace.id))
    )
    for demo in DEMO_CAMPAIGNS:
        if demo.name in names:
            continue
        data = campaigns.parse_campaign(
            name=demo.name,
            app_key=demo.app_key,
            brand=demo.brand,
            countries=",".join(demo.countries),
            starts_on=demo.starts_on.isoformat(),
            color=demo.color,
            description=demo.description,
        )
        campaigns.create_campaign(db, workspace=workspace, data=data, dataset=dataset, actor=None)
    db.flush()


DEMO = DemoStep(order=40, load=load_demo)
