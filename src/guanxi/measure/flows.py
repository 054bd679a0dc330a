"""Work that spans capabilities: the posts guanxi published, read from publishing's tables.

Analytics measures what publishing put out, so it reads publishing's tables (its models,
never its services): a variant in state published with the post's id on the platform is a
post to measure. Its format is read from the variant: a video among its media makes it a
video, a platform whose posts carry a summary (a WeChat article's digest) an article, an
image (or a cover) an image, and anything else text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.connectors.base import MediaKind, VariantField
from guanxi.measure.models import MeasuredPost, PostFormat
from guanxi.publishing.models import MediaAsset, PostTag, Variant, VariantState


@dataclass(frozen=True)
class PublishedPost:
    """A post guanxi published on a channel, as analytics needs it."""

    variant_id: int
    external_id: str
    published_at: datetime | None
    url: str
    text: str
    format: PostFormat


def unmeasured_published_posts(
    db: Session, *, channel_id: int, variant_fields: Iterable[VariantField]
) -> list[PublishedPost]:
    """The channel's published variants that no measured post is linked to yet."""
    rows = db.execute(
        select(Variant)
        .outerjoin(MeasuredPost, MeasuredPost.variant_id == Variant.id)
        .where(
            Variant.channel_id == channel_id,
            Variant.state == VariantState.PUBLISHED,
            Variant.external_id != "",
            MeasuredPost.id.is_(None),
        )
        .order_by(Variant.id)
    ).scalars()
    variants = list(rows)
    media_ids = {i for t in variants for i in t.media_ids} | {
        t.cover_media_id for t in variants if t.cover_media_id is not None
    }
    found = select(MediaAsset.id, MediaAsset.kind).where(MediaAsset.id.in_(media_ids))
    kinds: dict[int, str] = dict(db.execute(found).all())
    articles = VariantField.DIGEST in set(variant_fields)
    return [
        PublishedPost(
            variant_id=variant.id,
            external_id=variant.external_id,
            published_at=variant.published_at,
            url=variant.external_url,
            text=variant.title or variant.text,
            format=_format(variant, kinds, articles=articles),
        )
        for variant in variants
    ]


def _format(variant: Variant, kinds: dict[int, str], *, articles: bool) -> PostFormat:
    media = {kinds.get(i) for i in variant.media_ids}
    if MediaKind.VIDEO.value in media:
        return PostFormat.VIDEO
    if articles:
        return PostFormat.ARTICLE
    if MediaKind.IMAGE.value in media or variant.cover_media_id is not None:
        return PostFormat.IMAGE
    return PostFormat.TEXT


@dataclass(frozen=True)
class VariantMedia:
    """One of a published variant's media files, as the post's page lists it."""

    media_id: int
    kind: str
    filename: str


@dataclass(frozen=True)
class PublishedVariant:
    """What guanxi published as a post: the variant's title, text, link and media."""

    post_id: int  # publishing's post, for the link to it
    title: str
    text: str
    link: str
    media: list[VariantMedia]


def published_variant(
    db: Session, *, workspace_id: int, variant_id: int
) -> PublishedVariant | None:
    """The variant guanxi published as the variant ``variant_id``; None when it is gone."""
    variant = db.get(Variant, variant_id)
    if variant is None or variant.workspace_id != workspace_id:
        return None
    ids = [*variant.media_ids]
    if variant.cover_media_id is not None and variant.cover_media_id not in ids:
        ids.insert(0, variant.cover_media_id)
    assets = {
        asset.id: asset
        for asset in db.scalars(
            select(MediaAsset).where(
                MediaAsset.id.in_(ids), MediaAsset.workspace_id == workspace_id
            )
        )
    }
    media = [VariantMedia(i, assets[i].kind, assets[i].filename) for i in ids if i in assets]
    return PublishedVariant(variant.post_id, variant.title, variant.text, variant.link, media)


TAGS_CHUNK = 5_000  # measured posts read at once (the databases' limits on parameters)


def tags_of(db: Session, measured_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of the posts guanxi published behind these measured posts, by measured
    post (alphabetical; a post published elsewhere has none)."""
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(measured_ids), TAGS_CHUNK):
        rows = db.execute(
            select(MeasuredPost.id, PostTag.tag)
            .join(Variant, Variant.id == MeasuredPost.variant_id)
            .join(PostTag, PostTag.post_id == Variant.post_id)
            .where(MeasuredPost.id.in_(measured_ids[start : start + TAGS_CHUNK]))
            .order_by(MeasuredPost.id, PostTag.tag)
        )
        for measured_id, tag in rows:
            found[measured_id].append(tag)
    return dict(found)
