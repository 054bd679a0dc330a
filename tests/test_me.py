"""The personal settings page, /me: a person's name, language, time zone (chosen from the
zone database, the workspace's until chosen) and password (the current one required)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, User
from guanxi.core.security import verify_password
from guanxi.web.zones import offset_label
from tests.conftest import PASSWORD
from tests.test_accounts import post

NEW_PASSWORD = "a-new-password-2026"


def profile(name: str = "Owner", language: str = "en", timezone: str = "") -> dict[str, str]:
    """The /me form's fields."""
    return {"name": name, "language": language, "timezone": timezone}


def fresh(db: Session, user: User) -> User:
    """``user`` as the database has it now."""
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/me", follow_redirects=False)
    assert response.status_code in {303, 307}
    assert "/login" in response.headers["location"]


def test_the_page_offers_every_zone_and_starts_with_the_workspaces(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """Given an owner who chose no zone, then /me says the workspace's zone is used and
    offers the zone database to search (with the top bar's name linking to it)."""
    client, _membership = signed_in
    page = client.get("/me").text
    assert "Your settings" in page
    assert 'name="timezone" id="timezone" value=""' in page
    assert "the workspace's zone (Asia/Shanghai) is used" in page
    assert '<option value="Europe/Paris">' in page
    assert '<option value="America/Argentina/Buenos_Aires">' in page
    assert '<a class="who" href="/me"' in page


def test_saving_name_language_and_zone_is_recorded_and_used(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """When the owner saves a new name, Chinese and Europe/Paris, then they are stored and
    audited, the page answers in Chinese and says the zone with its offset."""
    client, membership = signed_in
    response = post(client, "/me", profile("Claire", "zh_Hans", "Europe/Paris"))
    assert response.status_code == 303

    user = fresh(db, membership.user)
    assert (user.name, user.language, user.timezone) == ("Claire", "zh_Hans", "Europe/Paris")
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.profile")).one()
    assert event.after == {"name": "Claire", "language": "zh_Hans", "timezone": "Europe/Paris"}
    page = client.get("/me").text
    assert 'lang="zh-Hans"' in page
    assert "设置已保存" in page
    assert "Europe/Paris" in page
    assert ("UTC+1" in page) or ("UTC+2" in page)


def test_a_zone_not_in_the_database_is_refused_and_nothing_changes(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    client, membership = signed_in
    response = post(client, "/me", profile("Renamed", "en", "Europe/Atlantis"))
    assert response.status_code == 400
    assert "“Europe/Atlantis” is not a time zone. Pick one from the list" in response.text
    user = fresh(db, membership.user)
    assert (user.name, user.timezone) == ("Owner", None)


@pytest.mark.parametrize("name", ["", "x" * 121])
def test_a_name_must_have_1_to_120_characters(
    db: Session, signed_in: tuple[TestClient, Membership], name: str
) -> None:
    client, membership = signed_in
    response = post(client, "/me", profile(name))
    assert response.status_code == 400
    assert "Enter a name of 1 to 120 characters." in response.text
    assert fresh(db, membership.user).name == "Owner"


def test_the_chosen_zone_is_used_for_times_on_other_pages(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """Given an API token created now, then the settings page shows its time in Shanghai
    (UTC+8) until the owner chooses Los Angeles, and in UTC-8 or UTC-7 after."""
    client, _membership = signed_in
    post(client, "/w/acme/settings/tokens", {"name": "report", "expires_in_days": "30"})
    assert "UTC+8" in client.get("/w/acme/settings").text

    post(client, "/me", profile(timezone="America/Los_Angeles"))

    page = client.get("/w/acme/settings").text
    assert "UTC+8" not in page
    assert ("UTC-8" in page) or ("UTC-7" in page)


def test_a_password_change_needs_the_current_password(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    client, membership = signed_in
    wrong = post(
        client,
        "/me/password",
        {"current_password": "not-it", "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "Your current password is wrong. Type it again." in wrong.text
    assert verify_password(fresh(db, membership.user).password_hash, PASSWORD)

    right = post(
        client,
        "/me/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert right.status_code == 303
    assert verify_password(fresh(db, membership.user).password_hash, NEW_PASSWORD)
    assert "Password changed." in client.get("/me").text


@pytest.mark.parametrize(
    ("zone", "moment", "label"),
    [
        ("Asia/Shanghai", datetime(2026, 12, 6, tzinfo=UTC), "UTC+8"),
        ("Asia/Kolkata", datetime(2026, 12, 6, tzinfo=UTC), "UTC+5:30"),
        ("America/St_Johns", datetime(2026, 12, 6, tzinfo=UTC), "UTC-3:30"),
        ("UTC", datetime(2026, 12, 6, tzinfo=UTC), "UTC"),
    ],
)
def test_an_offset_reads_as_people_write_it(zone: str, moment: datetime, label: str) -> None:
    assert offset_label(moment.astimezone(ZoneInfo(zone))) == label
