"""Values typed into forms are read by one helper per kind, and a bad one is explained.

Each case here is a value ``tests/test_form_hunting.py`` found crashing a page (a 500)
before: the regression, written as what the person who typed it sees.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Workspace
from guanxi.core import fields, i18n
from guanxi.core.errors import UserError
from guanxi.listening.alerts.models import AlertRule
from guanxi.listening.topics.service import TopicForm, create_topic
from guanxi.market.models import MarketCampaign
from guanxi.publishing import scheduling
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

# --- The helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["³", "1e400", "nan", "12.5", "twelve", "1" * 40, "-"])
def test_a_whole_number_field_refuses_what_is_not_one_and_names_the_field(typed: str) -> None:
    with pytest.raises(fields.FieldError) as caught:
        fields.whole_number(typed, field="Window (hours)", minimum=1, maximum=168)

    message = caught.value.translated(i18n.gettext)
    assert message.startswith("Window (hours): ")
    assert caught.value.status_code == 400


def test_a_whole_number_field_reads_numbers_and_explains_its_range() -> None:
    assert fields.whole_number(" 12 ", field="Window (hours)", minimum=1, maximum=168) == 12
    assert fields.whole_number("", field="Window (hours)", minimum=1, maximum=168, default=6) == 6
    with pytest.raises(fields.FieldError) as caught:
        fields.whole_number(str(2**63), field="Window (hours)", minimum=1, maximum=168)
    assert caught.value.translated(i18n.gettext) == (
        "Window (hours): 9223372036854775808 is out of range. Write a number from 1 to 168."
    )


@pytest.mark.parametrize("typed", ["nan", "inf", "1e400", "-Infinity", "2,5", "³"])
def test_a_number_field_refuses_nan_infinity_and_text(typed: str) -> None:
    with pytest.raises(fields.FieldError):
        fields.decimal_number(typed, field="Times the baseline", minimum=0, maximum=100)


def test_a_number_field_reads_decimals() -> None:
    assert fields.decimal_number("2.5", field="Factor", minimum=0, maximum=100) == 2.5
    assert fields.decimal_number("", field="Factor", minimum=0, maximum=100, default=2) == 2


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9999-12-31", "From: 9999-12-31 is too far away. Choose a day from 2000 to 2099."),
        ("0001-01-01", "From: 0001-01-01 is too far away. Choose a day from 2000 to 2099."),
        (
            "2024-02-30",
            "From: “2024-02-30” is not a date. Write it as YYYY-MM-DD, such as 2026-11-11.",
        ),
        ("", 'From: “""” is not a date. Write it as YYYY-MM-DD, such as 2026-11-11.'),
    ],
)
def test_a_day_field_refuses_days_no_page_can_show(typed: str, message: str) -> None:
    with pytest.raises(fields.FieldError) as caught:
        fields.day(typed, field="From")

    assert caught.value.translated(i18n.gettext) == message
    assert fields.day_or_none(typed) is None


def test_the_field_and_the_message_are_in_the_readers_language() -> None:
    i18n.set_language("zh_Hans")
    try:
        with pytest.raises(fields.FieldError) as caught:
            fields.whole_number("nan", field="Window (hours)", minimum=1, maximum=168)
        message = caught.value.translated(i18n.gettext)
    finally:
        i18n.set_language("en")

    assert message == "时间窗口（小时）：“nan” 不是整数。请填写整数，例如 12。"


@pytest.mark.parametrize("name", ["Asia", "Asia/" + "x" * 300, "../../etc/passwd", "UTC\x00", ""])
def test_a_folder_a_path_or_a_long_name_is_no_time_zone(name: str) -> None:
    assert fields.zone_or_none(name) is None


def test_a_workspace_time_zone_named_like_a_folder_is_explained() -> None:
    """ "Asia" is a folder of the zone database: reading it failed with an OSError."""
    with pytest.raises(UserError) as caught:
        accounts.parse_workspace_create(slug="acme", name="Acme", timezone="Asia")

    assert str(caught.value).startswith("Asia is not a time zone.")


# --- The pages ------------------------------------------------------------------------------


@pytest.fixture
def acme(client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    """acme, its owner signed in."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example", name="Owner"))
    sign_in(client, "owner@acme.example")
    return workspace


