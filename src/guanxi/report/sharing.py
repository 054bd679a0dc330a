"""Share links: a definition's report shown read-only to someone without an account.

A link is a random token (only its digest is stored) that opens until it expires (at most
``SHARE_MAX_DAYS`` days) or is revoked; every opening is counted, with the last one's time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.security import new_token, token_digest
from guanxi.report.models import SHARE_MAX_DAYS, ReportDefinition, ReportShare

TOKEN_PREFIX = "gxr"  # noqa: S105 - the prefix that tells a report link's token apart
SHARE_NOT_FOUND = N_("No such share link in this workspace.")
# One message for an unknown, expired or revoked link: nothing to learn by probing.
LINK_CLOSED = N_(
    "This report link does not exist, has expired or was withdrawn. "
    "Ask the person who sent it for a new one."
)
BAD_DAYS = N_("A share link lasts from 1 to {limit} days.")


def create_share(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    actor: User | None,
    language: str,
    days: int,
    now: datetime,
) -> tuple[ReportShare, str]:
    """A new link to ``definition``'s report in ``language`` for ``days`` days, and its token
    (shown once: only its digest is kept)."""
    if not 1 <= days <= SHARE_MAX_DAYS:
        raise UserError(BAD_DAYS, limit=SHARE_MAX_DAYS)
    token = new_token(TOKEN_PREFIX)
    share = ReportShare(
        workspace_id=definition.workspace_id,
        definition_id=definition.id,
        created_by_id=actor.id if actor else None,
        token_hash=token_digest(token),
        language=language,
        expires_at=now + timedelta(days=days),
        created_at=now,
        open_count=0,
    )
    db.add(share)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="report.share",
        entity_type="report_share",
        entity_id=share.id,
        workspace=workspace,
        after={"definition": definition.id, "expires_at": share.expires_at.isoformat()},
    )
    share.definition = definition
    return share, token


def list_shares(db: Session, *, definition: ReportDefinition) -> list[ReportShare]:
    """``definition``'s links, newest first."""
    query = select(ReportShare).where(ReportShare.definition_id == definition.id)
    return list(db.scalars(query.order_by(ReportShare.id.desc())))


def get_share(db: Session, *, workspace: Workspace, share_id: int) -> ReportShare:
    """The workspace's link ``share_id``; NotFoundError for another's."""
    share = db.get(ReportShare, share_id)
    if share is None or share.workspace_id != workspace.id:
        raise NotFoundError(SHARE_NOT_FOUND)
    return share


def revoke_share(
    db: Session, *, workspace: Workspace, share: ReportShare, actor: User | None, now: datetime
) -> None:
    """Close ``share`` now (a link already closed stays as it was)."""
    if share.revoked_at is not None:
        return
    share.revoked_at = now
    record_audit(
        db,
        actor=actor,
        action="report.unshare",
        entity_type="report_share",
        entity_id=share.id,
        workspace=workspace,
    )


def open_share(db: Session, *, token: str, now: datetime) -> ReportShare:
    """The open link ``token`` names, its opening counted; NotFoundError otherwise."""
    share = db.scalar(select(ReportShare).where(ReportShare.token_hash == token_digest(token)))
    if share is None or not share.active(now):
        raise NotFoundError(LINK_CLOSED)
    share.open_count += 1
    share.last_opened_at = now
    return share
