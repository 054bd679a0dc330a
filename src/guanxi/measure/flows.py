"""Work that spans capabilities: the posts guanxi published, read from publishing's tables.

Analytics measures what publishing put out, so it reads publishing's tables (its models,
never its services): a target in state published with the post's id on the platform is a
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
from guanxi.publishing.models import MediaAsset, PostTag, PublishTarget, TargetState


@dataclass(frozen=True)
class PublishedPost:
    """A post guanxi published on a channel, as analytics needs it."""

    target_id: int
    external_id: str
    published_at: datetime | None
    url: str
    text: str
    format: PostFormat


def unmeasured_published_posts(
    db: Session, *, channel_id: int, variant_fields: Iterable[VariantField]
) -> list[PublishedPost]:
    """The channel's published targets that no measured post is linked to yet."""
    rows = db.execute(
        select(PublishTarget)
        .outerjoin(MeasuredPost, MeasuredPost.publish_target_id == PublishTarget.id)
        .where(
            PublishTarget.channel_id == channel_id,
            PublishTarget.state == TargetState.PUBLISHED,
            PublishTarget.external_id != "",
            MeasuredPost.id.is_(None),
        )
        .order_by(PublishTarget.id)
    ).scalars()
    targets = list(rows)
    media_ids = {i for t in targets for i in t.media_ids} | {
        t.cover_media_id for t in targets if t.cover_media_id is not None
    }
    found = select(MediaAsset.id, MediaAsset.kind).where(MediaAsset.id.in_(media_ids))
    kinds: dict[int, str] = dict(db.execute(found).all())
    articles = VariantField.DIGEST in set(variant_fields)
    return [
        PublishedPost(
            target_id=target.id,
            external_id=target.external_id,
            published_at=target.published_at,
            url=target.external_url,
            text=target.title or target.text,
            format=_format(target, kinds, articles=articles),
        )
        for target in targets
    ]


def _format(target: PublishTarget, kinds: dict[int, str], *, articles: bool) -> PostFormat:
    media = {kinds.get(i) for i in target.media_ids}
    if MediaKind.VIDEO.value in media:
        return PostFormat.VIDEO
    if articles:
        return PostFormat.ARTICLE
    if MediaKind.IMAGE.value in media or target.cover_media_id is not None:
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


def published_variant(db: Session, *, workspace_id: int, target_id: int) -> PublishedVariant | None:
    """The variant guanxi published as the target ``target_id``; None when it is gone."""
    target = db.get(PublishTarget, target_id)
    if target is None or target.workspace_id != workspace_id:
        return None
    ids = [*target.media_ids]
    if target.cover_media_id is not None and target.cover_media_id not in ids:
        ids.insert(0, target.cover_media_id)
    assets = {
        asset.id: asset
        for asset in db.scalars(
            select(MediaAsset).where(
                MediaAsset.id.in_(ids), MediaAsset.workspace_id == workspace_id
            )
        )
    }
    media = [VariantMedia(i, assets[i].kind, assets[i].filename) for i in ids if i in assets]
    return PublishedVariant(target.post_id, target.title, target.text, target.link, media)


TAGS_CHUNK = 5_000  # measured posts read at once (the databases' limits on parameters)


def tags_of(db: Session, measured_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of the posts guanxi published behind these measured posts, by measured
    post (alphabetical; a post published elsewhere has none)."""
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(measured_ids), TAGS_CHUNK):
        rows = db.execute(
            select(MeasuredPost.id, PostTag.tag)
            .join(PublishTarget, PublishTarget.id == MeasuredPost.publish_target_id)
            .join(PostTag, PostTag.post_id == PublishTarget.post_id)
            .where(MeasuredPost.id.in_(measured_ids[start : start + TAGS_CHUNK]))
            .order_by(MeasuredPost.id, PostTag.tag)
        )
        for measured_id, tag in rows:
            found[measured_id].append(tag)
    return dict(found)
