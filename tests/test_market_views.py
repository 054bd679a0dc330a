"""The market pages and API as a member sees them, and as nobody else can."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role
from guanxi.market.models import MarketCampaign, TrackedApp
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.market_support import FIXTURES, load_market_demo, small_market

SignedIn = tuple[TestClient, Membership]


def cell(page: str, app_key: str, country: str) -> str | None:
    """The rank shown in the matrix for an app in a country, if any."""
    row = re.search(rf'<tr data-app="{re.escape(app_key)}">(.*?)</tr>', page, re.DOTALL)
    if row is None:
        return None
    found = re.search(rf'data-country="{country}"[^>]*>(\d+)', row.group(1))
    return found.group(1) if found else None


def test_the_matrix_opens_on_the_seeds_day_with_its_facts(signed_in: SignedIn, db: Session) -> None:
    """Given the demo data, when the member opens Market, then the matrix of July 27, 2013
    shows WeChat #1 in Italy and Line #1 in Argentina and Chile, WhatsApp #2 there, marks
    the data as illustrative, and colours and marks the moves of the cells."""
    client, membership = signed_in
    load_market_demo(db, membership.workspace)

    page = client.get("/w/acme/market")

    assert page.status_code == 200
    assert 'value="2013-07-27"' in page.text
    assert "Illustrative data." in page.text
    assert "countries charted on this day. Moves are against" in page.text
    assert cell(page.text, "com.tencent.mm", "IT") == "1"
    assert cell(page.text, "jp.naver.line.android", "AR") == "1"
    assert cell(page.text, "jp.naver.line.android", "CL") == "1"
    assert cell(page.text, "com.whatsapp", "IT") == "2"
    assert 'class="rank rank-1"' in page.text
    assert re.search(r'class="move (up|down|new)"', page.text)
    whatsapp = re.search(
        r'<tr data-app="com.whatsapp">\s*<td class="app">.*?</td>\s*<td>(\d+)</td>'
        r"\s*<td>(\d+)</td>",
        page.text,
        re.DOTALL,
    )
    assert whatsapp is not None
    assert whatsapp.groups() == ("28", "10")


def test_every_market_page_renders(signed_in: SignedIn, db: Session) -> None:
    client, membership = signed_in
    load_market_demo(db, membership.workspace)

    history = client.get("/w/acme/market/history?app=com.tencent.mm&country=IT&country=ES")
    compare = client.get("/w/acme/market/compare?top=10")
    movers = client.get("/w/acme/market/movers?start=2013-07-10&end=2013-07-27")
    leaders = client.get("/w/acme/market/leaders?day=2013-07-27")
    apps = client.get("/w/acme/market/apps")

    assert all(r.status_code == 200 for r in (history, compare, movers, leaders, apps))
    data = re.search(r'id="history-data">(.*?)</script>', history.text, re.DOTALL)
    assert data is not None
    chart = json.loads(data.group(1))
    assert [s["country"] for s in chart["series"]] == ["IT", "ES"]
    assert [m["name"] for m in chart["markers"]] == [
        "WeChat TV commercial in India",
        "Lionel Messi signs to promote WeChat",
    ]
    assert 'data-market-chart="rank-history"' in history.text
    assert 'data-testid="head-to-head"' in compare.text
    assert 'data-testid="entries"' in movers.text
    assert "WeChat" in movers.text  # it entered Italy's top 10 after Messi
    assert "#1 in 10 countries" in leaders.text  # WhatsApp
    assert "com.tencent.mm" in apps.text


def test_a_bad_day_is_explained(signed_in: SignedIn, db: Session) -> None:
    client, membership = signed_in
    small_market(db, membership.workspace)

    page = client.get("/w/acme/market?day=27/07/2013")

    assert page.status_code == 400
    assert "is not a date. Enter it as YYYY-MM-DD." in page.text


def test_an_empty_workspace_says_how_to_get_data(signed_in: SignedIn) -> None:
    client, _membership = signed_in

    page = client.get("/w/acme/market")

    assert page.status_code == 200
    assert "guanxi charts import" in page.text


def test_campaigns_are_created_shown_with_their_effect_edited_and_deleted(
    signed_in: SignedIn, db: Session
) -> None:
    client, membership = signed_in
    load_market_demo(db, membership.workspace)
    token = csrf_token(client)

    bad = client.post(
        "/w/acme/market/campaigns",
        data={
            "csrf_token": token,
            "name": "Spain push",
            "app_key": "com.tencent.mm",
            "countries": "Spain",
            "starts_on": "2013-07-20",
        },
    )
    created = client.post(
        "/w/acme/market/campaigns",
        data={
            "csrf_token": token,
            "name": "Spain push",
            "app_key": "com.tencent.mm",
            "countries": "ES",
            "starts_on": "2013-07-20",
            "color": "#123456",
        },
        follow_redirects=False,
    )

    assert bad.status_code == 400
    assert "Spain is not a country code" in bad.text
    assert 'value="Spain push"' in bad.text  # what was typed comes back
    assert created.status_code == 303
    detail = client.get(created.headers["location"])
    assert detail.status_code == 200
    assert 'data-testid="effect-sentence"' in detail.text
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    edited = client.post(
        f"/w/acme/market/campaigns/{campaign_id}",
        data={
            "csrf_token": token,
            "name": "Spain push (TV)",
            "app_key": "com.tencent.mm",
            "countries": "ES",
            "starts_on": "2013-07-20",
            "ends_on": "2013-08-01",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    db.expire_all()
    campaign = db.get(MarketCampaign, campaign_id)
    assert campaign is not None
    assert (campaign.name, str(campaign.ends_on)) == ("Spain push (TV)", "2013-08-01")
    deleted = client.post(
        f"/w/acme/market/campaigns/{campaign_id}/delete",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    db.expire_all()
    assert db.get(MarketCampaign, campaign_id) is None


def test_the_messi_campaign_page_shows_the_effect_sentence(
    signed_in: SignedIn, db: Session
) -> None:
    client, membership = signed_in
    load_market_demo(db, membership.workspace)
    messi = db.scalar(select(MarketCampaign).where(MarketCampaign.name.like("%Messi%")))
    assert messi is not None

    page = client.get(f"/w/acme/market/campaigns/{messi.id}")

    assert page.status_code == 200
    assert "In Italy, WeChat ranked about" in page.text
    assert 'data-market-chart="effect"' in page.text
    main, _, note = page.text.partition('data-testid="method"')
    assert "p-value" not in main
    assert "difference-in-differences" not in main
    assert "How we measured this" in note
    assert "p-value" in note
    assert 'data-testid="ceiling"' not in page.text


def test_an_app_is_picked_by_its_name(signed_in: SignedIn, db: Session) -> None:
    """Given the demo charts, typing "wechat" (a name, in any case) shows WeChat's history;
    a name no chart has says so in words."""
    client, membership = signed_in
    load_market_demo(db, membership.workspace)
    page = client.get("/w/acme/market/history", params={"app": "wechat"})
    assert page.status_code == 200
    assert "WeChat: rank by country" in page.text
    assert 'value="WeChat"' in page.text
    missing = client.get("/w/acme/market/history", params={"app": "No Such Messenger"})
    assert "No app of that name is in this chart" in missing.text


def test_tracking_an_app_and_stopping(signed_in: SignedIn, db: Session) -> None:
    client, _membership = signed_in
    token = csrf_token(client)

    bad = client.post(
        "/w/acme/market/apps",
        data={"csrf_token": token, "name": "Viber", "app_key": "", "alert_top_n": "10"},
    )
    good = client.post(
        "/w/acme/market/apps",
        data={
            "csrf_token": token,
            "name": "Viber",
            "app_key": "com.viber.voip",
            "color": "#7360f2",
            "alert_top_n": "5",
        },
        follow_redirects=False,
    )

    assert bad.status_code == 400
    assert "Enter the app&#39;s store id" in bad.text
    assert good.status_code == 303
    tracked = db.scalar(select(TrackedApp))
    assert tracked is not None
    assert (tracked.app_key, tracked.alert_top_n) == ("com.viber.voip", 5)
    gone = client.post(
        f"/w/acme/market/apps/{tracked.id}/delete",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert gone.status_code == 303


def test_an_analyst_reads_but_cannot_change(
    client: TestClient, db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner, analyst = make_user("o@acme.example"), make_user("an@acme.example")
    workspace = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    small_market(db, workspace)
    sign_in(client, analyst.email)

    assert client.get("/w/acme/market/campaigns").status_code == 200
    refused = client.post(
        "/w/acme/market/campaigns",
        data={
            "csrf_token": csrf_token(client),
            "name": "x",
            "app_key": "a",
            "countries": "IT",
            "starts_on": "2013-07-01",
        },
    )
    assert refused.status_code == 403


def test_another_workspace_gets_404_on_pages_campaigns_and_datasets(
    client: TestClient, db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given Acme's private demo charts and campaigns, then a member of Zebra only gets
    404s for Acme's market pages, and cannot read Acme's dataset or campaign through its own."""
    alice, zoe = make_user("alice@acme.example"), make_user("zoe@zebra.example")
    acme = make_workspace("acme", owner=alice)
    make_workspace("zebra", owner=zoe)
    small_market(db, acme)
    campaign = db.scalar(select(MarketCampaign).where(MarketCampaign.workspace_id == acme.id))
    assert campaign is not None
    sign_in(client, zoe.email)

    for path in (
        "/w/acme/market",
        "/w/acme/market/history",
        "/w/acme/market/campaigns",
        f"/w/acme/market/campaigns/{campaign.id}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/w/zebra/market/campaigns/{campaign.id}").status_code == 404
    assert client.get(f"/w/zebra/market?dataset={campaign.dataset_id}").status_code == 404
    own = client.get("/w/zebra/market")
    assert own.status_code == 200
    assert "Small charts" not in own.text  # Acme's private dataset is not listed


