"""The publishing calendar: grids in the viewer's time zone, variants on them, filters, and
the page (month, week, htmx refresh, Chinese UI).

Test data is made with the models directly (Channel, Post, Variant): the calendar
reads what the composer and the engine write, whoever wrote it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.channels.models import Channel
from guanxi.core.errors import UserError
from guanxi.publishing import calendar
from guanxi.publishing.calendar import CalendarFilters, CalendarView
from guanxi.publishing.models import Campaign, Post, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

PARIS = "Europe/Paris"
SHANGHAI = "Asia/Shanghai"


# --- Test data ---------------------------------------------------------------------------------


def add_channel(
    db: Session, workspace: Workspace, *, platform: str = "weibo", name: str = "", zone: str = ""
) -> Channel:
    """A connected account of ``workspace`` (Asia/Shanghai unless ``zone`` says otherwise)."""
    channel = Channel(
        workspace_id=workspace.id,
        connector="manual" if platform not in {"weibo", "douyin"} else platform,
        platform=platform,
        external_id=uuid.uuid4().hex[:12],
        name=name or f"{platform} account",
        timezone=zone or SHANGHAI,
    )
    db.add(channel)
    db.flush()
    return channel


def add_variant(
    db: Session,
    channel: Channel,
    *,
    at: datetime,
    title: str = "Post",
    state: VariantState = VariantState.SCHEDULED,
    campaign: Campaign | None = None,
    published: bool = False,
) -> Variant:
    """A post with one variant on ``channel``, scheduled (or published) at ``at``."""
    post = Post(
        workspace_id=channel.workspace_id,
        title=title,
        body="正文",
        campaign_id=campaign.id if campaign else None,
    )
    db.add(post)
    db.flush()
    variant = Variant(
        workspace_id=channel.workspace_id,
        post_id=post.id,
        channel_id=channel.id,
        text="正文",
        state=state,
        scheduled_at=at,
        published_at=at if published else None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(variant)
    db.flush()
    return variant


def add_campaign(db: Session, workspace: Workspace, name: str, color: str) -> Campaign:
    campaign = Campaign(workspace_id=workspace.id, name=name, color=color)
    db.add(campaign)
    db.flush()
    return campaign


@dataclass
class Board:
    """A signed-in owner of acme, with a Weibo and a Xiaohongshu account."""

    client: TestClient
    db: Session
    owner: User
    workspace: Workspace
    weibo: Channel
    xhs: Channel


@pytest.fixture
def board(signed_in: tuple[TestClient, Membership], db: Session) -> Board:
    client, membership = signed_in
    workspace = db.get(Workspace, membership.workspace_id)
    assert workspace is not None
    weibo = add_channel(db, workspace, platform="weibo", name="普罗旺斯葡萄酒官方微博")
    xhs = add_channel(db, workspace, platform="xiaohongshu", name="Provence on RED")
    db.commit()
    return Board(client, db, membership.user, workspace, weibo, xhs)


def use_zone(client: TestClient, slug: str, zone: str) -> None:
    """Choose the viewer's time zone with the calendar's zone form."""
    response = client.post(
        f"/w/{slug}/calendar/timezone",
        data={"zone": zone, "csrf_token": csrf_token(client), "back": f"/w/{slug}/calendar"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def chips(html: str) -> list[str]:
    """The text of each chip on a calendar page, whitespace squeezed."""
    found = re.findall(r'<li class="chip[^"]*"[^>]*>(.*?)</li>', html, flags=re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", chip).split()) for chip in found]


def entries(db: Session, workspace: Workspace, span: calendar.CalendarRange) -> list[str]:
    return [
        e.title
        for e in calendar.calendar_entries(
            db, workspace=workspace, span=span, filters=CalendarFilters()
        )
    ]


# --- Grid arithmetic -----------------------------------------------------------------------------


def test_a_month_grid_is_whole_weeks_from_monday() -> None:
    """November 2026 starts on a Sunday and ends on a Monday: the grid runs from Monday
    26 October to Sunday 6 December, six whole weeks."""
    days = calendar.month_days(date(2026, 11, 17))

    assert days[0] == date(2026, 10, 26)
    assert days[-1] == date(2026, 12, 6)
    assert len(days) == 42
    assert all(day.weekday() == 0 for day in days[::7])


def test_a_month_that_fills_exact_weeks_has_four_rows() -> None:
    """February 2021 starts on a Monday and ends on a Sunday: four rows, nothing around."""
    span = calendar.calendar_range(CalendarView.MONTH, date(2021, 2, 10), SHANGHAI)

    assert len(span.weeks) == 4
    assert span.days[0] == date(2021, 2, 1)
    assert span.days[-1] == date(2021, 2, 28)


def test_a_week_runs_monday_to_sunday() -> None:
    days = calendar.week_days(date(2026, 11, 26))  # a Thursday

    assert days == [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]


@pytest.mark.parametrize(
    ("view", "anchor", "steps", "expected"),
    [
        (CalendarView.MONTH, date(2026, 1, 31), -1, date(2025, 12, 1)),
        (CalendarView.MONTH, date(2026, 12, 15), 1, date(2027, 1, 1)),
        (CalendarView.WEEK, date(2026, 12, 30), 1, date(2027, 1, 6)),
    ],
)
def test_previous_and_next_cross_year_boundaries(
    view: CalendarView, anchor: date, steps: int, expected: date
) -> None:
    assert calendar.shift_anchor(view, anchor, steps) == expected


def test_a_shanghai_week_is_168_hours_starting_at_local_midnight() -> None:
    """Asia/Shanghai has no daylight saving time: every week is 7 × 24 hours, from Monday
    00:00 in Shanghai, which is Sunday 16:00 UTC."""
    span = calendar.calendar_range(CalendarView.WEEK, date(2026, 3, 25), SHANGHAI)

    assert span.start == datetime(2026, 3, 22, 16, 0, tzinfo=UTC)
    assert span.end - span.start == timedelta(hours=168)


def test_the_paris_week_when_clocks_go_forward_is_an_hour_shorter() -> None:
    """Given a viewer in Paris, the week of 29 March 2026 (summer time starts) covers
    167 hours, from Monday 00:00 CET to the next Monday 00:00 CEST, and 02:00 on that
    Sunday does not exist."""
    span = calendar.calendar_range(CalendarView.WEEK, date(2026, 3, 25), PARIS)

    assert span.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert span.end - span.start == timedelta(hours=167)
    assert calendar.missing_hours(date(2026, 3, 29), PARIS) == {2}
    assert calendar.missing_hours(date(2026, 3, 29), SHANGHAI) == set()


def test_the_paris_week_when_clocks_go_back_is_an_hour_longer() -> None:
    span = calendar.calendar_range(CalendarView.WEEK, date(2026, 10, 25), PARIS)

    assert span.end - span.start == timedelta(hours=169)
    assert calendar.missing_hours(date(2026, 10, 25), PARIS) == set()


def test_wall_times_convert_to_utc_in_the_viewers_zone() -> None:
    """09:00 in Shanghai is 01:00 UTC all year; in Paris it is 08:00 UTC in winter and
    07:00 UTC in summer; a time that happens twice means the first one; a time that does
    not exist is refused with a message that says why."""
    assert calendar.to_utc(date(2026, 7, 1), time(9), SHANGHAI) == datetime(
        2026, 7, 1, 1, tzinfo=UTC
    )
    assert calendar.to_utc(date(2026, 1, 15), time(9), PARIS) == datetime(
        2026, 1, 15, 8, tzinfo=UTC
    )
    assert calendar.to_utc(date(2026, 7, 1), time(9), PARIS) == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert calendar.to_utc(date(2026, 10, 25), time(2, 30), PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    with pytest.raises(UserError) as refused:
        calendar.to_utc(date(2026, 3, 29), time(2, 30), PARIS)
    assert str(refused.value) == (
        "02:30 does not exist on 2026-03-29 in Europe/Paris: the clocks go forward that "
        "night. Choose another time."
    )


# --- Variants on the grid -------------------------------------------------------------------------


def test_week_boundaries_follow_the_viewers_zone(db: Session, board: Board) -> None:
    """Given two posts near the edges of the week of 2-8 November 2026,
    then a Shanghai viewer and a Paris viewer see different ones in that week: each post
    falls on the viewer's local day."""
    add_variant(db, board.weibo, at=datetime(2026, 11, 1, 20, 0, tzinfo=UTC), title="Early")
    add_variant(db, board.weibo, at=datetime(2026, 11, 8, 17, 0, tzinfo=UTC), title="Late")
    db.commit()

    in_shanghai = calendar.calendar_range(CalendarView.WEEK, date(2026, 11, 4), SHANGHAI)
    in_paris = calendar.calendar_range(CalendarView.WEEK, date(2026, 11, 4), PARIS)

    # Early is Monday 04:00 in Shanghai but Sunday 21:00 in Paris; Late is Monday 01:00 in
    # Shanghai (the next week) but Sunday 18:00 in Paris.
    assert entries(db, board.workspace, in_shanghai) == ["Early"]
    assert entries(db, board.workspace, in_paris) == ["Late"]


