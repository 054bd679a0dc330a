"""Retention: each workspace's periods for the raw rows the capabilities declare, the page
and API that set them, and the worker's daily deletion."""

from guanxi.core.capability import Capability
from guanxi.retention import models

capability = Capability(
    name="retention",
    position=200,
    routers=("guanxi.retention.views:router",),
    api_routers=("guanxi.retention.api:router",),
    schedule="guanxi.retention.scheduled:SCHEDULE",
    models=(models,),
)
