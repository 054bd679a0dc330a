"""The import pages: upload a creator centre's export → column mapping (pre-filled, with the
first rows as guanxi reads them and the problems found) → import → the run's report; and
the quick form for the figures a person reads off the app.

A file whose headers match a mapping confirmed before imports at once, with no questions.
Reading is for every member; uploading, mapping and entering figures need write access.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.channels.service import list_channels
from guanxi.connectors.metrics import Metric
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.measure.imports import service
from guanxi.measure.imports.models import (
    EXPORT_KIND_LABELS,
    IMPORT_STATUS_LABELS,
    ExportKind,
    ImportStatus,
    MetricsImport,
)
from guanxi.measure.imports.reading import FIELDS, MAX_BYTES, REQUIRED
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import with_upload
from guanxi.web.limits import UPLOAD_FORM_OVERHEAD, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "analytics"
FORM_METRICS: dict[Metric, str] = {
    Metric.VIEWS: N_("Views (reads, plays)"),
    Metric.LIKES: N_("Likes"),
    Metric.COMMENTS: N_("Comments"),
    Metric.SHARES: N_("Shares"),
    Metric.SAVES: N_("Saves (收藏)"),
}


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    labels = {"kind_labels": EXPORT_KIND_LABELS, "status_labels": IMPORT_STATUS_LABELS}
    return render(
        request,
        f"measure/imports/{template}",
        {"section": SECTION, **labels, **context},
        status_code=status,
    )


def _to(slug: str, path: str) -> RedirectResponse:
    return RedirectResponse(f"/w/{slug}/analytics/{path}", status_code=303)


# --- Upload -----------------------------------------------------------------------------


def _imports_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    workspace = membership.workspace
    return _page(
        request,
        "index.html",
        {
            "runs": service.list_runs(db, workspace_id=workspace.id),
            "channels": list_channels(db, workspace=workspace),
            "kinds": list(ExportKind),
            "can_write": membership.can(Permission.WRITE),
            "values": values or {"kind": ExportKind.POSTS.value},
            "limit_mb": MAX_BYTES // (1024 * 1024),
            "error": error,
        },
        status,
    )


@router.get("/w/{slug}/analytics/imports")
def imports_page(request: Request, db: Db, membership: Member) -> Response:
    """The latest imports, and (for writers) the upload form."""
    return _imports_page(request, db, membership)


@router.post(
    "/w/{slug}/analytics/imports", openapi_extra=body_limit(MAX_BYTES + UPLOAD_FORM_OVERHEAD)
)
async def upload(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Save the export, then import it (a remembered shape) or ask for the mapping."""
    return await with_upload(
        request,
        ("channel_id", "kind", "as_of"),
        partial(_save_and_start, request, db, membership, slug),
    )


def _save_and_start(
    request: Request,
    db: Session,
    membership: Membership,
    slug: str,
    values: dict[str, str],
    upload_file: UploadFile | None,
) -> Response:
    data_dir = request.app.state.settings.data_dir
    stored = ""
    try:
        chosen, channel_id, kind, as_of = _upload_choice(values, upload_file)
        filename = chosen.filename or ""
        stored = service.save_export(
            data_dir=data_dir,
            workspace_id=membership.workspace_id,
            filename=filename,
            content=chosen.file,
        )
        run = service.start_import(
            db,
            workspace=membership.workspace,
            channel_id=channel_id,
            kind=kind,
            filename=filename,
            path=data_dir / stored,
            storage_path=stored,
            created_by_id=membership.user_id,
            as_of=as_of,
        )
        columns = service.file_preview(run, data_dir=data_dir).columns
        remembered = service.remembered_mapping(db, run=run, columns=columns)
        db.commit()
    except UserError as exc:
        db.rollback()
        if stored:  # the run is gone with the rollback: so is its file
            (data_dir / stored).unlink(missing_ok=True)
        return _imports_page(
            request, db, membership, error=exc.translated(i18n.gettext), values=values, status=400
        )
    if remembered is None:
        return _to(slug, f"imports/{run.id}/mapping")
    service.run_import(db, run=run, data_dir=data_dir, mapping=remembered)
    db.commit()
    return _to(slug, f"imports/{run.id}")


def _upload_choice(
    values: dict[str, str], upload_file: UploadFile | None
) -> tuple[UploadFile, int, ExportKind, date | None]:
    """The upload form's file, account, kind and day, or the ``UserError`` to show."""
    if upload_file is None or not upload_file.filename:
        raise UserError(N_("Choose the file to import."))
    if values["kind"] not in set(ExportKind):
        raise UserError(N_("Choose what the file holds: posts or the account's days."))
    channel_id = _channel_id(values["channel_id"], N_("Choose the account the export is of."))
    as_of = _day(values["as_of"]) if values["as_of"] else None
    return upload_file, channel_id, ExportKind(values["kind"]), as_of


def _channel_id(value: str, message: str) -> int:
    found = parse_id(value)
    if found is None:
        raise UserError(message)
    return found


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(N_("Write the day the figures were exported as YYYY-MM-DD.")) from None


# --- Mapping and preview ----------------------------------------------------------------


