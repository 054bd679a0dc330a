"""The listening pages and API: sources, imports, mentions."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from guanxi.listening.insight_views import router as insight_router
from guanxi.web.deps import verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])
router.include_router(insight_router)
