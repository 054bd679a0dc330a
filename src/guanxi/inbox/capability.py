"""The inbox: comments, mentions and messages from every platform, and the people behind them."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer
from guanxi.inbox import cli, overview
from guanxi.inbox.debates import models as debate_models
from guanxi.inbox.intake import models as intake_models
from guanxi.inbox.items import models as item_models
from guanxi.inbox.people import models as people_models
from guanxi.inbox.replies import models as reply_models
from guanxi.inbox.triage import models as triage_models

capability = Capability(
    name="inbox",
    position=30,
    search=("guanxi.inbox.search:search",),
    routers=(
        "guanxi.inbox.items.views:router",
        "guanxi.inbox.replies.views:router",
        "guanxi.inbox.triage.views:router",
        "guanxi.inbox.people.views:router",
        "guanxi.inbox.debates.views:router",
    ),
    schedule="guanxi.inbox.scheduled:SCHEDULE",
    cli=cli.register,
    models=(item_models, intake_models, triage_models, reply_models, people_models, debate_models),
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
    report_sections=(
        SectionOffer(
            key="inbox.team",
            title=N_("Inbox"),
            source="guanxi.inbox.triage.report_sections:team",
        ),
    ),
)
