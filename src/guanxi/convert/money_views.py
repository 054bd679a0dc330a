"""The money pages of conversions: costs (entered, imported, listed), the KOLs with their
leaderboard and promo codes, a campaign's funnel, and the workspace's attribution defaults.

Reading is for every member; entering costs, KOLs and codes needs write access.
"""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.convert import cost_import, costs, defaults, flows, funnel, kols, pages, reports
from guanxi.convert.attribution.weights import MODEL_LABELS, AttributionModel
from guanxi.convert.models import CostKind, CostTarget
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.core.tables import save_upload
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value, with_upload
from guanxi.web.limits import body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "convert"
COST_FIELDS = (
    "target",
    "campaign_id",
    "kol_id",
    "post_id",
    "platform",
    "kind",
    "amount",
    "starts_on",
    "ends_on",
    "note",
)
KOL_FIELDS = ("name", "platform", "handle", "fee", "fee_on")
CODE_FIELDS = ("code", "kol_id", "campaign_id")
TARGET_LABELS = {
    CostTarget.CAMPAIGN: N_("Campaign"),
    CostTarget.KOL: N_("KOL"),
    CostTarget.POST: N_("Post"),
    CostTarget.PLATFORM: N_("Platform"),
}
KIND_LABELS = {
    CostKind.CAMPAIGN_BUDGET: N_("Campaign budget"),
    CostKind.KOL_FEE: N_("KOL fee"),
    CostKind.AD_SPEND: N_("Ad spend"),
    CostKind.OTHER: N_("Other"),
}
E = TypeVar("E", CostTarget, CostKind)


def _enum_value(kind: type[E], value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise UserError(N_("Choose what the cost is for and its kind from the lists.")) from None


# --- Costs ----------------------------------------------------------------------------


def _costs_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    imported: cost_import.CostImportReport | None = None,
    status_code: int = 200,
) -> Response:
    workspace_id = membership.workspace_id
    campaign_names, post_titles = flows.names_of(db, workspace_id)
    listed = kols.list_kols(db, workspace_id=workspace_id)
    context: dict[str, Any] = {
        "section": SECTION,
        "page": "costs",
        "rows": costs.list_costs(db, workspace_id=workspace_id),
        "campaigns": flows.campaigns(db, workspace_id),
        "posts": flows.recent_posts(db, workspace_id),
        "kols": listed,
        "campaign_names": campaign_names,
        "post_titles": post_titles,
        "kol_names": {kol.id: kol.name for kol in listed},
        "targets": TARGET_LABELS,
        "kinds": KIND_LABELS,
        "can_write": membership.can(Permission.WRITE),
        "values": values or {"starts_on": pages.today(membership).isoformat()},
        "error": error,
        "imported": imported,
        "problems": [
            (problem.line, problem.column, problem.text(i18n.gettext))
            for problem in (imported.problems[:100] if imported else [])
        ],
    }
    return render(request, "convert/costs.html", context, status_code=status_code)


@router.get("/w/{slug}/costs")
def costs_page(request: Request, membership: Member, db: Db) -> Response:
    """The workspace's costs, the form to enter one and the file import."""
    return _costs_page(request, db, membership)


