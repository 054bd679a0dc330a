"""``/api/v1/w/{slug}/reports``: a report's schedules, the reports they sent, and their files."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from guanxi.core.db import utcnow
from guanxi.report import deliveries, schedules, service
from guanxi.report.api import FILE_RESPONSE
from guanxi.report.downloads import attachment
from guanxi.report.models import ReportFormat
from guanxi.report.schedule_models import DeliveryRead, ScheduleRead, ScheduleWrite
from guanxi.web.api import ApiReader, ApiWriter, workspace_api
from guanxi.web.deps import Db, app_settings

router = workspace_api("reports", tags=["reports"])


@router.get("/definitions/{definition_id}/schedules", response_model=list[ScheduleRead])
def api_schedules(db: Db, membership: ApiReader, definition_id: int) -> list[ScheduleRead]:
    """The report's schedules, oldest first; ``next_run_at`` is in UTC (None: paused)."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    return [
        ScheduleRead.model_validate(s) for s in schedules.list_schedules(db, definition=definition)
    ]


@router.post("/definitions/{definition_id}/schedules", status_code=201, response_model=ScheduleRead)
def api_create_schedule(
    db: Db, membership: ApiWriter, definition_id: int, payload: ScheduleWrite
) -> ScheduleRead:
    """E-mail the report every week, month or quarter at a local time in the workspace's
    zone (editors and up); 422 says which limit a field breaks."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    schedule = schedules.create_schedule(
        db,
        workspace=workspace,
        definition=definition,
        actor=membership.user,
        data=payload,
        now=utcnow(),
    )
    db.commit()
    return ScheduleRead.model_validate(schedule)


@router.get("/definitions/{definition_id}/schedules/{schedule_id}", response_model=ScheduleRead)
def api_schedule(
    db: Db, membership: ApiReader, definition_id: int, schedule_id: int
) -> ScheduleRead:
    """One schedule of the report."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    schedule = schedules.get_schedule(
        db, workspace=workspace, definition=definition, schedule_id=schedule_id
    )
    return ScheduleRead.model_validate(schedule)


@router.put("/definitions/{definition_id}/schedules/{schedule_id}", response_model=ScheduleRead)
def api_update_schedule(
    db: Db, membership: ApiWriter, definition_id: int, schedule_id: int, payload: ScheduleWrite
) -> ScheduleRead:
    """Replace a schedule (``active: false`` pauses it; true resumes it)."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    schedule = schedules.get_schedule(
        db, workspace=workspace, definition=definition, schedule_id=schedule_id
    )
    schedules.update_schedule(
        db,
        workspace=workspace,
        schedule=schedule,
        actor=membership.user,
        data=payload,
        now=utcnow(),
    )
    db.commit()
    return ScheduleRead.model_validate(schedule)


@router.delete("/definitions/{definition_id}/schedules/{schedule_id}", status_code=204)
def api_delete_schedule(
    db: Db, membership: ApiWriter, definition_id: int, schedule_id: int
) -> Response:
    """Delete a schedule; the reports it sent stay in the history."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    schedule = schedules.get_schedule(
        db, workspace=workspace, definition=definition, schedule_id=schedule_id
    )
    schedules.delete_schedule(db, workspace=workspace, schedule=schedule, actor=membership.user)
    db.commit()
    return Response(status_code=204)


@router.get("/definitions/{definition_id}/deliveries", response_model=list[DeliveryRead])
def api_deliveries(db: Db, membership: ApiReader, definition_id: int) -> list[DeliveryRead]:
    """The reports the schedules sent (or are sending), newest first, with their files."""
    workspace = membership.workspace
    definition = service.get_definition(db, workspace=workspace, definition_id=definition_id)
    return [
        DeliveryRead.of(d, slug=workspace.slug)
        for d in schedules.list_deliveries(db, definition=definition)
    ]


@router.get(
    "/deliveries/{delivery_id}/files/{index}", response_class=Response, responses=FILE_RESPONSE
)
def api_delivery_file(
    request: Request, db: Db, membership: ApiReader, delivery_id: int, index: int
) -> Response:
    """One file of a sent report; 404 once the retention period deleted it."""
    delivery = schedules.get_delivery(db, workspace=membership.workspace, delivery_id=delivery_id)
    content, file = deliveries.delivery_file(
        delivery, index, data_dir=app_settings(request).data_dir
    )
    return attachment(content, report_format=ReportFormat(file["format"]), name=file["name"])
