"""Scene codes: making them for a WeChat account (a campaign's, a post's, a KOL's), the
account's pool of permanent QR codes, and renewing URL Links before they expire.

The platform's limits come from the connector (``scene_code_limits``) and are enforced here,
where a code is asked for, before any call; what the platform still refuses comes back as
the connector's error, said to the user as it is.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context
from guanxi.connectors.base import Capability, ChannelContext, ConnectorError
from guanxi.connectors.registry import connector_capabilities, connector_for, connector_names
from guanxi.connectors.scene_codes import MakesSceneCodes
from guanxi.convert import flows
from guanxi.convert.kols import kol_in_workspace
from guanxi.convert.models import LABEL_MAX
from guanxi.convert.scene_models import (
    SCENE_KEY_LENGTH,
    CodeEventKind,
    CodeKind,
    SceneCode,
)
from guanxi.convert.store import convert_store
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings

# URL Links expiring sooner than this are made again (a link of a few days: at half its life).
RENEW_AHEAD = timedelta(days=3)
PAGE_MAX = 200
PAGE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-/.")
_BASE62 = string.ascii_letters + string.digits

MSG_CHANNEL = N_(
    "That account cannot make WeChat codes: choose a connected WeChat Official Account."
)
MSG_DAYS = N_("A {kind} lives 1 to {limit} days: enter a number in that range.")
MSG_WIDTH = N_("A mini-program code is {low} to {high} pixels wide: enter a width in that range.")
MSG_PAGE = N_(
    "The mini program's page is a path such as pages/shop/index (letters, digits, _ - / . "
    "and at most 200 characters), without a leading slash."
)
MSG_LABEL = N_("The label is at most {limit} characters.")
MSG_POOL_FULL = N_(
    "All {limit} permanent QR codes WeChat allows this account are in use. Archive a "
    "permanent code nobody prints any more (its scene is given to the next one), or make a "
    "temporary code."
)
MSG_PLATFORM = N_("WeChat refused the code: {reason}")
MSG_NOT_FOUND = N_("There is no such code in this workspace.")

KIND_NAMES = {
    CodeKind.QR_TEMPORARY: N_("temporary QR code"),
    CodeKind.QR_PERMANENT: N_("permanent QR code"),
    CodeKind.MINIPROGRAM_CODE: N_("mini-program code"),
    CodeKind.URL_LINK: N_("URL Link"),
}

KIND_TITLES = {
    CodeKind.QR_TEMPORARY: N_("Temporary QR code"),
    CodeKind.QR_PERMANENT: N_("Permanent QR code"),
    CodeKind.MINIPROGRAM_CODE: N_("Mini-program code"),
    CodeKind.URL_LINK: N_("URL Link"),
}

# The connector of a channel and what it needs to act as it.
MakerFor = Callable[[Channel], tuple[MakesSceneCodes, ChannelContext]]


@dataclass(frozen=True)
class CodeInput:
    """What a person asks for when making a code (the form and the API alike)."""

    kind: CodeKind
    channel_id: int
    label: str = ""
    campaign_id: int | None = None
    post_id: int | None = None
    kol_id: int | None = None
    days: int = 30
    page: str = ""
    width: int = 430


@dataclass(frozen=True)
class CodeCounts:
    """What a code brought: scans (followers), follows, and orders credited to it."""

    scans: int = 0
    follows: int = 0
    orders: float = 0.0


def new_scene() -> str:
    """A fresh scene key (10 base62 characters fit every kind's limit)."""
    return "".join(secrets.choice(_BASE62) for _ in range(SCENE_KEY_LENGTH))


def code_channels(db: Session, workspace_id: int, capable: set[str]) -> Sequence[Channel]:
    """The workspace's channels whose connector (one of ``capable``) makes scene codes."""
    return db.scalars(
        select(Channel)
        .where(Channel.workspace_id == workspace_id, Channel.connector.in_(capable))
        .order_by(Channel.name)
    ).all()


def _check(db: Session, workspace_id: int, code: CodeInput, maker: MakesSceneCodes) -> int | None:
    """Refuse what breaks a limit; the code's campaign (its post's when not given)."""
    limits = maker.scene_code_limits
    if len(code.label) > LABEL_MAX:
        raise UserError(MSG_LABEL, limit=LABEL_MAX)
    campaign = flows.campaign_in_workspace(db, workspace_id, code.campaign_id)
    post = flows.post_in_workspace(db, workspace_id, code.post_id)
    kol_in_workspace(db, workspace_id, code.kol_id)
    if code.kind in {CodeKind.QR_TEMPORARY, CodeKind.URL_LINK}:
        limit = (
            limits.temporary_max_s // 86_400
            if code.kind is CodeKind.QR_TEMPORARY
            else limits.link_max_days
        )
        if not 1 <= code.days <= limit:
            raise UserError(MSG_DAYS, kind=KIND_NAMES[code.kind], limit=limit)
    if code.kind in {CodeKind.MINIPROGRAM_CODE, CodeKind.URL_LINK}:
        page = code.page
        if len(page) > PAGE_MAX or page.startswith("/") or not set(page) <= PAGE_CHARACTERS:
            raise UserError(MSG_PAGE)
    if code.kind is CodeKind.MINIPROGRAM_CODE and not (
        limits.miniprogram_width_min <= code.width <= limits.miniprogram_width_max
    ):
        raise UserError(
            MSG_WIDTH, low=limits.miniprogram_width_min, high=limits.miniprogram_width_max
        )
    if campaign is not None:
        return campaign.id
    return post.campaign_id if post is not None else None


def permanent_in_use(db: Session, channel_id: int) -> int:
    """How many permanent scenes the account has used (WeChat counts them for good)."""
    return int(
        db.scalar(
            select(func.count(func.distinct(SceneCode.scene))).where(
                SceneCode.channel_id == channel_id, SceneCode.kind == CodeKind.QR_PERMANENT
            )
        )
        or 0
    )


def _permanent_scene(db: Session, channel_id: int, limit: int) -> str:
    """A scene for a new permanent code: an archived one nobody holds, else a new one while
    the pool has room."""
    live = select(SceneCode.scene).where(
        SceneCode.channel_id == channel_id, SceneCode.archived_at.is_(None)
    )
    free = db.scalar(
        select(SceneCode.scene)
        .where(
            SceneCode.channel_id == channel_id,
            SceneCode.kind == CodeKind.QR_PERMANENT,
            SceneCode.archived_at.is_not(None),
            SceneCode.scene.not_in(live),
        )
        .order_by(SceneCode.archived_at)
        .limit(1)
    )
    if free is not None:
        return free
    if permanent_in_use(db, channel_id) >= limit:
        raise UserError(MSG_POOL_FULL, limit=f"{limit:,}")
    return new_scene()


def _channel(db: Session, workspace_id: int, channel_id: int) -> Channel:
    channel = db.get(Channel, channel_id)
    if channel is None or channel.workspace_id != workspace_id:
        raise UserError(MSG_CHANNEL)
    return channel


def create_code(
    db: Session,
    *,
    workspace_id: int,
    code: CodeInput,
    maker_for: MakerFor,
    created_by_id: int | None = None,
) -> SceneCode:
    """Make ``code`` on its account; a UserError says what to change."""
    channel = _channel(db, workspace_id, code.channel_id)
    try:
        maker, context = maker_for(channel)
    except (LookupError, ConnectorError) as exc:
        raise UserError(MSG_CHANNEL) from exc
    campaign_id = _check(db, workspace_id, code, maker)
    limits = maker.scene_code_limits
    scene = (
        _permanent_scene(db, channel.id, limits.permanent_max)
        if code.kind is CodeKind.QR_PERMANENT
        else new_scene()
    )
    row = SceneCode(
        workspace_id=workspace_id,
        channel_id=channel.id,
        kind=code.kind,
        scene=scene,
        label=code.label.strip(),
        campaign_id=campaign_id,
        post_id=code.post_id,
        kol_id=code.kol_id,
        page=code.page,
        created_by_id=created_by_id,
    )
    _issue(row, maker, context, days=code.days, width=code.width)
    db.add(row)
    db.flush()
    return row


def _issue(
    row: SceneCode, maker: MakesSceneCodes, context: ChannelContext, *, days: int, width: int
) -> None:
    """Ask the platform for ``row``'s code and keep what it answered."""
    try:
        if row.kind in {CodeKind.QR_TEMPORARY, CodeKind.QR_PERMANENT}:
            permanent = row.kind is CodeKind.QR_PERMANENT
            issued = maker.create_qr(
                context, scene=row.scene, permanent=permanent, expire_seconds=days * 86_400
            )
            row.ticket, row.url, row.expires_at = issued.ticket, issued.url, issued.expires_at
            row.lifetime_days = 0 if permanent else days
        elif row.kind is CodeKind.MINIPROGRAM_CODE:
            row.image = maker.miniprogram_code(context, scene=row.scene, page=row.page, width=width)
            row.width = width
        else:
            link = maker.url_link(
                context, path=row.page, query=f"gx_scene={row.scene}", expire_days=days
            )
            row.url, row.expires_at, row.lifetime_days = link.url, link.expires_at, days
    except ConnectorError as exc:
        raise UserError(MSG_PLATFORM, reason=str(exc)) from exc


def get_code(db: Session, *, workspace_id: int, code_id: int) -> SceneCode:
    """The workspace's code ``code_id``; a UserError (404) otherwise."""
    row = db.get(SceneCode, code_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFoundError(MSG_NOT_FOUND)
    return row


def archive_code(row: SceneCode, *, now: datetime | None = None) -> None:
    """Take a code off the list; its events stay, a permanent scene goes back to the pool."""
    if row.archived_at is None:
        row.archived_at = now or utcnow()


def list_codes(db: Session, *, workspace_id: int) -> list[tuple[SceneCode, CodeCounts]]:
    """The workspace's live codes, newest first, with their scans and follows."""
    codes = db.scalars(
        select(SceneCode)
        .where(SceneCode.workspace_id == workspace_id, SceneCode.archived_at.is_(None))
        .order_by(SceneCode.created_at.desc(), SceneCode.id.desc())
    ).all()
    code_ids = [code.id for code in codes]
    tallies = convert_store(db).code_event_counts(workspace_id=workspace_id, code_ids=code_ids)
    return [
        (
            code,
            CodeCounts(
                scans=tallies.get((code.id, CodeEventKind.SCAN), 0),
                follows=tallies.get((code.id, CodeEventKind.FOLLOW), 0),
            ),
        )
        for code in codes
    ]


def renew_links(
    db: Session, *, maker_for: MakerFor, now: datetime | None = None
) -> list[SceneCode]:
    """Make again every live URL Link expiring within ``RENEW_AHEAD`` (or half its lifetime,
    when that is shorter): the new one has the same scene, page and lifetime; the old one is
    archived and kept. Commits each."""
    now = now or utcnow()
    soon = db.scalars(
        select(SceneCode).where(
            SceneCode.kind == CodeKind.URL_LINK,
            SceneCode.archived_at.is_(None),
            SceneCode.expires_at < now + RENEW_AHEAD,
        )
    ).all()
    due = [
        link
        for link in soon
        if link.expires_at is not None
        and link.expires_at - now < min(RENEW_AHEAD, timedelta(days=link.lifetime_days or 30) / 2)
    ]
    renewed: list[SceneCode] = []
    for old in due:
        channel = db.get(Channel, old.channel_id)
        if channel is None:
            continue
        maker, context = maker_for(channel)
        new = SceneCode(
            workspace_id=old.workspace_id,
            channel_id=old.channel_id,
            kind=old.kind,
            scene=old.scene,
            label=old.label,
            campaign_id=old.campaign_id,
            post_id=old.post_id,
            kol_id=old.kol_id,
            page=old.page,
            renewed_from_id=old.id,
            created_by_id=old.created_by_id,
        )
        _issue(new, maker, context, days=old.lifetime_days or 30, width=0)
        old.archived_at = now
        db.flush()  # the old one leaves the live scenes before the new one joins them
        db.add(new)
        db.commit()
        renewed.append(new)
    return renewed


def code_connectors(settings: Settings) -> set[str]:
    """The installed connectors that make scene codes."""
    capabilities = connector_capabilities(connector_names(), settings)
    return {name for name, can in capabilities.items() if Capability.SCENE_CODES in can}


def maker_for_channels(
    *, settings: Settings, http: httpx.Client, sessions: sessionmaker[Session], owner: str
) -> MakerFor:
    """Each channel's connector (when it makes scene codes) and its context."""
    box = SecretBox.from_settings(settings)

    def maker_for(channel: Channel) -> tuple[MakesSceneCodes, ChannelContext]:
        connector = connector_for(channel, settings=settings, http=http)
        if not isinstance(connector, MakesSceneCodes):
            raise LookupError(channel.connector)  # noqa: TRY004 - "no such maker", as a registry says
        return connector, channel_context(channel, sessions=sessions, box=box, owner=owner)

    return maker_for
