"""The calendar in a real browser: the browser's time zone is picked up, and dragging a
post to another day moves it (HTML5 drag and drop, posted with the CSRF header)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.channels.models import Channel
from guanxi.core.db import make_engine, make_session_factory
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.publishing.models import Post, Variant, VariantState
from tests.browser.conftest import OWNER, LiveServer, serve_demo, sign_in

pytestmark = pytest.mark.browser

# 10:00 in Paris (summer time) on Wednesday 9 April 2031: far enough ahead to stay movable.
PLANNED = datetime(2031, 4, 9, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    """A live guanxi of this module's own (its database is changed here)."""
    data_dir = tmp_path_factory.mktemp("calendar-live")
    with serve_demo(data_dir) as live:
        yield live, data_dir / "guanxi.db"


@pytest.fixture
def sessions(server: tuple[LiveServer, Path]) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{server[1]}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def paris_page(browser: Browser, server: tuple[LiveServer, Path]) -> Iterator[Page]:
    """A page whose browser lives in Paris."""
    context = browser.new_context(
        base_url=server[0].base_url,
        locale="en-US",
        timezone_id="Europe/Paris",
        # Tall enough that a month's cells are all in sight: Playwright's drag cannot scroll
        # the page between picking a chip up and dropping it (a person's browser can).
        viewport={"width": 1280, "height": 1400},
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def choose_paris(page: Page) -> None:
    """The person sets their time zone on the calendar (the browser's is not used)."""
    page.get_by_label("Your time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Use this time zone").click()
    expect(page.get_by_text("Chosen by you.")).to_be_visible()


def planned_variant(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        workspace = get_workspace_by_slug(db, slug=DEMO_WORKSPACE.slug)
        assert workspace is not None
        channel = Channel(
            workspace_id=workspace.id,
            connector="weibo",
            platform="weibo",
            external_id=uuid.uuid4().hex[:10],
            name="普罗旺斯葡萄酒官方微博",
        )
        db.add(channel)
        db.flush()
        post = Post(workspace_id=workspace.id, title="桃红葡萄酒季", body="正文")
        db.add(post)
        db.flush()
        variant = Variant(
            workspace_id=workspace.id,
            post_id=post.id,
            channel_id=channel.id,
            state=VariantState.SCHEDULED,
            scheduled_at=PLANNED,
            next_attempt_at=PLANNED,
            idempotency_key=uuid.uuid4().hex,
        )
        db.add(variant)
        db.commit()
        return variant.id


def test_drag_a_post_to_another_day(
    paris_page: Page, server: tuple[LiveServer, Path], sessions: sessionmaker[Session]
) -> None:
    """Given a Weibo post planned for 9 April 2031 at 10:00 Paris time and an owner whose
    browser is in Paris, when she opens April 2031, then the calendar uses her browser's
    zone and shows the account's Shanghai time beside it; when she drags the post to
    16 April, then it moves there, at the same time of day, and the database agrees."""
    live, _path = server
    variant_id = planned_variant(sessions)
    page = paris_page
    sign_in(page, live, OWNER)

    page.goto(live.url(f"/w/{DEMO_WORKSPACE.slug}/calendar?view=month&date=2031-04-01"))
    choose_paris(page)

    expect(page.get_by_text("Times in Europe/Paris (your time zone)")).to_be_visible()
    expect(page.get_by_text("Chosen by you.")).to_be_visible()
    chip = page.locator(f"li.chip[data-variant-id='{variant_id}']")
    expect(chip).to_contain_text("10:00")
    expect(chip).to_contain_text("Account: 16:00 Asia/Shanghai")
    expect(page.locator("td[data-drop-date='2031-04-09'] li.chip")).to_have_count(1)
    # The chip's long meta line is cut, never widening the chip past its day.
    chip_box = chip.bounding_box()
    day_box = page.locator("td[data-drop-date='2031-04-09']").bounding_box()
    assert chip_box is not None
    assert day_box is not None
    assert chip_box["x"] + chip_box["width"] <= day_box["x"] + day_box["width"] + 0.5

    chip.drag_to(page.locator("td[data-drop-date='2031-04-16']"))

    expect(page.locator("#calendar-status")).to_contain_text("The post was moved.")
    expect(page.locator("td[data-drop-date='2031-04-16'] li.chip")).to_have_count(1)
    expect(page.locator("td[data-drop-date='2031-04-09'] li.chip")).to_have_count(0)
    with sessions() as db:
        variant = db.get(Variant, variant_id)
        assert variant is not None
        assert variant.scheduled_at == datetime(2031, 4, 16, 8, 0, tzinfo=UTC)
        assert variant.state == VariantState.SCHEDULED


def test_the_keyboard_path_moves_a_post_without_dragging(
    paris_page: Page, server: tuple[LiveServer, Path], sessions: sessionmaker[Session]
) -> None:
    """The chip is a link to the post's calendar page, whose form moves it."""
    live, _path = server
    variant_id = planned_variant(sessions)
    page = paris_page
    sign_in(page, live, OWNER)
    page.goto(live.url(f"/w/{DEMO_WORKSPACE.slug}/calendar?view=week&date=2031-04-09"))
    choose_paris(page)

    page.locator(f"li.chip[data-variant-id='{variant_id}'] a").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Date").fill("2031-04-10")
    page.get_by_label("Time (Europe/Paris)").fill("18:45")
    page.get_by_role("button", name="Move").click()

    expect(page.get_by_text("The post was moved.")).to_be_visible()
    expect(
        page.locator("td[data-drop-date='2031-04-10'][data-drop-hour='18'] li.chip")
    ).to_have_count(1)
    with sessions() as db:
        variant = db.get(Variant, variant_id)
        assert variant is not None
        assert variant.scheduled_at == datetime(2031, 4, 10, 16, 45, tzinfo=UTC)