def test_a_variant_is_placed_on_the_viewers_day_and_hour(db: Session, board: Board) -> None:
    variant = add_variant(db, board.weibo, at=datetime(2026, 10, 31, 20, 0, tzinfo=UTC))
    db.commit()
    span = calendar.calendar_range(CalendarView.MONTH, date(2026, 10, 1), PARIS)

    grid = calendar.build_grid(db, workspace=board.workspace, span=span, filters=CalendarFilters())

    (entry,) = grid.entries
    assert entry.variant_id == variant.id
    assert grid.by_day[date(2026, 10, 31)] == [entry]  # 21:00 in Paris
    assert grid.by_slot[(date(2026, 10, 31), 21)] == [entry]
    assert entry.account_at.strftime("%Y-%m-%d %H:%M") == "2026-11-01 04:00"  # Shanghai
    assert entry.account_zone == SHANGHAI
    assert not entry.same_zone_offset


def test_a_published_variant_shows_when_it_went_out(db: Session, board: Board) -> None:
    """A published variant sits at its published_at, not the time it was planned for."""
    variant = add_variant(
        db, board.weibo, at=datetime(2026, 11, 10, 2, tzinfo=UTC), state=VariantState.PUBLISHED
    )
    variant.published_at = datetime(2026, 11, 12, 2, tzinfo=UTC)
    db.commit()
    span = calendar.calendar_range(CalendarView.MONTH, date(2026, 11, 1), SHANGHAI)

    grid = calendar.build_grid(db, workspace=board.workspace, span=span, filters=CalendarFilters())

    assert list(grid.by_day) == [date(2026, 11, 12)]
    assert not grid.entries[0].movable


