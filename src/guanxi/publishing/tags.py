"""Tags on posts: free text a team groups its posts by (新品, 节日, 教程...), normalised so
that one tag is written one way, shown on the posts list's filter and in analytics by tag.

A tag is NFKC-normalised (full-width letters and digits become half-width), loses the ``#``
a hashtag habit puts around it, has its spaces collapsed and Latin letters lower-cased; a
post has at most ``TAGS_MAX`` of them, each at most ``TAG_MAX_LENGTH`` characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_, UserError
from guanxi.publishing.models import TAG_MAX_LENGTH, TAGS_MAX, Post, PostTag

_SEPARATORS = re.compile(r"[,，、;；\n]+")
SUGGESTED_MAX = 200  # the workspace's tags offered in the composer, most used first


def normalised_tag(text: str) -> str:
    """One tag as stored ("" for nothing): NFKC, no surrounding #, single spaces, lower case."""
    tag = unicodedata.normalize("NFKC", text)
    tag = " ".join(tag.split()).strip("#").strip()
    return tag.lower()


def checked_tags(values: Iterable[str]) -> list[str]:
    """Normalised tags, each once, in the order given; a UserError past the limits."""
    tags = list(dict.fromkeys(tag for tag in map(normalised_tag, values) if tag))
    too_long = [tag for tag in tags if len(tag) > TAG_MAX_LENGTH]
    if too_long:
        raise UserError(
            N_("The tag “{tag}” is longer than {limit} characters: shorten it."),
            tag=too_long[0][:40],
            limit=TAG_MAX_LENGTH,
        )
    if len(tags) > TAGS_MAX:
        raise UserError(
            N_("A post takes at most {limit} tags ({count} given): keep the ones you group by."),
            limit=TAGS_MAX,
            count=len(tags),
        )
    return tags


def parse_tags(text: str) -> list[str]:
    """The tags typed in one field, separated by commas (either width), 、 or semicolons."""
    return checked_tags(_SEPARATORS.split(text))


def set_tags(db: Session, *, post: Post, tags: list[str]) -> None:
    """Give ``post`` exactly ``tags`` (already checked): rows added and removed as needed."""
    wanted = set(tags)
    for row in list(post.tag_rows):
        if row.tag not in wanted:
            post.tag_rows.remove(row)
    present = {row.tag for row in post.tag_rows}
    for tag in tags:
        if tag not in present:
            post.tag_rows.append(PostTag(workspace_id=post.workspace_id, tag=tag))
    db.flush()


def workspace_tags(db: Session, *, workspace_id: int) -> list[tuple[str, int]]:
    """The workspace's tags with how many posts carry each, most used first."""
    rows = db.execute(
        select(PostTag.tag, func.count())
        .where(PostTag.workspace_id == workspace_id)
        .group_by(PostTag.tag)
        .order_by(func.count().desc(), PostTag.tag)
        .limit(SUGGESTED_MAX)
    )
    return [(tag, int(count)) for tag, count in rows]
