"""Market: app-store chart ranks across countries, campaigns and their measured effect."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer
from guanxi.market import cli, models, overview

capability = Capability(
    name="market",
    position=40,
    routers=(
        "guanxi.market.campaign_views:router",
        "guanxi.market.views:router",
    ),
    api_routers=("guanxi.market.api:router",),
    schedule="guanxi.market.scheduled:SCHEDULE",
    cli=cli.register,
    models=(models,),
    glance=Glance(
        title=N_("Market"),
        description=N_(
            "App-store chart ranks across countries, campaign annotations and the measured "
            "effect of a campaign."
        ),
        action=N_("Watch the charts"),
        href="market",
        position=60,
        template="shell/glance_market.html",
        load=overview.glance,
    ),
    report_sections=(
        SectionOffer(
            key="market.ranks",
            title=N_("Market"),
            source="guanxi.market.report_sections:ranks",
        ),
    ),
)
