"""KOLs and their promo codes: adding a KOL (with a fee, recorded as a KOL-fee cost), giving
them a code for a campaign, the codes' uses, and the leaderboard — each KOL's fee, clicks on
their tracked links, orders, revenue and ROAS over a period under the workspace's
attribution."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.catalog.service import get_catalog
from guanxi.convert import costs, flows
from guanxi.convert.models import (
    PROMO_CODE_MAX,
    CostKind,
    CostTarget,
    Kol,
    Order,
    OrderStatus,
    PromoCode,
    TrackedLink,
)
from guanxi.convert.reports import Line, RevenueReport, period_bounds
from guanxi.convert.store import convert_store
from guanxi.core.errors import N_, ConflictError, UserError

NAME_MAX = 120
HANDLE_MAX = 120
PROMO_CODE_MIN = 3  # shorter codes are typed by chance in an order note
# Letters (any script: a 口令 may be Chinese), digits, hyphens and underscores.
CODE_PATTERN = re.compile(r"^[\w-]+$")
MAX_KOLS = 5_000
MAX_CODES = 50_000


@dataclass(frozen=True)
class CodeUse:
    """A promo code with the paid orders that carried it (all time, before refunds)."""

    code: PromoCode
    uses: int
    revenue: float  # yuan


@dataclass(frozen=True)
class LeaderboardRow:
    """A KOL's period: fee and other costs, code uses, attributed orders and revenue."""

    kol: Kol
    line: Line  # revenue, orders, cost, ROAS...
    codes: int
    clicks: int = 0  # people's clicks (counted ones) on their tracked links in the period


def _platform(slug: str) -> str:
    slug = slug.strip().lower()
    if slug and get_catalog().get(slug) is None:
        raise UserError(
            N_("{platform} is not a platform guanxi knows: use its slug, e.g. weibo, douyin."),
            platform=slug[:40],
        )
    return slug


def create_kol(
    db: Session,
    *,
    workspace_id: int,
    name: str,
    platform: str = "",
    handle: str = "",
    fee_fen: int | None = None,
    fee_on: date | None = None,
) -> Kol:
    """Add a KOL; a fee is recorded as their KOL-fee cost of ``fee_on``."""
    name = name.strip()
    handle = handle.strip()
    if not name:
        raise UserError(N_("Write the KOL's name."))
    if len(name) > NAME_MAX or len(handle) > HANDLE_MAX:
        raise UserError(N_("A KOL's name and account are at most 120 characters: shorten them."))
    known = db.scalar(
        select(Kol.id).where(Kol.workspace_id == workspace_id, func.lower(Kol.name) == name.lower())
    )
    if known is not None:
        raise ConflictError(N_("A KOL named {name} is already listed."), name=name)
    count = db.scalar(select(func.count(Kol.id)).where(Kol.workspace_id == workspace_id)) or 0
    if count >= MAX_KOLS:
        raise UserError(N_("A workspace lists at most 5,000 KOLs."))
    kol = Kol(workspace_id=workspace_id, name=name, platform=_platform(platform), handle=handle)
    db.add(kol)
    db.flush()
    if fee_fen is not None:
        if fee_on is None:
            raise UserError(N_("Give the day of the KOL's fee."))
        costs.record_cost(
            db,
            workspace_id=workspace_id,
            cost=costs.CostInput(
                target=CostTarget.KOL,
                kind=CostKind.KOL_FEE,
                amount_fen=fee_fen,
                starts_on=fee_on,
                kol_id=kol.id,
            ),
        )
    return kol


def kol_in_workspace(db: Session, workspace_id: int, kol_id: int | None) -> Kol | None:
    """The workspace's KOL ``kol_id`` (None for none), else a UserError."""
    if kol_id is None:
        return None
    kol = db.get(Kol, kol_id)
    if kol is None or kol.workspace_id != workspace_id:
        raise UserError(N_("That KOL is not in this workspace: choose one from the list."))
    return kol


def list_kols(db: Session, *, workspace_id: int) -> Sequence[Kol]:
    """The workspace's KOLs by name."""
    return db.scalars(
        select(Kol).where(Kol.workspace_id == workspace_id).order_by(Kol.name).limit(MAX_KOLS)
    ).all()


def normal_code(code: str) -> str:
    """A promo code as stored and matched: stripped, upper case."""
    return code.strip().upper()


