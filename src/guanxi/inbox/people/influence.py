"""How much an author's word carries, with the reasons shown to the team.

The score (0 to 100) adds up visible parts: reach (followers, on a log scale, because
10,000 followers is a KOL on Weibo and 10 million a celebrity), verification (Weibo's
``verified_type``: 0 a personal "orange V", 1..7 organisations and media, 200/220 the
"gold/red V" of big accounts) and how often the person talked with the brand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from guanxi.core.errors import N_
from guanxi.inbox.people.models import PersonKind

KOL_FOLLOWERS = 10_000
MEDIA_VERIFIED_TYPES = frozenset({3, 4})  # media, websites
ORGANISATION_VERIFIED_TYPES = frozenset({1, 2, 5, 6, 7})  # government, company, campus, ...
STAR_VERIFIED_TYPES = frozenset({0, 200, 220})
_PEOPLE_AND_MEDIA = STAR_VERIFIED_TYPES | MEDIA_VERIFIED_TYPES


@dataclass(frozen=True)
class Reason:
    """One part of a score: how many points, and why (a message id with params)."""

    points: int
    message: str
    params: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Influence:
    """A score from 0 to 100 and the reasons that add up to it."""

    score: int
    reasons: tuple[Reason, ...]


def influence(
    *, followers: int | None, verified_type: int | None, interactions: int = 0
) -> Influence:
    """The influence of an author with ``followers``, ``verified_type`` and ``interactions``
    (items in the inbox)."""
    reasons: list[Reason] = []
    if followers:
        points = _follower_points(followers)
        reasons.append(Reason(points, N_("{followers} followers"), {"followers": followers}))
    if verified_type is not None and verified_type >= 0:
        if verified_type in STAR_VERIFIED_TYPES:
            message = N_("Verified personal account")
        elif verified_type in MEDIA_VERIFIED_TYPES:
            message = N_("Verified media account")
        else:
            message = N_("Verified organisation account")
        points = _verified_points(verified_type)
        reasons.append(Reason(points, message, {"type": verified_type}))
    if interactions > 1:
        points = min(28, 4 * (interactions - 1))
        reasons.append(
            Reason(points, N_("{count} conversations with the brand"), {"count": interactions})
        )
    return Influence(
        score=min(100, sum(reason.points for reason in reasons)), reasons=tuple(reasons)
    )


def reach_score(*, followers: int | None, verified_type: int | None) -> int:
    """``influence(...).score`` without interactions and without the reasons (ingest works
    it out for every item)."""
    points = _follower_points(followers) if followers else 0
    if verified_type is not None and verified_type >= 0:
        points += _verified_points(verified_type)
    return min(100, points)


def _follower_points(followers: int) -> int:
    # 10 followers → 6 points, 10,000 → 24, 1,000,000 → 36, 10 million and more → 42.
    return min(42, round(6 * math.log10(max(followers, 1))))


def _verified_points(verified_type: int) -> int:
    return 30 if verified_type in _PEOPLE_AND_MEDIA else 20


def guess_kind(*, followers: int | None, verified_type: int | None) -> PersonKind:
    """The kind a person probably is, from what the platform tells about the account."""
    if verified_type in MEDIA_VERIFIED_TYPES:
        return PersonKind.MEDIA
    if (followers or 0) >= KOL_FOLLOWERS or verified_type in STAR_VERIFIED_TYPES:
        return PersonKind.KOL
    return PersonKind.FAN