def test_variants_without_a_time_and_other_workspaces_are_not_shown(
    db: Session, board: Board, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other-brand", owner=make_user("o@other.example"))
    foreign = add_channel(db, other)
    add_variant(db, foreign, at=datetime(2026, 11, 5, 2, tzinfo=UTC), title="Not ours")
    unscheduled = add_variant(db, board.weibo, at=datetime(2026, 11, 5, 2, tzinfo=UTC))
    unscheduled.scheduled_at = None
    add_variant(db, board.weibo, at=datetime(2026, 11, 5, 3, tzinfo=UTC), title="Ours")
    db.commit()
    span = calendar.calendar_range(CalendarView.MONTH, date(2026, 11, 1), SHANGHAI)

    assert entries(db, board.workspace, span) == ["Ours"]


def test_filters_narrow_the_grid(db: Session, board: Board) -> None:
    """Platform, account, campaign (or none) and status each narrow what is shown."""
    launch = add_campaign(db, board.workspace, "Launch", "#1e8449")
    at = datetime(2026, 11, 5, 2, tzinfo=UTC)
    add_variant(db, board.weibo, at=at, title="Weibo launch", campaign=launch)
    add_variant(db, board.weibo, at=at, title="Weibo draft", state=VariantState.DRAFT)
    add_variant(db, board.xhs, at=at, title="RED post")
    db.commit()
    span = calendar.calendar_range(CalendarView.MONTH, date(2026, 11, 1), SHANGHAI)

    def shown(**raw: str) -> list[str]:
        filters, problems = calendar.parse_filters(**raw)
        assert problems == []
        found = calendar.calendar_entries(db, workspace=board.workspace, span=span, filters=filters)
        return sorted(e.title for e in found)

    assert shown() == ["RED post", "Weibo draft", "Weibo launch"]
    assert shown(platform="weibo") == ["Weibo draft", "Weibo launch"]
    assert shown(channel=str(board.xhs.id)) == ["RED post"]
    assert shown(campaign=str(launch.id)) == ["Weibo launch"]
    assert shown(campaign="none") == ["RED post", "Weibo draft"]
    assert shown(state="draft") == ["Weibo draft"]
    assert shown(platform="weibo", state="scheduled") == ["Weibo launch"]


def test_a_filter_value_that_means_nothing_is_dropped_with_a_message() -> None:
    filters, problems = calendar.parse_filters(state="lost", channel="abc", campaign="x")

    assert filters == CalendarFilters()
    assert [str(problem) for problem in problems] == [
        "Choose an account from the list.",
        "Choose a campaign from the list.",
        "Choose a status from the list.",
    ]


# --- The page ------------------------------------------------------------------------------------


def test_the_month_page_shows_chips_coloured_by_campaign(db: Session, board: Board) -> None:
    """Given a scheduled Weibo post in the campaign "双十一" (red) on 11 November 2026 at
    10:00 Shanghai time, when the owner (viewing in Asia/Shanghai, the workspace's zone)
    opens November, then the chip shows the time, title, platform, account and status,
    in the campaign's colour, and can be dragged."""
    singles_day = add_campaign(db, board.workspace, "双十一", "#e74c3c")
    variant = add_variant(
        db,
        board.weibo,
        at=datetime(2026, 11, 11, 2, tzinfo=UTC),
        title="光棍节特惠",
        campaign=singles_day,
    )
    db.commit()

    page = board.client.get("/w/acme/calendar?view=month&date=2026-11-01")

    assert page.status_code == 200
    assert "November 2026" in page.text
    assert chips(page.text) == ["10:00 光棍节特惠 Scheduled · Sina Weibo · 普罗旺斯葡萄酒官方微博"]
    assert 'data-chip="#e74c3c"' in page.text
    assert 'draggable="true"' in page.text
    assert f"/w/acme/calendar/variants/{variant.id}/reschedule" in page.text
    assert "The workspace's time zone." in page.text


def test_a_paris_viewer_sees_their_time_and_the_accounts_beside_it(
    db: Session, board: Board
) -> None:
    """Given a post at 20:00 UTC on 31 October 2026 on a Shanghai account, when the viewer
    chooses Europe/Paris, then the week view puts it on Saturday at 21:00 (Paris) and the
    chip also says 04:00 on 1 November in Asia/Shanghai, the account's zone."""
    add_variant(db, board.weibo, at=datetime(2026, 10, 31, 20, 0, tzinfo=UTC), title="Halloween")
    db.commit()
    use_zone(board.client, "acme", PARIS)

    page = board.client.get("/w/acme/calendar?view=week&date=2026-10-28")

    assert page.status_code == 200
    shown = "21:00 Halloween Scheduled · Sina Weibo · 普罗旺斯葡萄酒官方微博"
    assert chips(page.text) == [f"{shown} Account: 11-01 04:00 Asia/Shanghai"]
    assert "Times in Europe/Paris (your time zone)" in page.text
    assert "Chosen by you." in page.text


def test_the_week_view_greys_out_the_hour_that_does_not_exist(board: Board) -> None:
    use_zone(board.client, "acme", PARIS)

    page = board.client.get("/w/acme/calendar?view=week&date=2026-03-29")

    assert page.text.count('class="slot missing"') == 1
    assert 'data-drop-date="2026-03-29" data-drop-hour="2"' not in page.text
    assert 'data-drop-date="2026-03-29" data-drop-hour="3"' in page.text


def test_navigation_keeps_the_view_and_the_filters(board: Board) -> None:
    page = board.client.get("/w/acme/calendar?view=week&date=2026-12-30&platform=weibo")

    assert "/w/acme/calendar?view=week&amp;date=2026-12-23&amp;platform=weibo" in page.text
    assert "/w/acme/calendar?view=week&amp;date=2027-01-06&amp;platform=weibo" in page.text
    assert "Previous week" in page.text


def test_an_htmx_request_gets_only_the_grid(db: Session, board: Board) -> None:
    add_variant(db, board.xhs, at=datetime(2026, 11, 5, 2, tzinfo=UTC), title="RED post")
    db.commit()

    partial = board.client.get(
        "/w/acme/calendar?view=month&date=2026-11-01&platform=xiaohongshu",
        headers={"HX-Request": "true", "HX-Target": "calendar"},
    )

    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert chips(partial.text) == [
        "10:00 RED post Scheduled · Xiaohongshu (RedNote) · Provence on RED"
    ]


def test_a_bad_filter_is_explained_and_the_page_still_shows(board: Board) -> None:
    page = board.client.get("/w/acme/calendar?state=lost&date=2026-02-30")

    assert page.status_code == 200
    assert "Choose a status from the list." in page.text
    assert "2026-02-30 is not a date. Enter one as YYYY-MM-DD, such as 2026-11-11." in page.text


def test_an_unknown_zone_is_refused_and_the_zone_is_unchanged(board: Board) -> None:
    use_zone(board.client, "acme", PARIS)

    response = board.client.post(
        "/w/acme/calendar/timezone",
        data={"zone": "Mars/Olympus", "csrf_token": csrf_token(board.client)},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Mars/Olympus is not a time zone. Use a name such as Asia/Shanghai or Europe/Paris."
    )
    assert "Times in Europe/Paris" in board.client.get("/w/acme/calendar").text


def test_the_zone_chosen_on_the_calendar_is_the_persons_setting_on_every_page(
    board: Board,
) -> None:
    """Given a viewer who chooses New York on the calendar, then their personal settings say
    New York, and another page (their settings) shows times in New York's offset."""
    page = board.client.get("/w/acme/calendar").text
    assert "The workspace's time zone." in page

    use_zone(board.client, "acme", "America/New_York")

    page = board.client.get("/w/acme/calendar").text
    assert "Times in America/New_York" in page
    assert "Chosen by you." in page
    me = board.client.get("/me").text
    assert 'value="America/New_York"' in me
    assert "UTC-5" in me


def test_the_calendar_in_chinese(db: Session, board: Board) -> None:
    """Given a viewer who reads Chinese, then month and weekday names, dates and platform
    names are Chinese."""
    add_variant(db, board.weibo, at=datetime(2026, 11, 11, 2, tzinfo=UTC), title="光棍节特惠")
    db.commit()
    board.client.post(
        "/language",
        data={"language": "zh_Hans", "next": "/", "csrf_token": csrf_token(board.client)},
    )

    month = board.client.get("/w/acme/calendar?view=month&date=2026-11-01")
    week = board.client.get("/w/acme/calendar?view=week&date=2026-11-11")

    assert 'lang="zh-Hans"' in month.text
    assert "2026年11月" in month.text
    assert '<th scope="col">周一</th>' in month.text
    assert "新浪微博 · 普罗旺斯葡萄酒官方微博" in month.text
    assert "11月11日周三" in week.text


def test_a_non_member_gets_404_and_an_analyst_reads(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    analyst = make_user("ana@acme.example")
    make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    make_workspace("other-brand", owner=make_user("o@other.example"))
    sign_in(client, analyst.email)

    assert client.get("/w/other-brand/calendar").status_code == 404
    page = client.get("/w/acme/calendar")
    assert page.status_code == 200
    assert "Drag a post" not in page.text