def create_code(
    db: Session,
    *,
    workspace_id: int,
    code: str,
    kol_id: int | None,
    campaign_id: int | None,
) -> PromoCode:
    """Give a KOL (and a campaign) a promo code, unique in the workspace whatever its case."""
    code = normal_code(code)
    if not PROMO_CODE_MIN <= len(code) <= PROMO_CODE_MAX:
        raise UserError(N_("A promo code is 3 to 40 characters: choose another."))
    if not CODE_PATTERN.match(code):
        raise UserError(
            N_("A promo code has letters, digits, - and _ only (no spaces): choose another.")
        )
    kol_in_workspace(db, workspace_id, kol_id)
    flows.campaign_in_workspace(db, workspace_id, campaign_id)
    taken = db.scalar(
        select(PromoCode.id).where(PromoCode.workspace_id == workspace_id, PromoCode.code == code)
    )
    if taken is not None:
        raise ConflictError(
            N_("The code {code} is already given out in this workspace: choose another."),
            code=code,
        )
    count = db.scalar(
        select(func.count(PromoCode.id)).where(PromoCode.workspace_id == workspace_id)
    )
    if (count or 0) >= MAX_CODES:
        raise UserError(N_("A workspace has at most 50,000 promo codes."))
    promo = PromoCode(workspace_id=workspace_id, code=code, kol_id=kol_id, campaign_id=campaign_id)
    db.add(promo)
    db.flush()
    return promo


def code_uses(db: Session, *, workspace_id: int) -> list[CodeUse]:
    """The workspace's promo codes, newest first, with the paid orders that carried them."""
    codes = db.scalars(
        select(PromoCode)
        .where(PromoCode.workspace_id == workspace_id)
        .order_by(PromoCode.created_at.desc(), PromoCode.id.desc())
        .limit(MAX_CODES)
    ).all()
    totals = {
        code: (int(count), int(amount or 0))
        for code, count, amount in db.execute(
            select(Order.promo_code, func.count(Order.id), func.sum(Order.amount_fen))
            .where(
                Order.workspace_id == workspace_id,
                Order.status == OrderStatus.PAID,
                Order.promo_code != "",
            )
            .group_by(Order.promo_code)
        )
    }
    return [
        CodeUse(
            code=code,
            uses=totals.get(code.code, (0, 0))[0],
            revenue=round(totals.get(code.code, (0, 0))[1] / 100, 2),
        )
        for code in codes
    ]


def kol_clicks(db: Session, *, workspace_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """People's clicks (counted: not bots, once an hour) in [``start``, ``end``) on each
    KOL's tracked links."""
    kol_of: dict[int, int] = {
        link_id: kol_id
        for link_id, kol_id in db.execute(
            select(TrackedLink.id, TrackedLink.kol_id).where(
                TrackedLink.workspace_id == workspace_id, TrackedLink.kol_id.is_not(None)
            )
        )
        if kol_id is not None
    }
    per_link = convert_store(db).counted_by_link(
        workspace_id=workspace_id, link_ids=list(kol_of), start=start, end=end
    )
    found: Counter[int] = Counter()
    for link_id, count in per_link.items():
        found[kol_of[link_id]] += count
    return dict(found)


def leaderboard(
    db: Session, *, workspace_id: int, report: RevenueReport, zone: str
) -> list[LeaderboardRow]:
    """Every KOL with their figures of ``report``'s period (its days in ``zone``), largest
    revenue first (a KOL with no order and no cost is listed too, at the end)."""
    lines = {line.key: line for line in report.kols if line.key}
    start, end = period_bounds(report.first_day, report.last_day, zone)
    clicks = kol_clicks(db, workspace_id=workspace_id, start=start, end=end)
    code_counts = dict(
        db.execute(
            select(PromoCode.kol_id, func.count(PromoCode.id))
            .where(PromoCode.workspace_id == workspace_id, PromoCode.kol_id.is_not(None))
            .group_by(PromoCode.kol_id)
        ).all()
    )
    rows = [
        LeaderboardRow(
            kol=kol,
            line=lines.get(str(kol.id), Line(key=str(kol.id), name=kol.name, revenue=0, orders=0)),
            codes=int(code_counts.get(kol.id, 0)),
            clicks=clicks.get(kol.id, 0),
        )
        for kol in list_kols(db, workspace_id=workspace_id)
    ]
    return sorted(rows, key=lambda row: (-row.line.revenue, -(row.line.cost or 0), row.kol.name))
