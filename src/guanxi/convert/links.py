"""Tracked links: making them, the clicks they logged, and storing the clicks the redirect
journals."""

from __future__ import annotations

import re
import secrets
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.convert import flows
from guanxi.convert.kols import kol_in_workspace
from guanxi.convert.models import (
    DESTINATION_MAX,
    KEY_LENGTH,
    LABEL_MAX,
    TrackedLink,
)
from guanxi.convert.store import convert_store
from guanxi.convert.store.base import ClickFact, LinkCounts
from guanxi.convert.visitors import read_user_agent
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings

KEY_ALPHABET = string.ascii_letters + string.digits
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
_SLUG = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class LinkInput:
    """What a person or the API asks for (validated by ``create_link``)."""

    url: str
    label: str = ""
    campaign_id: int | None = None
    post_id: int | None = None
    kol_id: int | None = None
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""


def short_url(settings: Settings, key: str) -> str:
    """The address people are given for the link ``key``."""
    base = settings.short_link_base or f"{settings.base_url.rstrip('/')}/l"
    return f"{base.rstrip('/')}/{key}"


def checked_url(url: str) -> str:
    """``url`` if a browser can follow it (http or https, with a host), else a UserError."""
    url = url.strip()
    if not url:
        raise UserError(N_("Give the address the link should lead to."))
    if len(url) > DESTINATION_MAX:
        raise UserError(
            N_("The address is longer than {limit} characters: shorten it."),
            limit=DESTINATION_MAX,
        )
    try:
        parts = urlsplit(url)
        readable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a port out of range
    except ValueError:  # an unclosed IPv6 bracket, a port beyond 65535...
        readable = False
    if not readable:
        raise UserError(
            N_("“{url}” is not a web address: it must start with https:// (or http://)."),
            url=url[:100],
        )
    return url


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60]


def tagged_destination(url: str, utm: dict[str, str]) -> str:
    """``url`` with the UTM parameters it lacks (the author's own ones are kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    query += [(name, value) for name, value in utm.items() if value and name not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def create_link(
    db: Session, *, workspace_id: int, link: LinkInput, created_by_id: int | None
) -> TrackedLink:
    """A new tracked link to ``link.url`` with UTM parameters filled in from its campaign and
    post where not given; a UserError says what to fix."""
    url = checked_url(link.url)
    if len(link.label) > LABEL_MAX:
        raise UserError(N_("Keep the label under {limit} characters."), limit=LABEL_MAX)
    campaign = flows.campaign_in_workspace(db, workspace_id, link.campaign_id)
    post = flows.post_in_workspace(db, workspace_id, link.post_id)
    kol = kol_in_workspace(db, workspace_id, link.kol_id)
    if campaign is None and post is not None:
        campaign = flows.campaign_of(db, post)
    utm = {
        "utm_source": link.utm_source.strip() or "guanxi",
        "utm_medium": link.utm_medium.strip() or "social",
        "utm_campaign": link.utm_campaign.strip()
        or (_slug(campaign.name) or f"campaign-{campaign.id}" if campaign else ""),
        "utm_content": link.utm_content.strip() or (f"post-{post.id}" if post else ""),
    }
    for name, value in utm.items():
        if len(value) > 100:
            raise UserError(N_("Keep {field} under 100 characters."), field=name)
    row = TrackedLink(
        workspace_id=workspace_id,
        key=_new_key(db),
        original_url=url,
        destination=tagged_destination(url, utm),
        label=link.label.strip(),
        campaign_id=campaign.id if campaign else None,
        post_id=post.id if post else None,
        kol_id=kol.id if kol else None,
        created_by_id=created_by_id,
        **utm,
    )
    db.add(row)
    db.flush()
    return row


def _new_key(db: Session) -> str:
    while True:
        key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
        if db.scalar(select(TrackedLink.id).where(TrackedLink.key == key)) is None:
            return key


def get_link(db: Session, *, workspace_id: int, link_id: int) -> TrackedLink:
    """The workspace's link ``link_id``, else NotFoundError."""
    link = db.get(TrackedLink, link_id)
    if link is None or link.workspace_id != workspace_id:
        raise NotFoundError(N_("This link does not exist or was deleted."))
    return link


def list_links(
    db: Session, *, workspace_id: int, kol_id: int | None = None, limit: int = 200
) -> list[tuple[TrackedLink, LinkCounts]]:
    """The workspace's links (``kol_id``'s only, when given), newest first, with their click
    counts."""
    query = select(TrackedLink).where(
        TrackedLink.workspace_id == workspace_id, TrackedLink.archived_at.is_(None)
    )
    if kol_id is not None:
        query = query.where(TrackedLink.kol_id == kol_id)
    links = list(
        db.scalars(
            query.order_by(TrackedLink.created_at.desc(), TrackedLink.id.desc()).limit(limit)
        )
    )
    counts = click_counts(db, link_ids=[link.id for link in links])
    return [(link, counts.get(link.id, LinkCounts())) for link in links]


def click_counts(db: Session, *, link_ids: Sequence[int]) -> dict[int, LinkCounts]:
    """Counted clicks, visits and bot visits of each link in ``link_ids`` (with the clicks
    the workspace's retention deleted)."""
    return convert_store(db).link_counts(link_ids=link_ids)


def has_illustrative_clicks(db: Session, *, workspace_id: int) -> bool:
    """Whether the workspace's clicks include ones the demo made up."""
    return convert_store(db).has_illustrative_clicks(workspace_id=workspace_id)


def clicks_by_platform(db: Session, *, link_id: int) -> list[tuple[str, int]]:
    """A link's counted clicks by the app they came from ("" = a plain browser)."""
    counts = Counter(convert_store(db).counted_by_platform(link_id=link_id))
    return [(platform, count) for platform, count in counts.most_common() if count]


def archive_link(*, link: TrackedLink, now: datetime | None = None) -> None:
    """Take a link off the list; it keeps redirecting (it may be printed or posted)."""
    link.archived_at = now or utcnow()


def store_clicks(db: Session, clicks: list[dict[str, Any]]) -> None:
    """Store journalled clicks, each once (by click id); the first of a visitor's clicks on a
    link in an hour is counted, unless a bot made it. Commits."""
    if not clicks:
        return
    convert_store(db).write_clicks([ClickFact(**click) for click in clicks])
    db.commit()


def journal_store(sessions: sessionmaker[Session]) -> Callable[[list[dict[str, Any]]], None]:
    """What stores a batch of journal lines (times as ISO strings) through ``sessions``."""

    def store(clicks: list[dict[str, Any]]) -> None:
        for click in clicks:
            click["clicked_at"] = datetime.fromisoformat(click["clicked_at"])
            if "agent" in click:  # lines journalled before 2026-12-07 carry the verdict
                browser = read_user_agent(click.pop("agent"))
                head = bool(click.pop("head", False))
                click.update(
                    platform=browser.platform, device=browser.device, bot=browser.bot or head
                )
        with sessions() as db:
            store_clicks(db, clicks)

    return store
