"""The chart arithmetic: the country matrix, movers, leaders, reach over time; the seed's
July 27 in the demo dataset; alerts when a tracked app enters or leaves the top N."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role
from guanxi.core.settings import Settings
from guanxi.devtools.demo.market_charts import LINE, SEED_DAY, WECHAT, WHATSAPP, demo_charts
from guanxi.market import alerts, analysis, service
from guanxi.market.analysis import Change, ChartSelection
from guanxi.market.models import Chart, Store
from guanxi.notifications.models import Notification
from guanxi.notifications.views import notification_text
from tests.conftest import UserFactory, WorkspaceFactory
from tests.market_support import DAY, chart, dataset_with

# --- Pure arithmetic -------------------------------------------------------------------------


def test_matrix_cells_say_new_up_down_or_same_against_the_previous_snapshot() -> None:
    """Given yesterday and today in two countries, then each app in today's top 3 has its
    rank per country and its move: up/down by the places it moved, new when it was outside
    the top 3 (or absent), same otherwise."""
    previous = {"IT": {"whatsapp": 1, "wechat": 5, "line": 2, "viber": 3}, "AR": {"line": 1}}
    current = {
        "IT": {"wechat": 1, "whatsapp": 2, "viber": 3, "line": 4},
        "AR": {"line": 1, "whatsapp": 2},
    }

    rows = {row.app_key: row for row in analysis.matrix_rows(current, previous, top=3)}

    assert set(rows) == {"wechat", "whatsapp", "viber", "line"}
    assert rows["wechat"].cells["IT"] == analysis.Cell(1, 5, Change.NEW, 0)
    assert rows["whatsapp"].cells["IT"] == analysis.Cell(2, 1, Change.DOWN, -1)
    assert rows["viber"].cells["IT"] == analysis.Cell(3, 3, Change.SAME, 0)
    assert rows["whatsapp"].cells["AR"].change is Change.NEW  # not charted before
    assert "IT" not in rows["line"].cells  # fell to 4: outside the top 3
    assert rows["line"].cells["AR"] == analysis.Cell(1, 1, Change.SAME, 0)


def test_matrix_orders_apps_by_countries_then_number_ones() -> None:
    current = {"IT": {"a": 1, "b": 2}, "AR": {"b": 1, "a": 3}, "CL": {"c": 1, "b": 2}}

    rows = analysis.matrix_rows(current, {}, top=3)

    assert [(r.app_key, r.countries_in_top, r.number_ones) for r in rows] == [
        ("b", 3, 1),
        ("a", 2, 1),
        ("c", 1, 1),
    ]
    assert all(cell.change is Change.SAME for row in rows for cell in row.cells.values())


def test_movers_between_two_days() -> None:
    before = {"IT": {"a": 1, "b": 2, "c": 3, "d": 9}, "AR": {"a": 1}, "CL": {"z": 1}}
    after = {"IT": {"d": 1, "a": 2, "b": 3, "c": 12}, "AR": {"a": 1}}

    moves = analysis.movers_between(before, after, top=3)

    assert [(m.app_key, m.before, m.after, m.delta) for m in moves.entries] == [("d", 9, 1, 8)]
    assert [(m.app_key, m.before, m.after) for m in moves.exits] == [("c", 3, 12)]
    assert [(m.app_key, m.delta) for m in moves.fallers] == [("a", -1), ("b", -1)]
    assert moves.risers == []  # d entered: an entry, not a riser; CL is not on both days


def test_leaders_and_reach() -> None:
    current = {
        "IT": {"wechat": 1, "whatsapp": 2},
        "AR": {"line": 1, "whatsapp": 2},
        "ES": {"whatsapp": 1},
    }

    assert analysis.leaders(current, podium=2)["IT"] == [(1, "wechat"), (2, "whatsapp")]
    assert analysis.leader_counts(current) == [("line", 1), ("wechat", 1), ("whatsapp", 1)]
    assert analysis.in_top(current, app_key="whatsapp", top=1) == {"ES": 1}


# --- Over the database -----------------------------------------------------------------------


def test_ranks_before_take_each_countrys_latest_earlier_snapshot(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    week_ago, yesterday = DAY - timedelta(days=7), DAY - timedelta(days=1)
    dataset = dataset_with(
        db,
        workspace,
        [
            chart("IT", week_ago, ["a", "b"]),
            chart("IT", yesterday, ["b", "a"]),
            chart("AR", week_ago, ["c"]),
            chart("IT", DAY, ["a", "b"]),
            chart("AR", DAY, ["c"]),
        ],
    )
    selection = ChartSelection(dataset.id, Store.GOOGLE_PLAY, Chart.TOP_FREE)

    previous = analysis.ranks_before(db, selection=selection, day=DAY)
    reach = analysis.reach_over_time(db, selection=selection, app_keys=["a", "c"], top=1)

    assert previous == {"IT": {"b": 1, "a": 2}, "AR": {"c": 1}}
    assert reach == {
        "a": [(week_ago, 1), (yesterday, 0), (DAY, 1)],
        "c": [(week_ago, 1), (yesterday, 0), (DAY, 1)],
    }


def test_the_demo_dataset_states_every_fact_of_the_seed_on_july_27() -> None:
    """The seed: WhatsApp #1-#10 in 28 countries and #1 in 10; Line #1 in Argentina and
    Chile and WeChat #1 in Italy, WhatsApp #2 in those three; WhatsApp strong in India; in
    Hong Kong people prefer WhatsApp to WeChat."""
    day = {
        c.country: {e.app_key: e.rank for e in c.entries}
        for c in demo_charts()
        if c.day == SEED_DAY
    }

    whatsapp = analysis.in_top(day, app_key=WHATSAPP, top=10)
    assert len(whatsapp) == 28
    assert sum(1 for rank in whatsapp.values() if rank == 1) == 10
    assert {c for c, ranks in day.items() if ranks.get(LINE) == 1} >= {"AR", "CL"}
    assert [c for c, ranks in day.items() if ranks.get(WECHAT) == 1] == ["IT"]
    assert day["AR"][WHATSAPP] == day["CL"][WHATSAPP] == day["IT"][WHATSAPP] == 2
    assert day["IN"][WHATSAPP] == 1
    assert day["HK"][WHATSAPP] < day["HK"][WECHAT]


def test_the_demo_shows_wechat_climbing_in_italy_after_messi() -> None:
    italy = {
        c.day: {e.app_key: e.rank for e in c.entries}.get(WECHAT)
        for c in demo_charts()
        if c.country == "IT"
    }
    before = [rank for day, rank in italy.items() if day < SEED_DAY - timedelta(days=14)]

    assert min(rank or 99 for rank in before) > 15
    assert italy[SEED_DAY] == 1


# --- Alerts ----------------------------------------------------------------------------------


def test_entering_and_leaving_the_top_n_notifies_the_managers(
    db: Session, settings: Settings, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given WeChat tracked with a top-3 alert and yesterday's chart stored, when today's
    chart shows WeChat entering the top 3 in Italy and Line leaving it in Argentina, then
    each manager gets an in-app notification of each; the analyst gets none."""
    owner, analyst = make_user("o@acme.example"), make_user("a@acme.example")
    workspace = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    service.track_app(db, workspace=workspace, app_key="wechat", name="WeChat", alert_top_n=3)
    service.track_app(db, workspace=workspace, app_key="line", name="LINE", alert_top_n=3)
    yesterday = DAY - timedelta(days=1)
    dataset = dataset_with(
        db,
        workspace,
        [
            chart("IT", yesterday, ["whatsapp", "fb", "viber", "wechat"]),
            chart("AR", yesterday, ["line", "whatsapp"]),
        ],
    )

    service.import_charts(
        db,
        dataset=dataset,
        settings=settings,
        charts=[
            chart("IT", DAY, ["wechat", "whatsapp", "fb"]),
            chart("AR", DAY, ["whatsapp", "fb", "viber", "line"]),
        ],
    )
    db.commit()

    notes = list(db.scalars(select(Notification).order_by(Notification.id)))
    assert {n.user_id for n in notes} == {owner.id}
    texts = sorted(notification_text(n, "en") for n in notes)
    assert texts == [
        "LINE left the top 3 of the top-free chart in AR (was #1).",
        "WeChat entered the top 3 of the top-free chart in IT: #1.",
    ]
    assert all(n.link.startswith("/w/acme/market/history?dataset=") for n in notes)
    assert {n.kind for n in notes} == {alerts.ENTERED_TOP, alerts.LEFT_TOP}


def test_backfills_and_reimports_raise_no_alert(
    db: Session, settings: Settings, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("o@acme.example"))
    service.track_app(db, workspace=workspace, app_key="wechat", name="WeChat", alert_top_n=1)
    dataset = dataset_with(db, workspace, [chart("IT", DAY, ["wechat"])])

    service.import_charts(
        db,
        dataset=dataset,
        settings=settings,
        charts=[
            chart("IT", DAY - timedelta(days=1), ["whatsapp", "wechat"]),  # an older day: backfill
            chart("IT", DAY, ["wechat"]),  # the same day again
        ],
    )

    assert db.scalar(select(Notification.id)) is None


def test_crossing_rule() -> None:
    assert alerts.crossing(3, None, top=10) == alerts.ENTERED_TOP
    assert alerts.crossing(3, 12, top=10) == alerts.ENTERED_TOP
    assert alerts.crossing(None, 4, top=10) == alerts.LEFT_TOP
    assert alerts.crossing(11, 10, top=10) == alerts.LEFT_TOP
    assert alerts.crossing(2, 9, top=10) is None
    assert alerts.crossing(None, None, top=10) is None