def _mapping_page(
    request: Request,
    db: Session,
    membership: Membership,
    run: MetricsImport,
    *,
    mapping: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    data_dir = request.app.state.settings.data_dir
    context: dict[str, Any] = {"run": run, "channel": service.run_channel(db, run), "error": error}
    try:
        found = service.file_preview(run, data_dir=data_dir)
    except UserError as exc:
        return _page(request, "run.html", {**context, "error": exc.translated(i18n.gettext)}, 400)
    chosen = (
        mapping
        if mapping is not None
        else service.proposed_mapping(db, run=run, columns=found.columns)
    )
    check = None
    if all(chosen.get(name) for name in REQUIRED[run.kind]):
        check = service.check_file(
            data_dir / run.storage_path, run.file_format, kind=run.kind, mapping=chosen
        )
    return _page(
        request,
        "mapping.html",
        {
            **context,
            "preview": found,
            "fields": FIELDS[run.kind],
            "required": REQUIRED[run.kind],
            "mapping": chosen,
            "check": check,
            "zone": ZoneInfo(membership.workspace.timezone),
        },
        status,
    )


def _run(db: Session, membership: Membership, run_id: int) -> MetricsImport:
    return service.get_run(db, workspace_id=membership.workspace_id, run_id=run_id)


@router.get("/w/{slug}/analytics/imports/{metrics_import_id}/mapping")
def mapping_page(
    request: Request, slug: str, metrics_import_id: int, db: Db, membership: Writer
) -> Response:
    """Which column holds each figure (pre-filled), the first rows read with it, the
    problems it finds."""
    run = _run(db, membership, metrics_import_id)
    if run.status != ImportStatus.MAPPING:
        return _to(slug, f"imports/{run.id}")
    return _mapping_page(request, db, membership, run)


@router.post("/w/{slug}/analytics/imports/{metrics_import_id}/mapping")
async def save_mapping(
    request: Request, slug: str, metrics_import_id: int, db: Db, membership: Writer
) -> Response:
    """Check the mapping again ("check"), or remember it and import the file."""
    form = await request.form()
    run = _run(db, membership, metrics_import_id)
    mapping = {name: str(form.get(f"map_{name}", "")) for name in FIELDS[run.kind]}
    mapping = {name: column for name, column in mapping.items() if column}
    importing = form.get("action") != "check"
    return await run_in_threadpool(
        _map_and_import, request, db, membership, slug, run, mapping, importing
    )


def _map_and_import(
    request: Request,
    db: Session,
    membership: Membership,
    slug: str,
    run: MetricsImport,
    mapping: dict[str, str],
    importing: bool,
) -> Response:
    if run.status != ImportStatus.MAPPING:
        return _to(slug, f"imports/{run.id}")
    data_dir = request.app.state.settings.data_dir
    if not importing:
        return _mapping_page(request, db, membership, run, mapping=mapping)
    try:
        columns = service.file_preview(run, data_dir=data_dir).columns
        chosen = service.remember_mapping(db, run=run, columns=columns, mapping=mapping)
        db.commit()
    except UserError as exc:
        db.rollback()
        return _mapping_page(
            request,
            db,
            membership,
            run,
            mapping=mapping,
            error=exc.translated(i18n.gettext),
            status=400,
        )
    service.run_import(db, run=run, data_dir=data_dir, mapping=chosen)
    db.commit()
    return _to(slug, f"imports/{run.id}")


@router.get("/w/{slug}/analytics/imports/{metrics_import_id}")
def run_page(request: Request, metrics_import_id: int, db: Db, membership: Member) -> Response:
    """An import's counts and the rows that were not imported, with what to fix."""
    run = _run(db, membership, metrics_import_id)
    return _page(
        request, "run.html", {"run": run, "channel": service.run_channel(db, run), "error": ""}
    )


# --- Figures read off the app -----------------------------------------------------------


def _figures_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    workspace = membership.workspace
    return _page(
        request,
        "figures.html",
        {
            "posts": service.imported_posts(db, workspace=workspace),
            "channels": list_channels(db, workspace=workspace),
            "metrics": FORM_METRICS,
            "can_write": membership.can(Permission.WRITE),
            "values": values or {},
            "saved": saved,
            "error": error,
        },
        status,
    )


@router.get("/w/{slug}/analytics/figures")
def figures_page(request: Request, db: Db, membership: Member) -> Response:
    """The posts measured from imports and by hand, and the form for a post's figures."""
    saved = request.query_params.get("saved") == "1"
    return _figures_page(request, db, membership, saved=saved)


@router.post("/w/{slug}/analytics/figures")
async def record_figures(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Store the figures read off the app for one post, as its snapshot of now."""
    form = await request.form()
    values = {
        key: str(form.get(key, "")).strip()
        for key in ("channel_id", "post", "title", "published_at", *(m.value for m in FORM_METRICS))
    }
    try:
        channel_id = _channel_id(values["channel_id"], N_("Choose the account the post is of."))
        figures = {
            metric: _count(values[metric.value], label) for metric, label in FORM_METRICS.items()
        }
        service.record_figures(
            db,
            workspace=membership.workspace,
            channel_id=channel_id,
            post=values["post"],
            published_at=_moment(values["published_at"], membership.workspace.timezone),
            figures=figures,
            title=values["title"],
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        return _figures_page(
            request, db, membership, error=exc.translated(i18n.gettext), values=values, status=400
        )
    return _to(slug, "figures?saved=1")


def _count(value: str, label: str) -> int | None:
    text = value.replace(",", "").replace(" ", "")
    if not text:
        return None
    if not text.isdecimal() or len(text) > 12:
        raise UserError(
            N_("{field}: “{value}” is not a count; write a whole number from 0."),
            field=i18n.gettext(label),
            value=value[:20],
        )
    return int(text)


def _moment(value: str, timezone: str) -> datetime | None:
    """A time from the form's datetime-local field, in the workspace's zone."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(N_("Write when the post was published as a date and a time.")) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))
