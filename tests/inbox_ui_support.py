"""Factories for the inbox UI tests: a channel, stored items, a fake platform."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Workspace
from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.inbox.items.models import InboxItem, ItemKind, ItemTag
from guanxi.inbox.triage.models import ModerationAction
from guanxi.inbox.triage.platform import PlatformRefusedError

_numbers = itertools.count(1)


def make_channel(db: Session, workspace: Workspace, *, platform: str = "weibo") -> Channel:
    """A connected channel of ``workspace`` on ``platform``."""
    channel = Channel(
        workspace_id=workspace.id,
        connector=platform,
        platform=platform,
        external_id=f"brand-{next(_numbers)}",
        name=f"{platform} brand",
    )
    db.add(channel)
    db.flush()
    return channel


def make_item(
    db: Session,
    channel: Channel,
    text: str,
    *,
    author: str = "fan-1",
    name: str = "小王",
    followers: int | None = 100,
    verified_type: int | None = -1,
    created_at: datetime | None = None,
    kind: ItemKind = ItemKind.COMMENT,
    post: str = "post-1",
) -> InboxItem:
    """A stored (flushed) inbox item on ``channel``, not yet moderated."""
    item = InboxItem(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        platform=channel.platform,
        kind=kind,
        external_id=f"c{next(_numbers)}",
        post_external_id=post,
        text=text,
        author_external_id=author,
        author_name=name,
        author_followers=followers,
        author_verified_type=verified_type,
        created_at=created_at or utcnow() - timedelta(minutes=5),
    )
    db.add(item)
    db.flush()
    return item


@dataclass
class FakePlatform:
    """Platform actions that record what was asked; ``refuse`` makes hide fail."""

    hidden: list[str] = field(default_factory=list)
    replied: list[tuple[str, str]] = field(default_factory=list)
    refuse: bool = False

    def hide(self, db: Session, *, item: InboxItem) -> None:
        """Record the hide, or refuse it as a platform would."""
        del db
        if self.refuse:
            raise PlatformRefusedError(
                "The platform refused to hide the item: {reason}", reason="20101"
            )
        self.hidden.append(item.external_id)

    def reply(self, db: Session, *, item: InboxItem, text: str) -> None:
        """Record the reply."""
        del db
        self.replied.append((item.external_id, text))


def moderation_outcome(db: Session, items: Sequence[InboxItem]) -> list[dict[str, Any]]:
    """Per item: its state, its logged actions and the audit event of each action (ids left
    out, so two runs compare)."""
    flagged = set(db.scalars(select(ItemTag.item_id)))
    outcome = []
    for item in items:
        actions = db.scalars(
            select(ModerationAction)
            .where(ModerationAction.item_id == item.id)
            .order_by(ModerationAction.id)
        ).all()
        audited = []
        for action in actions:
            event = db.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity_type == "inbox_item", AuditEvent.entity_id == str(item.id)
                )
            ).all()
            (match,) = [e for e in event if (e.after or {}).get("action_id") == action.id]
            after = {key: value for key, value in (match.after or {}).items() if key != "action_id"}
            audited.append((match.actor_label, match.action, match.before, after))
        outcome.append(
            {
                "state": (
                    item.hidden_on_platform,
                    item.priority,
                    item.assignee_id,
                    item.sentiment,
                    item.id in flagged,
                ),
                "actions": [
                    (a.action, a.value, a.reasons, a.before, a.state, a.error) for a in actions
                ],
                "audited": audited,
            }
        )
    return outcome
