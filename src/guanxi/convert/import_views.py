"""The orders page: upload a shop's order export or a platform's report → (for a file of
another shape, its column mapping, asked once) → the import's counts and the rows that
could not be read, with what to fix; the latest uploads below.

Reading is for every member; uploading and mapping need write access.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.convert.models import ImportStatus, OrderImport
from guanxi.convert.orders import runs
from guanxi.convert.orders.mapping import DEFAULT_ZONE, UNITS
from guanxi.convert.orders.platform import REPORTS
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import with_upload
from guanxi.web.limits import UPLOAD_FORM_OVERHEAD, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

STATUS_LABELS: dict[str, str] = {
    ImportStatus.MAPPING: N_("Waiting for the column mapping"),
    ImportStatus.DONE: N_("Imported"),
    ImportStatus.FAILED: N_("Failed"),
}


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    shared = {
        "section": "convert",
        "page": "orders",
        "choices": runs.CHOICES,
        "status_labels": STATUS_LABELS,
        "reports": REPORTS,
    }
    return render(request, f"convert/{template}", {**shared, **context}, status_code=status)


def _to(slug: str, path: str = "") -> RedirectResponse:
    return RedirectResponse(f"/w/{slug}/orders{path}", status_code=303)


def _orders_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    chosen: str = runs.AUTO,
    status: int = 200,
) -> Response:
    context = {
        "runs": runs.list_runs(db, workspace_id=membership.workspace_id),
        "can_write": membership.can(Permission.WRITE),
        "chosen": chosen,
        "limit_mb": runs.MAX_BYTES // (1024 * 1024),
        "error": error,
    }
    return _page(request, "orders.html", context, status)


@router.get("/w/{slug}/orders")
def orders_page(request: Request, db: Db, membership: Member) -> Response:
    """The latest uploads of orders and reports, and (for writers) the upload form."""
    return _orders_page(request, db, membership)


@router.post("/w/{slug}/orders", openapi_extra=body_limit(runs.MAX_BYTES + UPLOAD_FORM_OVERHEAD))
async def upload(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Save the file, then import it (a known shape) or ask for its column mapping."""
    return await with_upload(
        request, ("order_format",), partial(_save_and_start, request, db, membership, slug)
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
    chosen = values["order_format"] or runs.AUTO
    stored = ""
    if upload_file is None or not upload_file.filename:
        error = i18n.gettext(N_("Choose the file to import."))
        return _orders_page(request, db, membership, error=error, chosen=chosen, status=400)
    try:
        stored = runs.save_file(
            data_dir=data_dir,
            workspace_id=membership.workspace_id,
            filename=upload_file.filename,
            content=upload_file.file,
        )
        run = runs.start_import(
            db,
            workspace_id=membership.workspace_id,
            filename=upload_file.filename,
            storage_path=stored,
            data_dir=data_dir,
            chosen=chosen,
            created_by_id=membership.user_id,
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        if stored:  # the run is gone with the rollback: so is its file
            (data_dir / stored).unlink(missing_ok=True)
        error = exc.translated(i18n.gettext)
        return _orders_page(request, db, membership, error=error, chosen=chosen, status=400)
    if runs.needs_mapping(run):
        return _to(slug, f"/{run.id}/mapping")
    runs.run_import(db, run=run, data_dir=data_dir)
    db.commit()
    return _to(slug, f"/{run.id}")


def _run(db: Session, membership: Membership, run_id: int) -> OrderImport:
    return runs.get_run(db, workspace_id=membership.workspace_id, run_id=run_id)


@router.get("/w/{slug}/orders/{order_import_id}")
def run_page(request: Request, order_import_id: int, db: Db, membership: Member) -> Response:
    """An upload's counts (stored, updated, unchanged, bad rows) and each bad row's line,
    column, problem and fix."""
    run = _run(db, membership, order_import_id)
    return _page(request, "order_import.html", {"run": run, "error": ""})


def _mapping_page(
    request: Request,
    db: Session,
    run: OrderImport,
    *,
    mapping: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    name: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    data_dir = request.app.state.settings.data_dir
    try:
        columns = runs.columns_of(run, data_dir=data_dir)
    except UserError as exc:
        context = {"run": run, "error": exc.translated(i18n.gettext)}
        return _page(request, "order_import.html", context, 400)
    proposed, proposed_options = runs.proposed_mapping(db, run=run, columns=columns)
    context = {
        "run": run,
        "columns": columns,
        "rows": runs.first_rows(run, data_dir=data_dir),
        "fields": runs.fields_of(run),
        "required": runs.required_of(run),
        "mapping": proposed if mapping is None else mapping,
        "options": proposed_options if options is None else options,
        "is_report": run.order_format in REPORTS,
        "units": UNITS,
        "default_zone": DEFAULT_ZONE,
        "name": name,
        "error": error,
    }
    return _page(request, "order_mapping.html", context, status)


@router.get("/w/{slug}/orders/{order_import_id}/mapping")
def mapping_page(
    request: Request, slug: str, order_import_id: int, db: Db, membership: Writer
) -> Response:
    """Which column holds each field (pre-filled from the headers' names)."""
    run = _run(db, membership, order_import_id)
    if run.status != ImportStatus.MAPPING:
        return _to(slug, f"/{run.id}")
    return _mapping_page(request, db, run)


@router.post("/w/{slug}/orders/{order_import_id}/mapping")
async def save_mapping(
    request: Request, slug: str, order_import_id: int, db: Db, membership: Writer
) -> Response:
    """Remember the mapping for files with these headers and import the file."""
    form = await request.form()
    run = _run(db, membership, order_import_id)
    mapping = {name: str(form.get(f"map_{name}", "")) for name in runs.fields_of(run)}
    mapping = {name: column for name, column in mapping.items() if column}
    options = {key: str(form.get(key, "")) for key in ("unit", "zone")}
    name = str(form.get("name", ""))
    return await run_in_threadpool(_map_and_import, request, db, slug, run, mapping, options, name)


def _map_and_import(
    request: Request,
    db: Session,
    slug: str,
    run: OrderImport,
    mapping: dict[str, str],
    options: dict[str, str],
    name: str,
) -> Response:
    if run.status != ImportStatus.MAPPING:
        return _to(slug, f"/{run.id}")
    data_dir = request.app.state.settings.data_dir
    try:
        columns = runs.columns_of(run, data_dir=data_dir)
        runs.remember_mapping(
            db, run=run, columns=columns, mapping=mapping, options=options, name=name
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        return _mapping_page(
            request,
            db,
            run,
            mapping=mapping,
            options=options,
            name=name,
            error=exc.translated(i18n.gettext),
            status=400,
        )
    runs.run_import(db, run=run, data_dir=data_dir)
    db.commit()
    return _to(slug, f"/{run.id}")
