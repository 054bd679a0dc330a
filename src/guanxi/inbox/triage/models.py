"""Triage's tables: moderation rules and the log of what they did (kept so that an action can
be reversed), assignment rules, and the workspace's response targets.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_


class ModerationRule(Base):
    """When new items meet the conditions, do the actions (``guanxi.inbox.triage.moderation``)."""

    __tablename__ = "inbox_moderation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    match_all: Mapped[bool] = mapped_column(Boolean, default=False)  # else any condition
    # Each condition is a kind (guanxi.inbox.triage.screening.ConditionKind) and a value.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Each action is a kind (guanxi.inbox.triage.moderation.ActionKind) and a value.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActionState(StrEnum):
    """Where an automatic moderation action stands."""

    APPLIED = "applied"
    FAILED = "failed"  # the platform refused it; ``error`` says why
    REVERSED = "reversed"


ACTION_STATE_LABELS: dict[ActionState, str] = {
    ActionState.APPLIED: N_("Applied"),
    ActionState.FAILED: N_("Failed"),
    ActionState.REVERSED: N_("Undone"),
}


class ModerationAction(Base):
    """One action a rule took on one item, with the state before it (for reversal)."""

    __tablename__ = "inbox_moderation_actions"
    __table_args__ = (
        Index("ix_inbox_moderation_actions_ws_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_moderation_rules.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200), default="")
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[ActionState] = mapped_column(String(20), default=ActionState.APPLIED)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reversed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class AssignmentRule(Base):
    """Who gets new items: round robin over ``assignee_ids``, by platform and/or topic word."""

    __tablename__ = "inbox_assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    platform: Mapped[str] = mapped_column(String(40), default="")  # "" = every platform
    topic: Mapped[str] = mapped_column(String(100), default="")  # a word in the text, "" = any
    assignee_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    next_index: Mapped[int] = mapped_column(Integer, default=0)  # the round robin's turn


class SlaPolicy(Base):
    """A workspace's response targets; business hours are counted in its time zone."""

    __tablename__ = "inbox_sla_policies"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=60)
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    business_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    day_start_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    day_end_minute: Mapped[int] = mapped_column(Integer, default=18 * 60)
    # Monday is 0, as datetime.weekday() counts.
    business_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    crisis_words: Mapped[list[str]] = mapped_column(JSON, default=list)
