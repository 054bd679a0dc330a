"""Publishing: write once, adapt per platform, approve, schedule, and know what went out."""

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.capability import Capability, Glance
from guanxi.core.errors import N_
from guanxi.publishing import (
    models,
    overview,
)
from guanxi.publishing.policy import get_policy


def _default_policy(db: Session, workspace_id: int) -> None:
    """A new workspace starts with the default publishing policy (a page that reads it then
    never has to write it)."""
    get_policy(db, workspace=db.get_one(Workspace, workspace_id))


capability = Capability(
    name="publishing",
    position=10,
    routers=(
        "guanxi.publishing.calendar_views:router",
        "guanxi.publishing.views:router",
        "guanxi.publishing.media_views:router",
        "guanxi.publishing.review_views:router",
        "guanxi.publishing.manual_views:router",
    ),
    api_routers=("guanxi.publishing.api:router",),
    schedule="guanxi.publishing.tasks:SCHEDULE",
    models=(models,),
    on_app_created=("guanxi.publishing.views:set_up",),
    on_workspace_created=(_default_policy,),
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
)
