"""Crediting a period's orders to the campaigns, posts, KOLs and platforms that brought them.

An order is joined to its touches only through identifiers it carries:

- ``click_id`` → the tracked link's click (a person's, within the lookback window before
  the order) → the link's campaign, post and KOL; the platform is the app the click came
  from;
- ``promo_code`` → the workspace's promo code → its KOL and campaign (touched at the order);
- Douyin's ``author_id`` → the KOL whose handle it is (touched at the order);
- ``openid`` (a WeChat Pay order, or the conversion API's) → that WeChat user's scans and
  follows of the workspace's scene codes within the window → each code's campaign, post
  and KOL; the platform is the code's account's;
- ``scene`` (the mini program's, from a mini-program code or URL Link) → the code with that
  scene (touched at the order).

Each paid order's net revenue (paid minus refunds) and the order itself are shared among
its touches by the model's shares. An order with no touch is **unattributed**, reported as
its own line, never spread over the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.convert.attribution.weights import DEFAULT_HALF_LIFE, AttributionModel, shares
from guanxi.convert.models import (
    Kol,
    Order,
    OrderRefund,
    OrderStatus,
    PromoCode,
    TrackedLink,
)
from guanxi.convert.scene_models import SceneCode
from guanxi.convert.store import convert_store
from guanxi.core.in_lists import among

LOOKBACK_DAYS = (7, 15, 30)  # JD's and Xiaohongshu's windows, and a month
CHUNK = 10_000


@dataclass(frozen=True)
class Touch:
    """One thing an order can be credited to, and when it touched the buyer."""

    at: datetime
    campaign_id: int | None = None
    post_id: int | None = None
    kol_id: int | None = None
    platform: str = ""
    code_id: int | None = None


@dataclass
class Credit:
    """Revenue (fen) and orders credited to one campaign, post, KOL or platform (fractions:
    a shared order is split)."""

    revenue_fen: float = 0.0
    orders: float = 0.0

    def add(self, revenue_fen: float, orders: float) -> None:
        """Add a share of an order."""
        self.revenue_fen += revenue_fen
        self.orders += orders


@dataclass
class Attribution:
    """A period's orders under one model and window: totals, what was attributed to each
    campaign, post, KOL and platform, and what could not be."""

    model: AttributionModel
    window_days: int
    start: datetime
    end: datetime
    total: Credit = field(default_factory=Credit)
    unattributed: Credit = field(default_factory=Credit)
    by_campaign: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_post: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_kol: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_platform: dict[str, Credit] = field(default_factory=lambda: defaultdict(Credit))
    by_code: dict[int | None, Credit] = field(default_factory=lambda: defaultdict(Credit))

    @property
    def attributed(self) -> Credit:
        """What was credited to some touch."""
        return Credit(
            revenue_fen=self.total.revenue_fen - self.unattributed.revenue_fen,
            orders=self.total.orders - self.unattributed.orders,
        )


@dataclass(frozen=True, slots=True)
class PaidOrder:
    """What attribution reads of an order, with its refunds and the click it names (a
    person's, stored; else the click fields are empty)."""

    id: int
    source: str
    external_id: str
    ordered_at: datetime
    amount_fen: int
    click_id: str
    promo_code: str
    author_id: str
    refunded_fen: int = 0
    clicked_at: datetime | None = None
    click_platform: str = ""
    click_campaign_id: int | None = None
    click_post_id: int | None = None
    openid: str = ""
    scene: str = ""
    click_kol_id: int | None = None


@dataclass
class _Lookups:
    """What touches are read from, loaded once per report."""

    codes: dict[str, tuple[int | None, int | None, str]]  # code → kol, campaign, platform
    creators: dict[str, tuple[int, str]]  # Douyin author id → kol, platform
    # scene → code, campaign, post, KOL, platform (live codes win over archived ones)
    scenes: dict[str, tuple[int, int | None, int | None, int | None, str]] = field(
        default_factory=dict
    )
    code_by_id: dict[int, tuple[int, int | None, int | None, int | None, str]] = field(
        default_factory=dict
    )


def attribute(
    db: Session,
    *,
    workspace_id: int,
    start: datetime,
    end: datetime,
    model: AttributionModel = AttributionModel.LAST_TOUCH,
    window_days: int = 30,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> Attribution:
    """Credit the paid orders placed in [``start``, ``end``) under ``model``."""
    result = Attribution(model=model, window_days=window_days, start=start, end=end)
    lookups = _lookups(db, workspace_id)
    window = timedelta(days=window_days)
    for orders in _paid_orders(db, workspace_id, start, end):
        scans = _scans(db, workspace_id, orders, window)
        for order in orders:
            net = max(order.amount_fen - order.refunded_fen, 0)
            result.total.add(net, 1)
            touches = _touches(order, lookups, window)
            touches += _code_touches(order, scans, lookups, window)
            touches.sort(key=lambda touch: touch.at)
            if not touches:
                result.unattributed.add(net, 1)
                continue
            at = [touch.at for touch in touches]
            for touch, share in zip(
                touches,
                shares(model, at, ordered_at=order.ordered_at, half_life=half_life),
                strict=True,
            ):
                if share:
                    _credit(result, touch, net * share, share)
    return result


def _credit(result: Attribution, touch: Touch, revenue: float, orders: float) -> None:
    result.by_campaign[touch.campaign_id].add(revenue, orders)
    result.by_post[touch.post_id].add(revenue, orders)
    result.by_kol[touch.kol_id].add(revenue, orders)
    result.by_platform[touch.platform].add(revenue, orders)
    if touch.code_id is not None:
        result.by_code[touch.code_id].add(revenue, orders)


def _lookups(db: Session, workspace_id: int) -> _Lookups:
    kols = {
        kol_id: (platform, handle)
        for kol_id, platform, handle in db.execute(
            select(Kol.id, Kol.platform, Kol.handle).where(Kol.workspace_id == workspace_id)
        )
    }
    codes = {
        code: (kol_id, campaign_id, kols.get(kol_id, ("", ""))[0] if kol_id else "")
        for code, kol_id, campaign_id in db.execute(
            select(PromoCode.code, PromoCode.kol_id, PromoCode.campaign_id).where(
                PromoCode.workspace_id == workspace_id
            )
        )
    }
    creators = {
        handle: (kol_id, platform)
        for kol_id, (platform, handle) in kols.items()
        if handle and platform == "douyin"
    }
    platforms: dict[int, str] = dict(
        db.execute(
            select(Channel.id, Channel.platform).where(Channel.workspace_id == workspace_id)
        ).all()
    )
    rows = [
        (scene, (code_id, campaign_id, post_id, kol_id, platforms.get(channel_id, "")))
        for code_id, scene, campaign_id, post_id, kol_id, channel_id in db.execute(
            select(
                SceneCode.id,
                SceneCode.scene,
                SceneCode.campaign_id,
                SceneCode.post_id,
                SceneCode.kol_id,
                SceneCode.channel_id,
            )
            .where(SceneCode.workspace_id == workspace_id)
            .order_by(SceneCode.archived_at.is_(None), SceneCode.id)  # live ones last: they win
        )
    ]
    scenes = dict(rows)
    by_id = {entry[0]: entry for _scene, entry in rows}
    return _Lookups(codes=codes, creators=creators, scenes=scenes, code_by_id=by_id)


def refunded_fen(workspace_id: int) -> ScalarSelect[int]:
    """The refunds of the order a query reads (fen; 0 for none), as a column of it."""
    return (
        select(func.coalesce(func.sum(OrderRefund.amount_fen), 0))
        .where(
            OrderRefund.workspace_id == workspace_id,
            OrderRefund.order_external_id == Order.external_id,
            OrderRefund.source == Order.source,
        )
        .scalar_subquery()
    )


def _paid_orders(
    db: Session, workspace_id: int, start: datetime, end: datetime
) -> Iterator[Sequence[PaidOrder]]:
    """The period's paid orders with their refunds and clicks, in chunks: the orders joined
    to their refunds in the database and streamed (a server-side cursor on PostgreSQL), so
    memory stays flat and no order is read twice; the store pairs each with its click (the
    SQL store in the same statement), and each link's campaign, post and KOL is read once."""
    orders = select(
        Order.id,
        Order.source,
        Order.external_id,
        Order.ordered_at,
        Order.amount_fen,
        Order.click_id,
        Order.promo_code,
        Order.author_id,
        refunded_fen(workspace_id),
        Order.openid,
        Order.scene,
    ).where(
        Order.workspace_id == workspace_id,
        Order.status == OrderStatus.PAID,
        Order.ordered_at >= start,
        Order.ordered_at < end,
    )
    made_for: dict[int, tuple[int | None, int | None, int | None]] = {}
    nothing = (None, None, None)
    for chunk in convert_store(db).order_clicks(orders, workspace_id=workspace_id, chunk=CHUNK):
        new_links = {
            click.link_id
            for _row, click in chunk
            if click is not None and click.link_id not in made_for
        }
        if new_links:
            made_for.update(dict.fromkeys(new_links, nothing))  # a deleted link: no campaign
            made_for.update(
                (link_id, (campaign_id, post_id, kol_id))
                for link_id, campaign_id, post_id, kol_id in db.execute(
                    select(
                        TrackedLink.id,
                        TrackedLink.campaign_id,
                        TrackedLink.post_id,
                        TrackedLink.kol_id,
                    ).where(among(db, TrackedLink.id, sorted(new_links)))
                )
            )
        paid: list[PaidOrder] = []
        for row, click in chunk:
            campaign_id, post_id, kol_id = made_for[click.link_id] if click else nothing
            paid.append(
                PaidOrder(
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    row[7],
                    int(row[8] or 0),
                    click.clicked_at if click else None,
                    click.platform if click else "",
                    campaign_id,
                    post_id,
                    row[9] or "",
                    row[10] or "",
                    kol_id,
                )
            )
        yield paid


def _scans(
    db: Session,
    workspace_id: int,
    orders: Sequence[PaidOrder],
    window: timedelta,
) -> dict[str, list[tuple[datetime, int]]]:
    """The scans and follows of a code by the OpenIDs the chunk's orders carry, within the
    window before the newest: OpenID → [(time, code id)]."""
    ids = {order.openid for order in orders if order.openid}
    if not ids:
        return {}
    since = min(order.ordered_at for order in orders if order.openid) - window
    until = max(order.ordered_at for order in orders if order.openid)
    return convert_store(db).scans_of(
        workspace_id=workspace_id, openids=ids, since=since, until=until
    )


def _code_touches(
    order: PaidOrder,
    scans: dict[str, list[tuple[datetime, int]]],
    lookups: _Lookups,
    window: timedelta,
) -> list[Touch]:
    """The order's touches through WeChat: its buyer's scans and follows, its scene."""
    touches: list[Touch] = []
    for at, code_id in scans.get(order.openid, []) if order.openid else []:
        code = lookups.code_by_id.get(code_id)
        if code is not None and order.ordered_at - window <= at <= order.ordered_at:
            _id, campaign_id, post_id, kol_id, platform = code
            touches.append(Touch(at, campaign_id, post_id, kol_id, platform, code_id))
    scene = lookups.scenes.get(order.scene) if order.scene else None
    if scene is not None:
        code_id, campaign_id, post_id, kol_id, platform = scene
        touches.append(Touch(order.ordered_at, campaign_id, post_id, kol_id, platform, code_id))
    return touches


def _touches(order: PaidOrder, lookups: _Lookups, window: timedelta) -> list[Touch]:
    """The order's touches, oldest first."""
    touches: list[Touch] = []
    clicked_at = order.clicked_at
    if clicked_at is not None and order.ordered_at - window <= clicked_at <= order.ordered_at:
        touches.append(
            Touch(
                clicked_at,
                order.click_campaign_id,
                order.click_post_id,
                order.click_kol_id,
                order.click_platform,
            )
        )
    code = lookups.codes.get(order.promo_code) if order.promo_code else None
    if code is not None:
        kol_id, campaign_id, platform = code
        touches.append(Touch(order.ordered_at, campaign_id, None, kol_id, platform))
    creator = lookups.creators.get(order.author_id) if order.author_id else None
    if creator is not None:
        kol_id, platform = creator
        touches.append(Touch(order.ordered_at, None, None, kol_id, platform))
    return sorted(touches, key=lambda touch: touch.at)
