"""The publishing engine: claim due variants, publish them, record what the platform said.

The database row is the truth and the queue only triggers work. A variant is claimed by
moving it to PUBLISHING with a lease; the worker that executes it takes the lease over with
a conditional UPDATE (so a duplicated queue message does nothing), and every outcome is
written with the row's version column (so two writers can never both record one). A variant
whose worker died keeps an expired lease: the sweep (``publishing.sweep``) flags its outcome
unknown and reschedules it, and the next attempt looks the post up before sending again.

Retry policy (documented in docs/publishing-engine.md):

- transient errors: exponential backoff with full jitter, ``RETRY_BASE_S`` doubling up to
  ``RETRY_CAP_S``; after ``MAX_ATTEMPTS`` the variant fails and people are notified;
- unknown outcomes: ``UNKNOWN_RETRY_S`` later, reconciled with ``find`` first; after
  ``MAX_ATTEMPTS`` the variant needs attention (it may be live);
- rate limits and quotas pause the channel; token errors park it (no attempt is counted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import channel_context
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishResult,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
    TransientError,
    VariantDraft,
)
from guanxi.core.db import session_scope
from guanxi.core.errors import N_
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings, get_settings
from guanxi.publishing.leases import PUBLISH_LEASE, lease_heartbeat
from guanxi.publishing.media import media_file
from guanxi.publishing.models import (
    MediaAsset,
    PublishAttempt,
    PublishingPolicy,
    Variant,
    VariantState,
)
from guanxi.publishing.outcomes import (
    apply_platform_status,
    apply_result,
    complete_manual_variant,
    handle_error,
)
from guanxi.publishing.states import Actor, allowed

S = VariantState

# The two ways an outcome arrives from outside a worker, offered here beside the worker's.
__all__ = [
    "apply_platform_status",
    "complete_manual_variant",
    "dispatch_due",
    "execute_variant",
]

# How long a claimed variant may wait in the queue before the sweep takes it back.
QUEUED_LEASE = timedelta(minutes=5)
DEFAULT_GRACE_MINUTES = 15
QUEUED_PREFIX = "queued:"

ConnectorFor = Callable[[Channel], Connector]


# --- Dispatcher --------------------------------------------------------------------------


def _due() -> ColumnElement[Any]:
    return func.coalesce(Variant.next_attempt_at, Variant.scheduled_at)


def grace_conditions(db: Session, *, now: datetime, in_time: bool) -> ColumnElement[bool]:
    """Variants whose due time is within (or, with ``in_time=False``, past) their grace."""
    graces: dict[int, list[int]] = {}
    for workspace_id, minutes in db.execute(
        select(PublishingPolicy.workspace_id, PublishingPolicy.late_grace_minutes)
    ):
        graces.setdefault(minutes, []).append(workspace_id)
    with_policy = [ws for ids in graces.values() for ws in ids]
    default_cutoff = now - timedelta(minutes=DEFAULT_GRACE_MINUTES)
    parts = []
    for minutes, workspace_ids in graces.items():
        cutoff = now - timedelta(minutes=minutes)
        check = _due() >= cutoff if in_time else _due() < cutoff
        parts.append(and_(Variant.workspace_id.in_(workspace_ids), check))
    default_check = _due() >= default_cutoff if in_time else _due() < default_cutoff
    parts.append(and_(Variant.workspace_id.not_in(with_policy), default_check))
    return or_(*parts)


def ready_channel(now: datetime) -> ColumnElement[bool]:
    """Channels the engine may send to now: connected and not paused."""
    return and_(
        Channel.status == ChannelStatus.CONNECTED,
        or_(Channel.paused_until.is_(None), Channel.paused_until <= now),
    )


def dispatch_due(
    sessions: sessionmaker[Session], *, now: datetime, limit: int, worker_id: str
) -> list[int]:
    """Claim up to ``limit`` due variants (SCHEDULED → PUBLISHING); return their ids.

    Due: the scheduled (or retry) time has come, within the workspace's grace (older ones
    are the sweep's to judge), on a connected channel that is not paused. On PostgreSQL
    the candidates are locked with ``FOR UPDATE SKIP LOCKED``; on SQLite the claim is one
    conditional UPDATE and SQLite serialises writers. Either way a variant is claimed once.
    """
    assert allowed(S.SCHEDULED, S.PUBLISHING, Actor.ENGINE)  # the bulk form of that move
    with session_scope(sessions) as db:
        postgres = db.get_bind().dialect.name == "postgresql"
        candidates = (
            select(Variant.id)
            .join(Channel, Channel.id == Variant.channel_id)
            .where(
                Variant.state == S.SCHEDULED,
                ready_channel(now),
                _due() <= now,
                or_(Variant.late.is_(True), grace_conditions(db, now=now, in_time=True)),
            )
            .order_by(_due(), Variant.id)
            .limit(limit)
        )
        if postgres:
            candidates = candidates.with_for_update(skip_locked=True, of=Variant)
        ids = list(db.scalars(candidates))
        if not ids:
            return []
        if not postgres:
            # End the read before writing: SQLite refuses to upgrade a stale read snapshot.
            db.commit()
        claimed = db.scalars(
            update(Variant)
            .where(Variant.id.in_(ids), Variant.state == S.SCHEDULED)
            .values(
                state=S.PUBLISHING,
                state_reason="",
                lease_owner=f"{QUEUED_PREFIX}{worker_id}"[:100],
                lease_expires_at=now + QUEUED_LEASE,
                version=Variant.version + 1,
            )
            .returning(Variant.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed)


# --- Worker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What a worker needs to call the connector, read once from the database."""

    connector: Connector
    context: ChannelContext
    request: PublishRequest
    outcome_unknown: bool


