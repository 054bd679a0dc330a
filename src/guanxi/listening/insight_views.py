"""The listening insight pages and API: topic queries, dashboards, alerts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from guanxi.web.deps import verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])
