"""Report definitions and runs: saved, changed, made into files kept under the data directory.

The pages, the API and the command line all come through here.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.i18n import get_translations
from guanxi.report import html
from guanxi.report.build import ReportSpec, build_report
from guanxi.report.document import ReportDocument
from guanxi.report.files import render_file
from guanxi.report.models import (
    MAX_PERIOD_DAYS,
    DefinitionWrite,
    PeriodKind,
    ReportDefinition,
    ReportFormat,
    ReportRun,
    RunStatus,
)
from guanxi.report.periods import ReportPeriod, compared_days, report_period, today_in
from guanxi.report.schedule_models import ReportDelivery
from guanxi.report.templates import get_template

log = logging.getLogger(__name__)

DEFINITION_NOT_FOUND = N_("No such report in this workspace.")
RUN_NOT_FOUND = N_("No such report file in this workspace.")
FILE_GONE = N_("This report's file is no longer on the server; make the report again.")
BAD_DATES = N_("The last day comes before the first; swap them.")
LONG_DATES = N_("A report covers at most {limit} days; choose a shorter period.")
UNKNOWN_FORMAT = N_("A report is made as one of {formats}.")
RUN_FAILED = N_("The report could not be made; the error is in the server's log.")


def list_definitions(db: Session, *, workspace: Workspace) -> list[ReportDefinition]:
    """The workspace's report definitions, by title."""
    query = select(ReportDefinition).where(ReportDefinition.workspace_id == workspace.id)
    return list(db.scalars(query.order_by(ReportDefinition.title, ReportDefinition.id)))


def get_definition(db: Session, *, workspace: Workspace, definition_id: int) -> ReportDefinition:
    """The workspace's definition ``definition_id``; NotFoundError for another's."""
    definition = db.get(ReportDefinition, definition_id)
    if definition is None or definition.workspace_id != workspace.id:
        raise NotFoundError(DEFINITION_NOT_FOUND)
    return definition


def _apply(definition: ReportDefinition, data: DefinitionWrite) -> None:
    definition.title = data.title
    definition.template = data.template
    definition.period_kind = data.period_kind
    custom = data.period_kind is PeriodKind.CUSTOM
    definition.custom_start = data.custom_start if custom else None
    definition.custom_end = data.custom_end if custom else None
    definition.comparison = data.comparison
    definition.languages = data.languages
    definition.section_keys = list(dict.fromkeys(data.section_keys))  # once each, in order
    definition.comments = {
        key: text.strip()
        for key, text in data.comments.items()
        if key in definition.section_keys and text.strip()
    }
    definition.include_empty = data.include_empty
    definition.campaign_id = data.campaign_id


def create_definition(
    db: Session, *, workspace: Workspace, actor: User | None, data: DefinitionWrite
) -> ReportDefinition:
    """Save a new definition in ``workspace``, audited."""
    definition = ReportDefinition(
        workspace_id=workspace.id, created_by_id=actor.id if actor else None
    )
    _apply(definition, data)
    db.add(definition)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="report.create",
        entity_type="report_definition",
        entity_id=definition.id,
        workspace=workspace,
        after={"title": definition.title, "sections": definition.section_keys},
        actor_label=None if actor else "cli",
    )
    return definition


def update_definition(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    actor: User | None,
    data: DefinitionWrite,
) -> ReportDefinition:
    """Replace ``definition``'s fields with ``data``, audited."""
    before = {"title": definition.title, "sections": list(definition.section_keys)}
    _apply(definition, data)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="report.update",
        entity_type="report_definition",
        entity_id=definition.id,
        workspace=workspace,
        before=before,
        after={"title": definition.title, "sections": definition.section_keys},
    )
    return definition


def delete_definition(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    actor: User | None,
    data_dir: Path,
) -> None:
    """Delete ``definition`` with its runs, their files and its share links."""
    for run in db.scalars(select(ReportRun).where(ReportRun.definition_id == definition.id)):
        if run.file_path:
            (data_dir / run.file_path).unlink(missing_ok=True)
    sent = select(ReportDelivery).where(ReportDelivery.definition_id == definition.id)
    for delivery in db.scalars(sent):
        for file in delivery.files:
            (data_dir / file["path"]).unlink(missing_ok=True)
    record_audit(
        db,
        actor=actor,
        action="report.delete",
        entity_type="report_definition",
        entity_id=definition.id,
        workspace=workspace,
        before={"title": definition.title},
    )
    db.delete(definition)
    db.flush()


def template_definition(
    template_key: str, *, language: str, today: date, campaign_id: int | None = None
) -> DefinitionWrite:
    """What a new definition from template ``template_key`` holds, titled in ``language``;
    a campaign wrap-up covers this month so far until its dates are set."""
    template = get_template(template_key)
    custom = (date(today.year, today.month, 1), today) if template.needs_campaign else (None, None)
    return DefinitionWrite(
        title=get_translations(language).gettext(template.title),
        template=template.key,
        period_kind=template.period_kind,
        custom_start=custom[0],
        custom_end=custom[1],
        comparison=template.comparison,
        section_keys=list(template.section_keys),
        campaign_id=campaign_id,
    )


