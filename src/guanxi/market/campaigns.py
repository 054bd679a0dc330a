"""Market campaigns: events annotated on every chart, and their measured effect on rank.

A campaign names the app it should move, the countries it ran in and its dates. Its effect
is estimated (``effect.estimate_effect``) on the app's daily rank in those countries
against control countries the campaign did not touch: by default every country of the
chart where the app is charted on most days, except those of the app's other campaigns
running at the same time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core import fields
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.market import analysis
from guanxi.market.effect import EffectEstimate, EstimateError, estimate_effect
from guanxi.market.fetchers import ChartPayloadError, normalize_country
from guanxi.market.models import Chart, ChartDataset, MarketCampaign, Store

NAME_MAX = 120
DESCRIPTION_MAX = 2000
APP_KEY_MAX = 200  # the column's width: a store id is far shorter
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# A control country must show the app on this share of the days compared.
CONTROL_COVERAGE = 0.8
# Days of data before the start the estimate looks at.
LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class CampaignInput:
    """A campaign's fields, validated."""

    name: str
    app_key: str
    brand: str
    countries: list[str]
    control_countries: list[str]
    starts_on: date
    ends_on: date | None
    color: str
    description: str
    store: Store
    chart: Chart


def _countries(value: str, field: str) -> list[str]:
    codes = [part for part in re.split(r"[\s,;]+", value.strip()) if part]
    try:
        return sorted({normalize_country(code) for code in codes})
    except ChartPayloadError as exc:
        raise UserError(
            N_("{field}: {problem}"), field=field, problem=exc.message.format(**exc.params)
        ) from None


def _day(value: str, field: str) -> date:
    try:
        found = date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            N_("{field}: {value} is not a date. Enter it as YYYY-MM-DD."), field=field, value=value
        ) from None
    return fields.usable_day(found, field=field)


def parse_campaign(
    *,
    name: str,
    app_key: str,
    brand: str = "",
    countries: str,
    control_countries: str = "",
    starts_on: str,
    ends_on: str = "",
    color: str = "",
    description: str = "",
    store: str = Store.GOOGLE_PLAY.value,
    chart: str = Chart.TOP_FREE.value,
) -> CampaignInput:
    """Validated campaign fields from a form, or a UserError naming the field to fix."""
    name, app_key, brand = name.strip(), app_key.strip(), brand.strip()
    if not name or len(name) > NAME_MAX:
        raise UserError(N_("Enter a campaign name of 1 to {max} characters."), max=NAME_MAX)
    if not app_key or len(app_key) > APP_KEY_MAX:
        raise UserError(N_("Choose the app the campaign should move."))
    treated = _countries(countries, "countries")
    if not treated:
        raise UserError(N_("Enter the countries the campaign ran in, e.g. IT or IT, ES."))
    controls = [c for c in _countries(control_countries, "control countries") if c not in treated]
    start = _day(starts_on, "start")
    end = _day(ends_on, "end") if ends_on.strip() else None
    if end is not None and end < start:
        raise UserError(N_("The campaign ends before it starts. Correct the dates."))
    color = color.strip() or "#c0392b"
    if not COLOR_RE.match(color):
        raise UserError(N_("{value} is not a colour. Enter it as #RRGGBB."), value=color)
    if len(description) > DESCRIPTION_MAX:
        raise UserError(N_("Keep the description under {max} characters."), max=DESCRIPTION_MAX)
    try:
        store_value, chart_value = Store(store), Chart(chart)
    except ValueError:
        raise UserError(N_("Choose a store and a chart from the lists.")) from None
    return CampaignInput(
        name,
        app_key,
        brand[:120],
        treated,
        controls,
        start,
        end,
        color.lower(),
        description.strip(),
        store_value,
        chart_value,
    )


def _fields(campaign: MarketCampaign) -> dict[str, object]:
    return {
        "name": campaign.name,
        "app_key": campaign.app_key,
        "countries": campaign.countries,
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
    }


def list_campaigns(
    db: Session, *, workspace: Workspace, app_key: str | None = None
) -> list[MarketCampaign]:
    """The workspace's market campaigns by start (of one app when given)."""
    query = select(MarketCampaign).where(MarketCampaign.workspace_id == workspace.id)
    if app_key is not None:
        query = query.where(MarketCampaign.app_key == app_key)
    return list(db.scalars(query.order_by(MarketCampaign.starts_on, MarketCampaign.id)))