@router.post("/w/{slug}/costs")
def enter_cost(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Record a cost (the same cost again updates its amount and note)."""
    values = {name: form_value(form, name) for name in COST_FIELDS}

    def change() -> str:
        costs.record_cost(
            db,
            workspace_id=membership.workspace_id,
            cost=costs.CostInput(
                target=_enum_value(CostTarget, values["target"]),
                kind=_enum_value(CostKind, values["kind"]),
                amount_fen=costs.fen_of(values["amount"]),
                starts_on=pages.day(values["starts_on"]) or pages.today(membership),
                ends_on=pages.day(values["ends_on"]),
                campaign_id=parse_id(values["campaign_id"]),
                kol_id=parse_id(values["kol_id"]),
                post_id=parse_id(values["post_id"]),
                platform=values["platform"].strip().lower(),
                note=values["note"],
            ),
        )
        return f"/w/{membership.workspace.slug}/costs"

    return pages.form_post(request, db, membership, page=_costs_page, values=values, change=change)


def _import_upload(
    request: Request,
    db: Session,
    membership: Membership,
    _values: dict[str, str],
    upload: UploadFile | None,
) -> Response:
    if upload is None or not upload.filename:
        error = i18n.gettext(N_("Choose the file to import."))
        return _costs_page(request, db, membership, error=error, status_code=400)
    with tempfile.TemporaryDirectory() as folder:
        try:
            stored = save_upload(
                data_dir=Path(folder),
                folder="costs",
                filename=upload.filename,
                content=upload.file,
                max_bytes=cost_import.MAX_UPLOAD_BYTES,
                suffixes=frozenset({".csv", ".xlsx"}),
                wrong_suffix=UserError(N_("Import a .csv or .xlsx file.")),
            )
            path = Path(folder) / stored
            report = cost_import.import_costs(
                db,
                workspace_id=membership.workspace_id,
                path=path,
                file_format="xlsx" if path.suffix == ".xlsx" else "csv",
            )
        except UserError as exc:
            db.rollback()
            error = exc.translated(i18n.gettext)
            return _costs_page(request, db, membership, error=error, status_code=400)
    db.commit()
    return _costs_page(request, db, membership, imported=report)


@router.post("/w/{slug}/costs/import", openapi_extra=body_limit(cost_import.MAX_UPLOAD_BYTES))
async def import_costs(request: Request, membership: Writer, db: Db) -> Response:
    """Import costs from a CSV or XLSX file; the page then lists the rows not imported."""
    return await with_upload(request, (), partial(_import_upload, request, db, membership))


@router.post("/w/{slug}/costs/{cost_id}/delete")
def delete_cost(membership: Writer, db: Db, cost_id: int) -> Response:
    """Remove a cost entered by mistake."""
    entry = costs.get_cost(db, workspace_id=membership.workspace_id, cost_id=cost_id)
    db.delete(entry)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/costs", status_code=303)


# --- KOLs -----------------------------------------------------------------------------


def _kols_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    first_day, last_day = pages.period(request, membership, days=90)
    context: dict[str, Any] = {
        "section": SECTION,
        "page": "kols",
        "first_day": first_day,
        "last_day": last_day,
        "campaigns": flows.campaigns(db, workspace.id),
        "kols": kols.list_kols(db, workspace_id=workspace.id),
        "codes": kols.code_uses(db, workspace_id=workspace.id),
        "campaign_names": flows.names_of(db, workspace.id)[0],
        "can_write": membership.can(Permission.WRITE),
        "values": values or {"fee_on": pages.today(membership).isoformat()},
        "error": error,
        "report": None,
        "board": [],
    }
    try:
        report = reports.revenue_report(
            db,
            workspace_id=workspace.id,
            first_day=first_day,
            last_day=last_day,
            zone=workspace.timezone,
        )
    except UserError as exc:
        context["error"] = exc.translated(i18n.gettext)
        return render(request, "convert/kols.html", context, status_code=400)
    context["report"] = report
    context["model_label"] = MODEL_LABELS[report.model]
    context["board"] = kols.leaderboard(
        db, workspace_id=workspace.id, report=report, zone=workspace.timezone
    )
    context["kol_names"] = {kol.id: kol.name for kol in context["kols"]}
    return render(request, "convert/kols.html", context, status_code=status_code)


@router.get("/w/{slug}/kols")
def kols_page(request: Request, membership: Member, db: Db) -> Response:
    """The KOL leaderboard, the KOLs' promo codes, and the forms to add either."""
    return _kols_page(request, db, membership)


@router.post("/w/{slug}/kols")
def add_kol(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Add a KOL, with their fee as a cost when one is given."""
    values = {name: form_value(form, name) for name in KOL_FIELDS}

    def change() -> str:
        kols.create_kol(
            db,
            workspace_id=membership.workspace_id,
            name=values["name"],
            platform=values["platform"],
            handle=values["handle"],
            fee_fen=costs.fen_of(values["fee"]) if values["fee"].strip() else None,
            fee_on=pages.day(values["fee_on"], pages.today(membership)),
        )
        return f"/w/{membership.workspace.slug}/kols"

    return pages.form_post(request, db, membership, page=_kols_page, values=values, change=change)


@router.post("/w/{slug}/kols/codes")
def add_code(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Give a KOL a promo code for a campaign."""
    values = {name: form_value(form, name) for name in CODE_FIELDS}

    def change() -> str:
        kols.create_code(
            db,
            workspace_id=membership.workspace_id,
            code=values["code"],
            kol_id=parse_id(values["kol_id"]),
            campaign_id=parse_id(values["campaign_id"]),
        )
        return f"/w/{membership.workspace.slug}/kols#codes"

    return pages.form_post(request, db, membership, page=_kols_page, values=values, change=change)


# --- Funnel ---------------------------------------------------------------------------


@router.get("/w/{slug}/funnel")
def funnel_page(request: Request, membership: Member, db: Db) -> Response:
    """A campaign's funnel (``campaign`` in the query; the newest campaign by default) over
    its days and the lookback window after them, or ``from``..``to``."""
    workspace = membership.workspace
    campaigns = flows.campaigns(db, workspace.id)
    chosen_id = parse_id(request.query_params.get("campaign"))
    ordered = sorted(campaigns, key=lambda c: (c.starts_on or pages.EARLIEST, c.id), reverse=True)
    campaign = next((c for c in campaigns if c.id == chosen_id), ordered[0] if ordered else None)
    settings = defaults.defaults_of(db, workspace_id=workspace.id)
    context: dict[str, Any] = {
        "section": SECTION,
        "page": "funnel",
        "campaigns": campaigns,
        "campaign": campaign,
        "funnel": None,
        "error": None,
        "window": settings.window_days,
        "model_label": MODEL_LABELS[AttributionModel.LAST_TOUCH],
        "first_day": None,
        "last_day": None,
    }
    if campaign is None:
        return render(request, "convert/funnel.html", context)
    today = pages.today(membership)
    first_day, last_day = funnel.default_period(
        campaign.starts_on, campaign.ends_on, window_days=settings.window_days, today=today
    )
    try:
        first_day = pages.day(request.query_params.get("from"), first_day) or first_day
        last_day = pages.day(request.query_params.get("to"), last_day) or last_day
        report = reports.revenue_report(
            db,
            workspace_id=workspace.id,
            first_day=first_day,
            last_day=last_day,
            zone=workspace.timezone,
        )
    except UserError as exc:
        context["error"] = exc.translated(i18n.gettext)
        return render(request, "convert/funnel.html", context, status_code=400)
    start, end = reports.period_bounds(first_day, last_day, workspace.timezone)
    found = funnel.campaign_funnel(
        db, workspace_id=workspace.id, campaign_id=campaign.id, report=report, start=start, end=end
    )
    labels = tuple(i18n.gettext(label) for label in funnel.STAGE_LABELS)
    context.update(
        funnel=found,
        report=report,
        first_day=first_day,
        last_day=last_day,
        chart=json.dumps(funnel.chart_option(found, labels=labels), ensure_ascii=False),  # type: ignore[arg-type]
    )
    return render(request, "convert/funnel.html", context)
