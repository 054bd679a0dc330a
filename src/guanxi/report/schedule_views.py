"""Report schedule pages: a report's schedules (new, change, pause, resume, delete) and the
files of the reports they sent; the download link an e-mail carries when its files were
too large to attach. Analysts and up read; editors and up change."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from guanxi.accounts.models import Membership, Workspace
from guanxi.accounts.service import list_members
from guanxi.core import bounds, i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.report import deliveries, schedules, service
from guanxi.report.downloads import attachment
from guanxi.report.models import LANGUAGE_LABELS, ReportDefinition, ReportFormat
from guanxi.report.schedule_models import (
    FREQUENCY_LABELS,
    MAX_RECIPIENTS,
    SCHEDULE_MESSAGES,
    WEEKDAYS,
    ReportSchedule,
    ScheduleWrite,
)
from guanxi.web.deps import CurrentUser, Db, Reader, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

FORM_MESSAGES = {
    "bad_time": N_("Write the time as HH:MM, for example 09:00."),
    "bad_address": N_("“{address}” is not an e-mail address; correct or remove it."),
    "bad_choice": N_("Choose one of the options offered."),
}
ADDRESS_SPLIT = re.compile(r"[\s,;，；]+")
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleFormError(UserError):
    """A schedule form that cannot be saved; the message says what to fix."""

    status_code = 400


def _first(form: dict[str, list[str]], name: str) -> str:
    return form_value(form, name).strip()


def _number(text: str) -> int:
    """A small number of the form (a weekday, a day of the month); -1 for anything else."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 4 else -1


def schedule_from_form(form: dict[str, list[str]]) -> ScheduleWrite:
    """The schedule the form describes; ScheduleFormError says what to fix."""
    matched = TIME_RE.match(_first(form, "local_time"))
    if matched is None:
        raise ScheduleFormError(FORM_MESSAGES["bad_time"])
    addresses = [a for a in ADDRESS_SPLIT.split(_first(form, "outside_emails")) if a]
    values: dict[str, Any] = {
        "frequency": _first(form, "frequency"),
        "weekday": _number(_first(form, "weekday")),
        "day_of_month": _number(_first(form, "day_of_month")),
        "local_time": time(int(matched.group(1)), int(matched.group(2))),
        "formats": form.get("format", []),
        "languages": _first(form, "languages"),
        # Any id a database can hold; what names no id is 0, which no member has (refused).
        "user_ids": [bounds.parse_id(m) or 0 for m in form.get("user", [])],
        "outside_emails": addresses,
        "active": _first(form, "active") != "off",
    }
    try:
        return ScheduleWrite.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] in SCHEDULE_MESSAGES:
            context = dict(error.get("ctx") or {})
            raise ScheduleFormError(SCHEDULE_MESSAGES[error["type"]], **context) from exc
        if error["loc"] and error["loc"][0] == "outside_emails" and len(error["loc"]) > 1:
            wrong = addresses[int(error["loc"][1])]
            raise ScheduleFormError(FORM_MESSAGES["bad_address"], address=wrong[:80]) from exc
        if error["type"] == "too_long":
            raise ScheduleFormError(
                SCHEDULE_MESSAGES["recipients_many"], limit=MAX_RECIPIENTS
            ) from exc
        raise ScheduleFormError(FORM_MESSAGES["bad_choice"]) from exc


def _root(membership: Membership, definition: ReportDefinition) -> str:
    return f"/w/{membership.workspace.slug}/reports/{definition.id}"


