"""Listening: imported and pulled posts, enriched with Chinese NLP, with dashboards and alerts."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer
from guanxi.listening import cli, overview
from guanxi.listening.alerts import models as alerts
from guanxi.listening.intake import models as intake
from guanxi.listening.mentions import models as mentions
from guanxi.listening.mentions.retention import MENTIONS
from guanxi.listening.topics import models as topics

capability = Capability(
    name="listening",
    position=20,
    search=("guanxi.listening.search:search",),
    routers=(
        "guanxi.listening.insight.views:router",
        "guanxi.listening.topics.views:router",
        "guanxi.listening.alerts.views:router",
        "guanxi.listening.intake.views:router",
        "guanxi.listening.mentions.views:router",
    ),
    api_routers=("guanxi.listening.api:router",),
    schedule="guanxi.listening.scheduled:SCHEDULE",
    cli=cli.register,
    models=(intake, mentions, topics, alerts),
    analytics_migrations=("guanxi.listening.store.clickhouse_migrations",),
    analytics_copies=(
        "guanxi.listening.store.copy:MentionCopy",
        "guanxi.listening.store.copy:DailyCountsCopy",
    ),
    retention=(MENTIONS,),
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
    report_sections=(
        SectionOffer(
            key="listening.mentions",
            title=N_("Listening"),
            source="guanxi.listening.insight.report_sections:mentions",
        ),
    ),
)
