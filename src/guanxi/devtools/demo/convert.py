"""The conversions part of the demo workspace: the brand's Tmall store and mini-program
orders over the analytics' 180 days, with the campaigns, KOLs, promo codes and tracked
links that brought some of them.

Three campaigns (Qixi, Mid-Autumn gifts, Double 11) each have a tracked link to the Tmall
store and a KOL with a promo code. Clicks follow the campaigns (more during them, from
WeChat, Weibo, Douyin and Xiaohongshu's browsers, some bots); a share of the mini program's
orders carries a click id, a share of the Tmall orders a KOL's code, and the rest carry
nothing and stay unattributed, as they would. Every other published demo post has a tracked
link to the brand's mini program (``load_demo_post_sales``: the posts come with the
accounts' analytics history, after the demo steps), clicked in the days after it went out,
mostly in its own platform's app, and some of those clicks end in a mini-program order.
Each campaign has a budget over its days and its KOL a fee, and Douyin ad
spend runs beside Double 11, so the pages show ROAS and cost per order. Every order, click
and cost is flagged ``illustrative``. Seeded, so every demo is the same; nothing is written
twice.

The Mid-Autumn campaign ran in four provinces only (its treated regions are set): its lift
is planted in their orders alone, so the incremental estimate by region has a true effect
to find (about ``lift - 1`` times a province's usual orders a day in each).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import ChannelContext, ConnectorConfig, Token
from guanxi.connectors.push import CodeScanned
from guanxi.connectors.scene_codes import MakesSceneCodes
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.convert import code_events, codes, costs, links
from guanxi.convert.models import (
    CampaignRegions,
    ConversionCreate,
    CostKind,
    CostTarget,
    Kol,
    Order,
    OrderRefund,
    OrderStatus,
    PromoCode,
    TrackedLink,
)
from guanxi.convert.orders.service import record_conversion
from guanxi.convert.scene_models import CodeKind, SceneCode
from guanxi.convert.store import convert_store
from guanxi.convert.store.base import ClickFact
from guanxi.core.db import utcnow
from guanxi.devtools.demo import DemoStep
from guanxi.publishing.models import Campaign, Post, Variant, VariantState
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    WechatSandbox,
    surface_of,
)

HISTORY_DAYS = 180
SEED = 20131  # the demo's, for every run to write the same orders
STORE = "https://provence-wines.tmall.com/"
MINI_PROGRAM = "https://shop.provence-wines.example/mp"
PRICES_FEN = (16_800, 26_800, 39_800, 68_800, 128_800)  # a bottle, a gift box, a case...
CLICK_TO_ORDER_DAYS = 20
APPS = ("wechat", "wechat", "wechat", "weibo", "douyin", "xiaohongshu", "")
PROVINCES = (
    "上海", "广东", "北京", "浙江", "江苏", "四川", "福建", "湖北",
    "山东", "河南", "湖南", "天津", "重庆", "陕西", "辽宁", "安徽",
)  # fmt: skip


@dataclass(frozen=True)
class DemoCampaign:
    """A campaign of the demo, days before today that it starts and ends, its KOL."""

    name: str
    color: str
    starts_days_ago: int
    ends_days_ago: int
    kol: str
    platform: str
    handle: str
    code: str
    lift: float  # how many times the usual orders a day during the campaign
    budget_yuan: int = 0  # spread over the campaign's days
    fee_yuan: int = 0  # the KOL's, paid on the first day
    regions: tuple[str, ...] = ()  # where it ran, when not everywhere (lifted there only)


CAMPAIGNS = (
    DemoCampaign(
        "七夕 Qixi rosé for two",
        "#e84393",
        120,
        112,
        "酒知道小王",
        "douyin",
        "71234567",
        "QIXI520",
        1.8,
        budget_yuan=30_000,
        fee_yuan=8_000,
    ),
    DemoCampaign(
        "中秋 Mid-Autumn gift boxes",
        "#e67e22",
        85,
        70,
        "Lina 的餐桌",
        "xiaohongshu",
        "5f1a2b",
        "MOON88",
        2.4,
        budget_yuan=60_000,
        fee_yuan=15_000,
        regions=("上海", "浙江", "江苏", "广东"),
    ),
    DemoCampaign(
        "双十一 Double 11",
        "#c0392b",
        35,
        25,
        "葡萄酒君",
        "weibo",
        "1902345678",
        "D11VIP",
        3.5,
        budget_yuan=120_000,
        fee_yuan=25_000,
    ),
)


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add the demo's orders, clicks, KOLs, promo codes and links (once), and its WeChat
    scene codes once the WeChat account is connected."""
    if db.scalar(select(Order.id).where(Order.workspace_id == workspace.id).limit(1)) is None:
        _load_orders(db, workspace=workspace)
    load_demo_codes(db, workspace=workspace)


