"""What the composer asks of conversions: tracked links for a variant's web addresses, and
the figures a post's page shows of what its links brought in.

Publishing writes the variants but knows nothing of tracked links; conversions makes them
but sits beside publishing, not below it. So conversions registers a tracker here when the
web app is built, and publishing asks through ``link_tracker`` and ``post_figures``. With
no tracker the variants keep their addresses as typed and the post page shows no revenue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class LinkOwner:
    """What a variant's tracked links are made for (each filled in the link)."""

    workspace_id: int
    post_id: int
    variant_id: int  # the variant
    platform: str  # the account's catalog slug: the links' source
    created_by_id: int | None


class LinkTracker(Protocol):
    """What a capability that makes tracked links answers."""

    def example(self) -> str:
        """A short link as this tracker makes them (to ask a platform's rules about it)."""
        ...

    def is_short_link(self, url: str) -> bool:
        """Whether ``url`` is already one of this installation's short links."""
        ...

    def track(self, db: Session, owner: LinkOwner, urls: Iterable[str]) -> dict[str, str]:
        """A short link for each address (original → short), reusing the variant's link
        to the same address; an address that cannot be tracked is left out."""
        ...

    def originals(self, db: Session, workspace_id: int, urls: Iterable[str]) -> dict[str, str]:
        """The address each of the workspace's short links in ``urls`` leads to, as typed
        (short → original); others are left out."""
        ...


@dataclass(frozen=True)
class PostFigure:
    """A figure about a post from another capability, shown on its page."""

    label: str  # translated
    value: str  # formatted
    note: str  # translated: over what, and how it is attributed
    href: str  # where the detail is


PostFiguresProvider = Callable[[Session, int, int], list[PostFigure]]

_trackers: list[LinkTracker] = []
_figures: list[PostFiguresProvider] = []


def register_link_tracker(tracker: LinkTracker) -> None:
    """Let the composer make tracked links through ``tracker`` (the last registered wins)."""
    _trackers[:] = [tracker]


def link_tracker() -> LinkTracker | None:
    """The registered tracker, or None when no capability makes tracked links."""
    return _trackers[0] if _trackers else None


def register_post_figures(provider: PostFiguresProvider) -> None:
    """Show ``provider``'s figures on each post's page (registering twice is once)."""
    if provider not in _figures:
        _figures.append(provider)


def post_figures(db: Session, *, workspace_id: int, post_id: int) -> list[PostFigure]:
    """Every registered capability's figures about the post, in registration order."""
    return [figure for provider in _figures for figure in provider(db, workspace_id, post_id)]
