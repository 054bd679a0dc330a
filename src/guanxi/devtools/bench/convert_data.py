"""The attribution half of ``guanxi bench convert``: N orders against M touches, made fast.

A workspace with campaigns, tracked links and KOLs with promo codes; M clicks over 180 days
(click ``i`` at a time that grows with ``i``, one in fifty a bot's) and N orders, three in
five carrying the click id of a click 0-20 days earlier, one in seven a KOL's promo code,
one in twenty unpaid, one in fifty partly refunded. The rows go in with ``executemany`` on
SQLite and ``COPY`` on PostgreSQL, in batches, through the raw driver connection: the ORM
would spend more time than the engine being measured. Which orders must end up attributed
is known from the recipe, so the engine's answer is checked as well as timed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.convert.models import Kol, PromoCode, TrackedLink
from guanxi.core.db import make_session_factory
from guanxi.devtools.bench.common import Progress
from guanxi.publishing.models import Campaign

PASSWORD = "bench-password-0"  # noqa: S105 - a scratch user in a scratch database
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=180)
BATCH = 50_000
CAMPAIGNS, LINKS, KOLS = 20, 1_000, 50
PROVINCES = ("北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "福建", "河南")
CLICK_COLUMNS = (
    "click_id", "link_id", "workspace_id", "clicked_at", "hour", "visitor", "network",
    "platform", "device", "referrer_host", "bot", "counted", "illustrative",
)  # fmt: skip
ORDER_COLUMNS = (
    "workspace_id", "source", "external_id", "status", "ordered_at", "amount_fen",
    "currency", "shop", "items", "quantity", "province", "click_id", "promo_code", "openid",
    "scene", "attach", "author_id", "author_name", "video_id", "room_id", "traffic_source",
    "illustrative", "updated_at",
)  # fmt: skip
REFUND_COLUMNS = ("workspace_id", "source", "external_id", "order_external_id", "amount_fen")
PLATFORMS = ("wechat", "weibo", "douyin", "xiaohongshu", "")


@dataclass(frozen=True)
class Scratch:
    """What the data was made for, and what attribution must find."""

    workspace_id: int
    start: datetime
    end: datetime
    paid_orders: int
    attributed_orders: int


def click_id(index: int) -> str:
    """Click ``index``'s id (ascending with the index, like the clicks' times)."""
    return f"bench{index:011d}"


def clicked_at(index: int, touches: int) -> datetime:
    """When click ``index`` of ``touches`` happened."""
    return FIRST + SPAN * (index / touches)


def is_bot(index: int) -> bool:
    """Whether a bot made click ``index``: its click never credits an order."""
    return index % 50 == 0


def make_workspace(engine: Engine) -> tuple[int, list[int], list[str]]:
    """The workspace, its links' ids and its promo codes."""
    with make_session_factory(engine)() as db:
        owner = accounts.create_user(
            db, data=UserCreate(email="bench@guanxi.example", name="Bench", password=PASSWORD)
        )
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug="convert-bench", name="Bench"), owner=owner
        )
        campaigns = [
            Campaign(workspace_id=workspace.id, name=f"Campaign {n}") for n in range(CAMPAIGNS)
        ]
        kols = [
            Kol(workspace_id=workspace.id, name=f"KOL {n}", platform="douyin") for n in range(KOLS)
        ]
        db.add_all([*campaigns, *kols])
        db.flush()
        db.execute(
            insert(TrackedLink),
            [
                {
                    "workspace_id": workspace.id,
                    "key": f"bench{n:06d}",
                    "original_url": "https://shop.example/item",
                    "destination": f"https://shop.example/item?utm_source=guanxi&utm_content=l{n}",
                    "campaign_id": campaigns[n % CAMPAIGNS].id,
                }
                for n in range(LINKS)
            ],
        )
        codes = [f"KOL{n:03d}" for n in range(KOLS)]
        db.add_all(
            PromoCode(
                workspace_id=workspace.id,
                code=code,
                kol_id=kol.id,
                campaign_id=campaigns[n % CAMPAIGNS].id,
            )
            for n, (code, kol) in enumerate(zip(codes, kols, strict=True))
        )
        db.commit()
        link_ids = list(
            db.scalars(TrackedLink.__table__.select().with_only_columns(TrackedLink.id))
        )
        return workspace.id, link_ids, codes


