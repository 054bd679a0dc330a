"""Costs: campaign budgets, KOL fees, ad spend and other money spent on a campaign, a KOL, a
post or a platform, over one day or a range of days.

A cost is known by its natural key: what it is for (``campaign:<id>``, ``kol:<id>``,
``post:<id>``, ``platform:<slug>``), its kind and its first and last day. Recording the same
cost again (from the page, the API or a re-imported file) updates its amount and note and
adds nothing. A period's share of a cost is spread evenly over its days: a ¥10,000 budget
over ten days counts ¥3,000 in a report of three of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.catalog.service import get_catalog
from guanxi.convert import flows
from guanxi.convert.models import (
    COST_MAX_DAYS,
    COST_MAX_YUAN,
    NOTE_MAX,
    CostEntry,
    CostKind,
    CostTarget,
    Kol,
)
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.upsert import get_or_create

COSTS_LISTED = 500  # the newest costs the page lists
CURRENCIES = ("CNY",)  # revenue is in yuan: a cost in another currency would not compare


@dataclass(frozen=True)
class CostInput:
    """A cost as typed or read from a file, before it is checked."""

    target: CostTarget
    kind: CostKind
    amount_fen: int
    starts_on: date
    ends_on: date | None = None
    campaign_id: int | None = None
    kol_id: int | None = None
    post_id: int | None = None
    platform: str = ""
    currency: str = "CNY"
    note: str = ""


@dataclass
class CostTotals:
    """A period's costs (fen) per campaign, KOL, post and platform, and in all."""

    total_fen: float = 0.0
    by_campaign: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    by_kol: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    by_post: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    by_platform: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    illustrative: bool = False


def fen_of(text: str) -> int:
    """Yuan typed as text ("1,280.50", "¥300") in fen; a UserError when it is no amount or
    out of range."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        yuan = Decimal(cleaned)
    except InvalidOperation:
        raise UserError(
            N_("The amount {value} is not a number: write it in yuan, e.g. 1280.50."),
            value=text[:40],
        ) from None
    if not yuan.is_finite() or yuan < 0 or yuan > COST_MAX_YUAN:
        raise UserError(
            N_("The amount must be between 0 and 10,000,000,000 yuan: check the number."),
        )
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _checked(db: Session, workspace_id: int, cost: CostInput) -> tuple[CostInput, str]:
    """The cost with only its target's reference kept, and its natural key; a UserError
    naming what to fix otherwise."""
    if cost.currency.upper() not in CURRENCIES:
        raise UserError(
            N_("Costs are in CNY (as the revenue is): convert {currency} to yuan first."),
            currency=cost.currency[:3],
        )
    if not 0 <= cost.amount_fen <= COST_MAX_YUAN * 100:
        raise UserError(
            N_("The amount must be between 0 and 10,000,000,000 yuan: check the number.")
        )
    ends_on = cost.ends_on or cost.starts_on
    if ends_on < cost.starts_on:
        raise UserError(N_("The cost's last day is before its first: swap the dates."))
    if (ends_on - cost.starts_on).days >= COST_MAX_DAYS:
        raise UserError(N_("A cost spans at most 366 days: enter a longer one as several."))
    if len(cost.note) > NOTE_MAX:
        raise UserError(N_("The note is longer than 400 characters: shorten it."))
    reference = _reference(db, workspace_id, cost)
    kept = CostInput(
        target=cost.target,
        kind=cost.kind,
        amount_fen=cost.amount_fen,
        starts_on=cost.starts_on,
        ends_on=ends_on,
        campaign_id=cost.campaign_id if cost.target is CostTarget.CAMPAIGN else None,
        kol_id=cost.kol_id if cost.target is CostTarget.KOL else None,
        post_id=cost.post_id if cost.target is CostTarget.POST else None,
        platform=cost.platform if cost.target is CostTarget.PLATFORM else "",
        currency="CNY",
        note=cost.note.strip(),
    )
    key = f"{cost.target.value}:{reference}|{cost.kind.value}|{cost.starts_on}|{ends_on}"
    return kept, key


def _reference(db: Session, workspace_id: int, cost: CostInput) -> str:
    """The id (or platform slug) of what the cost is for, checked to be the workspace's."""
    if cost.target is CostTarget.CAMPAIGN:
        if cost.campaign_id is None:
            raise UserError(N_("Choose the campaign the cost is for."))
        flows.campaign_in_workspace(db, workspace_id, cost.campaign_id)
        return str(cost.campaign_id)
    if cost.target is CostTarget.POST:
        if cost.post_id is None:
            raise UserError(N_("Choose the post the cost is for."))
        flows.post_in_workspace(db, workspace_id, cost.post_id)
        return str(cost.post_id)
    if cost.target is CostTarget.KOL:
        kol = db.get(Kol, cost.kol_id) if cost.kol_id is not None else None
        if kol is None or kol.workspace_id != workspace_id:
            raise UserError(N_("Choose the KOL the cost is for (add them on the KOLs page)."))
        return str(kol.id)
    if get_catalog().get(cost.platform) is None:
        raise UserError(
            N_("{platform} is not a platform guanxi knows: use its slug, e.g. weibo, douyin."),
            platform=cost.platform[:40] or "—",
        )
    return cost.platform


