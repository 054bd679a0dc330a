"""Incremental revenue by region: a campaign run in some provinces and not others, measured
with the difference-in-differences estimator on daily orders and revenue by province; a
planted effect is found, none is not invented, too few regions or days is explained; the
page, the form and the report's JSON."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.convert import incrementality
from guanxi.convert.models import CampaignRegions, Order, OrderStatus
from guanxi.core.errors import UserError
from guanxi.core.i18n import get_translations
from guanxi.core.settings import get_settings
from guanxi.publishing.models import Campaign
from tests.cli import PREFIX, run
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token

FIRST = date(2026, 9, 1)
START = FIRST + timedelta(days=28)
END = START + timedelta(days=13)
TODAY = END + timedelta(days=5)
PRICE_FEN = 10_000  # ¥100 an order: the revenue effect is 100 × the orders effect
PROVINCES = [f"省{n:02d}" for n in range(16)]
TREATED = PROVINCES[:4]


def plant_orders(
    db: Session, workspace: Workspace, *, extra: int, provinces: list[str], seed: int = 1
) -> None:
    """Daily orders in each province (2 to 8 a day, at random), plus ``extra`` a day in each
    treated province from START to END: the planted truth. (The default seed's noise is a
    typical draw: its difference-in-differences is off by about one standard error.)"""
    rng = random.Random(seed)
    rows = []
    for offset in range((END - FIRST).days + 1):
        day = FIRST + timedelta(days=offset)
        for province in provinces:
            count = rng.randint(2, 8)
            if province in TREATED and START <= day <= END:
                count += extra
            rows += [
                Order(
                    workspace_id=workspace.id,
                    source="api",
                    external_id=f"{province}-{day}-{n}",
                    status=OrderStatus.PAID,
                    ordered_at=datetime.combine(day, time(4, n), UTC),  # noon in Shanghai
                    amount_fen=PRICE_FEN,
                    province=province,
                )
                for n in range(count)
            ]
    db.add_all(rows)
    db.commit()


def campaign_in(db: Session, workspace: Workspace, regions: str = "省00, 省01、省02 省03") -> int:
    campaign = Campaign(workspace_id=workspace.id, name="Mid-Autumn")
    db.add(campaign)
    db.flush()
    incrementality.save_regions(
        db,
        workspace_id=workspace.id,
        campaign_id=campaign.id,
        regions=regions,
        starts_on=START,
        ends_on=END,
    )
    db.commit()
    return campaign.id


def estimates(db: Session, workspace: Workspace) -> list[incrementality.Incremental]:
    return incrementality.campaign_estimates(
        db,
        workspace_id=workspace.id,
        first_day=FIRST,
        last_day=TODAY,
        zone="Asia/Shanghai",
        today=TODAY,
    )


def test_a_planted_effect_is_found_with_an_interval_covering_the_truth(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given 16 provinces with 2-8 orders a day, and a campaign in 4 of them that added 3
    orders a day in each for its 14 days (168 orders, ¥16,800),
    when its incremental revenue is estimated,
    then the estimate is near ¥16,800 and its 95% interval covers it and excludes 0."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    plant_orders(db, workspace, extra=3, provinces=PROVINCES)
    campaign_in(db, workspace)

    [found] = estimates(db, workspace)

    truth_orders = 3 * len(TREATED) * 14
    assert not found.error
    assert (found.regions, found.controls, found.days) == (TREATED, 12, 14)
    assert found.orders_low <= truth_orders <= found.orders_high
    assert found.revenue_low <= truth_orders * PRICE_FEN / 100 <= found.revenue_high
    assert found.revenue_low > 0
    assert found.revenue == pytest.approx(found.orders * 100, rel=0.01)


def test_no_effect_gives_an_interval_that_covers_zero(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the same provinces and a campaign that changed nothing,
    when it is estimated, then its interval covers 0 (no effect is invented)."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    plant_orders(db, workspace, extra=0, provinces=PROVINCES, seed=11)
    campaign_in(db, workspace)

    [found] = estimates(db, workspace)

    assert not found.error
    assert found.revenue_low <= 0 <= found.revenue_high
    assert found.orders_low <= 0 <= found.orders_high


def test_too_few_control_regions_is_a_clear_message_in_both_languages(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given orders in only 9 provinces, 4 of them treated (5 controls, 8 are needed),
    when estimated, then the estimate says how many control regions there are and what to do."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    plant_orders(db, workspace, extra=3, provinces=PROVINCES[:9])
    campaign_in(db, workspace)

    [found] = estimates(db, workspace)

    english = found.error_text(get_translations("en").gettext)
    chinese = found.error_text(get_translations("zh_Hans").gettext)
    assert "at least 8 control regions" in english
    assert "there are 5" in english
    assert "对照地区" in chinese
    assert found.revenue == 0


def test_too_few_days_before_the_start_is_explained(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a campaign whose orders start only 3 days before it, its estimate says so."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    plant_orders(db, workspace, extra=3, provinces=PROVINCES)
    campaign_id = campaign_in(db, workspace)
    row = db.query(CampaignRegions).filter_by(campaign_id=campaign_id).one()
    row.starts_on = FIRST + timedelta(days=3)
    db.commit()

    [found] = estimates(db, workspace)

    message = found.error_text(get_translations("en").gettext)
    assert "days of orders before the campaign's start" in message
    assert "there are 3 and" in message


@pytest.mark.parametrize(
    ("regions", "starts_on", "ends_on", "message"),
    [
        ("", START, END, "Name the regions"),
        (",".join(f"r{n}" for n in range(41)), START, END, "at most 40 regions"),
        ("上海" * 11, START, END, "longer than 20 characters"),
        ("上海", END, START, "ends before it starts"),
        ("上海", START, START + timedelta(days=400), "at most a year"),
    ],
)
def test_bad_regions_or_dates_are_refused_with_what_to_do(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    regions: str,
    starts_on: date,
    ends_on: date,
    message: str,
) -> None:
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    campaign = Campaign(workspace_id=workspace.id, name="c")
    db.add(campaign)
    db.flush()

    with pytest.raises(UserError, match=message):
        incrementality.save_regions(
            db,
            workspace_id=workspace.id,
            campaign_id=campaign.id,
            regions=regions,
            starts_on=starts_on,
            ends_on=ends_on,
        )


def test_the_page_sets_regions_and_shows_the_incremental_figure_apart(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a signed-in owner and planted orders,
    when the form sets a campaign's regions and dates,
    then the incrementality page shows "Incremental revenue ¥… (95% placebo interval …),
    from 4 treated and 12 control regions", and a bad date is a 400 that says what to do."""
    client, membership = signed_in
    workspace = membership.workspace
    plant_orders(db, workspace, extra=3, provinces=PROVINCES)
    campaign = Campaign(workspace_id=workspace.id, name="Mid-Autumn")
    db.add(campaign)
    db.commit()
    token = csrf_token(client)
    form = {
        "csrf_token": token,
        "campaign_id": str(campaign.id),
        "regions": "省00,省01,省02,省03",
        "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
    }

    saved = client.post("/w/acme/revenue/incremental", data=form, follow_redirects=False)
    bad = client.post("/w/acme/revenue/incremental", data={**form, "starts_on": "15/09/2026"})
    page = client.get("/w/acme/revenue/incremental")

    assert saved.status_code == 303
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.text
    assert "Incremental revenue ¥" in page.text
    assert "95% placebo interval" in page.text
    assert "from 4 treated and 12 control regions" in page.text
    revenue = client.get(f"/w/acme/revenue?from={FIRST}&to={END}")
    assert "measured by region, not attributed" in revenue.text
    assert "from 4 treated and 12 control regions" in revenue.text


def test_the_report_json_carries_the_incremental_estimate(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`guanxi convert report` lists each campaign's incremental estimate, labelled so."""
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    plant_orders(db, workspace, extra=3, provinces=PROVINCES)
    campaign_in(db, workspace)
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = run(
            "convert", "report", "--workspace", "acme", "--from", str(FIRST), "--to", str(END)
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    [item] = document["incremental"]
    assert item["basis"] == "incremental"
    assert item["treated_regions"] == TREATED
    assert item["control_regions"] == 12
    assert item["revenue"]["low"] <= 16_800 <= item["revenue"]["high"]
