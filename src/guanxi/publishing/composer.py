"""The composer's service: what it shows per account (the fields, limits, preview and
hashtag style its connector declares), and a post created with its media attached to every
variant before the variants exist; accounts added later get the same media."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission, Workspace
from guanxi.accounts.service import require
from guanxi.channels.models import Channel
from guanxi.channels.service import list_channels
from guanxi.connectors.base import Connector, HashtagStyle, MediaKind, PreviewKind
from guanxi.core.settings import Settings
from guanxi.publishing import link_tracking, media, service, variants
from guanxi.publishing.limits import field_limits
from guanxi.publishing.models import MediaAsset, Post, Variant
from guanxi.publishing.tags import checked_tags, set_tags


@dataclass(frozen=True)
class ComposerAccount:
    """An account the composer can write for, with what its platform asks of a post."""

    channel: Channel
    fields: list[str]
    limits: dict[str, dict[str, object]]
    preview: str
    hashtags: str


def _preview(connector: Connector | None) -> str:
    """The preview a connector asks for (``PreviewKind``); plain for one that names none."""
    return str(getattr(connector, "preview", PreviewKind.POST))


def account_view(channel: Channel, settings: Settings) -> ComposerAccount:
    """What the composer shows for ``channel``, all of it from its connector."""
    connector = variants.load_connector(channel, settings)
    return ComposerAccount(
        channel=channel,
        fields=variants.variant_fields(connector),
        limits=field_limits(connector),
        preview=_preview(connector),
        hashtags=str(connector.hashtag_style if connector else HashtagStyle.NONE),
    )


def composer_accounts(
    db: Session, *, workspace: Workspace, settings: Settings
) -> list[ComposerAccount]:
    """Every connected account of the workspace, as the composer shows it."""
    return [account_view(c, settings) for c in list_channels(db, workspace=workspace)]


def _attach(variant: Variant, assets: list[MediaAsset], uses_cover: bool) -> None:
    """Give a new variant the post's media; a platform with a cover gets the first image."""
    variant.media_ids = [asset.id for asset in assets]
    images = [asset for asset in assets if asset.kind == MediaKind.IMAGE.value]
    if uses_cover and images:
        variant.cover_media_id = images[0].id


def _assets(db: Session, workspace: Workspace, ids: Iterable[int]) -> list[MediaAsset]:
    return [media.get_media(db, workspace=workspace, media_id=i) for i in dict.fromkeys(ids)]


def compose_post(
    db: Session,
    *,
    membership: Membership,
    title: str,
    body: str,
    campaign: str,
    channel_ids: Iterable[str],
    media_ids: Iterable[str],
    uploads: Iterable[tuple[str, BinaryIO]],
    settings: Settings,
    tags: Iterable[str] = (),
    track_links: bool = True,
) -> Post:
    """A post with a variant per chosen account, each with the chosen library files and the
    new uploads attached, its addresses tracked (unless ``track_links`` is off), then
    checked. Nothing is committed: the caller commits or rolls back, so a refused upload or
    form leaves neither files in the library nor a post."""
    require(membership, Permission.WRITE)
    workspace = membership.workspace
    post = service.create_post(
        db,
        workspace=workspace,
        actor=membership.user,
        title=title,
        body=body,
        campaign=campaign,
        channel_ids=channel_ids,
    )
    set_tags(db, post=post, tags=checked_tags(tags))
    chosen = variants.library_ids(db, workspace, media_ids)
    for filename, stream in uploads:
        asset, _new = media.store_media(
            db,
            workspace=workspace,
            filename=filename,
            stream=stream,
            data_dir=settings.data_dir,
            actor=membership.user,
        )
        chosen.append(asset.id)
    assets = _assets(db, workspace, chosen)
    for variant in post.variants:
        channel = db.get(Channel, variant.channel_id)
        assert channel is not None
        uses_cover = "cover" in account_view(channel, settings).fields
        _attach(variant, assets, uses_cover)
        variant.track_links = track_links
        link_tracking.track_variant(
            db,
            variant=variant,
            connector=variants.load_connector(channel, settings),
            actor_id=membership.user_id,
        )
        variants.check_variant(db, variant=variant, settings=settings, channel=channel)
    return post


def add_accounts(
    db: Session,
    *,
    post: Post,
    membership: Membership,
    channel_ids: Iterable[str],
    settings: Settings,
) -> list[Variant]:
    """New variants of ``post`` for more accounts, with the media of its first variant."""
    require(membership, Permission.WRITE)
    shown = post.variants[0].media_ids if post.variants else []
    added = service.add_channels(db, post=post, actor=membership.user, channel_ids=channel_ids)
    assets = _assets(db, membership.workspace, shown or [])
    for variant in added:
        channel = db.get(Channel, variant.channel_id)
        assert channel is not None
        _attach(variant, assets, "cover" in account_view(channel, settings).fields)
        link_tracking.track_variant(
            db,
            variant=variant,
            connector=variants.load_connector(channel, settings),
            actor_id=membership.user_id,
        )
        variants.check_variant(db, variant=variant, settings=settings)
    return added
