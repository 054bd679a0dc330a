"""Report pages: the workspace's reports, a report's settings, its preview, its downloads
and share links. Analysts and up read; editors and up change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import NotFoundError
from guanxi.report import schedules, service, sharing
from guanxi.report.deliveries import KNOWN_ERRORS
from guanxi.report.downloads import attachment
from guanxi.report.forms import definition_from_form
from guanxi.report.models import (
    COMMENT_MAX_LENGTH,
    COMPARISON_LABELS,
    LANGUAGE_LABELS,
    MAX_SECTIONS,
    PERIOD_LABELS,
    SHARE_MAX_DAYS,
    TITLE_MAX_LENGTH,
    InvalidDefinitionError,
    Languages,
    ReportDefinition,
    ReportFormat,
)
from guanxi.report.periods import today_in
from guanxi.report.present import period_label, present
from guanxi.report.schedule_models import DELIVERY_LABELS, FREQUENCY_LABELS, WEEKDAYS
from guanxi.report.sections import offered_sections
from guanxi.report.templates import TEMPLATES
from guanxi.web.deps import CurrentUser, Db, Reader, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "reports"


def _root(membership: Membership) -> str:
    return f"/w/{membership.workspace.slug}/reports"


def _language(request: Request, definition: ReportDefinition, asked: str | None) -> str:
    """The language to show ``definition``'s report in: the one asked for, else the
    reader's if the report is made in it, else the report's first."""
    codes = Languages(definition.languages).codes()
    for candidate in (asked, request.state.language):
        if candidate in codes:
            return str(candidate)
    return codes[0]


@router.get("/w/{slug}/reports")
def reports_page(request: Request, db: Db, membership: Reader) -> Response:
    """The workspace's reports, and new ones from a template."""
    i18n.set_language(request.state.language)
    definitions = service.list_definitions(db, workspace=membership.workspace)
    now = utcnow()
    periods = {
        d.id: service.definition_period(d, workspace=membership.workspace, now=now)
        for d in definitions
    }
    return render(
        request,
        "report/list.html",
        {
            "section": SECTION,
            "definitions": definitions,
            "periods": {
                key: period_label(p.start, p.end, request.state.language)
                for key, p in periods.items()
            },
            "templates": TEMPLATES,
            "period_labels": {k.value: v for k, v in PERIOD_LABELS.items()},
            "language_labels": {k.value: v for k, v in LANGUAGE_LABELS.items()},
            "can_write": membership.can(Permission.WRITE),
            "can_brand": membership.can(Permission.APPROVE),
        },
    )


@router.post("/w/{slug}/reports")
def report_create(
    request: Request, db: Db, user: CurrentUser, membership: Writer, form: SubmittedForm
) -> Response:
    """A new report from the chosen template; then its settings page."""
    today = today_in(membership.workspace.timezone, utcnow())
    data = service.template_definition(
        form_value(form, "template"), language=request.state.language, today=today
    )
    definition = service.create_definition(
        db, workspace=membership.workspace, actor=user, data=data
    )
    db.commit()
    return RedirectResponse(f"{_root(membership)}/{definition.id}/edit", status_code=303)