def take_lease(
    sessions: sessionmaker[Session], variant_id: int, *, now: datetime, owner: str
) -> bool:
    """Take over a queued claim for ``owner``; False if it is not (or no longer) queued."""
    with session_scope(sessions) as db:
        result = db.execute(
            update(Variant)
            .where(
                Variant.id == variant_id,
                Variant.state == S.PUBLISHING,
                Variant.lease_owner.startswith(QUEUED_PREFIX),
            )
            .values(
                lease_owner=owner[:100],
                lease_expires_at=now + PUBLISH_LEASE,
                version=Variant.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1


def build_request(db: Session, variant: Variant, data_dir: Path) -> PublishRequest:
    """The connector's request for ``variant``: its variant, media files and stable key."""

    def load(media_id: int) -> MediaAsset:
        asset = db.get(MediaAsset, media_id)
        if asset is None:
            raise PermanentError(N_("A media file of this post was deleted; add it again."))
        return asset

    media = tuple(media_file(load(media_id), data_dir) for media_id in variant.media_ids or [])
    for item in media:
        if not item.path.exists():
            raise PermanentError(N_("A media file of this post is missing on disk; add it again."))
    cover = media_file(load(variant.cover_media_id), data_dir) if variant.cover_media_id else None
    draft = VariantDraft(
        text=variant.text,
        title=variant.title,
        digest=variant.digest,
        link=variant.link,
        media=media,
        cover=cover,
    )
    return PublishRequest(idempotency_key=variant.idempotency_key, variant=draft)


def request_summary(request: PublishRequest, *, late: bool) -> dict[str, Any]:
    """What was asked, for the attempt log: no secrets, no file contents."""
    variant = request.variant
    return {
        "idempotency_key": request.idempotency_key,
        "text_chars": len(variant.text),
        "title": variant.title[:80],
        "link": variant.link[:200],
        "media": [f"{m.kind}:{m.sha256[:12]}" for m in variant.media],
        "cover": bool(variant.cover),
        "late": late,
    }


def result_summary(result: PublishResult | None) -> dict[str, Any]:
    """What the platform answered, as JSON-safe data."""
    if result is None:
        return {"found": False}
    raw = json.loads(json.dumps(dict(result.raw), default=str, ensure_ascii=False))
    return {
        "state": str(result.state),
        "external_id": result.external_id,
        "url": result.url,
        "detail": result.detail,
        "raw": raw,
    }


def log_attempt(
    sessions: sessionmaker[Session],
    *,
    variant_id: int,
    worker_id: str,
    action: str,
    outcome: str,
    summary: dict[str, Any],
    response: dict[str, Any],
    error: BaseException | None,
    started_at: datetime,
    duration_ms: int,
) -> int:
    """Write one PublishAttempt in its own transaction (kept even if the outcome is not)."""
    with session_scope(sessions) as db:
        count = db.scalar(select(func.count()).where(PublishAttempt.variant_id == variant_id)) or 0
        attempt = PublishAttempt(
            variant_id=variant_id,
            number=count + 1,
            worker=worker_id[:100],
            action=action,
            outcome=outcome,
            request_summary=summary,
            response=response,
            error_code=(getattr(error, "code", "") or "")[:40],
            error=str(error) if error else "",
            started_at=started_at,
            duration_ms=duration_ms,
        )
        db.add(attempt)
        db.flush()
        return attempt.id


def finish_attempt(
    sessions: sessionmaker[Session],
    attempt_id: int,
    *,
    outcome: str,
    response: dict[str, Any],
    error: BaseException | None,
    duration_ms: int,
) -> None:
    """Record how a started attempt ended."""
    with session_scope(sessions) as db:
        attempt = db.get_one(PublishAttempt, attempt_id)
        attempt.outcome = outcome
        attempt.response = response
        attempt.error_code = (getattr(error, "code", "") or "")[:40]
        attempt.error = str(error) if error else ""
        attempt.duration_ms = duration_ms


def outcome_of(result: PublishResult | None, error: BaseException | None) -> str:
    """A short word for the attempt log."""
    if error is not None:
        names = {
            TransientError: "transient",
            RateLimitedError: "rate_limited",
            QuotaExhaustedError: "quota",
            TokenError: "token",
            OutcomeUnknownError: "unknown",
            PermanentError: "permanent",
        }
        return names.get(type(error), "error" if isinstance(error, ConnectorError) else "crash")
    if result is None:
        return "not_found"
    return str(result.state)


def _call(
    fn: Callable[[], PublishResult | None],
) -> tuple[PublishResult | None, Exception | None, int]:
    started = time.monotonic()
    try:
        result, error = fn(), None
    except Exception as exc:  # every failure is mapped to what to do next
        result, error = None, exc
    return result, error, int((time.monotonic() - started) * 1000)


def execute_variant(
    sessions: sessionmaker[Session],
    variant_id: int,
    *,
    connector_for: ConnectorFor,
    now: datetime,
    worker_id: str,
    settings: Settings | None = None,
) -> VariantState | None:
    """Publish one claimed variant and record the outcome; None if it was not ours to do.

    With ``outcome_unknown`` set, the platform is asked first (``find``) whether the post
    already went out; only if not is it sent. Returns the state recorded.
    """
    settings = settings or get_settings()
    if not take_lease(sessions, variant_id, now=now, owner=worker_id):
        return None
    with lease_heartbeat(sessions, variant_id, owner=worker_id):
        return _execute(
            sessions,
            variant_id,
            connector_for=connector_for,
            now=now,
            worker_id=worker_id,
            settings=settings,
        )


def _execute(
    sessions: sessionmaker[Session],
    variant_id: int,
    *,
    connector_for: ConnectorFor,
    now: datetime,
    worker_id: str,
    settings: Settings,
) -> VariantState | None:
    try:
        job = _load_job(sessions, variant_id, connector_for, settings, worker_id)
    except Exception as exc:  # a missing file is permanent; anything else counts as unknown
        log_attempt(
            sessions,
            variant_id=variant_id,
            worker_id=worker_id,
            action="prepare",
            outcome=outcome_of(None, exc),
            summary={},
            response={},
            error=exc,
            started_at=now,
            duration_ms=0,
        )
        return settle(
            sessions, variant_id, worker_id=worker_id, now=now, error=exc, settings=settings
        )
    with session_scope(sessions) as db:
        late = bool(db.scalar(select(Variant.late).where(Variant.id == variant_id)))
    summary = request_summary(job.request, late=late)

    def attempt(
        action: str, fn: Callable[[], PublishResult | None]
    ) -> tuple[PublishResult | None, Exception | None]:
        # Written before the call: a worker killed mid-request still leaves its attempt.
        attempt_id = log_attempt(
            sessions,
            variant_id=variant_id,
            worker_id=worker_id,
            action=action,
            outcome="started",
            summary=summary,
            response={},
            error=None,
            started_at=now,
            duration_ms=0,
        )
        result, error, duration_ms = _call(fn)
        finish_attempt(
            sessions,
            attempt_id,
            outcome=outcome_of(result, error),
            response=result_summary(result) if error is None else {},
            error=error,
            duration_ms=duration_ms,
        )
        return result, error

    if job.outcome_unknown:
        found, error = attempt("find", lambda: job.connector.find(job.context, job.request))
        if error is not None or found is not None:
            return settle(
                sessions,
                variant_id,
                worker_id=worker_id,
                now=now,
                result=found,
                error=error,
                settings=settings,
                manual=_is_manual(job.connector),
            )
    result, error = attempt("publish", lambda: job.connector.publish(job.context, job.request))
    return settle(
        sessions,
        variant_id,
        worker_id=worker_id,
        now=now,
        result=result,
        error=error,
        settings=settings,
        manual=_is_manual(job.connector),
    )


def _is_manual(connector: Connector) -> bool:
    # A connector that cannot follow a publish hands PROCESSING to a person (manual posting).
    return Capability.PUBLISH_STATUS not in connector.capabilities


def _load_job(
    sessions: sessionmaker[Session],
    variant_id: int,
    connector_for: ConnectorFor,
    settings: Settings,
    worker_id: str,
) -> Job:
    with session_scope(sessions) as db:
        variant = db.get_one(Variant, variant_id)
        channel = db.get_one(Channel, variant.channel_id)
        request = build_request(db, variant, settings.data_dir)
        context = channel_context(
            channel, sessions=sessions, box=SecretBox.from_settings(settings), owner=worker_id
        )
        return Job(connector_for(channel), context, request, variant.outcome_unknown)


def settle(
    sessions: sessionmaker[Session],
    variant_id: int,
    *,
    worker_id: str,
    now: datetime,
    settings: Settings,
    result: PublishResult | None = None,
    error: BaseException | None = None,
    manual: bool = False,
) -> VariantState | None:
    """Record a worker's outcome, if the worker still holds the variant's lease."""
    try:
        with session_scope(sessions) as db:
            variant = db.get(Variant, variant_id, populate_existing=True)
            if variant is None or variant.state != S.PUBLISHING or variant.lease_owner != worker_id:
                return None  # the sweep took it back; the next attempt reconciles
            channel = db.get_one(Channel, variant.channel_id)
            variant.lease_owner = ""
            variant.lease_expires_at = None
            if error is not None:
                handle_error(db, variant, channel, error, now=now, settings=settings)
            elif result is not None:
                apply_result(db, variant, result, now=now, settings=settings, manual=manual)
            state = VariantState(variant.state)
    except StaleDataError:
        return None
    return state
