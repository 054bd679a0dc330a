"""Publishing: write once, adapt per platform, approve, schedule, and know what went out."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.core.report import SectionOffer
from guanxi.publishing import (
    models,
    overview,
)

capability = Capability(
    name="publishing",
    position=10,
    search=("guanxi.publishing.search:search",),
    routers=(
        "guanxi.publishing.calendar_views:router",
        "guanxi.publishing.views:router",
        "guanxi.publishing.variant_views:router",
        "guanxi.publishing.media_views:router",
        "guanxi.publishing.review_views:router",
        "guanxi.publishing.manual_views:router",
        "guanxi.publishing.queue_views:router",
    ),
    api_routers=("guanxi.publishing.api:router",),
    schedule="guanxi.publishing.tasks:SCHEDULE",
    models=(models,),
    on_app_created=("guanxi.publishing.views:set_up", "guanxi.publishing.queue_views:set_up"),
    glance=Glance(
        title=N_("Publish"),
        description=N_(
            "Write once in Chinese, adapt per platform, get it approved and scheduled, and "
            "know for certain what went out."
        ),
        action=N_("Write a post"),
        href="publish",
        position=30,
        template="shell/glance_publish.html",
        load=overview.glance,
    ),
    report_sections=(
        SectionOffer(
            key="publishing.posts",
            title=N_("Publishing"),
            source="guanxi.publishing.report_sections:posts",
        ),
    ),
)