def _edit_page(
    request: Request,
    membership: Membership,
    definition: ReportDefinition,
    *,
    values: dict[str, Any] | None = None,
    error: InvalidDefinitionError | None = None,
    status_code: int = 200,
) -> Response:
    i18n.set_language(request.state.language)
    offers = offered_sections()
    current = values or {
        "title": definition.title,
        "period_kind": definition.period_kind,
        "custom_start": definition.custom_start.isoformat() if definition.custom_start else "",
        "custom_end": definition.custom_end.isoformat() if definition.custom_end else "",
        "comparison": definition.comparison,
        "languages": definition.languages,
        "include_empty": definition.include_empty,
        "campaign_id": "" if definition.campaign_id is None else str(definition.campaign_id),
        "section_keys": list(definition.section_keys),
        "comments": dict(definition.comments),
    }
    chosen: list[str] = current["section_keys"]
    # The chosen sections first, in their order; then the others on offer.
    rows = [
        {"key": key, "title": offers[key].title if key in offers else "", "chosen": True}
        for key in chosen
    ] + [
        {"key": key, "title": offer.title, "chosen": False}
        for key, offer in offers.items()
        if key not in chosen
    ]
    return render(
        request,
        "report/edit.html",
        {
            "section": SECTION,
            "definition": definition,
            "values": current,
            "rows": rows,
            "error": error.translated(i18n.gettext) if error else None,
            "error_field": error.field if error else None,
            "period_labels": {k.value: v for k, v in PERIOD_LABELS.items()},
            "comparison_labels": {k.value: v for k, v in COMPARISON_LABELS.items()},
            "language_labels": {k.value: v for k, v in LANGUAGE_LABELS.items()},
            "limits": {
                "title": TITLE_MAX_LENGTH,
                "comment": COMMENT_MAX_LENGTH,
                "sections": MAX_SECTIONS,
            },
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/reports/{definition_id}/edit")
def report_edit(request: Request, db: Db, membership: Writer, definition_id: int) -> Response:
    """A report's settings: title, period, comparison, languages, sections and comments."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    return _edit_page(request, membership, definition)


@router.post("/w/{slug}/reports/{definition_id}/edit")
def report_save(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    definition_id: int,
    form: SubmittedForm,
) -> Response:
    """Save a report's settings; a refused form is shown again with what to fix."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    try:
        data = definition_from_form(form, template=definition.template)
    except InvalidDefinitionError as exc:
        keys = list(dict.fromkeys(form.get("section", [])))
        values = {
            "title": form_value(form, "title"),
            "period_kind": form_value(form, "period_kind"),
            "custom_start": form_value(form, "custom_start"),
            "custom_end": form_value(form, "custom_end"),
            "comparison": form_value(form, "comparison"),
            "languages": form_value(form, "languages"),
            "include_empty": form_value(form, "include_empty") == "on",
            "campaign_id": form_value(form, "campaign_id"),
            "section_keys": keys,
            "comments": {key: form_value(form, f"comment.{key}") for key in keys},
        }
        return _edit_page(
            request, membership, definition, values=values, error=exc, status_code=400
        )
    service.update_definition(
        db, workspace=membership.workspace, definition=definition, actor=user, data=data
    )
    db.commit()
    return RedirectResponse(f"{_root(membership)}/{definition.id}", status_code=303)


@router.post("/w/{slug}/reports/{definition_id}/delete")
def report_delete(
    request: Request, db: Db, user: CurrentUser, membership: Writer, definition_id: int
) -> Response:
    """Delete a report with its files' records and share links."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    service.delete_definition(
        db,
        workspace=membership.workspace,
        definition=definition,
        actor=user,
        data_dir=app_settings(request).data_dir,
    )
    db.commit()
    return RedirectResponse(_root(membership), status_code=303)


def _preview(
    request: Request,
    db: Db,
    membership: Membership,
    definition: ReportDefinition,
    *,
    language: str,
    new_link: str | None = None,
) -> Response:
    now = utcnow()
    _period, document = service.build_now(
        db, workspace=membership.workspace, definition=definition, now=now
    )
    db.commit()  # the sections' savepoints: nothing is written, the read ends here
    i18n.set_language(request.state.language)
    return render(
        request,
        "report/preview.html",
        {
            "section": SECTION,
            "definition": definition,
            "report": present(document, language),
            "report_language": language,
            "languages": Languages(definition.languages).codes(),
            "language_labels": {k.value: v for k, v in LANGUAGE_LABELS.items()},
            "formats": [f.value for f in ReportFormat],
            "shares": sharing.list_shares(db, definition=definition),
            "runs": service.list_runs(db, definition=definition),
            "schedules": schedules.list_schedules(db, definition=definition),
            "deliveries": schedules.list_deliveries(db, definition=definition),
            "frequency_labels": {k.value: v for k, v in FREQUENCY_LABELS.items()},
            "delivery_labels": {k.value: v for k, v in DELIVERY_LABELS.items()},
            "weekdays": WEEKDAYS,
            "known_errors": KNOWN_ERRORS,
            "new_link": new_link,
            "now": now,
            "share_max_days": SHARE_MAX_DAYS,
            "can_write": membership.can(Permission.WRITE),
        },
    )


@router.get("/w/{slug}/reports/{definition_id}")
def report_preview(
    request: Request,
    db: Db,
    membership: Reader,
    definition_id: int,
    lang: QueryField | None = None,
) -> Response:
    """The report as a web page, in one of its languages, with its downloads."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    language = _language(request, definition, lang)
    return _preview(request, db, membership, definition, language=language)


@router.get("/w/{slug}/reports/{definition_id}/download")
def report_download(
    request: Request,
    db: Db,
    membership: Reader,
    definition_id: int,
    format: QueryField = "html",  # noqa: A002 - the query's name
    lang: QueryField | None = None,
) -> Response:
    """The report as a file (HTML always; PDF, PowerPoint and Excel where installed)."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    report_format = service.parse_format(format)
    language = _language(request, definition, lang)
    period, document = service.build_now(
        db, workspace=membership.workspace, definition=definition, now=utcnow()
    )
    db.commit()
    content = service.render(document, report_format=report_format, language=language)
    name = service.file_name(definition.title, period, language, report_format)
    return attachment(content, report_format=report_format, name=name)


@router.post("/w/{slug}/reports/{definition_id}/shares")
def share_create(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    definition_id: int,
    form: SubmittedForm,
) -> Response:
    """A new read-only link to the report; its address is shown once, on the page."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    language = _language(request, definition, form_value(form, "language"))
    days_text = form_value(form, "days")
    days = (
        int(days_text) if days_text.isascii() and days_text.isdigit() and len(days_text) < 5 else 0
    )
    _share, token = sharing.create_share(
        db,
        workspace=membership.workspace,
        definition=definition,
        actor=user,
        language=language,
        days=days,
        now=utcnow(),
    )
    db.commit()
    link = str(request.base_url).rstrip("/") + f"/r/{token}"
    return _preview(request, db, membership, definition, language=language, new_link=link)


@router.post("/w/{slug}/reports/{definition_id}/shares/{share_id}/revoke")
def share_revoke(
    db: Db, user: CurrentUser, membership: Writer, definition_id: int, share_id: int
) -> Response:
    """Withdraw a link: it no longer opens."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    share = sharing.get_share(db, workspace=membership.workspace, share_id=share_id)
    if share.definition_id != definition.id:
        raise NotFoundError(sharing.SHARE_NOT_FOUND)
    sharing.revoke_share(db, workspace=membership.workspace, share=share, actor=user, now=utcnow())
    db.commit()
    return RedirectResponse(f"{_root(membership)}/{definition.id}#shares", status_code=303)


@router.post("/w/{slug}/reports/{definition_id}/runs")
def run_create(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    definition_id: int,
    form: SubmittedForm,
) -> Response:
    """Make the report now and keep its file (listed on the preview, with its download)."""
    definition = service.get_definition(
        db, workspace=membership.workspace, definition_id=definition_id
    )
    report_format = service.parse_format(form_value(form, "format"))
    now = utcnow()
    service.run_report(
        db,
        workspace=membership.workspace,
        definition=definition,
        period=service.definition_period(definition, workspace=membership.workspace, now=now),
        language=_language(request, definition, form_value(form, "language")),
        report_format=report_format,
        actor=user,
        data_dir=app_settings(request).data_dir,
        now=now,
    )
    db.commit()
    return RedirectResponse(f"{_root(membership)}/{definition.id}#files", status_code=303)


@router.get("/w/{slug}/reports/{definition_id}/runs/{run_id}/file")
def run_download(
    request: Request, db: Db, membership: Reader, definition_id: int, run_id: int
) -> Response:
    """A kept file of the report."""
    run = service.get_run(db, workspace=membership.workspace, run_id=run_id)
    if run.definition_id != definition_id:
        raise NotFoundError(service.RUN_NOT_FOUND)
    content = service.run_file(run, data_dir=app_settings(request).data_dir)
    name = run.file_path.rsplit("/", 1)[-1]
    return attachment(content, report_format=ReportFormat(run.format), name=name)
