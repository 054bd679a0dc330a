"""The planner: rank the platforms for an audience and goals, and say why."""

from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.planner import cli, models, overview

capability = Capability(
    name="planner",
    routers=("guanxi.planner.views:router",),
    api_routers=("guanxi.planner.api:router",),
    models=(models,),
    cli=cli.register,
    glance=Glance(
        title=N_("Plan"),
        description=N_(
            "Describe your audience and goals; the planner ranks the platforms and says why."
        ),
        action=N_("Plan your channels"),
        href="plan",
        position=20,
        template="shell/glance_plan.html",
        load=overview.glance,
        primary=True,
    ),
)
