"""The brand's own posts, named for the capabilities that meet their platform ids.

A comment arrives with the platform id of the post it is on; a debate links posts by that
id. Publishing knows which of the brand's posts each id is, but the inbox sits beside it,
not above it. So publishing registers a finder here when the web app is built, and the
inbox asks through ``our_posts`` and ``search_our_posts``. With no finder the answers are
empty and the pages fall back to what the platform said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace


@dataclass(frozen=True)
class OurPost:
    """One of the brand's published posts on one account."""

    channel_id: int
    external_id: str  # the platform's id of the post
    name: str  # its title, or the start of its text
    url: str  # the post's page in guanxi


PostKey = tuple[int, str]  # (channel id, platform post id)


class OurPostsFinder:
    """What a capability that knows the brand's posts answers."""

    def __init__(
        self,
        find: Callable[[Session, Workspace, list[PostKey]], dict[PostKey, OurPost]],
        search: Callable[[Session, Workspace, str, int], list[OurPost]],
    ) -> None:
        self.find = find
        self.search = search


_finders: list[OurPostsFinder] = []


def register_our_posts(finder: OurPostsFinder) -> None:
    """Answer the questions below with ``finder`` (one finder per capability)."""
    if all(finder.find is not known.find for known in _finders):
        _finders.append(finder)


def our_posts(
    db: Session, *, workspace: Workspace, keys: Iterable[PostKey]
) -> dict[PostKey, OurPost]:
    """The brand's posts with these (channel, platform id) keys; unknown keys are left out."""
    wanted = sorted({key for key in keys if key[1]})
    found: dict[PostKey, OurPost] = {}
    for finder in _finders:
        if wanted:
            found.update(finder.find(db, workspace, wanted))
    return found


def search_our_posts(
    db: Session, *, workspace: Workspace, query: str, limit: int = 20
) -> list[OurPost]:
    """The brand's published posts whose text or title holds ``query`` (all, newest first,
    when it is empty)."""
    results: list[OurPost] = []
    for finder in _finders:
        results.extend(finder.search(db, workspace, query.strip(), limit))
    return results[:limit]
