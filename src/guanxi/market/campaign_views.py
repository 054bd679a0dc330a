"""Market campaign pages: the list, the new-campaign form, a campaign with its measured
effect on rank (a sentence, the interval, the chart with the campaign marked), editing and
deleting."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import UserError
from guanxi.market import campaigns, service
from guanxi.market.analysis import ChartSelection
from guanxi.market.effect import METHOD
from guanxi.market.models import (
    CHART_LABELS,
    STORE_LABELS,
    Chart,
    ChartDataset,
    MarketCampaign,
    Store,
)
from guanxi.market.presenting import campaign_markers, country_names
from guanxi.web.deps import CurrentUser, Db, Member, Writer, client_ip, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

FIELDS = (
    "name",
    "app_key",
    "brand",
    "countries",
    "control_countries",
    "starts_on",
    "ends_on",
    "color",
    "description",
    "store",
    "chart",
)


def _values_of(campaign: MarketCampaign) -> dict[str, str]:
    return {
        "name": campaign.name,
        "app_key": campaign.app_key,
        "brand": campaign.brand,
        "countries": ", ".join(campaign.countries),
        "control_countries": ", ".join(campaign.control_countries),
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else "",
        "color": campaign.color,
        "description": campaign.description,
        "store": str(campaign.store),
        "chart": str(campaign.chart),
    }


def _parse(form: dict[str, list[str]]) -> campaigns.CampaignInput:
    values = {name: form_value(form, name) for name in FIELDS}
    values["store"] = values["store"] or Store.GOOGLE_PLAY.value
    values["chart"] = values["chart"] or "top-free"
    return campaigns.parse_campaign(**values)


def _dataset_for(
    db: Session, membership: Membership, form: dict[str, list[str]]
) -> ChartDataset | None:
    chosen = form_value(form, "dataset")
    dataset_id = parse_id(chosen)
    if dataset_id is not None:
        return service.get_dataset(db, workspace=membership.workspace, dataset_id=dataset_id)
    return service.default_dataset(db, workspace=membership.workspace)


def _form_context(request: Request, db: Session, membership: Membership) -> dict[str, Any]:
    workspace = membership.workspace
    return {
        "section": "market",
        "page": "campaigns",
        "choice": None,
        "tracked": service.list_tracked_apps(db, workspace=workspace),
        "datasets": service.visible_datasets(db, workspace=workspace),
        "store_labels": {s.value: label for s, label in STORE_LABELS.items()},
        "chart_labels": {c.value: label for c, label in CHART_LABELS.items()},
        "countries": country_names(getattr(request.state, "language", "en")),
        "can_write": membership.can(Permission.WRITE),
    }


def _list_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _form_context(request, db, membership)
    context.update(
        {
            "campaigns": campaigns.list_campaigns(db, workspace=membership.workspace),
            "error": error,
            "values": values or {"color": "#c0392b"},
        }
    )
    return render(request, "market/campaigns.html", context, status_code=status_code)


@router.get("/w/{slug}/market/campaigns")
def campaigns_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's market campaigns, and a form to annotate a new one."""
    return _list_page(request, db, membership)


