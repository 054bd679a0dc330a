"""What analytics holds for each account, and what it could not collect and why: the
account page's collection status.

One query answers every account asked for: the account, the collector's state, and three
walks of an index each (its posts by (channel, published), its first and last day by
(channel, day)); a second reads the missing ranges, of which there are few.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.core.errors import N_, NotFoundError
from guanxi.measure.models import CollectionState, MeasuredPost, MissingFigures
from guanxi.measure.store import measure_store


@dataclass
class ChannelCollection:
    """What analytics holds for an account, and what it could not collect."""

    channel: Channel
    state: CollectionState | None
    posts: int
    first_day: date | None  # the oldest day with figures (the gaps: see ``missing``)
    last_day: date | None
    missing: list[MissingFigures]


def collection_status(
    db: Session, *, workspace: Workspace, channel_ids: Sequence[int] | None = None
) -> list[ChannelCollection]:
    """Every account of the workspace (or those of ``channel_ids`` among them) with what was
    collected, when, and what is missing; by platform and name."""
    posts = (
        select(func.count())
        .where(MeasuredPost.channel_id == Channel.id)
        .correlate(Channel)
        .scalar_subquery()
    )
    query = (
        select(Channel, CollectionState, posts)
        .outerjoin(CollectionState, CollectionState.channel_id == Channel.id)
        .where(Channel.workspace_id == workspace.id)
        .order_by(Channel.platform, Channel.name)
    )
    if channel_ids is not None:
        query = query.where(Channel.id.in_(channel_ids))
    rows = db.execute(query).all()
    spans = measure_store(db).spans([row[0].id for row in rows])
    missing: dict[int, list[MissingFigures]] = defaultdict(list)
    if rows:
        for row in db.scalars(
            select(MissingFigures)
            .where(MissingFigures.channel_id.in_([row[0].id for row in rows]))
            .order_by(MissingFigures.first_day.desc())
        ):
            missing[row.channel_id].append(row)
    return [
        ChannelCollection(
            channel=channel,
            state=state,
            posts=count or 0,
            first_day=span.first if (span := spans.get(channel.id)) else None,
            last_day=span.last if span else None,
            missing=missing.get(channel.id, []),
        )
        for channel, state, count in rows
    ]


def account_status(db: Session, *, workspace: Workspace, channel_id: int) -> ChannelCollection:
    """One account's collection status; a NotFoundError for another workspace's or none."""
    found = collection_status(db, workspace=workspace, channel_ids=[channel_id])
    if not found:
        raise NotFoundError(N_("No such connected account in this workspace."))
    return found[0]
