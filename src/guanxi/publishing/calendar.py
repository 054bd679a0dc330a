"""The publishing calendar: month and week grids in the viewer's time zone, the variants on
them, rescheduling by moving a variant to another day or hour.

Times are stored in UTC. A grid is computed in the *viewer's* zone (a day is the viewer's
local day, which lasts 23 or 25 hours where daylight saving time changes), and each variant
also shows its time in its *account's* zone (``Channel.timezone``, Asia/Shanghai unless set).

Rescheduling changes only when a variant goes out, never what it says: an approved variant
stays approved when it is moved (approvals are bound to the content's digest, and the time
is not content). Variants that the engine has started on (publishing, processing, published)
cannot be moved, nor can a variant whose last publish has an unknown outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.catalog.service import platform_name
from guanxi.channels.models import Channel
from guanxi.core import fields
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.publishing.models import Campaign, Post, Variant, VariantState

DEFAULT_ACCOUNT_ZONE = "Asia/Shanghai"
# Only variants the engine has not started on may move; the time is not part of an approval.
RESCHEDULABLE_STATES = frozenset(
    {VariantState.DRAFT, VariantState.IN_REVIEW, VariantState.APPROVED, VariantState.SCHEDULED}
)
# The engine has already sent (or is sending) these: their time is history, not a plan.
STARTED_STATES = frozenset(
    {
        VariantState.PUBLISHING,
        VariantState.PROCESSING,
        VariantState.PUBLISHED,
        VariantState.PENDING_REVIEW,
    }
)
NO_CAMPAIGN = "none"  # the campaign filter's value for posts outside any campaign
NEUTRAL_COLOR = "#5b6673"  # chips of posts without a campaign
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class CalendarView(StrEnum):
    """The two grids."""

    MONTH = "month"
    WEEK = "week"


# --- Time zones and grid arithmetic ----------------------------------------------------------


def valid_zone(name: str) -> str | None:
    """``name`` if it is an IANA time zone this system knows, else None."""
    name = name.strip()
    return name if fields.zone_or_none(name) is not None else None


def require_zone(name: str) -> str:
    """``name`` as a valid time zone, or a UserError saying what to enter."""
    zone = valid_zone(name)
    if zone is None:
        raise UserError(
            N_("{zone} is not a time zone. Use a name such as Asia/Shanghai or Europe/Paris."),
            zone=name.strip() or '""',
        )
    return zone


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant at which ``day`` starts in ``zone``."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall_time_exists(day: date, at: time, zone: str) -> bool:
    """False for a wall-clock time skipped when the clocks go forward (e.g. 02:30 in Paris
    on the last Sunday of March)."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == (
        local.replace(tzinfo=None)
    )


def to_utc(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of wall-clock ``day at`` in ``zone``.

    A time that does not exist (clocks went forward) is refused; a time that happens twice
    (clocks went back) means its first occurrence.
    """
    if not wall_time_exists(day, at, zone):
        raise UserError(
            N_(
                "{time} does not exist on {date} in {zone}: the clocks go forward that night. "
                "Choose another time."
            ),
            time=at.strftime("%H:%M"),
            date=day.isoformat(),
            zone=zone,
        )
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def month_days(anchor: date) -> list[date]:
    """Every day of the month grid around ``anchor``: whole weeks, Monday first, from the
    week of the month's first day to the week of its last."""
    first = anchor.replace(day=1)
    start = first - timedelta(days=first.weekday())
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def week_days(anchor: date) -> list[date]:
    """The seven days, Monday to Sunday, of the week of ``anchor``."""
    start = anchor - timedelta(days=anchor.weekday())
    return [start + timedelta(days=offset) for offset in range(7)]


def shift_anchor(view: CalendarView, anchor: date, steps: int) -> date:
    """The anchor ``steps`` months (month view) or weeks (week view) away."""
    if view is CalendarView.WEEK:
        return anchor + timedelta(weeks=steps)
    months = anchor.year * 12 + anchor.month - 1 + steps
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class CalendarRange:
    """The days a grid shows, and the UTC interval [start, end) they cover in ``zone``."""

    view: CalendarView
    anchor: date
    zone: str
    days: list[date]
    start: datetime
    end: datetime

    @property
    def weeks(self) -> list[list[date]]:
        """The days in rows of seven."""
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]


def calendar_range(view: CalendarView, anchor: date, zone: str) -> CalendarRange:
    """The grid of ``view`` around ``anchor``, in the viewer's ``zone``."""
    days = month_days(anchor) if view is CalendarView.MONTH else week_days(anchor)
    return CalendarRange(
        view=view,
        anchor=anchor,
        zone=zone,
        days=days,
        start=local_midnight(days[0], zone),
        end=local_midnight(days[-1] + timedelta(days=1), zone),
    )


