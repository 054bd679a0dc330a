"""Uploads of orders and of the platforms' reports, each an ``OrderImport`` row: the file
saved (streamed, within ``MAX_BYTES``), its format found from its headers or chosen, its
column mapping remembered or asked for, then imported at once, the counts and the rows
that could not be read kept on the row.

Imports run in the request, as the analytics imports do: a file within the page's limit
takes seconds; a larger one is for ``guanxi convert import``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert.models import ImportStatus, OrderImport
from guanxi.convert.orders import mapping as order_mapping
from guanxi.convert.orders.platform import (
    REPORT_FIELDS,
    REPORTS,
    ReportLine,
    check_report_mapping,
    read_report,
    store_report,
)
from guanxi.convert.orders.readers import FORMATS, SOURCE_OF_FORMAT, Context, read_orders
from guanxi.convert.orders.service import ERRORS_KEPT, import_lines, reading_context
from guanxi.core import tables, values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.tables import RowError
from guanxi.mappings import service as mappings

MAX_BYTES = 20 * 1024 * 1024  # about 80,000 Tmall orders; larger files: the command
UPLOAD_DIR = "convert/imports"  # under the data dir, then the workspace id
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx"}
WRONG_FORMAT = N_("guanxi imports orders and reports as .csv or .xlsx files. Export them again.")
BATCH = 1_000
AUTO = "auto"
# What the upload form offers: found from the headers, each shop's export, any file with
# a column mapping, the platforms' reports.
CHOICES: dict[str, str] = {
    AUTO: N_("Find out from the columns"),
    **{key: shape.label for key, shape in FORMATS.items()},
    **{key: report.label for key, report in REPORTS.items()},
}


def save_file(*, data_dir: Path, workspace_id: int, filename: str, content: IO[bytes]) -> str:
    """Copy an upload under the data dir (streamed, within ``MAX_BYTES``); its relative path."""
    return tables.save_upload(
        data_dir=data_dir,
        folder=f"{UPLOAD_DIR}/{workspace_id}",
        filename=filename,
        content=content,
        max_bytes=MAX_BYTES,
        suffixes=frozenset(SUFFIXES),
        wrong_suffix=UserError(WRONG_FORMAT),
    )


def columns_of(run: OrderImport, *, data_dir: Path) -> list[str]:
    """The header row of the run's file."""
    columns = tables.header_of(data_dir / run.storage_path, run.file_format)
    if not any(columns):
        raise UserError(N_("guanxi found no columns in the file. Check that it has a header row."))
    return columns


def first_rows(run: OrderImport, *, data_dir: Path, count: int = 5) -> list[dict[str, str]]:
    """The file's first rows as text (cells cut to 120 characters), for the mapping step."""
    rows: list[dict[str, str]] = []
    for _line, read in tables.table_rows(data_dir / run.storage_path, run.file_format):
        if isinstance(read, RowError):
            continue
        rows.append({tables.clean(key): tables.clean(value)[:120] for key, value in read.items()})
        if len(rows) >= count:
            break
    return rows


def start_import(
    db: Session,
    *,
    workspace_id: int,
    filename: str,
    storage_path: str,
    data_dir: Path,
    chosen: str,
    created_by_id: int | None,
) -> OrderImport:
    """Record an upload with its format (``chosen``, or found from the headers for
    ``auto``), and the mapping it will be read with when one is known."""
    if chosen not in CHOICES:
        raise UserError(N_("Choose what the file holds from the list."))
    run = OrderImport(
        workspace_id=workspace_id,
        filename=values.text(Path(filename).name, limit=255),
        file_format=SUFFIXES.get(Path(filename).suffix.lower(), "csv"),
        order_format=chosen,
        storage_path=storage_path,
        created_by_id=created_by_id,
        created_at=utcnow(),
        mapping={},
        options={},
        **dict.fromkeys(("stored", "updated", "unchanged", "refunds", "rows_failed"), 0),
    )
    columns = columns_of(run, data_dir=data_dir)
    if chosen == AUTO:
        run.order_format = order_mapping.detect_format(columns) or "csv"
    known = _known_mapping(db, run=run, columns=columns)
    if known is not None:
        run.mapping, run.options = known
    db.add(run)
    db.flush()
    return run