def _load_orders(db: Session, *, workspace: Workspace) -> None:
    """The orders, clicks, KOLs, promo codes, links and costs."""
    rng = random.Random(SEED)  # noqa: S311 - made-up demo orders, no secret
    today = utcnow().astimezone(ZoneInfo(workspace.timezone)).date()
    campaigns = [_campaign(db, workspace, demo, today) for demo in CAMPAIGNS]
    kol_ids = dict(
        db.execute(select(Kol.name, Kol.id).where(Kol.workspace_id == workspace.id)).all()
    )
    # Each campaign's KOL shares its store link: their clicks are on the KOL leaderboard.
    campaign_links = [
        links.create_link(
            db,
            workspace_id=workspace.id,
            link=links.LinkInput(
                url=STORE,
                label=f"Tmall · {campaign.name}",
                campaign_id=campaign.id,
                kol_id=kol_ids.get(demo.kol),
            ),
            created_by_id=None,
        )
        for demo, campaign in zip(CAMPAIGNS, campaigns, strict=True)
    ]
    db.flush()
    clicks: list[ClickFact] = []
    orders: list[Order] = []
    recent: deque[list[ClickFact]] = deque(maxlen=CLICK_TO_ORDER_DAYS)
    zone = ZoneInfo(workspace.timezone)
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=back)
        running = [
            (demo, campaign, link)
            for demo, campaign, link in zip(CAMPAIGNS, campaigns, campaign_links, strict=True)
            if demo.ends_days_ago <= back <= demo.starts_days_ago
        ]
        lift = max((demo.lift for demo, _c, _l in running if not demo.regions), default=1.0)
        # During a campaign its link is shared; between campaigns, all of them go on working.
        day_links = [link for _d, _c, link in running] or campaign_links
        day_clicks = [
            _click(rng, workspace, rng.choice(day_links), day, zone, len(clicks) + n)
            for n in range(int(rng.gauss(18, 5) * lift))
        ]
        clicks.extend(day_clicks)
        # A buyer pays within days of the click, sometimes during the next campaign.
        recent.append([click for click in day_clicks if not click.bot])
        people = [click for day_people in recent for click in day_people]
        day_orders = [rng.choice(PROVINCES) for _ in range(max(int(rng.gauss(9, 3) * lift), 0))]
        for demo, _c, _l in running:  # a regional campaign's extra orders, in its regions
            extra = rng.gauss(9, 3) * (demo.lift - 1) * len(demo.regions) / len(PROVINCES)
            day_orders += [rng.choice(demo.regions) for _ in range(max(round(extra), 0))]
        orders.extend(
            _order(rng, workspace, day, zone, n, running, people, province)
            for n, province in enumerate(day_orders)
        )
    convert_store(db).write_clicks(clicks)
    db.add_all(orders)
    db.add_all(_refunds(rng, workspace, orders))
    db.commit()


