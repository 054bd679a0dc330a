"""Listening: imported and pulled posts, enriched with Chinese NLP, with dashboards and alerts."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.listening import cli, models, overview, topic_models

capability = Capability(
    name="listening",
    position=20,
    routers=(
        "guanxi.listening.insight_views:router",
        "guanxi.listening.views:router",
    ),
    api_routers=("guanxi.listening.api:router",),
    schedule="guanxi.listening.scheduled:SCHEDULE",
    cli=cli.register,
    models=(models, topic_models),
    glance=Glance(
        title=N_("Listen"),
        description=N_(
            "Imported and pulled posts enriched with Chinese NLP: sentiment, kind of source, "
            "journey stage and topics, with dashboards and alerts."
        ),
        action=N_("See what is said"),
        href="listen",
        position=50,
        template="shell/glance_listen.html",
        load=overview.glance,
    ),
)