def _purpose(run: OrderImport) -> str:
    report = REPORTS.get(run.order_format)
    return f"report:{report.source}" if report else order_mapping.PURPOSE


def _known_mapping(
    db: Session, *, run: OrderImport, columns: list[str]
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The mapping a file of this shape is read with without asking: none for a shop's
    export or guanxi's own columns, the remembered one, or a report's complete guess."""
    if _reads_as_is(run):
        return {}, {}
    if run.order_format == "csv" and all(name in columns for name in order_mapping.REQUIRED):
        own = {name: name for name in order_mapping.FIELDS if name in columns}
        return own, {"unit": "yuan", "zone": order_mapping.DEFAULT_ZONE}
    found = mappings.remembered(
        db, workspace_id=run.workspace_id, purpose=_purpose(run), columns=columns
    )
    if found is not None:
        return found.mapping, found.options
    report = REPORTS.get(run.order_format)
    if report is not None:
        guessed = mappings.guess(report.guesses, columns)
        try:
            return check_report_mapping(report, guessed, columns), {}
        except UserError:
            return None
    return None


def needs_mapping(run: OrderImport) -> bool:
    """Whether the run waits for its columns to be chosen."""
    return run.status == ImportStatus.MAPPING and not run.mapping and not _reads_as_is(run)


def _reads_as_is(run: OrderImport) -> bool:
    return run.order_format in FORMATS and run.order_format != "csv"


def proposed_mapping(
    db: Session, *, run: OrderImport, columns: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The remembered mapping of files of this shape, else the guess from the headers."""
    found = mappings.remembered(
        db, workspace_id=run.workspace_id, purpose=_purpose(run), columns=columns
    )
    if found is not None:
        return found.mapping, found.options
    report = REPORTS.get(run.order_format)
    guessed = mappings.guess(report.guesses if report else order_mapping.GUESSES, columns)
    return guessed, {"unit": "yuan", "zone": order_mapping.DEFAULT_ZONE}


def fields_of(run: OrderImport) -> dict[str, str]:
    """The fields the run's mapping fills (an order's, or a report's)."""
    report = REPORTS.get(run.order_format)
    if report is None:
        return order_mapping.FIELDS
    return {name: label for name, label in REPORT_FIELDS.items() if report.guesses[name]}


def required_of(run: OrderImport) -> tuple[str, ...]:
    """The fields every row needs (a report also needs its note's or plan's id or name)."""
    report = REPORTS.get(run.order_format)
    return report.required if report else order_mapping.REQUIRED


def remember_mapping(
    db: Session,
    *,
    run: OrderImport,
    columns: list[str],
    mapping: Mapping[str, str],
    options: Mapping[str, str],
    name: str = "",
) -> None:
    """Check the mapping and its options, remember them for files with these headers (and
    under ``name``), and keep them on the run."""
    report = REPORTS.get(run.order_format)
    if report is not None:
        chosen, checked = check_report_mapping(report, mapping, columns), {}
    else:
        chosen = order_mapping.check_mapping(mapping, columns)
        checked = order_mapping.check_options(options)
        run.order_format = "csv"
    mappings.remember(
        db,
        workspace_id=run.workspace_id,
        purpose=_purpose(run),
        columns=columns,
        mapping=chosen,
        options=checked,
        name=name,
    )
    run.mapping, run.options = chosen, checked
    db.flush()


def command_context(
    db: Session, *, workspace_id: int, columns: list[str], mapping_name: str | None
) -> Context:
    """What ``guanxi convert import`` reads a CSV or Excel file of orders with: guanxi's
    own columns as they are, else the mapping called ``mapping_name``, else the one
    remembered for these headers; a ``UserError`` saying how to get one otherwise."""
    context = reading_context(db, workspace_id=workspace_id)
    if mapping_name is None and all(name in columns for name in order_mapping.REQUIRED):
        return context
    if mapping_name is not None:
        found = mappings.named(
            db, workspace_id=workspace_id, purpose=order_mapping.PURPOSE, name=mapping_name
        )
    else:
        remembered = mappings.remembered(
            db, workspace_id=workspace_id, purpose=order_mapping.PURPOSE, columns=columns
        )
        if remembered is None:
            raise UserError(
                N_(
                    "The file's columns are not guanxi's (order_id, ordered_at, amount) and no "
                    "mapping is remembered for them. Upload it once on the orders page to map "
                    "its columns, or pass --mapping NAME."
                )
            )
        found = remembered
    chosen = order_mapping.check_mapping(found.mapping, columns)
    return Context(
        promo_codes=context.promo_codes,
        mapping=chosen,
        in_fen=found.options.get("unit") == "fen",
        zone=order_mapping.zone_of(found.options),
    )


def get_run(db: Session, *, workspace_id: int, run_id: int) -> OrderImport:
    """The workspace's upload with this id; ``NotFoundError`` otherwise."""
    run = db.get(OrderImport, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFoundError(N_("No such import in this workspace."))
    return run


def list_runs(db: Session, *, workspace_id: int, limit: int = 20) -> list[OrderImport]:
    """The workspace's latest uploads, newest first."""
    query = (
        select(OrderImport)
        .where(OrderImport.workspace_id == workspace_id)
        .order_by(OrderImport.created_at.desc(), OrderImport.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def run_import(db: Session, *, run: OrderImport, data_dir: Path) -> OrderImport:
    """Import the run's file with its format and mapping; the counts and the rows that
    could not be read are kept on the run, a file that cannot be read at all fails it."""
    path = data_dir / run.storage_path
    try:
        if run.order_format in REPORTS:
            _import_report(db, run=run, path=path)
        else:
            _import_orders(db, run=run, path=path)
    except UserError as exc:
        db.rollback()  # the rows of the batch under way; those committed before stay
        run.status = ImportStatus.FAILED
        run.error, run.error_params = exc.message, dict(exc.params)
    else:
        run.status = ImportStatus.DONE
    run.finished_at = utcnow()
    db.flush()
    return run


def _import_orders(db: Session, *, run: OrderImport, path: Path) -> None:
    context = reading_context(db, workspace_id=run.workspace_id)
    if run.mapping:
        context = Context(
            promo_codes=context.promo_codes,
            mapping=run.mapping,
            in_fen=run.options.get("unit") == "fen",
            zone=order_mapping.zone_of(run.options),
        )
    report = import_lines(
        db,
        workspace_id=run.workspace_id,
        source=SOURCE_OF_FORMAT[run.order_format],
        lines=read_orders(path, run.order_format, context=context),
    )
    run.stored, run.updated = report.orders_added, report.orders_updated
    run.unchanged, run.refunds = report.orders_unchanged, report.refunds
    run.rows_failed = report.rows_failed
    run.row_errors = [asdict(error) for error in report.errors]


def _import_report(db: Session, *, run: OrderImport, path: Path) -> None:
    batch: list[ReportLine] = []
    errors: list[RowError] = []
    failed = 0
    for _line, read in read_report(path, run.file_format, mapping=run.mapping):
        if isinstance(read, RowError):
            failed += 1
            if len(errors) < ERRORS_KEPT:
                errors.append(read)
            continue
        batch.append(read)
        if len(batch) >= BATCH:
            _store(db, run, batch)
    _store(db, run, batch)
    run.rows_failed = failed
    run.row_errors = [asdict(error) for error in errors]


def _store(db: Session, run: OrderImport, batch: list[ReportLine]) -> None:
    if not batch:
        return
    added, updated, unchanged = store_report(
        db,
        workspace_id=run.workspace_id,
        source=REPORTS[run.order_format].source,
        lines=batch,
        import_id=run.id,
    )
    run.stored += added
    run.updated += updated
    run.unchanged += unchanged
    db.commit()
    batch.clear()