def _campaign(db: Session, workspace: Workspace, demo: DemoCampaign, today: date) -> Campaign:
    campaign = db.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace.id, Campaign.name == demo.name)
    )
    if campaign is None:
        campaign = Campaign(
            workspace_id=workspace.id,
            name=demo.name,
            color=demo.color,
            starts_on=today - timedelta(days=demo.starts_days_ago),
            ends_on=today - timedelta(days=demo.ends_days_ago),
        )
        db.add(campaign)
        db.flush()
    kol = Kol(workspace_id=workspace.id, name=demo.kol, platform=demo.platform, handle=demo.handle)
    db.add(kol)
    db.flush()
    db.add(
        PromoCode(workspace_id=workspace.id, code=demo.code, kol_id=kol.id, campaign_id=campaign.id)
    )
    starts_on = today - timedelta(days=demo.starts_days_ago)
    ends_on = today - timedelta(days=demo.ends_days_ago)
    spent = [
        costs.CostInput(
            target=CostTarget.CAMPAIGN,
            kind=CostKind.CAMPAIGN_BUDGET,
            amount_fen=demo.budget_yuan * 100,
            starts_on=starts_on,
            ends_on=ends_on,
            campaign_id=campaign.id,
            note="示意预算 Illustrative budget",
        ),
        costs.CostInput(
            target=CostTarget.KOL,
            kind=CostKind.KOL_FEE,
            amount_fen=demo.fee_yuan * 100,
            starts_on=starts_on,
            kol_id=kol.id,
            note="示意达人费用 Illustrative fee",
        ),
    ]
    if demo.platform == "weibo":  # Double 11's paid reach on Douyin, beside the KOL
        spent.append(
            costs.CostInput(
                target=CostTarget.PLATFORM,
                kind=CostKind.AD_SPEND,
                amount_fen=40_000 * 100,
                starts_on=starts_on,
                ends_on=ends_on,
                platform="douyin",
                note="示意抖音投放 Illustrative Douyin ad spend",
            )
        )
    for cost in spent:
        entry, _created = costs.record_cost(db, workspace_id=workspace.id, cost=cost)
        entry.illustrative = True
    if demo.regions:  # the days its orders are lifted in its regions
        db.add(
            CampaignRegions(
                workspace_id=workspace.id,
                campaign_id=campaign.id,
                regions=",".join(demo.regions),
                starts_on=today - timedelta(days=demo.starts_days_ago),
                ends_on=today - timedelta(days=demo.ends_days_ago),
            )
        )
    return campaign


def _moment(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    """A time of ``day`` when Chinese shoppers are awake (most at lunch and in the evening)."""
    hour = rng.choice((9, 10, 12, 12, 13, 15, 18, 20, 20, 21, 21, 22, 23))
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), zone)
    return local.astimezone(UTC)


def _click(
    rng: random.Random,
    workspace: Workspace,
    link: TrackedLink,
    day: date,
    zone: ZoneInfo,
    n: int,
    *,
    prefix: str = "demo",
    apps: tuple[str, ...] = APPS,
) -> ClickFact:
    at = _moment(rng, day, zone)
    bot = rng.random() < 0.06
    return ClickFact(
        click_id=f"{prefix}{day:%Y%m%d}{n:06d}",
        link_id=link.id,
        workspace_id=workspace.id,
        clicked_at=at,
        hour=int(at.timestamp()) // 3600,
        visitor=f"{prefix}-visitor-{n}",
        platform="" if bot else rng.choice(apps),
        device="desktop" if bot else rng.choice(("phone", "phone", "phone", "desktop", "tablet")),
        bot=bot,
        illustrative=True,
    )


def _order(
    rng: random.Random,
    workspace: Workspace,
    day: date,
    zone: ZoneInfo,
    n: int,
    running: list[tuple[DemoCampaign, Campaign, TrackedLink]],
    people: list[ClickFact],
    province: str,
) -> Order:
    at = _moment(rng, day, zone)
    mini_program = rng.random() < 0.35
    identifiers: dict[str, str] = {}
    if mini_program and people and rng.random() < 0.55:
        click = rng.choice(people)
        identifiers["click_id"] = click.click_id
        at = max(at, click.clicked_at + timedelta(minutes=rng.randrange(2, 90)))
        if running and rng.random() < 0.4:  # clicked a post, then paid with a KOL's code
            identifiers["promo_code"] = rng.choice(running)[0].code
    elif not mini_program and running and rng.random() < 0.3:
        identifiers["promo_code"] = rng.choice(running)[0].code
    price = rng.choice(PRICES_FEN)
    quantity = rng.choice((1, 1, 1, 2, 2, 3, 6))
    return Order(
        workspace_id=workspace.id,
        source="api" if mini_program else "tmall",
        external_id=f"{'MP' if mini_program else 'TM'}{day:%y%m%d}{n:04d}",
        status=OrderStatus.PAID if rng.random() > 0.04 else OrderStatus.CANCELLED,
        ordered_at=at,
        paid_at=at + timedelta(seconds=rng.randrange(5, 300)),
        amount_fen=price * quantity,
        shop="Provence Wines 旗舰店" if not mini_program else "Provence Wines 小程序",
        items="普罗旺斯桃红葡萄酒 750ml" if price < 30_000 else "普罗旺斯桃红礼盒",
        quantity=quantity,
        province=province,
        illustrative=True,
        **identifiers,
    )