def get_campaign(db: Session, *, workspace: Workspace, campaign_id: int) -> MarketCampaign:
    """The workspace's campaign with this id; NotFound for anyone else's."""
    campaign = db.get(MarketCampaign, campaign_id)
    if campaign is None or campaign.workspace_id != workspace.id:
        raise NotFoundError(N_("No such market campaign in this workspace."))
    return campaign


def _apply(campaign: MarketCampaign, data: CampaignInput, dataset: ChartDataset | None) -> None:
    campaign.name, campaign.app_key, campaign.brand = data.name, data.app_key, data.brand
    campaign.countries, campaign.control_countries = data.countries, data.control_countries
    campaign.starts_on, campaign.ends_on = data.starts_on, data.ends_on
    campaign.color, campaign.description = data.color, data.description
    campaign.store, campaign.chart = data.store, data.chart
    campaign.dataset_id = dataset.id if dataset else None


def create_campaign(
    db: Session,
    *,
    workspace: Workspace,
    data: CampaignInput,
    dataset: ChartDataset | None,
    actor: User | None,
    ip: str | None = None,
) -> MarketCampaign:
    """Create a campaign (measured on ``dataset``), audited."""
    campaign = MarketCampaign(workspace_id=workspace.id)
    _apply(campaign, data, dataset)
    db.add(campaign)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="market_campaign.create",
        entity_type="market_campaign",
        entity_id=campaign.id,
        workspace=workspace,
        after=_fields(campaign),
        ip=ip,
    )
    return campaign


def update_campaign(
    db: Session,
    *,
    workspace: Workspace,
    campaign: MarketCampaign,
    data: CampaignInput,
    dataset: ChartDataset | None,
    actor: User | None,
    ip: str | None = None,
) -> MarketCampaign:
    """Change a campaign's fields, audited."""
    before = _fields(campaign)
    _apply(campaign, data, dataset)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="market_campaign.update",
        entity_type="market_campaign",
        entity_id=campaign.id,
        workspace=workspace,
        before=before,
        after=_fields(campaign),
        ip=ip,
    )
    return campaign


def delete_campaign(
    db: Session,
    *,
    workspace: Workspace,
    campaign: MarketCampaign,
    actor: User | None,
    ip: str | None = None,
) -> None:
    """Delete a campaign (the chart data stays), audited."""
    record_audit(
        db,
        actor=actor,
        action="market_campaign.delete",
        entity_type="market_campaign",
        entity_id=campaign.id,
        workspace=workspace,
        before=_fields(campaign),
        ip=ip,
    )
    db.delete(campaign)
    db.flush()


# --- The effect on rank ----------------------------------------------------------------------


@dataclass(frozen=True)
class EffectReport:
    """A campaign's estimated effect on rank, with what it was computed from."""

    estimate: EffectEstimate | None
    error: str  # English message id when no estimate could be made
    error_params: dict[str, object]
    treated: tuple[str, ...]
    controls: tuple[str, ...]
    depth: int  # an uncharted day counts as this rank (one below the chart's last)
    treated_mean: dict[date, float]  # the campaign countries' mean rank per day
    control_mean: dict[date, float]  # the control countries' mean rank per day

    @property
    def places(self) -> float:
        """Places gained relative to the controls (positive = moved up)."""
        return -self.estimate.effect if self.estimate else 0.0

    def rank_before(self, start: date) -> float | None:
        """The campaign countries' mean rank over the days before ``start``."""
        before = [rank for day, rank in self.treated_mean.items() if day < start]
        return sum(before) / len(before) if before else None

    def near_ceiling(self, start: date) -> bool:
        """Whether the app was already near #1 before ``start``: it could hardly climb, so
        the estimate understates what the campaign might have done elsewhere."""
        rank = self.rank_before(start)
        return rank is not None and rank <= CEILING_RANK


def _overlapping(campaign: MarketCampaign, other: MarketCampaign) -> bool:
    end = campaign.ends_on or date.max
    other_end = other.ends_on or date.max
    return other.id != campaign.id and other.starts_on <= end and campaign.starts_on <= other_end


def rank_series(
    db: Session, *, selection: analysis.ChartSelection, app_key: str, start: date, end: date
) -> tuple[dict[str, dict[date, float]], int]:
    """Per country, the app's daily rank between two days, and the depth used for gaps.

    A day the country was charted without the app counts as one rank below the deepest
    rank seen (the app was at best there), so a drop out of the chart is not lost.
    """
    history = analysis.rank_history(db, selection=selection, app_key=app_key, start=start, end=end)
    charted = analysis.charted_days(db, selection=selection, countries=())
    deepest = max((rank for days in history.values() for rank in days.values()), default=0)
    depth = max(deepest, 1) + 1
    series: dict[str, dict[date, float]] = {}
    for country, days in charted.items():
        ranks = history.get(country, {})
        series[country] = {day: float(ranks.get(day, depth)) for day in days if start <= day <= end}
    return series, depth