def test_the_api_gives_the_matrix_and_the_history(
    client: TestClient, db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("o@acme.example")
    workspace = make_workspace("acme", owner=owner)
    load_market_demo(db, workspace)
    _token, plain = accounts.create_api_token(db, membership=workspace.memberships[0], name="t")
    db.commit()
    headers = {"Authorization": f"Bearer {plain}"}

    matrix = client.get("/api/v1/w/acme/market/matrix?day=2013-07-27&top=1", headers=headers).json()
    history = client.get(
        "/api/v1/w/acme/market/history?app=com.tencent.mm&country=IT", headers=headers
    ).json()
    anonymous = client.get("/api/v1/w/acme/market/matrix")

    leaders = {app["app_id"]: app["ranks"] for app in matrix["apps"]}
    assert matrix["dataset"]["illustrative"] is True
    assert leaders["com.tencent.mm"] == {"IT": 1}
    assert leaders["jp.naver.line.android"]["AR"] == leaders["jp.naver.line.android"]["CL"] == 1
    assert len(leaders["com.whatsapp"]) == 10
    assert history["series"][0]["country"] == "IT"
    assert ["2013-07-27", 1] in history["series"][0]["data"]
    assert {m["name"] for m in history["markers"]} >= {"Lionel Messi signs to promote WeChat"}
    assert anonymous.status_code == 401


def test_a_chart_file_is_imported_from_the_page_and_a_broken_one_is_refused(
    signed_in: SignedIn, db: Session
) -> None:
    client, _membership = signed_in
    token = csrf_token(client)

    broken = client.post(
        "/w/acme/market/import",
        data={"csrf_token": token, "format": "", "dataset": "Exports"},
        files={"file": ("broken.csv", (FIXTURES / "generic_broken.csv").read_bytes(), "text/csv")},
    )
    good = client.post(
        "/w/acme/market/import",
        data={"csrf_token": token, "format": "play-csv", "dataset": "Exports"},
        files={"file": ("play.csv", (FIXTURES / "play_top_free.csv").read_bytes(), "text/csv")},
        follow_redirects=False,
    )

    assert broken.status_code == 400
    assert "Nothing was imported" in broken.text
    assert good.status_code == 303
    matrix = client.get(good.headers["location"] + "&day=2013-07-27&top=1")
    assert cell(matrix.text, "com.tencent.mm", "IT") == "1"
    assert "Exports" in matrix.text
