"""The data-driven model over WeChat paths: the Markov removal effect (``attribution.markov``)
on the paths of people guanxi can follow, one OpenID each.

A person's path is the WeChat scene codes they scanned or followed through, in order. A
paid order carrying their OpenID ends a **converting** path: the codes they touched within
the lookback window before it. A person who touched codes in the period and paid nothing
is a path to nowhere. Each code's share of the conversions is its removal effect,
normalised; the revenue and orders of the converting paths are shared by those shares and
passed to each code's campaign, post, KOL and platform.

This is a **model estimate**, not an identifier-based attribution of each order: it says
how much the paths would lose without a code. Tracked-link clicks are left out: a click is
tied to an OpenID only when an order carries both, so it would appear on converting paths
only and its removal effect would be overstated. Orders without an OpenID, or whose buyer
touched no code in the window, are on no visible path and are counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert.attribution.engine import Credit, refunded_fen
from guanxi.convert.attribution.markov import markov_removal_effects
from guanxi.convert.follows import code_targets
from guanxi.convert.models import Order, OrderStatus
from guanxi.convert.store import convert_store

MAX_PEOPLE = 200_000  # paths read for one estimate; more is a sample of the first ones


@dataclass
class PathAttribution:
    """A period's converting WeChat paths shared among codes by their removal effects."""

    window_days: int
    start: datetime
    end: datetime
    people: int = 0  # paths read (people who touched a code)
    converting_paths: int = 0  # orders at the end of a path
    on_paths: Credit = field(default_factory=Credit)  # the revenue and orders shared out
    off_paths: Credit = field(default_factory=Credit)  # OpenID orders with no code touched
    effects: dict[int, float] = field(default_factory=dict)  # code id → share
    by_code: dict[int, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_campaign: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_post: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_kol: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_platform: dict[str, Credit] = field(default_factory=lambda: defaultdict(Credit))


def _touches(
    db: Session, workspace_id: int, since: datetime, until: datetime
) -> dict[str, list[tuple[datetime, int]]]:
    """Each OpenID's scans and follows of codes in [``since``, ``until``), oldest first."""
    touched: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    rows = convert_store(db).code_paths(workspace_id=workspace_id, since=since, until=until)
    for openid, at, code_id in rows:
        if openid in touched or len(touched) < MAX_PEOPLE:
            touched[openid].append((at, code_id))
    return touched


def _orders(
    db: Session, workspace_id: int, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, int]]]:
    """Each OpenID's paid orders in [``start``, ``end``) with their net revenue (fen)."""
    refunded = refunded_fen(workspace_id)
    found: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for openid, at, amount, back in db.execute(
        select(Order.openid, Order.ordered_at, Order.amount_fen, refunded)
        .where(
            Order.workspace_id == workspace_id,
            Order.status == OrderStatus.PAID,
            Order.openid != "",
            Order.ordered_at >= start,
            Order.ordered_at < end,
        )
        .order_by(Order.openid, Order.ordered_at)
    ):
        found[openid].append((at, max(int(amount) - int(back or 0), 0)))
    return found


def markov_attribution(
    db: Session, *, workspace_id: int, start: datetime, end: datetime, window_days: int = 30
) -> PathAttribution:
    """Share the period's OpenID orders among the codes on their buyers' paths by the codes'
    removal effects (see the module)."""
    window = timedelta(days=window_days)
    result = PathAttribution(window_days=window_days, start=start, end=end)
    touched = _touches(db, workspace_id, start - window, end)
    orders = _orders(db, workspace_id, start, end)
    paths: list[tuple[list[Hashable], bool]] = []
    people: set[str] = set()
    converted: list[int] = []  # each converting path's net revenue (fen)
    for openid, bought in orders.items():
        events = touched.get(openid, [])
        for ordered_at, net in bought:
            path: list[Hashable] = [
                code for at, code in events if ordered_at - window <= at <= ordered_at
            ]
            if not path:
                result.off_paths.add(net, 1)
                continue
            paths.append((path, True))
            people.add(openid)
            converted.append(net)
    for openid, events in touched.items():
        if openid not in orders:
            idle: list[Hashable] = [code for at, code in events if at >= start]
            if idle:
                paths.append((idle, False))
                people.add(openid)
    result.people = len(people)
    result.converting_paths = len(converted)
    if not converted:
        return result
    result.on_paths.add(sum(converted), len(converted))
    effects = markov_removal_effects(paths)
    result.effects = {code: share for code, share in effects.items() if isinstance(code, int)}
    _share_out(db, workspace_id, result)
    return result


def _share_out(db: Session, workspace_id: int, result: PathAttribution) -> None:
    """Credit each code, and what it was made for, its share of the converting paths."""
    made = code_targets(db, workspace_id=workspace_id, code_ids=list(result.effects))
    for code_id, share in result.effects.items():
        if not share or code_id not in made:
            continue
        revenue, orders = result.on_paths.revenue_fen * share, result.on_paths.orders * share
        campaign_id, post_id, kol_id, platform = made[code_id]
        result.by_code[code_id].add(revenue, orders)
        result.by_campaign[campaign_id].add(revenue, orders)
        result.by_post[post_id].add(revenue, orders)
        result.by_kol[kol_id].add(revenue, orders)
        result.by_platform[platform].add(revenue, orders)