def record_cost(db: Session, *, workspace_id: int, cost: CostInput) -> tuple[CostEntry, bool]:
    """Store ``cost``, or update the stored cost with the same natural key; the entry and
    whether it is new."""
    kept, key = _checked(db, workspace_id, cost)
    entry, created = get_or_create(
        db,
        CostEntry,
        key={"workspace_id": workspace_id, "natural_key": key},
        defaults={
            "target": kept.target,
            "kind": kept.kind,
            "amount_fen": kept.amount_fen,
            "starts_on": kept.starts_on,
            "ends_on": kept.ends_on,
            "campaign_id": kept.campaign_id,
            "kol_id": kept.kol_id,
            "post_id": kept.post_id,
            "platform": kept.platform,
            "currency": kept.currency,
            "note": kept.note,
        },
    )
    if not created:
        entry.amount_fen = kept.amount_fen
        entry.note = kept.note
    return entry, created


def list_costs(db: Session, *, workspace_id: int) -> Sequence[CostEntry]:
    """The workspace's costs, latest days first."""
    return db.scalars(
        select(CostEntry)
        .where(CostEntry.workspace_id == workspace_id)
        .order_by(CostEntry.starts_on.desc(), CostEntry.id.desc())
        .limit(COSTS_LISTED)
    ).all()


def get_cost(db: Session, *, workspace_id: int, cost_id: int) -> CostEntry:
    """The workspace's cost ``cost_id``, else a UserError (404)."""
    entry = db.get(CostEntry, cost_id)
    if entry is None or entry.workspace_id != workspace_id:
        raise NotFoundError(N_("That cost is not in this workspace."))
    return entry


def overlap_share(starts_on: date, ends_on: date, first_day: date, last_day: date) -> float:
    """The share of a cost's days ``starts_on``..``ends_on`` that fall in the period."""
    start = max(starts_on, first_day)
    end = min(ends_on, last_day)
    if end < start:
        return 0.0
    return ((end - start).days + 1) / ((ends_on - starts_on).days + 1)


def period_costs(db: Session, *, workspace_id: int, first_day: date, last_day: date) -> CostTotals:
    """The costs of the days ``first_day``..``last_day``, each spread evenly over its days."""
    totals = CostTotals()
    rows = db.scalars(
        select(CostEntry).where(
            CostEntry.workspace_id == workspace_id,
            CostEntry.starts_on <= last_day,
            CostEntry.ends_on >= first_day,
            # A cost spans at most COST_MAX_DAYS, so its first day bounds the search.
            CostEntry.starts_on >= first_day - timedelta(days=COST_MAX_DAYS),
        )
    )
    for entry in rows:
        fen = entry.amount_fen * overlap_share(entry.starts_on, entry.ends_on, first_day, last_day)
        totals.total_fen += fen
        totals.illustrative = totals.illustrative or entry.illustrative
        if entry.campaign_id is not None:
            totals.by_campaign[entry.campaign_id] += fen
        if entry.kol_id is not None:
            totals.by_kol[entry.kol_id] += fen
        if entry.post_id is not None:
            totals.by_post[entry.post_id] += fen
        if entry.platform:
            totals.by_platform[entry.platform] += fen
    return totals
