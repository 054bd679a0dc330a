"""Pre-publish checks: sensitive words, script, links and hashtags."""

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.checks import models, wordlist
from guanxi.core.capability import Capability


def _seed_words(db: Session, workspace_id: int) -> None:
    """A new workspace starts with the default sensitive-word list."""
    wordlist.ensure_default_words(db, workspace=db.get_one(Workspace, workspace_id))


capability = Capability(
    name="checks",
    routers=("guanxi.checks.views:router",),
    models=(models,),
    on_workspace_created=(_seed_words,),
)
