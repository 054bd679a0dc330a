"""Analytics ("measure"): the brand's own posts and accounts, measured from the day they are
connected, with the history each platform's API still gives."""

from guanxi.core.capability import Capability, Glance, Headline
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer
from guanxi.measure import cli, headline, models
from guanxi.measure.imports import models as imports_models
from guanxi.measure.retention import SNAPSHOTS

capability = Capability(
    name="measure",
    position=50,
    routers=(
        "guanxi.measure.imports.views:router",
        "guanxi.measure.analysis.views:router",
        "guanxi.measure.metrics_views:router",
        "guanxi.measure.views:router",
    ),
    api_routers=("guanxi.measure.api:router", "guanxi.measure.analysis.api:router"),
    schedule="guanxi.measure.scheduled:SCHEDULE",
    cli=cli.register,
    models=(models, imports_models),
    retention=(SNAPSHOTS,),
    analytics_migrations=("guanxi.measure.store.clickhouse_migrations",),
    analytics_copies=(
        "guanxi.measure.store.copy:SnapshotsMigration",
        "guanxi.measure.store.copy:AccountDaysMigration",
        "guanxi.measure.store.copy:BreakdownsMigration",
    ),
    glance=Glance(
        title=N_("Analytics"),
        description=N_(
            "Followers, views and engagements of your own accounts and posts, kept day by "
            "day from the day each account is connected."
        ),
        action=N_("See how posts perform"),
        href="analytics",
        position=60,
    ),
    headline=Headline(template="measure/_headline.html", load=headline.headline),
    on_app_created=("guanxi.measure.analysis.views:set_up",),
    report_sections=(
        SectionOffer(
            key="measure.accounts",
            title=N_("Own accounts"),
            source="guanxi.measure.report_sections:accounts",
        ),
    ),
)
