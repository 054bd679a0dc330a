"""Scheduling: an approved, checked variant goes on the queue for a time (or now), comes off
it, or is queued again after a failure. The engine (``guanxi.publishing.engine``) publishes
what is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import require
from guanxi.core import fields
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings
from guanxi.publishing.approvals import approvals_complete
from guanxi.publishing.models import Post, Variant, VariantState
from guanxi.publishing.policy import get_policy
from guanxi.publishing.service import set_state
from guanxi.publishing.variants import check_variant, unresolved

# A time this far in the past is a typing mistake, not "now".
PAST_TOLERANCE = timedelta(minutes=2)


def parse_local_time(value: str, timezone: str) -> datetime:
    """A ``YYYY-MM-DDTHH:MM`` time typed in ``timezone``, as an aware UTC datetime."""
    zone = fields.zone_or_none(timezone) or ZoneInfo("Asia/Shanghai")
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UserError(
            N_("Enter the date and time as YYYY-MM-DD HH:MM, for example 2026-12-01 09:30.")
        ) from exc
    fields.usable_day(naive.date(), field=N_("Date"))  # year 1 or 9999 overflows in UTC
    if naive.tzinfo is not None:
        return naive.astimezone(ZoneInfo("UTC"))
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def schedule_variant(
    db: Session,
    *,
    variant: Variant,
    membership: Membership,
    when: datetime | None,
    settings: Settings,
) -> None:
    """Schedule a variant for ``when`` (None: publish now) once approved and checked.

    Checks run again first: an error blocks, and so does a warning no manager overrode.
    """
    require(membership, Permission.WRITE)
    workspace = membership.workspace
    policy = get_policy(db, workspace=workspace)
    ready = variant.state == VariantState.APPROVED or (
        variant.state == VariantState.DRAFT and policy.approval_steps == 0
    )
    if not ready:
        raise UserError(N_("Only an approved variant can be scheduled. Submit it for review."))
    if policy.approval_steps and not approvals_complete(db, variant=variant, policy=policy):
        raise UserError(N_("This variant changed since it was approved. Submit it for review."))
    now = utcnow()
    if when is not None and when < now - PAST_TOLERANCE:
        raise UserError(N_("That time has passed. Choose a later time, or use “Publish now”."))
    check_variant(db, variant=variant, settings=settings)
    errors, warnings = unresolved(variant)
    if errors:
        raise UserError(
            N_("Fix the {count} error(s) in this variant before scheduling it."), count=len(errors)
        )
    if warnings:
        raise UserError(
            N_("{count} warning(s) need a manager's override before scheduling."),
            count=len(warnings),
        )
    if variant.state == VariantState.DRAFT:
        # No approval steps: the state machine still passes through "approved".
        set_state(
            db, variant=variant, state=VariantState.APPROVED, reason="", actor=membership.user
        )
    at = when if when is not None and when > now else now
    variant.scheduled_at = at
    variant.next_attempt_at = at
    set_state(db, variant=variant, state=VariantState.SCHEDULED, reason="", actor=membership.user)


def unschedule_variant(db: Session, *, variant: Variant, membership: Membership) -> None:
    """Take a scheduled variant off the queue; it stays approved."""
    require(membership, Permission.WRITE)
    if variant.state != VariantState.SCHEDULED:
        raise UserError(N_("Only a scheduled variant can be unscheduled."))
    variant.scheduled_at = None
    variant.next_attempt_at = None
    set_state(db, variant=variant, state=VariantState.APPROVED, reason="", actor=membership.user)


def retry_variant(
    db: Session, *, variant: Variant, membership: Membership, confirmed: bool
) -> None:
    """Queue a failed variant again now; one that needs attention only after a manager confirms."""
    require(membership, Permission.WRITE)
    if variant.state == VariantState.NEEDS_ATTENTION:
        require(membership, Permission.APPROVE)
        if not confirmed:
            raise UserError(
                N_("Tick the box to confirm you checked the account and the platform first.")
            )
    elif variant.state != VariantState.FAILED:
        raise UserError(N_("Only a failed variant, or one that needs attention, can be retried."))
    variant.next_attempt_at = utcnow()
    set_state(db, variant=variant, state=VariantState.SCHEDULED, reason="", actor=membership.user)


class VariantRefusedError(UserError):
    """One variant of several could not be scheduled: the reason, and which variant."""

    def __init__(self, variant_id: int, cause: UserError) -> None:
        super().__init__(cause.message, **cause.params)
        self.variant_id = variant_id
        self.status_code = cause.status_code


def schedule_variants(
    db: Session,
    *,
    post: Post,
    membership: Membership,
    times: Mapping[int, datetime | None],
    settings: Settings,
) -> list[Variant]:
    """Schedule several variants of ``post`` at once, each at its time (None: now).

    The first refusal stops them all (the caller rolls back): VariantRefusedError says
    which variant and why, so a post goes out on every account or waits on all of them.
    """
    scheduled = []
    for variant in post.variants:
        if variant.id not in times:
            continue
        try:
            schedule_variant(
                db,
                variant=variant,
                membership=membership,
                when=times[variant.id],
                settings=settings,
            )
        except UserError as exc:
            raise VariantRefusedError(variant.id, exc) from exc
        scheduled.append(variant)
    return scheduled