POST_LINK_EVERY = 2  # every other published post carries a link to the mini program
POST_CLICK_DAYS = 6  # a post's link is clicked on the days after it went out, fewer each day
POST_ORDER_SHARE = 0.07  # people who clicked a post's link and then paid in the mini program


def load_demo_post_sales(db: Session, *, workspace: Workspace) -> None:
    """Tracked links on the demo's published posts, their clicks and the mini-program orders
    that carry those clicks' ids (once): the revenue page's "by post" and a post's revenue.

    The posts come with the accounts' analytics history, which is loaded after the demo steps
    (``stack.load_demo_channels``), so this part runs there."""
    has_post_links = db.scalar(
        select(TrackedLink.id)
        .where(TrackedLink.workspace_id == workspace.id, TrackedLink.post_id.is_not(None))
        .limit(1)
    )
    if has_post_links is not None:
        return
    zone = ZoneInfo(workspace.timezone)
    today = utcnow().astimezone(zone).date()
    published = db.execute(
        select(Post.id, Post.title, Post.created_at, Channel.platform)
        .join(Variant, Variant.post_id == Post.id)
        .join(Channel, Channel.id == Variant.channel_id)
        .where(
            Post.workspace_id == workspace.id,
            Variant.state == VariantState.PUBLISHED,
            Post.created_at >= utcnow() - timedelta(days=HISTORY_DAYS),
        )
        .order_by(Post.id)
    ).all()
    rng = random.Random(SEED + 1)  # noqa: S311 - made-up demo clicks, no secret
    clicks: list[ClickFact] = []
    orders: list[Order] = []
    first_channel: dict[int, tuple[str, datetime, str]] = {
        post_id: (title, created_at, platform)
        for post_id, title, created_at, platform in reversed(published)
    }  # a post's first channel, when it went out on several
    campaigns = db.execute(
        select(Campaign.id, Campaign.starts_on, Campaign.ends_on).where(
            Campaign.workspace_id == workspace.id,
            Campaign.name.in_([demo.name for demo in CAMPAIGNS]),
        )
    ).all()
    went_out = {
        post_id: created_at.replace(tzinfo=UTC).astimezone(zone).date()
        for post_id, (_title, created_at, _platform) in first_channel.items()
    }
    # A post that went out during a campaign is one of its posts: the funnel reads its views,
    # and its link counts for the campaign too.
    campaign_of = {
        post_id: key
        for post_id, day in went_out.items()
        for key, starts, ends in campaigns
        if starts is not None and ends is not None and starts <= day <= ends
    }
    for post_id, key in campaign_of.items():
        db.execute(
            update(Post)
            .where(Post.id == post_id, Post.campaign_id.is_(None))
            .values(campaign_id=key)
        )
    for post_id, (title, _created_at, platform) in sorted(first_channel.items())[::POST_LINK_EVERY]:
        link = links.create_link(
            db,
            workspace_id=workspace.id,
            link=links.LinkInput(
                url=MINI_PROGRAM,
                label=f"Mini program · {title}",
                post_id=post_id,
                campaign_id=campaign_of.get(post_id),
            ),
            created_by_id=None,
        )
        db.flush()
        # Mostly people reading the post in its own platform's app, some shared it onwards.
        apps = (platform, platform, platform, *APPS)
        for after in range(POST_CLICK_DAYS):
            day = went_out[post_id] + timedelta(days=after)
            if day >= today:
                break
            for _ in range(max(round(rng.gauss(14, 4) / (after + 1)), 0)):
                click = _click(
                    rng, workspace, link, day, zone, len(clicks), prefix="demopost", apps=apps
                )
                clicks.append(click)
                if not click.bot and rng.random() < POST_ORDER_SHARE:
                    orders.append(_post_order(rng, workspace, click, len(orders)))
    convert_store(db).write_clicks(clicks)
    db.add_all(orders)
    db.add_all(_refunds(rng, workspace, orders))
    db.commit()


