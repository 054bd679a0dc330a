"""Analytics ("measure"): the brand's own posts and accounts, measured from the day they are
connected, with the history each platform's API still gives."""

from guanxi.core.capability import Capability
from guanxi.measure import cli, models
from guanxi.measure.imports import models as imports_models

capability = Capability(
    name="measure",
    position=50,
    schedule="guanxi.measure.scheduled:SCHEDULE",
    cli=cli.register,
    routers=("guanxi.measure.imports.views:router",),
    models=(models, imports_models),
)
