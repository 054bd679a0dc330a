"""``/api/v1/w/{slug}/reports``: report definitions, making a report now, and its file."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from guanxi.core.db import utcnow
from guanxi.report import service
from guanxi.report.downloads import attachment
from guanxi.report.models import (
    FORMAT_TYPES,
    DefinitionRead,
    DefinitionWrite,
    ReportFormat,
    RunCreate,
    RunRead,
)
from guanxi.web.api import ApiReader, ApiWriter, workspace_api
from guanxi.web.deps import Db, app_settings

router = workspace_api("reports", tags=["reports"])


@router.get("/definitions", response_model=list[DefinitionRead])
def api_definitions(db: Db, membership: ApiReader) -> list[DefinitionRead]:
    """The workspace's report definitions, by title."""
    definitions = service.list_definitions(db, workspace=membership.workspace)
    return [DefinitionRead.model_validate(d) for d in definitions]


@router.post("/definitions", status_code=201, response_model=DefinitionRead)
def api_create_definition(
    db: Db, membership: ApiWriter, payload: DefinitionWrite
) -> DefinitionRead:
    """Save a report definition (editors and up); 422 says which limit a field breaks."""
    definition = service.create_definition(
        db, workspace=membership.workspace, actor=membership.user, data=payload
    )
    db.commit()
    return DefinitionRead.model_validate(definition)


@router.get("/definitions/{definition_id}", response_model=DefinitionRead)
def api_definition(db: Db, membership: ApiReader, definition_id: int) -> DefinitionRead:
    """One report definition; 404 for another workspace's."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    return DefinitionRead.model_validate(definition)


@router.post("/definitions/{definition_id}/runs", status_code=201, response_model=RunRead)
def api_run(
    request: Request, db: Db, membership: ApiWriter, definition_id: int, payload: RunCreate
) -> RunRead:
    """Make the report now (its current period, or ``start`` to ``end``) and keep its
    file; the run says whether it worked and where to download the file."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    now = utcnow()
    if payload.start is not None and payload.end is not None:
        period = service.chosen_period(definition, start=payload.start, end=payload.end)
    else:
        period = service.definition_period(definition, workspace=workspace, now=now)
    run = service.run_report(
        db,
        workspace=workspace,
        definition=definition,
        period=period,
        language=payload.language.value,
        report_format=payload.format,
        actor=membership.user,
        data_dir=app_settings(request).data_dir,
        now=now,
    )
    db.commit()
    return RunRead.of(run, slug=workspace.slug)


@router.get("/runs/{run_id}", response_model=RunRead)
def api_run_read(db: Db, membership: ApiReader, run_id: int) -> RunRead:
    """A report made earlier: its status and file."""
    run = service.get_run(db, workspace=membership.workspace, run_id=run_id)
    return RunRead.of(run, slug=membership.workspace.slug)


# The file's type is its format's: documented so that a client knows what it receives.
FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report's file, as an attachment.",
        "content": {media.split(";")[0]: {} for media in FORMAT_TYPES.values()},
    }
}


@router.get("/runs/{run_id}/file", response_class=Response, responses=FILE_RESPONSE)
def api_run_file(request: Request, db: Db, membership: ApiReader, run_id: int) -> Response:
    """The file of a report made earlier."""
    run = service.get_run(db, workspace=membership.workspace, run_id=run_id)
    content = service.run_file(run, data_dir=app_settings(request).data_dir)
    name = run.file_path.rsplit("/", 1)[-1]
    return attachment(content, report_format=ReportFormat(run.format), name=name)