def _post_order(rng: random.Random, workspace: Workspace, click: ClickFact, n: int) -> Order:
    """A mini-program order paid within hours of a click on a post's link, carrying its id."""
    at = click.clicked_at + timedelta(minutes=rng.randrange(3, 240))
    price = rng.choice(PRICES_FEN)
    quantity = rng.choice((1, 1, 1, 2, 2, 3, 6))
    return Order(
        workspace_id=workspace.id,
        source="api",
        external_id=f"MPP{at:%y%m%d}{n:05d}",
        status=OrderStatus.PAID if rng.random() > 0.04 else OrderStatus.CANCELLED,
        ordered_at=at,
        paid_at=at + timedelta(seconds=rng.randrange(5, 300)),
        amount_fen=price * quantity,
        shop="Provence Wines 小程序",
        items="普罗旺斯桃红葡萄酒 750ml" if price < 30_000 else "普罗旺斯桃红礼盒",
        quantity=quantity,
        province=rng.choice(PROVINCES),
        illustrative=True,
        click_id=click.click_id,
    )


def _refunds(rng: random.Random, workspace: Workspace, orders: list[Order]) -> list[OrderRefund]:
    """A few refunds (a broken bottle, a changed mind): about one order in forty."""
    return [
        OrderRefund(
            workspace_id=workspace.id,
            source=order.source,
            external_id=f"{order.external_id}:refund",
            order_external_id=order.external_id,
            amount_fen=order.amount_fen // order.quantity,
            refunded_at=order.ordered_at + timedelta(days=3),
        )
        for order in orders
        if order.status == OrderStatus.PAID and rng.random() < 0.025
    ]


# --- WeChat scene codes --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCode:
    """A scene code of the demo's WeChat account: what it is, what for, how busy."""

    kind: CodeKind
    label: str
    campaign: str | None  # the demo campaign's name; None: always on
    page: str = ""
    per_day: float = 0.0  # scans a day while it is out (QR codes)
    orders_per_day: float = 0.0  # mini-program orders a day carrying its scene


DEMO_CODES = (
    DemoCode(CodeKind.QR_PERMANENT, "瓶颈吊牌 Bottle-neck tag QR", None, per_day=1.2),
    DemoCode(
        CodeKind.QR_TEMPORARY, "品鉴会海报 Tasting event poster", CAMPAIGNS[1].name, per_day=6.0
    ),
    DemoCode(
        CodeKind.MINIPROGRAM_CODE,
        "小程序码 Mini-program code · Double 11",
        CAMPAIGNS[2].name,
        page="pages/shop/index",
        orders_per_day=2.5,
    ),
)
FOLLOW_SHARE = 0.7  # a scan by someone not yet following makes them follow
BUYER_SHARE = 0.15  # followers who then pay by WeChat Pay within days


class _HeldTokens:
    """The demo account's token for one run, held in memory (nothing else needs it)."""

    def __init__(self) -> None:
        self.token: Token | None = None

    def current(self) -> Token | None:
        """The token."""
        return self.token

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:  # noqa: ARG002 - one holder, no race
        """Fetch and keep a new one."""
        self.token = fetch()
        return self.token


def load_demo_codes(db: Session, *, workspace: Workspace) -> None:
    """Make the demo's scene codes on its WeChat account through the real connector and an
    in-process sandbox, then their scans and follows (through the push handler's service)
    and the orders they brought (through the conversion API's service): WeChat Pay orders of
    some followers, mini-program orders carrying the code's scene. Once: nothing happens
    when the workspace has codes, or has no WeChat account yet (the accounts are connected
    after the demo steps; ``load_demo_channels`` calls this again)."""
    if db.scalar(select(SceneCode.id).where(SceneCode.workspace_id == workspace.id).limit(1)):
        return
    account = db.scalar(
        select(Channel).where(
            Channel.workspace_id == workspace.id, Channel.connector == "wechat_oa"
        )
    )
    if account is None:
        return
    campaigns = {
        campaign.name: campaign
        for campaign in db.scalars(select(Campaign).where(Campaign.workspace_id == workspace.id))
    }
    tokens = _HeldTokens()
    sandbox = create_sandbox_app(platform_surfaces=[surface_of(WechatSandbox())])
    with TestClient(sandbox, base_url="http://sandbox") as http:
        # TestClient is an httpx.Client that serves the sandbox in this process.
        client = cast("httpx.Client", http)
        connector = WechatOaConnector(
            ConnectorConfig(base_url="http://sandbox/wechat", http=client)
        )

        def maker_for(channel: Channel) -> tuple[MakesSceneCodes, ChannelContext]:
            credentials = {"app_id": DEMO_WECHAT_APPID, "app_secret": DEMO_WECHAT_SECRET}
            return connector, ChannelContext(channel.id, channel.external_id, credentials, tokens)

        made = [
            (
                demo,
                codes.create_code(
                    db,
                    workspace_id=workspace.id,
                    code=codes.CodeInput(
                        kind=demo.kind,
                        channel_id=account.id,
                        label=demo.label,
                        campaign_id=campaigns[demo.campaign].id
                        if demo.campaign in campaigns
                        else None,
                        page=demo.page,
                    ),
                    maker_for=maker_for,
                ),
            )
            for demo in DEMO_CODES
        ]
    db.flush()
    _code_activity(db, workspace, account, made, campaigns)


