"""The platform catalog: every Chinese and foreign platform, and what reaches it."""

from guanxi.catalog import cli
from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_

capability = Capability(
    name="catalog",
    search=("guanxi.catalog.search:search",),
    routers=("guanxi.catalog.views:router",),
    api_routers=("guanxi.catalog.api:router",),
    cli=cli.register,
    on_app_created=("guanxi.catalog.views:set_up",),
    glance=Glance(
        title=N_("Catalog"),
        description=N_(
            "Every Chinese and foreign platform: audience, reach over time, where it can be "
            "reached, which official APIs it has."
        ),
        action=N_("Browse the platforms"),
        href="/catalog",
        position=10,
    ),
)
