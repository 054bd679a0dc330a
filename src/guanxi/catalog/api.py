"""``/api/v1/catalog`` for the platform catalog: list and look up platforms.

The catalog is the same for every workspace (read-only data shipped with guanxi), so its
addresses name no workspace; any valid API token reads it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

from guanxi.catalog import service
from guanxi.catalog.models import (
    Origin,
    PlatformDetail,
    PlatformKind,
    PlatformListItem,
    PlatformStatus,
    Region,
)
from guanxi.web.api import API_ROOT, global_api, keep_former_paths

router = global_api("catalog", tags=["catalog"])


@router.get("/platforms", response_model=list[PlatformListItem])
def api_platforms(
    kind: PlatformKind | None = None,
    status: PlatformStatus | None = None,
    origin: Origin | None = None,
    region: Annotated[
        Region | None, Query(description="Only platforms not blocked from this region.")
    ] = None,
    on: Annotated[
        date | None, Query(description="The day reach is judged on (YYYY-MM-DD); today if empty.")
    ] = None,
    q: Annotated[
        str, Query(max_length=service.QUERY_MAX_LENGTH, description="Text in a name or owner.")
    ] = "",
) -> list[PlatformListItem]:
    """The catalog's platforms, narrowed by the same filters as the catalog page."""
    filters = service.PlatformFilters(
        kind=kind, status=status, origin=origin, region=region, on=on, query=q.strip()
    )
    return service.list_platforms(service.get_catalog(), filters)


# The parameter is not called `slug`: that name means a workspace everywhere else.
@router.get("/platforms/{platform_slug}", response_model=PlatformDetail)
def api_platform(platform_slug: str) -> PlatformDetail:
    """One whole catalog entry, with the sources it cites; 404 for an unknown slug."""
    catalog = service.get_catalog()
    return service.platform_detail(catalog, service.get_platform(catalog, platform_slug))


keep_former_paths(router, former=API_ROOT)  # /api/v1/platforms/...