def test_an_alert_rule_with_nan_hours_is_refused_with_the_fields_name(
    client: TestClient, db: Session, acme: Workspace
) -> None:
    """Given a topic, when an owner types ``nan`` as the window of a new alert rule,
    then the form comes back saying which field to fix, and no rule is saved."""
    topic = create_topic(
        db, workspace_id=acme.id, form=TopicForm(name="Food", query="食品", category="theme")
    )
    db.commit()

    response = client.post(
        "/w/acme/listen/alerts/rules",
        data={"csrf_token": csrf_token(client), "topic_id": str(topic.id), "window_hours": "nan"},
    )

    assert response.status_code == 400
    assert "Window (hours): “nan” is not a whole number. Write one such as 12." in response.text
    assert db.scalar(select(func.count(AlertRule.id))) == 0


@pytest.mark.parametrize(("start", "end"), [("9999-12-31", ""), ("2026-01-01", "0001-01-01")])
def test_the_dashboard_refuses_a_day_it_cannot_count_from(
    client: TestClient, acme: Workspace, start: str, end: str
) -> None:
    response = client.get("/w/acme/listen/dashboard", params={"start": start, "end": end})

    assert response.status_code == 400
    assert "is too far away. Choose a day from 2000 to 2099." in response.text


def test_the_mentions_filter_ignores_a_day_it_cannot_use(
    client: TestClient, acme: Workspace
) -> None:
    response = client.get("/w/acme/listen/mentions", params={"from": "0001-01-01"})

    assert response.status_code == 200


def test_the_calendar_refuses_year_9999_and_a_folder_as_time_zone(
    client: TestClient, acme: Workspace
) -> None:
    page = client.get("/w/acme/calendar", params={"date": "9999-12-31"})
    zone = client.post(
        "/w/acme/calendar/timezone",
        data={"zone": "Asia", "csrf_token": csrf_token(client)},
        headers={"Accept": "application/json"},
    )

    assert page.status_code == 200  # the calendar shows today, and says why
    assert "Date: 9999-12-31 is too far away. Choose a day from 2000 to 2099." in page.text
    assert zone.status_code == 400
    assert zone.json()["message"].startswith("Asia is not a time zone.")


def test_a_market_campaign_in_year_9999_is_refused_and_nothing_is_stored(
    client: TestClient, db: Session, acme: Workspace
) -> None:
    """A campaign starting in 9999 used to be saved, then break its own page."""
    response = client.post(
        "/w/acme/market/campaigns",
        data={
            "csrf_token": csrf_token(client),
            "name": "Far",
            "app_key": "com.example.app",
            "countries": "IT",
            "starts_on": "9999-12-31",
        },
    )

    assert response.status_code == 400
    assert "start: 9999-12-31 is too far away. Choose a day from 2000 to 2099." in response.text
    assert db.scalar(select(func.count(MarketCampaign.id))) == 0


def test_a_publication_time_in_year_1_is_refused_not_overflowed() -> None:
    """0001-01-01 00:00 in Shanghai is before year 1 in UTC: converting it overflowed."""
    with pytest.raises(fields.FieldError) as caught:
        scheduling.parse_local_time("0001-01-01T00:00", "Asia/Shanghai")

    assert caught.value.translated(i18n.gettext) == (
        "Date: 0001-01-01 is too far away. Choose a day from 2000 to 2099."
    )


@pytest.mark.parametrize("typed", ["³", "1e400", "nan"])
def test_an_sla_target_that_is_no_whole_number_is_explained(
    client: TestClient, acme: Workspace, typed: str
) -> None:
    """The inbox SLA form read its targets with int(): "³" passed str.isdigit and crashed."""
    response = client.post(
        "/w/acme/inbox/sla",
        data={"csrf_token": csrf_token(client), "first_response": typed, "resolution": "60"},
    )

    assert response.status_code == 400
    assert f"First response within (minutes): “{typed}” is not a whole number." in response.text


def test_a_nul_character_in_any_field_is_explained_on_every_database(
    client: TestClient, db: Session, acme: Workspace
) -> None:
    """PostgreSQL cannot store or compare a text with NUL: a search or a saved name that
    held one answered 500 there (and worked on SQLite). Now both databases say why."""
    search = client.get("/w/acme/listen/mentions", params={"q": "春\x00季"})
    saved = client.post(
        "/w/acme/settings/tokens", data={"csrf_token": csrf_token(client), "name": "ci\x00bot"}
    )

    for response in (search, saved):
        assert response.status_code == 400
        assert "contains a NUL character (code 0)" in response.text
    db.rollback()
    assert accounts.list_api_tokens(db, membership=acme.memberships[0]) == []
