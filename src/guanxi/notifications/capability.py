"""Notifications: what happened that a member should know (failed posts, alerts, approvals),
where each person chose to hear of it: the app, e-mail, the team chat."""

from guanxi.core.capability import Capability
from guanxi.notifications import models

capability = Capability(
    name="notifications",
    routers=(
        "guanxi.notifications.views:router",
        "guanxi.notifications.settings_views:router",
    ),
    models=(models,),
    schedule="guanxi.notifications.tasks:SCHEDULE",
    on_app_created=("guanxi.notifications.views:set_up",),
)
