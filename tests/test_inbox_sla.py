"""Priority and SLA arithmetic: around the clock, business hours, time zones, DST, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.triage.sla import (
    InvalidTargetsError,
    SlaTargets,
    add_minutes,
    counted_minutes,
    get_targets,
    priority_for,
    save_targets,
    sla_state,
)
from tests.conftest import UserFactory, WorkspaceFactory

SHANGHAI_HOURS = SlaTargets(business_hours_only=True, timezone="Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_around_the_clock_targets_are_plain_minutes() -> None:
    """Without business hours, 60 minutes is an hour of wall time."""
    start = utc(2026, 11, 27, 23, 30)
    assert add_minutes(SlaTargets(), start, 60) == utc(2026, 11, 28, 0, 30)
    assert counted_minutes(SlaTargets(), start, utc(2026, 11, 28, 0, 30)) == 60


def test_business_hours_are_counted_in_the_workspace_zone() -> None:
    """A Friday 17:30 Shanghai message with a 60-minute target is due Monday 09:30 Shanghai
    (01:30 UTC), not Friday 18:30."""
    friday_1730_shanghai = utc(2026, 11, 27, 9, 30)  # 17:30 +08:00, a Friday
    due = add_minutes(SHANGHAI_HOURS, friday_1730_shanghai, 60)
    assert due == utc(2026, 11, 30, 1, 30)  # Monday 09:30 +08:00
    assert counted_minutes(SHANGHAI_HOURS, friday_1730_shanghai, due) == 60


def test_an_item_arriving_at_night_starts_counting_at_opening_time() -> None:
    """Tuesday 03:00 Shanghai + 30 min is due 09:30 the same day."""
    due = add_minutes(SHANGHAI_HOURS, utc(2026, 11, 30, 19, 0), 30)  # Tue 03:00 +08:00
    assert due == utc(2026, 12, 1, 1, 30)


def test_the_same_utc_moment_has_different_due_times_in_different_zones() -> None:
    """10:00 UTC on a Monday is 18:00 in Shanghai (closed) but 11:00 in Berlin (open)."""
    start = utc(2026, 11, 30, 10, 0)
    berlin = SlaTargets(business_hours_only=True, timezone="Europe/Berlin")
    assert add_minutes(berlin, start, 60) == utc(2026, 11, 30, 11, 0)
    assert add_minutes(SHANGHAI_HOURS, start, 60) == utc(2026, 12, 1, 2, 0)


def test_business_hours_across_a_daylight_saving_change() -> None:
    """Berlin leaves summer time on 25 Oct 2026: Friday 17:30 CEST + 60 min is Monday 09:30
    CET, which is 08:30 UTC (one hour later in UTC than the Friday offset would say)."""
    berlin = SlaTargets(business_hours_only=True, timezone="Europe/Berlin")
    friday = utc(2026, 10, 23, 15, 30)  # 17:30 CEST (+02:00)
    assert add_minutes(berlin, friday, 60) == utc(2026, 10, 26, 8, 30)
    assert counted_minutes(berlin, friday, utc(2026, 10, 26, 8, 30)) == 60


def _item(
    created: datetime, first: datetime | None = None, resolved: datetime | None = None
) -> InboxItem:
    return InboxItem(created_at=created, first_response_at=first, resolved_at=resolved)


def test_breaches_are_found_for_late_and_for_still_open_items() -> None:
    """An answer after the due time, or none by now, is a breach; an answer in time is not."""
    targets = SlaTargets(first_response_minutes=60, resolution_minutes=240)
    created = utc(2026, 11, 30, 2, 0)
    now = created + timedelta(hours=5)
    in_time = sla_state(
        targets,
        _item(created, created + timedelta(minutes=59), created + timedelta(hours=3)),
        now=now,
    )
    assert not in_time.breached
    late = sla_state(targets, _item(created, created + timedelta(minutes=61)), now=now)
    assert late.first_response_breached
    assert late.resolution_breached
    waiting = sla_state(targets, _item(created), now=created + timedelta(minutes=30))
    assert not waiting.breached


def test_priority_comes_from_sentiment_influence_and_crisis_words() -> None:
    """Each source adds to the priority, with its reason; the total stops at 3."""
    calm = priority_for(text="好看", sentiment="positive", followers=10, verified_type=-1)
    assert calm.level == 0
    assert calm.reasons == ()
    angry = priority_for(text="太差", sentiment="negative", followers=10, verified_type=-1)
    assert angry.level == 1
    assert angry.reasons == ("Negative sentiment",)
    crisis = priority_for(
        text="我要去消协投诉", sentiment="negative", followers=2_000_000, verified_type=0
    )
    assert crisis.level == 3
    assert crisis.reasons == ("Negative sentiment", "Influential author", "Crisis word")


def test_targets_are_saved_validated_and_read_with_the_workspace_zone(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Saved targets come back with the zone; impossible ones are refused."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    assert get_targets(db, workspace_id=workspace.id, timezone="Asia/Shanghai") == SlaTargets()
    save_targets(
        db,
        workspace_id=workspace.id,
        first_response_minutes=30,
        resolution_minutes=480,
        business_hours_only=True,
        day_start_minute=600,
        day_end_minute=1140,
        business_days=[0, 1, 2, 3, 4, 5],
        crisis_words=["召回", " "],
    )
    targets = get_targets(db, workspace_id=workspace.id, timezone="Europe/Berlin")
    assert targets.first_response_minutes == 30
    assert targets.timezone == "Europe/Berlin"
    assert targets.business_days == frozenset({0, 1, 2, 3, 4, 5})
    with pytest.raises(InvalidTargetsError, match="must not be shorter"):
        save_targets(
            db,
            workspace_id=workspace.id,
            first_response_minutes=60,
            resolution_minutes=30,
            business_hours_only=False,
            day_start_minute=540,
            day_end_minute=1080,
            business_days=[0],
            crisis_words=[],
        )
    with pytest.raises(InvalidTargetsError, match="end after they start"):
        save_targets(
            db,
            workspace_id=workspace.id,
            first_response_minutes=60,
            resolution_minutes=60,
            business_hours_only=True,
            day_start_minute=1080,
            day_end_minute=540,
            business_days=[0],
            crisis_words=[],
        )
