"""Notifications: what happened that a member should know (failed posts, alerts, approvals)."""

from guanxi.core.capability import Capability
from guanxi.notifications import models

capability = Capability(
    name="notifications",
    routers=("guanxi.notifications.views:router",),
    models=(models,),
    on_app_created=("guanxi.notifications.views:set_up",),
)
