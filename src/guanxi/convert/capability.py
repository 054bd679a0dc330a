"""Conversions ("convert"): tracked links, and the clicks they bring, tied to the campaigns
and posts they were made for."""

from guanxi.convert import cli, models, rollup_models, scene_models
from guanxi.convert.retention import CLICK_KIND, CODE_EVENT_KIND
from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer

capability = Capability(
    name="convert",
    position=55,
    search=("guanxi.convert.search:search",),
    routers=(
        "guanxi.convert.views:router",
        "guanxi.convert.revenue_views:router",
        "guanxi.convert.money_views:router",
        "guanxi.convert.import_views:router",
        "guanxi.convert.code_views:router",
        "guanxi.convert.incremental_views:router",
    ),
    api_routers=(
        "guanxi.convert.api:router",
        "guanxi.convert.api:conversions_router",
        "guanxi.convert.api:codes_router",
        "guanxi.convert.money_api:costs_router",
        "guanxi.convert.money_api:kols_router",
        "guanxi.convert.money_api:codes_router",
        "guanxi.convert.money_api:revenue_router",
    ),
    schedule="guanxi.convert.scheduled:SCHEDULE",
    cli=cli.register,
    models=(models, scene_models, rollup_models),
    retention=(CLICK_KIND, CODE_EVENT_KIND),
    analytics_migrations=("guanxi.convert.store.clickhouse_migrations",),
    # Clicks before their hourly counts: the counts' checksum adds the copied clicks.
    analytics_copies=(
        "guanxi.convert.store.copy:ClicksMigration",
        "guanxi.convert.store.copy:ClickHoursMigration",
        "guanxi.convert.store.copy:CodeEventsMigration",
        "guanxi.convert.store.copy:CodeEventHoursMigration",
    ),
    glance=Glance(
        title=N_("Tracked links"),
        description=N_(
            "Short links on the brand's own domain for posts and campaigns: who clicked, "
            "from which app, bots and repeats left out."
        ),
        action=N_("Make a tracked link"),
        href="links",
        position=65,
    ),
    on_app_created=(
        "guanxi.convert.redirect:set_up",
        "guanxi.convert.code_events:set_up",
        "guanxi.convert.tracking:set_up",
    ),
    report_sections=(
        SectionOffer(
            key="convert.revenue",
            title=N_("Conversions and ROI"),
            source="guanxi.convert.report_sections:revenue",
        ),
    ),
)
