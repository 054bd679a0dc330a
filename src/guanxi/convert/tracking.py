"""Conversions' answers to the composer (``guanxi.channels.tracking``): a tracked link for
each web address of a variant, the address a short link leads to, and the revenue a post's
links brought in, shown on its page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.channels.tracking import (
    LinkOwner,
    PostFigure,
    register_link_tracker,
    register_post_figures,
)
from guanxi.convert.attribution.engine import attribute
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.links import LinkInput, create_link, short_url
from guanxi.convert.models import KEY_LENGTH, Order, TrackedLink
from guanxi.convert.store import convert_store
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings

POST_WINDOW_DAYS = 30  # the lookback of the revenue shown on a post's page
SPAN_CHUNK = 10_000  # orders read at a time for the days a post's links were credited


class ShortLinkTracker:
    """Tracked links for the composer, on the short-link address of ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = short_url(settings, "")

    def example(self) -> str:
        """A short link as this tracker makes them."""
        return short_url(self.settings, "x" * KEY_LENGTH)

    def is_short_link(self, url: str) -> bool:
        """Whether ``url`` is one of this installation's short links."""
        return url.startswith(self.prefix) and self._key(url) != ""

    def _key(self, url: str) -> str:
        key = url[len(self.prefix) :]
        return key if key.isalnum() and len(key) <= 16 else ""

    def track(self, db: Session, owner: LinkOwner, urls: Iterable[str]) -> dict[str, str]:
        """A short link per address, the variant's existing one to the same address reused;
        an address the link form would refuse (too long, not http) stays as typed."""
        wanted = list(dict.fromkeys(urls))
        existing = dict(
            db.execute(
                select(TrackedLink.original_url, TrackedLink.key).where(
                    TrackedLink.workspace_id == owner.workspace_id,
                    TrackedLink.variant_id == owner.variant_id,
                    TrackedLink.original_url.in_(wanted),
                )
            ).all()
        )
        made: dict[str, str] = {}
        for url in wanted:
            key = existing.get(url)
            if key is None:
                try:
                    link = create_link(
                        db,
                        workspace_id=owner.workspace_id,
                        link=LinkInput(
                            url=url,
                            label=_label(url),
                            post_id=owner.post_id,
                            utm_source=owner.platform,
                        ),
                        created_by_id=owner.created_by_id,
                    )
                except UserError:
                    continue
                link.variant_id = owner.variant_id
                key = link.key
            made[url] = short_url(self.settings, key)
        return made

    def originals(self, db: Session, workspace_id: int, urls: Iterable[str]) -> dict[str, str]:
        """The workspace's short links among ``urls`` and the addresses they lead to."""
        keys = {self._key(url): url for url in urls if self.is_short_link(url)}
        if not keys:
            return {}
        rows = db.execute(
            select(TrackedLink.key, TrackedLink.original_url).where(
                TrackedLink.workspace_id == workspace_id, TrackedLink.key.in_(keys)
            )
        )
        return {keys[key]: original for key, original in rows}


def _label(url: str) -> str:
    """A link's label when the composer made it: the address's host and path, shortened."""
    parts = urlsplit(url)
    label = f"{parts.hostname or ''}{parts.path}"
    return label[:117] + "…" if len(label) > 120 else label


def post_revenue(db: Session, workspace_id: int, post_id: int) -> list[PostFigure]:
    """The revenue credited to the post's links (last touch, 30-day window), over the days
    its links' clicks could be credited; nothing when no order carries one of its clicks."""
    links_of_post = set(
        db.scalars(
            select(TrackedLink.id).where(
                TrackedLink.workspace_id == workspace_id, TrackedLink.post_id == post_id
            )
        )
    )
    if not links_of_post:
        return []
    store = convert_store(db)
    first: datetime | None = None
    last: datetime | None = None
    orders = select(Order.ordered_at).where(
        Order.workspace_id == workspace_id, Order.click_id != ""
    )
    for chunk in store.order_clicks(
        orders, workspace_id=workspace_id, chunk=SPAN_CHUNK, with_bots=True
    ):
        for (ordered_at,), click in chunk:
            if click is not None and click.link_id in links_of_post:
                first = ordered_at if first is None else min(first, ordered_at)
                last = ordered_at if last is None else max(last, ordered_at)
    if first is None or last is None:
        return []
    found = attribute(
        db,
        workspace_id=workspace_id,
        start=first,
        end=last + timedelta(seconds=1),
        model=AttributionModel.LAST_TOUCH,
        window_days=POST_WINDOW_DAYS,
    )
    credit = found.by_post.get(post_id)
    if credit is None or credit.orders == 0:
        return []
    return [
        PostFigure(
            label=i18n.gettext(N_("Revenue from its links")),
            value=f"¥{credit.revenue_fen / 100:,.2f}",
            note=i18n.gettext(
                N_("{orders} orders, attributed: last touch, {days}-day window")
            ).format(orders=f"{credit.orders:g}", days=POST_WINDOW_DAYS),
            href="revenue",
        )
    ]


def set_up(app: FastAPI) -> None:
    """Let the composer make tracked links, and the post page show their revenue."""
    register_link_tracker(ShortLinkTracker(app.state.settings))
    register_post_figures(post_revenue)
