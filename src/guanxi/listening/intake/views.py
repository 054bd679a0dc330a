"""The intake's pages: the listening overview, sources, and imports (upload → column
mapping → row report).

An uploaded file is saved under the data dir first. Files up to ``SYNC_IMPORT_BYTES`` are
imported during the request (the user lands on the finished report); larger ones go to the
task queue and the import page follows the run's progress.
"""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import list_channels
from guanxi.connectors.base import Capability
from guanxi.connectors.registry import connector_capabilities
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings
from guanxi.listening.intake import flows, scheduled, service
from guanxi.listening.intake.importers import FILE_FORMATS, GENERIC_FORMATS, importer_for
from guanxi.listening.intake.importers.generic import FIELDS, REQUIRED, check_mapping, guess_mapping
from guanxi.listening.intake.importers.generic import preview as preview_file
from guanxi.listening.intake.models import (
    IMPORT_STATUS_LABELS,
    SOURCE_FORMAT_LABELS,
    ImportRun,
    ImportStatus,
    ListeningSource,
)
from guanxi.listening.mentions import flows as enrichment
from guanxi.listening.mentions import service as mentions
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import with_upload
from guanxi.web.limits import body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SYNC_IMPORT_BYTES = 2 * 1024 * 1024
SECTION = "listen"


def _labels() -> dict[str, Any]:
    return {
        "format_labels": SOURCE_FORMAT_LABELS,
        "status_labels": IMPORT_STATUS_LABELS,
    }


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(
        request,
        f"listen/{template}",
        {"section": SECTION, **_labels(), **context},
        status_code=status,
    )


def _back(slug: str, path: str = "") -> RedirectResponse:
    return RedirectResponse(f"/w/{slug}/listen{path}", status_code=303)


# --- Overview -----------------------------------------------------------------------------


def _index(
    request: Request, db: Session, membership: Membership, error: str = "", status: int = 200
) -> Response:
    workspace = membership.workspace
    return _page(
        request,
        "index.html",
        {
            "mentions": mentions.count_mentions(db, workspace_id=workspace.id),
            "sources": service.list_sources(db, workspace_id=workspace.id),
            "runs": service.list_runs(db, workspace_id=workspace.id, limit=10),
            "channels": _search_channels(request, db, membership),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
        },
        status,
    )


def _search_channels(request: Request, db: Session, membership: Membership) -> list[Channel]:
    """The workspace's connected accounts whose connector offers a keyword search."""
    connected = [
        channel
        for channel in list_channels(db, workspace=membership.workspace)
        if channel.status == ChannelStatus.CONNECTED
    ]
    settings: Settings = request.app.state.settings
    capabilities = connector_capabilities({c.connector for c in connected}, settings)
    return [c for c in connected if Capability.SEARCH in capabilities.get(c.connector, ())]


@router.get("/w/{slug}/listen")
def listen_index(request: Request, db: Db, membership: Member) -> Response:
    """The listening overview: how much is collected, from which sources, latest imports."""
    return _index(request, db, membership)


