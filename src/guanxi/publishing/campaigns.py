"""Campaigns: a named, coloured group of posts (a launch, a festival) shown on the calendar.

Writers create, edit and delete them; every change is audited. Deleting a campaign keeps
its posts, outside any campaign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.publishing.calendar import parse_day
from guanxi.publishing.models import Campaign, Post

CAMPAIGN_NAME_MAX = 120
CAMPAIGN_DESCRIPTION_MAX = 2000
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class CampaignInput:
    """A campaign's fields, validated."""

    name: str
    color: str
    starts_on: date | None
    ends_on: date | None
    description: str


def parse_campaign(
    *, name: str, color: str, starts_on: str, ends_on: str, description: str
) -> CampaignInput:
    """Validated campaign fields from a form, or a UserError naming the field to fix."""
    name = name.strip()
    if not name or len(name) > CAMPAIGN_NAME_MAX:
        raise UserError(
            N_("Enter a campaign name of 1 to {max} characters."), max=CAMPAIGN_NAME_MAX
        )
    color = color.strip() or "#c0392b"
    if not COLOR_RE.match(color):
        raise UserError(
            N_("{value} is not a colour. Pick one, or enter it as #RRGGBB."), value=color
        )
    start = parse_day(starts_on) if starts_on.strip() else None
    end = parse_day(ends_on) if ends_on.strip() else None
    if start and end and end < start:
        raise UserError(N_("The campaign ends before it starts. Correct the dates."))
    description = description.strip()
    if len(description) > CAMPAIGN_DESCRIPTION_MAX:
        raise UserError(
            N_("Keep the description under {max} characters."), max=CAMPAIGN_DESCRIPTION_MAX
        )
    return CampaignInput(name, color.lower(), start, end, description)


def _campaign_fields(campaign: Campaign) -> dict[str, str | None]:
    return {
        "name": campaign.name,
        "color": campaign.color,
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        "description": campaign.description,
    }


def list_campaigns(db: Session, *, workspace: Workspace) -> list[Campaign]:
    """The workspace's campaigns: dated ones by start, then undated ones, each by name."""
    query = (
        select(Campaign)
        .where(Campaign.workspace_id == workspace.id)
        .order_by(Campaign.starts_on.is_(None), Campaign.starts_on, Campaign.name, Campaign.id)
    )
    return list(db.scalars(query))


def get_campaign(db: Session, *, workspace: Workspace, campaign_id: int) -> Campaign:
    """The workspace's campaign with this id; NotFound for anyone else's."""
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != workspace.id:
        raise NotFoundError(N_("No such campaign in this workspace."))
    return campaign


def _ensure_unique_name(
    db: Session, *, workspace: Workspace, name: str, other_than: int | None = None
) -> None:
    query = select(Campaign.id).where(
        Campaign.workspace_id == workspace.id, func.lower(Campaign.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(Campaign.id != other_than)
    if db.scalar(query) is not None:
        raise ConflictError(
            N_("A campaign named {name} already exists. Choose another name."), name=name
        )


def create_campaign(
    db: Session, *, workspace: Workspace, data: CampaignInput, actor: User, ip: str | None = None
) -> Campaign:
    """Create a campaign, audited; names are unique within the workspace."""
    _ensure_unique_name(db, workspace=workspace, name=data.name)
    campaign = Campaign(
        workspace_id=workspace.id,
        name=data.name,
        color=data.color,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        description=data.description,
    )
    db.add(campaign)
    db.flush()
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
        after=_campaign_fields(campaign),
        ip=ip,
    )
    return campaign


def update_campaign(
    db: Session,
    *,
    workspace: Workspace,
    campaign_id: int,
    data: CampaignInput,
    actor: User,
    ip: str | None = None,
) -> Campaign:
    """Change a campaign's fields, audited with before and after."""
    campaign = get_campaign(db, workspace=workspace, campaign_id=campaign_id)
    _ensure_unique_name(db, workspace=workspace, name=data.name, other_than=campaign.id)
    before = _campaign_fields(campaign)
    campaign.name = data.name
    campaign.color = data.color
    campaign.starts_on = data.starts_on
    campaign.ends_on = data.ends_on
    campaign.description = data.description
    db.flush()
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="campaign.update",
        entity_type="campaign",
        entity_id=campaign.id,
        before=before,
        after=_campaign_fields(campaign),
        ip=ip,
    )
    return campaign


def delete_campaign(
    db: Session, *, workspace: Workspace, campaign_id: int, actor: User, ip: str | None = None
) -> None:
    """Delete a campaign, audited; its posts stay, outside any campaign."""
    campaign = get_campaign(db, workspace=workspace, campaign_id=campaign_id)
    posts = list(db.scalars(select(Post).where(Post.campaign_id == campaign.id)))
    for post in posts:
        post.campaign_id = None
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="campaign.delete",
        entity_type="campaign",
        entity_id=campaign.id,
        before=_campaign_fields(campaign),
        after={"posts_released": len(posts)},
        ip=ip,
    )
    db.delete(campaign)
    db.flush()


def posts_by_campaign(db: Session, *, workspace: Workspace) -> dict[int | None, list[Post]]:
    """The workspace's posts grouped by campaign id (None: outside any), newest first."""
    query = (
        select(Post)
        .where(Post.workspace_id == workspace.id)
        .options(selectinload(Post.variants))
        .order_by(Post.created_at.desc(), Post.id.desc())
    )
    groups: dict[int | None, list[Post]] = {}
    for post in db.scalars(query):
        groups.setdefault(post.campaign_id, []).append(post)
    return groups