def campaign_effect(
    db: Session, *, campaign: MarketCampaign, dataset: ChartDataset
) -> EffectReport:
    """The campaign's effect on its app's rank in its countries, against the controls."""
    selection = analysis.ChartSelection(dataset.id, Store(campaign.store), Chart(campaign.chart))
    end = campaign.ends_on or date.max
    start = campaign.starts_on - timedelta(days=LOOKBACK_DAYS)
    series, depth = rank_series(
        db, selection=selection, app_key=campaign.app_key, start=start, end=end
    )
    treated = tuple(c for c in campaign.countries if c in series)
    busy = {
        country
        for other in db.scalars(
            select(MarketCampaign).where(
                MarketCampaign.workspace_id == campaign.workspace_id,
                MarketCampaign.app_key == campaign.app_key,
            )
        )
        if _overlapping(campaign, other)
        for country in other.countries
    }
    if campaign.control_countries:
        candidates = [c for c in campaign.control_countries if c in series]
    else:
        candidates = [c for c in sorted(series) if c not in campaign.countries and c not in busy]
    controls = tuple(
        country
        for country in candidates
        if series[country]
        and sum(1 for rank in series[country].values() if rank < depth) / len(series[country])
        >= CONTROL_COVERAGE
    )
    treated_mean, control_mean = _mean(series, treated), _mean(series, controls)
    if not treated:
        return EffectReport(
            None,
            N_(
                "There are no charts of the campaign's countries in this "
                "dataset. Import them, or choose another dataset."
            ),
            {},
            treated,
            controls,
            depth,
            treated_mean,
            control_mean,
        )
    try:
        estimate = estimate_effect(
            treated=treated_mean,
            controls={country: series[country] for country in controls},
            start=campaign.starts_on,
            end=campaign.ends_on,
        )
    except EstimateError as exc:
        return EffectReport(
            None,
            exc.message,
            dict(exc.params),
            treated,
            controls,
            depth,
            treated_mean,
            control_mean,
        )
    return EffectReport(estimate, "", {}, treated, controls, depth, treated_mean, control_mean)


def _mean(series: dict[str, dict[date, float]], countries: tuple[str, ...]) -> dict[date, float]:
    means = {}
    for day in sorted({d for c in countries for d in series[c]}):
        values = [series[c][day] for c in countries if day in series[c]]
        means[day] = sum(values) / len(values)
    return means


EFFECT_UP = N_(
    "In {countries}, {app} ranked about {places} places higher than in comparable countries "
    "during the campaign ({confidence}% interval: {low} to {high} places)."
)
EFFECT_DOWN = N_(
    "In {countries}, {app} ranked about {places} places lower than in comparable countries "
    "during the campaign ({confidence}% interval: {low} to {high} places)."
)
EFFECT_UNCLEAR = N_(
    "No clear effect: in {countries}, {app} ranked {places} places against comparable "
    "countries during the campaign, but the {confidence}% interval ({low} to {high} places) "
    "includes no change."
)
# At or above this rank before the campaign there is little room to climb.
CEILING_RANK = 3


def effect_message(
    report: EffectReport, *, app: str, countries: object
) -> tuple[str, dict[str, Any]]:
    """The estimate (or why there is none) as a message marked with ``N_`` and its values."""
    estimate = report.estimate
    if estimate is None:
        return report.error, dict(report.error_params)
    gained_low, gained_high = -estimate.high, -estimate.low
    params: dict[str, Any] = {
        "app": app,
        "countries": countries,
        "controls": len(report.controls),
        "confidence": round(estimate.confidence * 100),
        "low": f"{gained_low:+.1f}",
        "high": f"{gained_high:+.1f}",
    }
    if not estimate.significant:
        return EFFECT_UNCLEAR, {"places": f"{report.places:+.1f}", **params}
    message = EFFECT_UP if report.places > 0 else EFFECT_DOWN
    return message, {"places": f"{abs(report.places):.0f}", **params}


def effect_sentence(
    report: EffectReport, *, app: str, countries: str, gettext: Callable[[str], str]
) -> str:
    """The estimate as a plain sentence in the language of ``gettext``."""
    message, params = effect_message(report, app=app, countries=countries)
    return gettext(message).format(**params)
