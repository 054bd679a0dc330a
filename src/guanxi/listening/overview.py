"""What the workspace's front page shows of listening: the week's volume and its alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.listening.alerts.models import Alert
from guanxi.listening.mentions.models import Mention

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ListeningGlance:
    """The last 7 days of listening."""

    mentions_this_week: int
    alerts_this_week: int
    since: date  # the first day counted, for the dashboard's filter


def glance(db: Session, *, workspace_id: int, now: datetime) -> ListeningGlance:
    """The workspace's listening at a glance, over the 7 days before ``now``."""
    start = now - WEEK
    # The mentions' records, which stay in the SQL database whatever the analytics store:
    # one just imported counts before its enrichment reaches the store.
    mentions = db.scalar(
        select(func.count()).where(Mention.workspace_id == workspace_id, Mention.posted_at >= start)
    )
    alerts = db.scalar(
        select(func.count()).where(Alert.workspace_id == workspace_id, Alert.fired_at >= start)
    )
    return ListeningGlance(int(mentions or 0), int(alerts or 0), start.date())