def _values(schedule: ReportSchedule | None, form: dict[str, list[str]] | None) -> dict[str, Any]:
    """What the form shows: what was posted, else the schedule's, else a Monday 09:00."""
    if form is not None:
        return {
            "frequency": _first(form, "frequency"),
            "weekday": _first(form, "weekday"),
            "day_of_month": _first(form, "day_of_month"),
            "local_time": _first(form, "local_time"),
            "formats": form.get("format", []),
            "languages": _first(form, "languages"),
            "user_ids": [str(_number(m)) for m in form.get("user", [])],
            "outside_emails": _first(form, "outside_emails"),
        }
    if schedule is None:
        return {
            "frequency": "weekly",
            "weekday": "0",
            "day_of_month": "1",
            "local_time": "09:00",
            "formats": ["pdf"],
            "languages": "both",
            "user_ids": [],
            "outside_emails": "",
        }
    return {
        "frequency": schedule.frequency,
        "weekday": str(schedule.weekday),
        "day_of_month": str(schedule.day_of_month),
        "local_time": schedule.local_time.strftime("%H:%M"),
        "formats": list(schedule.formats),
        "languages": schedule.languages,
        "user_ids": [str(m) for m in schedule.user_ids],
        "outside_emails": "\n".join(schedule.outside_emails),
    }


def _form_page(
    request: Request,
    db: Db,
    membership: Membership,
    definition: ReportDefinition,
    *,
    schedule: ReportSchedule | None,
    form: dict[str, list[str]] | None = None,
    error: UserError | None = None,
) -> Response:
    i18n.set_language(request.state.language)
    return render(
        request,
        "report/schedule.html",
        {
            "section": "reports",
            "definition": definition,
            "schedule": schedule,
            "values": _values(schedule, form),
            "members": list_members(db, workspace=membership.workspace),
            "frequency_labels": {k.value: v for k, v in FREQUENCY_LABELS.items()},
            "language_labels": {k.value: v for k, v in LANGUAGE_LABELS.items()},
            "weekdays": WEEKDAYS,
            "formats": [f.value for f in ReportFormat],
            "time_zone": membership.workspace.timezone,
            "max_recipients": MAX_RECIPIENTS,
            "error": error.translated(i18n.gettext) if error else None,
        },
        status_code=400 if error else 200,
    )


def _definition(db: Db, workspace: Workspace, definition_id: int) -> ReportDefinition:
    return service.get_definition(db, workspace=workspace, definition_id=definition_id)


@router.get("/w/{slug}/reports/{definition_id}/schedules/new")
def schedule_new(request: Request, db: Db, membership: Writer, definition_id: int) -> Response:
    """The form of a new schedule (Monday 09:00 in the workspace's zone to start with)."""
    definition = _definition(db, membership.workspace, definition_id)
    return _form_page(request, db, membership, definition, schedule=None)


@router.post("/w/{slug}/reports/{definition_id}/schedules")
def schedule_create(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    definition_id: int,
    form: SubmittedForm,
) -> Response:
    """Save a new schedule; a refused form is shown again with what to fix."""
    definition = _definition(db, membership.workspace, definition_id)
    try:
        schedules.create_schedule(
            db,
            workspace=membership.workspace,
            definition=definition,
            actor=user,
            data=schedule_from_form(form),
            now=utcnow(),
        )
    except UserError as exc:
        db.rollback()
        return _form_page(request, db, membership, definition, schedule=None, form=form, error=exc)
    db.commit()
    return RedirectResponse(f"{_root(membership, definition)}#schedules", status_code=303)


@router.get("/w/{slug}/reports/{definition_id}/schedules/{schedule_id}")
def schedule_edit(
    request: Request, db: Db, membership: Writer, definition_id: int, schedule_id: int
) -> Response:
    """A schedule's form."""
    definition = _definition(db, membership.workspace, definition_id)
    schedule = schedules.get_schedule(
        db, workspace=membership.workspace, definition=definition, schedule_id=schedule_id
    )
    return _form_page(request, db, membership, definition, schedule=schedule)


