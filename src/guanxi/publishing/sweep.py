"""After the first attempt: the sweep (expired leases, missed posts, due status checks,
overdue manual posts) and the status checks that follow a publish the platform accepted.

The sweep runs every minute and after downtime; it never sends anything itself: it puts
variants back where the dispatcher or a status check picks them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import channel_context, mark_needs_reconnect
from guanxi.connectors.base import PublishState, RateLimitedError, TokenError
from guanxi.core.db import session_scope
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings, get_settings
from guanxi.notifications import service as notifications
from guanxi.notifications.models import Notification
from guanxi.publishing.engine import (
    QUEUED_PREFIX,
    ConnectorFor,
    _call,
    grace_conditions,
    log_attempt,
    outcome_of,
    ready_channel,
    result_summary,
)
from guanxi.publishing.models import (
    LatePolicy,
    PublishAttempt,
    PublishingPolicy,
    Variant,
    VariantState,
)
from guanxi.publishing.outcomes import (
    CHANNEL_NEEDS_RECONNECT,
    MANUAL_OVERDUE,
    MISSED_REASON,
    STATUS_BASE_S,
    STATUS_CAP_S,
    STATUS_MAX_CHECKS,
    UNCONFIRMED_REASON,
    _params,
    _people,
    apply_result,
    backoff_s,
    hold,
    variant_link,
)
from guanxi.publishing.states import Actor, transition

S = VariantState


@dataclass
class SweepReport:
    """What one sweep did, by variant id."""

    requeued: list[int] = field(default_factory=list)  # queued claim expired: nothing was sent
    reconciling: list[int] = field(default_factory=list)  # a worker died: outcome unknown
    late: list[int] = field(default_factory=list)  # missed, will publish late (policy)
    held: list[int] = field(default_factory=list)  # missed, held for a person (policy)
    reminded: list[int] = field(default_factory=list)  # manual post overdue
    status_due: list[int] = field(default_factory=list)  # a status check is due


def sweep(
    sessions: sessionmaker[Session], *, now: datetime, settings: Settings | None = None
) -> SweepReport:
    """One pass over what the dispatcher alone would not pick up again."""
    settings = settings or get_settings()
    report = SweepReport()
    _expired_leases(sessions, now=now, report=report)
    _missed(sessions, now=now, settings=settings, report=report)
    _overdue_manual(sessions, now=now, settings=settings, report=report)
    with session_scope(sessions) as db:
        report.status_due = list(
            db.scalars(
                select(Variant.id)
                .where(
                    Variant.state.in_([S.PROCESSING, S.PENDING_REVIEW]),
                    Variant.next_attempt_at <= now,
                )
                .order_by(Variant.next_attempt_at)
            )
        )
    return report


def _ids(sessions: sessionmaker[Session], query: object) -> list[int]:
    with session_scope(sessions) as db:
        return list(db.scalars(query))  # type: ignore[call-overload]


def _expired_leases(sessions: sessionmaker[Session], *, now: datetime, report: SweepReport) -> None:
    query = select(Variant.id).where(Variant.state == S.PUBLISHING, Variant.lease_expires_at < now)
    for variant_id in _ids(sessions, query):
        try:
            with session_scope(sessions) as db:
                variant = db.get_one(Variant, variant_id, populate_existing=True)
                expires = variant.lease_expires_at
                if variant.state != S.PUBLISHING or expires is None or expires >= now:
                    continue
                # A claim still in the queue sent nothing; a worker's may have sent the post.
                queued = variant.lease_owner.startswith(QUEUED_PREFIX)
                transition(variant, S.SCHEDULED, "", by=Actor.ENGINE)
                variant.outcome_unknown = variant.outcome_unknown or not queued
                variant.lease_owner = ""
                variant.lease_expires_at = None
                variant.next_attempt_at = now
            (report.requeued if queued else report.reconciling).append(variant_id)
        except StaleDataError:
            continue


def _missed(
    sessions: sessionmaker[Session], *, now: datetime, settings: Settings, report: SweepReport
) -> None:
    with session_scope(sessions) as db:
        query = (
            select(Variant.id)
            .join(Channel, Channel.id == Variant.channel_id)
            .where(
                Variant.state == S.SCHEDULED,
                Variant.late.is_(False),
                ready_channel(now),
                grace_conditions(db, now=now, in_time=False),
            )
        )
        missed = list(db.scalars(query))
    for variant_id in missed:
        try:
            with session_scope(sessions) as db:
                variant = db.get_one(Variant, variant_id, populate_existing=True)
                if variant.state != S.SCHEDULED or variant.late:
                    continue
                policy = db.get(PublishingPolicy, variant.workspace_id)
                late_policy = LatePolicy(policy.late_policy) if policy else LatePolicy.PUBLISH_LATE
                if late_policy is LatePolicy.HOLD:
                    hold(db, variant, MISSED_REASON, settings=settings)
                else:
                    variant.late = True  # the dispatcher takes it now, flagged as late
            (report.held if late_policy is LatePolicy.HOLD else report.late).append(variant_id)
        except StaleDataError:
            continue


def _overdue_manual(
    sessions: sessionmaker[Session], *, now: datetime, settings: Settings, report: SweepReport
) -> None:
    with session_scope(sessions) as db:
        overdue = db.scalars(
            select(Variant).where(
                Variant.state == S.PROCESSING,
                Variant.assignee_id.is_not(None),
                Variant.due_at < now,
            )
        ).all()
        for variant in overdue:
            reminded = db.scalars(
                select(Notification.params).where(
                    Notification.workspace_id == variant.workspace_id,
                    Notification.kind == MANUAL_OVERDUE,
                )
            )
            if any(params.get("variant_id") == variant.id for params in reminded):
                continue  # one reminder per variant
            due = variant.due_at.isoformat(timespec="minutes") if variant.due_at else ""
            notifications.notify(
                db,
                settings=settings,
                workspace_id=variant.workspace_id,
                kind=MANUAL_OVERDUE,
                params=_params(db, variant, due=due),
                recipients=[variant.assignee_id],
                link=variant_link(db, variant),
            )
            report.reminded.append(variant.id)


# --- Following accepted publishes ---------------------------------------------------------


def check_status(
    sessions: sessionmaker[Session],
    variant_id: int,
    *,
    connector_for: ConnectorFor,
    now: datetime,
    worker_id: str,
    settings: Settings | None = None,
) -> VariantState | None:
    """Ask the platform where a PROCESSING / PENDING_REVIEW publish stands, and record it."""
    settings = settings or get_settings()
    with session_scope(sessions) as db:
        variant = db.get(Variant, variant_id)
        if variant is None or variant.state not in {S.PROCESSING, S.PENDING_REVIEW}:
            return None
        if variant.next_attempt_at is None or variant.next_attempt_at > now:
            return None
        channel = db.get_one(Channel, variant.channel_id)
        connector = connector_for(channel)
        context = channel_context(
            channel, sessions=sessions, box=SecretBox.from_settings(settings), owner=worker_id
        )
        external_id = variant.external_id
        checks = (
            db.scalar(
                select(func.count()).where(
                    PublishAttempt.variant_id == variant_id, PublishAttempt.action == "status"
                )
            )
            or 0
        )
    result, error, duration_ms = _call(lambda: connector.publish_status(context, external_id))
    log_attempt(
        sessions,
        variant_id=variant_id,
        worker_id=worker_id,
        action="status",
        outcome=outcome_of(result, error),
        summary={"external_id": external_id},
        response=result_summary(result) if error is None else {},
        error=error,
        started_at=now,
        duration_ms=duration_ms,
    )
    try:
        with session_scope(sessions) as db:
            variant = db.get_one(Variant, variant_id, populate_existing=True)
            if variant.state not in {S.PROCESSING, S.PENDING_REVIEW}:
                return VariantState(variant.state)
            channel = db.get_one(Channel, variant.channel_id)
            later = now + timedelta(
                seconds=backoff_s(checks + 1, base=STATUS_BASE_S, cap=STATUS_CAP_S) + STATUS_BASE_S
            )
            if result is not None and result.state is not PublishState.PROCESSING:
                apply_result(db, variant, result, now=now, settings=settings)
            elif checks + 1 >= STATUS_MAX_CHECKS:
                hold(db, variant, UNCONFIRMED_REASON, settings=settings)
            elif isinstance(error, TokenError):
                was_connected = channel.status == ChannelStatus.CONNECTED
                mark_needs_reconnect(db, channel=channel, reason=str(error))
                variant.next_attempt_at = later
                if was_connected:
                    notifications.notify(
                        db,
                        settings=settings,
                        workspace_id=channel.workspace_id,
                        kind=CHANNEL_NEEDS_RECONNECT,
                        params={"channel": channel.name},
                        recipients=_people(db, variant),
                        link=variant_link(db, variant),
                    )
            elif isinstance(error, RateLimitedError):
                variant.next_attempt_at = max(later, now + timedelta(seconds=error.retry_after_s))
            else:
                variant.next_attempt_at = later
            return VariantState(variant.state)
    except StaleDataError:
        return None
