"""``/api/v1/w/{slug}/listen`` for listening: dashboard panels, the drill-down list, topics.

The dashboard page's charts read these same addresses with the signed-in member's session
cookie (reads only); scripts send an API token of the workspace.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from guanxi.core.errors import N_, NotFoundError
from guanxi.listening.insight import service as dashboards
from guanxi.listening.insight.models import MentionPageRead, PanelRead
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import TopicRead
from guanxi.web.api import ApiBrowserReader, workspace_api
from guanxi.web.deps import Db

router = workspace_api("listen", tags=["listening"], browser=True)


@router.get("/dashboard/{panel}", response_model=PanelRead, response_model_exclude_unset=True)
def panel_api(request: Request, membership: ApiBrowserReader, db: Db, panel: str) -> Any:
    """One dashboard panel as JSON: volume, sentiment, share-of-voice, source-kinds,
    stages, platforms, authors or keywords; the filters are query parameters."""
    compute = dashboards.PANELS.get(panel)
    if compute is None:
        raise NotFoundError(N_("There is no dashboard panel of that name."))
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    return compute(db, workspace_id=membership.workspace_id, filters=filters)


@router.get("/posts", response_model=MentionPageRead)
def posts_api(
    request: Request, membership: ApiBrowserReader, db: Db, page: int = 1
) -> MentionPageRead:
    """The drill-down list as JSON, with the character spans to highlight."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    drill = dashboards.drill_down(
        db, workspace_id=membership.workspace_id, filters=filters, page=page
    )
    return MentionPageRead(page=drill["page"], has_more=drill["has_more"], rows=drill["rows"])


@router.get("/topics", response_model=list[TopicRead])
def topics_api(membership: ApiBrowserReader, db: Db) -> list[TopicRead]:
    """The workspace's topic queries."""
    found = topics.list_topics(db, workspace_id=membership.workspace_id)
    return [TopicRead.model_validate(topic) for topic in found]