@router.post("/w/{slug}/reports/{definition_id}/schedules/{schedule_id}")
def schedule_save(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    definition_id: int,
    schedule_id: int,
    form: SubmittedForm,
) -> Response:
    """Save a schedule's changes; a refused form is shown again with what to fix."""
    definition = _definition(db, membership.workspace, definition_id)
    schedule = schedules.get_schedule(
        db, workspace=membership.workspace, definition=definition, schedule_id=schedule_id
    )
    try:
        data = schedule_from_form({**form, "active": ["on" if schedule.active else "off"]})
        schedules.update_schedule(
            db,
            workspace=membership.workspace,
            schedule=schedule,
            actor=user,
            data=data,
            now=utcnow(),
        )
    except UserError as exc:
        db.rollback()
        return _form_page(
            request, db, membership, definition, schedule=schedule, form=form, error=exc
        )
    db.commit()
    return RedirectResponse(f"{_root(membership, definition)}#schedules", status_code=303)


def _set_active(
    db: Db,
    user: CurrentUser,
    membership: Membership,
    definition_id: int,
    schedule_id: int,
    *,
    active: bool,
) -> Response:
    definition = _definition(db, membership.workspace, definition_id)
    schedule = schedules.get_schedule(
        db, workspace=membership.workspace, definition=definition, schedule_id=schedule_id
    )
    schedules.set_active(
        db,
        workspace=membership.workspace,
        schedule=schedule,
        actor=user,
        active=active,
        now=utcnow(),
    )
    db.commit()
    return RedirectResponse(f"{_root(membership, definition)}#schedules", status_code=303)


@router.post("/w/{slug}/reports/{definition_id}/schedules/{schedule_id}/pause")
def schedule_pause(
    db: Db, user: CurrentUser, membership: Writer, definition_id: int, schedule_id: int
) -> Response:
    """Pause a schedule: it sends nothing until resumed."""
    return _set_active(db, user, membership, definition_id, schedule_id, active=False)


@router.post("/w/{slug}/reports/{definition_id}/schedules/{schedule_id}/resume")
def schedule_resume(
    db: Db, user: CurrentUser, membership: Writer, definition_id: int, schedule_id: int
) -> Response:
    """Resume a paused schedule at its next time from now."""
    return _set_active(db, user, membership, definition_id, schedule_id, active=True)


@router.post("/w/{slug}/reports/{definition_id}/schedules/{schedule_id}/delete")
def schedule_delete(
    db: Db, user: CurrentUser, membership: Writer, definition_id: int, schedule_id: int
) -> Response:
    """Delete a schedule; the reports it sent stay in the history."""
    definition = _definition(db, membership.workspace, definition_id)
    schedule = schedules.get_schedule(
        db, workspace=membership.workspace, definition=definition, schedule_id=schedule_id
    )
    schedules.delete_schedule(db, workspace=membership.workspace, schedule=schedule, actor=user)
    db.commit()
    return RedirectResponse(f"{_root(membership, definition)}#schedules", status_code=303)


@router.get("/w/{slug}/reports/{definition_id}/deliveries/{delivery_id}/files/{index}")
def delivery_download(
    request: Request, db: Db, membership: Reader, definition_id: int, delivery_id: int, index: int
) -> Response:
    """A file of a report a schedule sent (until the retention period deletes it)."""
    delivery = schedules.get_delivery(db, workspace=membership.workspace, delivery_id=delivery_id)
    if delivery.definition_id != definition_id:
        raise NotFoundError(schedules.DELIVERY_NOT_FOUND)
    content, file = deliveries.delivery_file(
        delivery, index, data_dir=app_settings(request).data_dir
    )
    return attachment(content, report_format=ReportFormat(file["format"]), name=file["name"])


# The link is in the address: no cache keeps the file, no other site learns the address.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/r/files/{delivery_id}/{index}/{signature}")
def linked_download(
    request: Request, db: Db, delivery_id: int, index: int, signature: str
) -> Response:
    """A file of a sent report, from the link its e-mail carried: no account needed, this
    one file only, until the retention period ends."""
    content, file = deliveries.linked_file(
        db,
        settings=app_settings(request),
        delivery_id=delivery_id,
        index=index,
        signature=signature[:64],
        now=utcnow(),
    )
    response = attachment(content, report_format=ReportFormat(file["format"]), name=file["name"])
    response.headers.update(PRIVATE_HEADERS)
    return response