@router.post("/w/{slug}/market/campaigns")
def create_campaign(
    request: Request, db: Db, user: CurrentUser, membership: Writer, form: SubmittedForm
) -> Response:
    """Annotate a campaign; a bad form comes back explained, with what was typed."""
    try:
        campaign = campaigns.create_campaign(
            db,
            workspace=membership.workspace,
            data=_parse(form),
            dataset=_dataset_for(db, membership, form),
            actor=user,
            ip=client_ip(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        values = {name: form_value(form, name) for name in FIELDS}
        return _list_page(
            request,
            db,
            membership,
            error=exc.translated(i18n.gettext),
            values=values,
            status_code=exc.status_code,
        )
    slug = membership.workspace.slug
    return RedirectResponse(f"/w/{slug}/market/campaigns/{campaign.id}", status_code=303)


def _detail_page(
    request: Request,
    db: Session,
    membership: Membership,
    campaign: MarketCampaign,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    dataset = None
    if campaign.dataset_id is not None:
        dataset = db.get(ChartDataset, campaign.dataset_id)
    dataset = dataset or service.default_dataset(db, workspace=workspace)
    language = getattr(request.state, "language", "en")
    i18n.set_language(language)
    names = country_names(language)
    tracked = {app.app_key: app.name for app in service.list_tracked_apps(db, workspace=workspace)}
    app_name = (
        tracked.get(campaign.app_key)
        or service.app_names(db, dataset=dataset, app_keys=[campaign.app_key]).get(
            campaign.app_key, campaign.app_key
        )
        if dataset
        else campaign.app_key
    )
    report = campaigns.campaign_effect(db, campaign=campaign, dataset=dataset) if dataset else None
    sentence = ""
    chart: dict[str, Any] = {}
    if report is not None:
        sentence = campaigns.effect_sentence(
            report,
            app=app_name,
            countries=", ".join(names.get(c, c) for c in campaign.countries),
            gettext=i18n.gettext,
        )
        chart = {
            "treated": [[d.isoformat(), round(v, 2)] for d, v in report.treated_mean.items()],
            "controls": [[d.isoformat(), round(v, 2)] for d, v in report.control_mean.items()],
            "markers": [
                m
                for m in campaign_markers(
                    db,
                    workspace=workspace,
                    app_keys=[campaign.app_key],
                    selection=_selection(campaign, dataset),
                )
                if m["id"] == campaign.id
            ]
            if dataset
            else [],
            "depth": report.depth,
        }
    context = _form_context(request, db, membership)
    context.update(
        {
            "campaign": campaign,
            "dataset": dataset,
            "report": report,
            "sentence": sentence,
            "app_name": app_name,
            "method": METHOD,
            "error": error,
            "values": values or _values_of(campaign),
            "chart_data": chart,
        }
    )
    return render(request, "market/campaign_detail.html", context, status_code=status_code)


def _selection(campaign: MarketCampaign, dataset: ChartDataset) -> Any:
    return ChartSelection(dataset.id, Store(campaign.store), Chart(campaign.chart))


@router.get("/w/{slug}/market/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int, db: Db, membership: Member) -> Response:
    """A campaign: its estimated effect on the app's rank, the chart, the edit form."""
    campaign = campaigns.get_campaign(db, workspace=membership.workspace, campaign_id=campaign_id)
    return _detail_page(request, db, membership, campaign)


@router.post("/w/{slug}/market/campaigns/{campaign_id}")
def update_campaign(
    request: Request,
    campaign_id: int,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    form: SubmittedForm,
) -> Response:
    """Save a campaign's changes; a bad form comes back explained."""
    workspace = membership.workspace
    campaign = campaigns.get_campaign(db, workspace=workspace, campaign_id=campaign_id)
    try:
        campaigns.update_campaign(
            db,
            workspace=workspace,
            campaign=campaign,
            data=_parse(form),
            dataset=_dataset_for(db, membership, form),
            actor=user,
            ip=client_ip(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        campaign = campaigns.get_campaign(db, workspace=workspace, campaign_id=campaign_id)
        values = {name: form_value(form, name) for name in FIELDS}
        message = exc.translated(i18n.gettext)
        return _detail_page(
            request,
            db,
            membership,
            campaign,
            values=values,
            error=message,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/w/{workspace.slug}/market/campaigns/{campaign.id}", status_code=303)


@router.post("/w/{slug}/market/campaigns/{campaign_id}/delete")
def delete_campaign(
    request: Request, campaign_id: int, db: Db, user: CurrentUser, membership: Writer
) -> Response:
    """Delete a campaign annotation (the chart data stays)."""
    workspace = membership.workspace
    campaign = campaigns.get_campaign(db, workspace=workspace, campaign_id=campaign_id)
    campaigns.delete_campaign(
        db, workspace=workspace, campaign=campaign, actor=user, ip=client_ip(request)
    )
    db.commit()
    return RedirectResponse(f"/w/{workspace.slug}/market/campaigns", status_code=303)