def definition_period(
    definition: ReportDefinition, *, workspace: Workspace, now: datetime
) -> ReportPeriod:
    """The period ``definition``'s report covers when made at ``now``."""
    custom = None
    if definition.custom_start is not None and definition.custom_end is not None:
        custom = (definition.custom_start, definition.custom_end)
    return report_period(
        PeriodKind(definition.period_kind),
        definition.comparison,
        today=today_in(workspace.timezone, now),
        custom=custom,
    )


def chosen_period(definition: ReportDefinition, *, start: date, end: date) -> ReportPeriod:
    """``start`` to ``end`` compared as ``definition`` compares its periods."""
    if end < start:
        raise UserError(BAD_DATES)
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise UserError(LONG_DATES, limit=MAX_PERIOD_DAYS)
    compare_start, compare_end = compared_days(start, end, definition.comparison)
    return ReportPeriod(start, end, compare_start, compare_end)


def build(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    period: ReportPeriod,
    now: datetime,
) -> ReportDocument:
    """``definition``'s report for ``period``."""
    return build_report(
        db, workspace=workspace, spec=ReportSpec.of(definition), period=period, now=now
    )


def build_now(
    db: Session, *, workspace: Workspace, definition: ReportDefinition, now: datetime
) -> tuple[ReportPeriod, ReportDocument]:
    """``definition``'s report for the period it covers at ``now``, and that period."""
    period = definition_period(definition, workspace=workspace, now=now)
    return period, build(db, workspace=workspace, definition=definition, period=period, now=now)


def parse_format(text: str) -> ReportFormat:
    """The format ``text`` names; UserError lists the formats there are."""
    try:
        return ReportFormat(text)
    except ValueError:
        formats = ", ".join(f.value for f in ReportFormat)
        raise UserError(UNKNOWN_FORMAT, formats=formats) from None


def render(document: ReportDocument, *, report_format: ReportFormat, language: str) -> bytes:
    """``document`` as a file in ``report_format`` and ``language``."""
    if report_format is ReportFormat.HTML:
        return html.render_html(document, language).encode("utf-8")
    return render_file(document, report_format.value, language)


def file_name(title: str, period: ReportPeriod, language: str, report_format: ReportFormat) -> str:
    """A download's name: the title's letters and digits, the period and the language."""
    stem = "".join(c if c.isalnum() else "-" for c in title).strip("-")[:60] or "report"
    while "--" in stem:
        stem = stem.replace("--", "-")
    days = f"{period.start.isoformat()}_{period.end.isoformat()}"
    return f"{stem}_{days}_{language}.{report_format.value}"


def reports_dir(data_dir: Path, workspace: Workspace) -> Path:
    """Where the workspace's report files are kept."""
    return data_dir / "reports" / str(workspace.id)


def run_report(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    period: ReportPeriod,
    language: str,
    report_format: ReportFormat,
    actor: User | None,
    data_dir: Path,
    now: datetime,
) -> ReportRun:
    """Make ``definition``'s report now and keep its file; a failure is kept on the run
    (status failed, with the reason) rather than raised, except a format this server cannot
    make, which is refused before anything is saved."""
    run = ReportRun(
        workspace_id=workspace.id,
        definition_id=definition.id,
        created_by_id=actor.id if actor else None,
        start=period.start,
        end=period.end,
        compare_start=period.compare_start,
        compare_end=period.compare_end,
        language=language,
        format=report_format,
        status=RunStatus.FAILED,
        created_at=now,
    )
    db.add(run)
    db.flush()
    try:
        document = build(db, workspace=workspace, definition=definition, period=period, now=now)
        content = render(document, report_format=report_format, language=language)
    except Exception:
        log.exception("report %s of workspace %s failed", definition.id, workspace.id)
        run.error = RUN_FAILED
        return run
    folder = reports_dir(data_dir, workspace)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{run.id}_{file_name(definition.title, period, language, report_format)}"
    (folder / name).write_bytes(content)
    run.file_path = str((folder / name).relative_to(data_dir))
    run.file_size = len(content)
    run.sha256 = hashlib.sha256(content).hexdigest()
    run.status = RunStatus.DONE
    return run


def get_run(db: Session, *, workspace: Workspace, run_id: int) -> ReportRun:
    """The workspace's run ``run_id``; NotFoundError for another's."""
    run = db.get(ReportRun, run_id)
    if run is None or run.workspace_id != workspace.id:
        raise NotFoundError(RUN_NOT_FOUND)
    return run


def list_runs(db: Session, *, definition: ReportDefinition, limit: int = 20) -> list[ReportRun]:
    """``definition``'s latest runs, newest first."""
    query = select(ReportRun).where(ReportRun.definition_id == definition.id)
    return list(db.scalars(query.order_by(ReportRun.id.desc()).limit(limit)))


def run_file(run: ReportRun, *, data_dir: Path) -> bytes:
    """The content of ``run``'s file, checked against its digest."""
    path = data_dir / run.file_path
    if not run.file_path or not path.is_file():
        raise NotFoundError(FILE_GONE)
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != run.sha256:
        raise NotFoundError(FILE_GONE)
    return content