@router.post("/w/{slug}/listen/sources")
async def add_pull_source(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Add a keyword search through one of the workspace's connected accounts."""
    form = await request.form()
    channels = {c.id: c for c in _search_channels(request, db, membership)}
    channel_id = str(form.get("channel_id") or "")
    channel = channels.get(parse_id(channel_id) or 0)
    if channel is None:
        message = i18n.gettext(
            N_("Choose one of the connected accounts whose platform offers a keyword search.")
        )
        return _index(request, db, membership, message, 400)
    try:
        service.create_pull_source(
            db,
            workspace_id=membership.workspace_id,
            name=str(form.get("name", "")),
            channel_id=channel.id,
            query=str(form.get("query", "")),
            platform=channel.platform,
        )
    except UserError as exc:
        db.rollback()
        return _index(request, db, membership, exc.translated(i18n.gettext), 400)
    db.commit()
    return _back(slug)


# --- Imports ------------------------------------------------------------------------------


def _import_form(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return _page(
        request,
        "import.html",
        {
            "formats": FILE_FORMATS,
            "sources": [
                s
                for s in service.list_sources(db, workspace_id=membership.workspace_id)
                if s.format in set(FILE_FORMATS)
            ],
            "values": values or {"format": "weibo-crawler", "platform": "weibo"},
            "error": error,
            "sync_limit_mb": SYNC_IMPORT_BYTES // (1024 * 1024),
        },
        status,
    )


@router.get("/w/{slug}/listen/import")
def import_page(request: Request, db: Db, membership: Writer) -> Response:
    """The upload form: a file, its format and the source it belongs to."""
    return _import_form(request, db, membership)


@router.post("/w/{slug}/listen/import", openapi_extra=body_limit(flows.MAX_UPLOAD_BYTES))
async def upload(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Save the upload, then ask for the column mapping (generic formats) or import."""
    return await with_upload(
        request,
        ("format", "source", "platform"),
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
    settings = request.app.state.settings
    if upload_file is None or not upload_file.filename:
        message = i18n.gettext(N_("Choose the file to import."))
        return _import_form(request, db, membership, error=message, values=values, status=400)
    try:
        source = service.source_named(
            db,
            workspace_id=membership.workspace_id,
            name=values["source"] or values["format"],
            file_format=values["format"],
            platform=values["platform"] or "weibo",
        )
        stored = flows.save_upload(
            data_dir=settings.data_dir,
            workspace_id=membership.workspace_id,
            filename=upload_file.filename,
            content=upload_file.file,
            max_bytes=settings.import_max_mb * 1024 * 1024,
        )
        path = settings.data_dir / stored
        run = flows.start_run(
            db,
            source=source,
            path=path,
            filename=upload_file.filename,
            storage_path=stored,
            created_by_id=membership.user_id,
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        return _import_form(
            request, db, membership, error=exc.translated(i18n.gettext), values=values, status=400
        )
    if source.format in GENERIC_FORMATS:
        return _back(slug, f"/imports/{run.id}/mapping")
    return _start(request, db, slug, run, source)


def _start(
    request: Request, db: Session, slug: str, run: ImportRun, source: ListeningSource
) -> Response:
    """Import now (small file) or queue it (large file); either way, show the run."""
    if run.bytes_total <= SYNC_IMPORT_BYTES:
        path = request.app.state.settings.data_dir / run.storage_path
        importer = importer_for(
            source.format, mapping=source.column_mapping, platform=source.platform
        )
        # A file that cannot be read is written on the run, which the next page shows; so is
        # an unexpected error (logged by import_file), with the line the import reached.
        with suppress(Exception):
            flows.import_file(
                db,
                run=run,
                path=path,
                importer=importer,
                pipeline=_pipeline(db, run.workspace_id),
                max_rows=request.app.state.settings.import_max_rows,
            )
    else:
        scheduled.enqueue_import(run.id)
    return _back(slug, f"/imports/{run.id}")


def _pipeline(db: Session, workspace_id: int) -> enrichment.EnrichingPipeline | None:
    pipeline = enrichment.pipeline_for(db, workspace_id=workspace_id)
    try:
        pipeline.model_version  # noqa: B018 - loads the models, or says they are missing
    except UserError:
        return None  # the model is not trained yet: the worker's job enriches later
    return pipeline


def _mapping_page(
    request: Request,
    db: Session,
    membership: Membership,
    run: ImportRun,
    *,
    mapping: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    source = service.get_source(db, workspace_id=membership.workspace_id, source_id=run.source_id)
    path = request.app.state.settings.data_dir / run.storage_path
    try:
        found = preview_file(path, source.format)
    except UserError as exc:
        return _page(
            request,
            "run.html",
            {"run": run, "source": source, "error": exc.translated(i18n.gettext)},
            400,
        )
    chosen = (
        mapping
        or {
            name: column
            for name, column in source.column_mapping.items()
            if column in found.columns
        }
        or guess_mapping(found.columns)
    )
    return _page(
        request,
        "mapping.html",
        {
            "run": run,
            "source": source,
            "preview": found,
            "fields": FIELDS,
            "required": REQUIRED,
            "mapping": chosen,
            "error": error,
        },
        status,
    )


@router.get("/w/{slug}/listen/imports/{run_id}/mapping")
def mapping_page(request: Request, run_id: int, db: Db, membership: Writer) -> Response:
    """The column-mapping step: which column holds each field (remembered per source)."""
    run = service.get_run(db, workspace_id=membership.workspace_id, run_id=run_id)
    return _mapping_page(request, db, membership, run)


@router.post("/w/{slug}/listen/imports/{run_id}/mapping")
async def save_mapping(
    request: Request, slug: str, run_id: int, db: Db, membership: Writer
) -> Response:
    """Remember the mapping on the source and import the file with it."""
    form = await request.form()
    mapping = {name: str(form.get(f"map_{name}", "")) for name in FIELDS}
    return await run_in_threadpool(_map_and_start, request, db, membership, slug, run_id, mapping)


def _map_and_start(
    request: Request,
    db: Session,
    membership: Membership,
    slug: str,
    run_id: int,
    mapping: dict[str, str],
) -> Response:
    run = service.get_run(db, workspace_id=membership.workspace_id, run_id=run_id)
    source = service.get_source(db, workspace_id=membership.workspace_id, source_id=run.source_id)
    if run.status != ImportStatus.QUEUED:
        return _back(slug, f"/imports/{run.id}")
    try:
        columns = preview_file(
            request.app.state.settings.data_dir / run.storage_path, source.format
        ).columns
        service.remember_mapping(source, check_mapping(mapping, columns))
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
    return _start(request, db, slug, run, source)


@router.get("/w/{slug}/listen/imports/{run_id}")
def run_page(request: Request, run_id: int, db: Db, membership: Member) -> Response:
    """An import: its progress while it runs, then its counts and row-level error report."""
    run = service.get_run(db, workspace_id=membership.workspace_id, run_id=run_id)
    source = service.get_source(db, workspace_id=membership.workspace_id, source_id=run.source_id)
    template = "_run_status.html" if request.headers.get("hx-request") else "run.html"
    return _page(request, template, {"run": run, "source": source, "error": ""})