def _click_rows(
    workspace_id: int, link_ids: Sequence[int], first: int, last: int, touches: int
) -> Iterator[tuple[Any, ...]]:
    for index in range(first, last):
        at = clicked_at(index, touches)
        yield (
            click_id(index), link_ids[index % len(link_ids)], workspace_id, at,
            int(at.timestamp()) // 3600, f"v{index % 997_331:x}", "10.0.0.0/24",
            PLATFORMS[index % len(PLATFORMS)], "phone", "", is_bot(index), not is_bot(index),
            False,
        )  # fmt: skip


def _order_rows(
    rng: random.Random, workspace_id: int, codes: Sequence[str], first: int, last: int, touches: int
) -> Iterator[tuple[tuple[Any, ...], bool, bool]]:
    """Order rows with whether each is paid and whether it must be attributed."""
    for index in range(first, last):
        draw = rng.random()
        click, code, clicked = "", "", -1
        if draw < 0.6:
            clicked = rng.randrange(touches)
            click = click_id(clicked)
            at = clicked_at(clicked, touches) + timedelta(seconds=rng.uniform(60, 20 * 86_400))
        else:
            at = FIRST + SPAN * rng.random()
        if rng.random() < 1 / 7:
            code = codes[index % len(codes)]
        paid = index % 20 != 0
        attributed = paid and ((clicked >= 0 and not is_bot(clicked)) or bool(code))
        row = (
            workspace_id, "api", f"o{index:010d}", "paid" if paid else "pending", at,
            rng.randrange(1_000, 200_000), "CNY", "", "", 1, PROVINCES[index % len(PROVINCES)],
            click, code, "", "", "", "", "", "", "", "", False, at,
        )  # fmt: skip
        yield row, paid, attributed


def _write(engine: Engine, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Append ``rows`` to ``table``: COPY on PostgreSQL, executemany on SQLite."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - our own names
                [_sqlite_row(row) for row in rows],
            )
        connection.commit()
    finally:
        connection.close()


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Times as SQLAlchemy writes them to SQLite (naive UTC text)."""
    return tuple(
        value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime)
        else value
        for value in row
    )


def fill(engine: Engine, *, orders: int, touches: int, seed: int, progress: Progress) -> Scratch:
    """Make the workspace, ``touches`` clicks and ``orders`` orders (with refunds)."""
    workspace_id, link_ids, codes = make_workspace(engine)
    for first in range(0, touches, BATCH):
        last = min(first + BATCH, touches)
        _write(
            engine,
            "convert_clicks",
            CLICK_COLUMNS,
            list(_click_rows(workspace_id, link_ids, first, last, touches)),
        )
        progress("touches (clicks) loaded", last, touches)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    paid_orders = attributed_orders = 0
    for first in range(0, orders, BATCH):
        last = min(first + BATCH, orders)
        rows, refunds = [], []
        for row, paid, attributed in _order_rows(rng, workspace_id, codes, first, last, touches):
            rows.append(row)
            paid_orders += paid
            attributed_orders += attributed
            if rng.random() < 1 / 50:
                refunds.append((workspace_id, "api", f"r{row[2]}", row[2], row[5] // 3))
        _write(engine, "convert_orders", ORDER_COLUMNS, rows)
        if refunds:
            _write(engine, "convert_refunds", REFUND_COLUMNS, refunds)
        progress("orders loaded", last, orders)
    return Scratch(
        workspace_id=workspace_id,
        start=FIRST,
        end=FIRST + SPAN + timedelta(days=21),
        paid_orders=paid_orders,
        attributed_orders=attributed_orders,
    )
