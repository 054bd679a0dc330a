"""The approvals tests' set-up on a team (``composer_support.make_team``: a member per role,
a microblog and an article account): a member's membership, and posts the editor writes
and sends to review."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core.settings import Settings
from guanxi.publishing import approvals, service
from guanxi.publishing.models import Post
from tests.composer_support import Team

TEXT = "春季新品上市，欢迎来店里看看。"
TITLE = "春季上新"


def member(db: Session, team: Team, user_id: int) -> Membership:
    """The membership of user ``user_id`` in the team's workspace."""
    found = db.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == team.workspace.id
        )
    )
    assert found is not None
    return found


def new_post(
    db: Session, team: Team, channel_id: int | None = None, text: str = TEXT, title: str = TITLE
) -> Post:
    """A draft by the editor on account ``channel_id`` (the microblog unless named)."""
    return service.create_post(
        db,
        workspace=team.workspace,
        actor=team.editor,
        title=title,
        body=text,
        campaign="",
        channel_ids=[str(team.micro.id if channel_id is None else channel_id)],
    )


def submitted_post(
    db: Session, team: Team, settings: Settings | None = None, title: str = TITLE
) -> Post:
    """A post by the editor on the microblog, submitted for review (committed)."""
    post = new_post(db, team, title=title)
    approvals.submit_for_review(
        db, post=post, membership=member(db, team, team.editor.id), settings=settings
    )
    db.commit()
    return post
