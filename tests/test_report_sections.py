"""Every report section a capability offers loads and answers for an empty workspace (beside
a rival's with figures in every capability): the section its offer names, saying in both
languages that there is nothing to report. And the helpers every section uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.connectors.metrics import Metric
from guanxi.convert.models import Order, OrderStatus
from guanxi.core.capability import capabilities, load_reference
from guanxi.core.i18n import get_translations
from guanxi.core.report import (
    MAX_POINTS,
    MAX_SERIES,
    MAX_TABLE_ROWS,
    Direction,
    Name,
    Number,
    ReportQuery,
    ReportSection,
    Series,
    Text,
    Unit,
    compared,
    day_buckets,
    fit_series,
    table_rows,
)
from guanxi.publishing.models import VariantState
from guanxi.report.templates import TEMPLATES
from guanxi.report.words import translate
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_item
from tests.listening_topics_support import add_mention
from tests.market_support import chart, dataset_with
from tests.test_calendar import add_variant
from tests.test_measure_service import add_channel, add_days, add_post

OFFERED = {
    "measure.accounts",
    "publishing.posts",
    "inbox.team",
    "listening.mentions",
    "market.ranks",
    "convert.revenue",
}
MARCH_5 = datetime(2026, 3, 5, 2, tzinfo=UTC)


def _rival_figures(db: Session, rival: Workspace) -> None:
    """A post measured and one published, an inbox item, a mention, a paid order and a chart,
    all in March 2026."""
    weibo = add_channel(db, rival, "Rival Weibo")
    add_days(db, weibo, date(2026, 3, 1), [{Metric.FOLLOWERS: 10}])
    add_post(db, weibo, "r1", MARCH_5, {Metric.VIEWS: 5})
    add_variant(db, weibo, at=MARCH_5, state=VariantState.PUBLISHED, published=True)
    make_item(db, weibo, "你好", created_at=MARCH_5)
    add_mention(db, workspace_id=rival.id, text="好", posted_at=MARCH_5)
    db.add(
        Order(
            workspace_id=rival.id,
            source="csv",
            external_id="r1",
            status=OrderStatus.PAID,
            ordered_at=MARCH_5,
            amount_fen=10_000,
        )
    )
    db.commit()
    dataset_with(db, rival, [chart("IT", date(2026, 3, 5), ["wechat"])])


def test_every_offered_section_answers_for_an_empty_workspace(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@brand.example")
    _rival_figures(db, make_workspace("rival", owner=owner))
    workspace = make_workspace("empty", owner=owner)
    query = ReportQuery(
        workspace_id=workspace.id,
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        compare_start=date(2026, 2, 1),
        compare_end=date(2026, 2, 28),
    )
    offers = [offer for capability in capabilities() for offer in capability.report_sections]

    assert {offer.key for offer in offers} >= OFFERED
    assert len({offer.key for offer in offers}) == len(offers), "a key is offered twice"
    for offer in offers:
        source = load_reference(offer.source, object)
        assert callable(source), offer.source
        section = source(db, query)
        assert isinstance(section, ReportSection), offer.source
        assert section.key == offer.key
        assert section.empty is not None, f"{offer.key} has figures in an empty workspace"
        chinese = get_translations("zh_Hans").gettext(offer.title)
        assert chinese != offer.title, f"{offer.title!r} is not translated"
        assert translate(section.empty, "zh_Hans") != translate(section.empty, "en")


def test_long_periods_many_series_and_long_tables_are_aggregated_not_cut() -> None:
    """A year has more days than a chart has points: weeks then; thirteen accounts make
    twelve series, the last the sum of the rest; a table says how many rows it left out."""
    spans = day_buckets(date(2025, 1, 1), date(2026, 3, 31))
    assert len(spans) <= MAX_POINTS
    assert spans[0] == (date(2025, 1, 1), date(2025, 1, 7))
    assert spans[-1][1] == date(2026, 3, 31)
    assert all(b[0] - a[1] == timedelta(days=1) for a, b in pairwise(spans))
    assert len(day_buckets(date(2026, 3, 1), date(2026, 3, 31))) == 31

    accounts = [Series(Text(f"account {n}"), (float(n), None)) for n in range(13, 0, -1)]
    fitted = fit_series(accounts, Text("Other accounts"))
    assert len(fitted) == MAX_SERIES
    assert fitted[-1] == Series(Text("Other accounts"), (3.0, None))

    kept, more = table_rows(list(range(MAX_TABLE_ROWS + 3)))
    assert (len(kept), more) == (MAX_TABLE_ROWS, 3)


def test_a_change_is_said_as_a_share_only_where_it_means_something() -> None:
    assert compared(110, 100) == (Direction.UP, Number(0.1, Unit.PERCENT))
    assert compared(90, 100)[0] is Direction.DOWN
    assert compared(90, 100)[1].value == pytest.approx(0.1)  # the size; the sentence says which way
    assert compared(0, 0) == (Direction.SAME, Number(None, Unit.PERCENT))
    assert compared(5, 0) == (Direction.UNKNOWN, Number(None, Unit.PERCENT))  # not "grew ∞%"
    assert compared(5, None)[0] is Direction.UNKNOWN
    name = Text("{platform} followers", {"platform": Name("Sina Weibo", "新浪微博")})
    assert translate(name, "en") == "Sina Weibo followers"
    assert translate(name, "zh_Hans") == "新浪微博粉丝"


def test_every_templates_section_is_one_an_installed_capability_offers() -> None:
    """A template names sections by key: each is offered by a capability that is installed
    here (all of them are), so a new report from a template is never missing one silently."""
    offered = {offer.key for capability in capabilities() for offer in capability.report_sections}
    for template in TEMPLATES.values():
        assert set(template.section_keys) <= offered, (template.key, template.section_keys)