def _code_days(demo: DemoCode, campaigns: dict[str, Campaign], today: date) -> list[date]:
    """The days a code was out: its campaign's, else the whole demo history."""
    campaign = campaigns.get(demo.campaign or "")
    if campaign is None or campaign.starts_on is None or campaign.ends_on is None:
        return [today - timedelta(days=back) for back in range(HISTORY_DAYS, 0, -1)]
    days = (campaign.ends_on - campaign.starts_on).days + 1
    return [campaign.starts_on + timedelta(days=n) for n in range(days)]


def _code_activity(
    db: Session,
    workspace: Workspace,
    account: Channel,
    made: list[tuple[DemoCode, SceneCode]],
    campaigns: dict[str, Campaign],
) -> None:
    rng = random.Random(SEED + 1)  # noqa: S311 - made-up demo scans, no secret
    zone = ZoneInfo(workspace.timezone)
    today = utcnow().astimezone(zone).date()
    now = utcnow()
    followers: set[str] = set()
    conversions: list[ConversionCreate] = []
    for demo, code in made:
        days = _code_days(demo, campaigns, today)
        code.created_at = datetime.combine(days[0], time(9), zone).astimezone(UTC)
        for day in days:
            for _ in range(max(round(rng.gauss(demo.per_day, demo.per_day / 2)), 0)):
                at = _moment(rng, day, zone)
                openid = f"oDemo{rng.randrange(10**8):08d}"
                followed = openid not in followers and rng.random() < FOLLOW_SHARE
                event = "subscribe" if followed else "SCAN"
                code_events.record_event(
                    db,
                    account,
                    CodeScanned(
                        openid, code.scene, followed, at, f"{openid}:{int(at.timestamp())}:{event}"
                    ),
                    illustrative=True,
                )
                if followed:
                    followers.add(openid)
                    if rng.random() < BUYER_SHARE:
                        paid_at = at + timedelta(hours=rng.randrange(1, 240))
                        if paid_at < now:
                            conversions.append(
                                _conversion(
                                    rng, f"WX{len(conversions):05d}", paid_at, openid=openid
                                )
                            )
            mini_program_orders = rng.gauss(demo.orders_per_day, 1) if demo.orders_per_day else 0
            for _ in range(max(round(mini_program_orders), 0)):
                at = _moment(rng, day, zone)
                conversions.append(
                    _conversion(rng, f"MPC{len(conversions):05d}", at, scene=code.scene)
                )
    for conversion in conversions:
        record_conversion(db, workspace_id=workspace.id, conversion=conversion)
    db.execute(
        update(Order)
        .where(
            Order.workspace_id == workspace.id,
            Order.external_id.in_([conversion.order_id for conversion in conversions]),
        )
        .values(illustrative=True, shop="Provence Wines 小程序")
    )
    db.commit()


def _conversion(
    rng: random.Random, order_id: str, at: datetime, **identifier: str
) -> ConversionCreate:
    price = rng.choice(PRICES_FEN)
    quantity = rng.choice((1, 1, 2, 6))
    return ConversionCreate(
        order_id=order_id,
        ordered_at=at,
        amount=price * quantity / 100,
        province=rng.choice(PROVINCES),
        items="普罗旺斯桃红葡萄酒 750ml" if price < 30_000 else "普罗旺斯桃红礼盒",
        quantity=quantity,
        **identifier,
    )


DEMO = DemoStep(order=70, load=load_demo)
