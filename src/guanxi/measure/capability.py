"""Analytics ("measure"): the brand's own posts and accounts, measured from the day they are
connected, with the history each platform's API still gives."""

from guanxi.core.capability import Capability
from guanxi.measure import cli, models

capability = Capability(
    name="measure",
    position=50,
    schedule="guanxi.measure.scheduled:SCHEDULE",
    cli=cli.register,
    routers=("guanxi.measure.analysis.views:router",),
    api_routers=("guanxi.measure.analysis.api:router",),
    on_app_created=("guanxi.measure.analysis.views:set_up",),
    models=(models,),
)
