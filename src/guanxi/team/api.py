"""``/api/v1/w/{slug}/accounts`` for accounts: the token's workspace and its audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from guanxi.accounts import service
from guanxi.accounts.models import AuditEventRead, WorkspaceRead
from guanxi.web.api import API_ROOT, ApiOwner, ApiReader, keep_former_paths, workspace_api
from guanxi.web.deps import Db

router = workspace_api("accounts", tags=["workspace"])


@router.get("/workspace", response_model=WorkspaceRead)
def api_workspace(membership: ApiReader) -> WorkspaceRead:
    """The workspace this token acts in."""
    return WorkspaceRead.model_validate(membership.workspace)


@router.get("/audit", response_model=list[AuditEventRead])
def api_audit(
    db: Db, membership: ApiOwner, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditEventRead]:
    """The workspace's audit log, newest first (owners only)."""
    events = service.list_audit_events(db, workspace=membership.workspace, limit=limit)
    return [AuditEventRead.model_validate(event) for event in events]


keep_former_paths(router, former=API_ROOT)  # /api/v1/workspace, /api/v1/audit
