"""The inbox: comments, mentions and messages from every platform, and the people behind them."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.inbox import cli, overview
from guanxi.inbox.items import models as item_models
from guanxi.inbox.people import models as people_models

capability = Capability(
    name="inbox",
    position=30,
    routers=(
        "guanxi.inbox.triage.views:router",
        "guanxi.inbox.people.views:router",
        "guanxi.inbox.items.views:router",
    ),
    schedule="guanxi.inbox.scheduled:SCHEDULE",
    cli=cli.register,
    models=(item_models, people_models),
    on_app_created=("guanxi.inbox.items.views:set_up",),
    glance=Glance(
        title=N_("Inbox"),
        description=N_(
            "Comments, mentions and messages from every platform in one list, with "
            "moderation, replies and a relationship book of fans and KOLs."
        ),
        action=N_("Open the inbox"),
        href="inbox",
        position=40,
        template="shell/glance_inbox.html",
        load=overview.glance,
    ),
)