def missing_hours(day: date, zone: str) -> set[int]:
    """The hours of ``day`` that do not exist in ``zone`` (the week view greys them out)."""
    return {hour for hour in range(24) if not wall_time_exists(day, time(hour, 30), zone)}


def today_in(zone: str, now: datetime | None = None) -> date:
    """The viewer's date today."""
    return (now or utcnow()).astimezone(ZoneInfo(zone)).date()


# --- Filters and entries -----------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarFilters:
    """What the grid is narrowed to; None shows everything."""

    platform: str | None = None
    channel_id: int | None = None
    campaign: int | str | None = None  # a campaign id, or NO_CAMPAIGN
    state: VariantState | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as the GET parameters that produce them (for links)."""
        values = {
            "platform": self.platform,
            "channel": self.channel_id,
            "campaign": self.campaign,
            "state": self.state,
        }
        return {key: str(value) for key, value in values.items() if value is not None}


def parse_filters(
    *, platform: str = "", channel: str = "", campaign: str = "", state: str = ""
) -> tuple[CalendarFilters, list[UserError]]:
    """Filters from raw GET values; values that mean nothing are dropped with a message."""
    problems: list[UserError] = []
    channel_id: int | None = None
    if channel.strip():
        channel_id = parse_id(channel)
        if channel_id is None:
            problems.append(UserError(N_("Choose an account from the list.")))
    campaign_value: int | str | None = None
    if campaign.strip() == NO_CAMPAIGN:
        campaign_value = NO_CAMPAIGN
    elif campaign.strip():
        campaign_value = parse_id(campaign)
        if campaign_value is None:
            problems.append(UserError(N_("Choose a campaign from the list.")))
    state_value: VariantState | None = None
    if state.strip():
        try:
            state_value = VariantState(state.strip())
        except ValueError:
            problems.append(UserError(N_("Choose a status from the list.")))
    filters = CalendarFilters(
        platform=platform.strip() or None,
        channel_id=channel_id,
        campaign=campaign_value,
        state=state_value,
    )
    return filters, problems


@dataclass(frozen=True)
class CalendarEntry:
    """One variant on the grid: what, where, when (for the viewer and for the account)."""

    variant_id: int
    post_id: int
    title: str
    channel_name: str
    platform: str
    platform_name: str
    state: VariantState
    at: datetime  # UTC: published_at once published, else scheduled_at
    viewer_at: datetime
    account_at: datetime
    account_zone: str
    campaign_name: str | None
    color: str
    movable: bool
    late: bool

    @property
    def same_zone_offset(self) -> bool:
        """Whether the account's clock reads the same as the viewer's at that moment."""
        return self.viewer_at.utcoffset() == self.account_at.utcoffset()


def is_movable(variant: Variant) -> bool:
    """Whether a variant may be rescheduled (see the module docstring)."""
    return VariantState(variant.state) in RESCHEDULABLE_STATES and not variant.outcome_unknown


def _entry(
    variant: Variant, post: Post, channel: Channel, campaign: Campaign | None, zone: str
) -> CalendarEntry:
    at = variant.published_at or variant.scheduled_at
    assert at is not None  # the query only returns variants with a time
    account_zone = valid_zone(channel.timezone) or DEFAULT_ACCOUNT_ZONE
    return CalendarEntry(
        variant_id=variant.id,
        post_id=post.id,
        title=post.title,
        channel_name=channel.name,
        platform=channel.platform,
        platform_name=platform_name(channel.platform),
        state=VariantState(variant.state),
        at=at,
        viewer_at=at.astimezone(ZoneInfo(zone)),
        account_at=at.astimezone(ZoneInfo(account_zone)),
        account_zone=account_zone,
        campaign_name=campaign.name if campaign else None,
        color=campaign.color if campaign else NEUTRAL_COLOR,
        movable=is_movable(variant),
        late=variant.late,
    )


def calendar_entries(
    db: Session, *, workspace: Workspace, span: CalendarRange, filters: CalendarFilters
) -> list[CalendarEntry]:
    """The workspace's variants with a time inside ``span``, narrowed by ``filters``, in
    time order."""
    moment = func.coalesce(Variant.published_at, Variant.scheduled_at)
    query = (
        select(Variant, Post, Channel, Campaign)
        .join(Post, Post.id == Variant.post_id)
        .join(Channel, Channel.id == Variant.channel_id)
        .outerjoin(Campaign, Campaign.id == Post.campaign_id)
        .where(
            Variant.workspace_id == workspace.id,
            moment >= span.start,
            moment < span.end,
        )
        .order_by(moment, Variant.id)
    )
    if filters.platform:
        query = query.where(Channel.platform == filters.platform)
    if filters.channel_id is not None:
        query = query.where(Channel.id == filters.channel_id)
    if filters.campaign == NO_CAMPAIGN:
        query = query.where(Post.campaign_id.is_(None))
    elif filters.campaign is not None:
        query = query.where(Post.campaign_id == filters.campaign)
    if filters.state is not None:
        query = query.where(Variant.state == filters.state)
    return [
        _entry(variant, post, channel, campaign, span.zone)
        for variant, post, channel, campaign in db.execute(query)
    ]


@dataclass
class CalendarGrid:
    """A range with its entries placed by the viewer's day (and hour, for the week)."""

    span: CalendarRange
    entries: list[CalendarEntry]
    by_day: dict[date, list[CalendarEntry]] = field(default_factory=dict)
    by_slot: dict[tuple[date, int], list[CalendarEntry]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            day = entry.viewer_at.date()
            self.by_day.setdefault(day, []).append(entry)
            self.by_slot.setdefault((day, entry.viewer_at.hour), []).append(entry)


def build_grid(
    db: Session, *, workspace: Workspace, span: CalendarRange, filters: CalendarFilters
) -> CalendarGrid:
    """The grid of ``span`` with the workspace's variants placed on it."""
    return CalendarGrid(span, calendar_entries(db, workspace=workspace, span=span, filters=filters))


def find_variant(db: Session, *, workspace: Workspace, variant_id: int) -> Variant:
    """The workspace's variant with this id; NotFound for anyone else's."""
    variant = db.get(Variant, variant_id)
    if variant is None or variant.workspace_id != workspace.id:
        raise NotFoundError(N_("No such post on this workspace's calendar."))
    return variant


def variant_entry(db: Session, *, variant: Variant, zone: str) -> CalendarEntry | None:
    """The calendar entry of one variant (None when it has no time yet)."""
    if (variant.published_at or variant.scheduled_at) is None:
        return None
    channel = db.get(Channel, variant.channel_id)
    assert channel is not None  # a foreign key with ON DELETE CASCADE
    campaign = db.get(Campaign, variant.post.campaign_id) if variant.post.campaign_id else None
    return _entry(variant, variant.post, channel, campaign, zone)


# --- Rescheduling ----------------------------------------------------------------------------


def parse_day(value: str) -> date:
    """A date from the form's ``YYYY-MM-DD``, or a UserError saying how to write one."""
    try:
        if DATE_RE.match(value.strip()):
            return fields.usable_day(date.fromisoformat(value.strip()), field=N_("Date"))
    except ValueError:
        pass
    raise UserError(
        N_("{value} is not a date. Enter one as YYYY-MM-DD, such as 2026-11-11."),
        value=value.strip() or '""',
    )


def parse_time(value: str) -> time:
    """A time of day from the form's ``HH:MM``, or a UserError saying how to write one."""
    match = TIME_RE.match(value.strip())
    if match is None:
        raise UserError(
            N_("{value} is not a time of day. Enter one as HH:MM, such as 09:30."),
            value=value.strip() or '""',
        )
    return time(int(match.group(1)), int(match.group(2)))


def reschedule_variant(
    db: Session,
    *,
    workspace: Workspace,
    variant_id: int,
    day: str,
    at: str,
    zone: str,
    actor: User,
    now: datetime | None = None,
    ip: str | None = None,
) -> Variant:
    """Move a variant to wall-clock ``day at`` in ``zone`` (the viewer's), audited.

    Only variants not yet started by the engine move, and only into the future. The state,
    and so an approval, is kept: the time is not content. A pending retry follows the move.
    """
    variant = find_variant(db, workspace=workspace, variant_id=variant_id)
    state = VariantState(variant.state)
    if state in STARTED_STATES:
        raise ConflictError(
            N_("This post is already publishing or published; its time can no longer change.")
        )
    if variant.outcome_unknown:
        raise ConflictError(
            N_(
                "guanxi is still checking whether this post already went out. Wait until its "
                "status is known, then move it."
            )
        )
    if state not in RESCHEDULABLE_STATES:
        raise ConflictError(
            N_("This post needs attention before it can be moved. Open the post to retry it.")
        )
    when = to_utc(parse_day(day), parse_time(at), require_zone(zone))
    if when <= (now or utcnow()):
        raise UserError(N_("That time has already passed. Choose a time in the future."))
    before = {"scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None}
    variant.scheduled_at = when
    if variant.next_attempt_at is not None:
        variant.next_attempt_at = when  # a pending retry waits for the new slot, not the old one
    if variant.due_at is not None:
        variant.due_at = when  # manual channels: the person's deadline moves with the slot
    try:
        db.flush()
    except StaleDataError as exc:
        raise ConflictError(
            N_("This post changed while you were moving it. Reload the calendar and try again.")
        ) from exc
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="variant.reschedule",
        entity_type="variant",
        entity_id=variant.id,
        before=before,
        after={"scheduled_at": when.isoformat(), "state": str(state), "zone": zone},
        ip=ip,
    )
    return variant
