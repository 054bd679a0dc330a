"""``/api/v1/w/{slug}/market`` for the market: the country matrix and an app's rank history.

Each answer reads one chart (dataset × store × chart × category) chosen by query
parameters, defaulting to the workspace's newest dataset and its first chart, as the pages.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from guanxi.core.bounds import LIST_MAX_LENGTH
from guanxi.core.errors import NotFoundError
from guanxi.market.models import HistoryRead, MatrixRead
from guanxi.market.presenting import (
    DEFAULT_TOP,
    NO_DATA,
    ChartChoice,
    choose_chart,
    clamp_top,
    history_payload,
    matrix_payload,
    parse_day,
)
from guanxi.web.api import API_ROOT, ApiReader, keep_former_paths, workspace_api
from guanxi.web.deps import Db
from guanxi.web.limits import QueryField

router = workspace_api("market", tags=["market"])


def api_chart(
    db: Db,
    membership: ApiReader,
    dataset: int | None = None,
    store: QueryField = "",
    chart: QueryField = "",
    category: QueryField = "",
) -> ChartChoice:
    """The chart the query asks for (or the default one); 404 when there is no chart data."""
    choice = choose_chart(
        db, membership.workspace, dataset=dataset, store=store, chart=chart, category=category
    )
    if choice is None:
        raise NotFoundError(NO_DATA)
    return choice


ApiChart = Annotated[ChartChoice, Depends(api_chart)]


@router.get("/matrix", response_model=MatrixRead)
def api_matrix(
    db: Db, choice: ApiChart, day: QueryField = "", top: int = DEFAULT_TOP
) -> dict[str, Any]:
    """For each app, the countries and ranks where it is in the top N on a day."""
    shown = parse_day(day, choice.default_day())
    payload = matrix_payload(db, selection=choice.selection, day=shown, top=clamp_top(top))
    return payload.as_json(choice)


@router.get("/history", response_model=HistoryRead)
def api_history(
    db: Db,
    membership: ApiReader,
    choice: ApiChart,
    app: QueryField,
    country: Annotated[list[QueryField] | None, Query(max_length=LIST_MAX_LENGTH)] = None,
) -> dict[str, Any]:
    """An app's daily rank per country, with the workspace's campaigns for it."""
    payload = history_payload(
        db,
        workspace=membership.workspace,
        choice_selection=choice.selection,
        app_key=app,
        countries=country or [],
        focus=choice.default_day(),
    )
    return {
        "dataset": choice.dataset.id,
        "illustrative": choice.dataset.illustrative,
        "app": app,
        **payload.chart,
    }


keep_former_paths(router, former=API_ROOT + "/market")  # /api/v1/market/...
