"""The follows (and scans) a period's WeChat scene codes brought, by what each code was made
for: its campaign, post, KOL and account's platform, and the code itself.

These are **attributed** follows: a person scanned the code and followed the account
through it (``subscribe`` with the code's scene, or a scene ``user/info`` named later). The
accounts' own follower gains (``new_followers`` as the platform reports them) count every
source and are kept apart (``flows.account_new_followers``), never added to these.

A line with no QR code made for it has no follower figure (None): its cost per follower is
unknown, not infinite; a line with QR codes but no follow has 0 (no number either).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.convert.scene_models import CodeEventKind, CodeKind, SceneCode
from guanxi.convert.store import convert_store

CodeKey = tuple[int | None, int | None, int | None, str]  # campaign, post, KOL, platform
# The kinds a person can follow the account through (a mini-program code or URL Link opens
# the mini program: it brings orders, never a follow).
FOLLOWED_THROUGH = (CodeKind.QR_TEMPORARY, CodeKind.QR_PERMANENT)


@dataclass
class Follows:
    """A period's follows through scene codes, by what they were made for."""

    by_campaign: Counter[int] = field(default_factory=Counter)
    by_post: Counter[int] = field(default_factory=Counter)
    by_kol: Counter[int] = field(default_factory=Counter)
    by_platform: Counter[str] = field(default_factory=Counter)
    by_code: Counter[int] = field(default_factory=Counter)
    scans_by_campaign: Counter[int] = field(default_factory=Counter)
    # What has a scene code made for it (any time): its figure is a count, 0 included.
    coded: set[tuple[str, int | str]] = field(default_factory=set)

    def of(self, kind: str, key: int | str | None) -> int | None:
        """The follows of a campaign, post, KOL or platform (``kind``), None when no code
        was made for it."""
        if key is None or key == "" or (kind, key) not in self.coded:
            return None
        counts: dict[str, Counter[int] | Counter[str]] = {
            "campaign": self.by_campaign,
            "post": self.by_post,
            "kol": self.by_kol,
            "platform": self.by_platform,
            "code": self.by_code,
        }
        return int(counts[kind][key])  # type: ignore[index]


def code_targets(
    db: Session, *, workspace_id: int, code_ids: Sequence[int] | None = None
) -> dict[int, CodeKey]:
    """What each of the workspace's scene codes (those of ``code_ids``, when given) was made
    for: its campaign, post, KOL and its account's platform."""
    platforms: dict[int, str] = dict(
        db.execute(
            select(Channel.id, Channel.platform).where(Channel.workspace_id == workspace_id)
        ).all()
    )
    query = select(
        SceneCode.id,
        SceneCode.campaign_id,
        SceneCode.post_id,
        SceneCode.kol_id,
        SceneCode.channel_id,
    ).where(SceneCode.workspace_id == workspace_id)
    if code_ids is not None:
        query = query.where(SceneCode.id.in_(list(code_ids)))
    return {
        code_id: (campaign_id, post_id, kol_id, platforms.get(channel_id, ""))
        for code_id, campaign_id, post_id, kol_id, channel_id in db.execute(query)
    }


def code_follows(db: Session, *, workspace_id: int, start: datetime, end: datetime) -> Follows:
    """The follows and scans in [``start``, ``end``) through the workspace's scene codes."""
    found = Follows()
    followable = set(
        db.scalars(
            select(SceneCode.id).where(
                SceneCode.workspace_id == workspace_id, SceneCode.kind.in_(FOLLOWED_THROUGH)
            )
        )
    )
    made = {
        code_id: key
        for code_id, key in code_targets(db, workspace_id=workspace_id).items()
        if code_id in followable
    }
    for code_id, key in made.items():
        found.coded.add(("code", code_id))
        for kind, value in zip(("campaign", "post", "kol", "platform"), key, strict=True):
            if value is not None and value != "":
                found.coded.add((kind, value))
    if not made:
        return found
    counts = convert_store(db).code_event_counts(workspace_id=workspace_id, start=start, end=end)
    for (event_code, kind), count in counts.items():
        if event_code not in made:
            continue
        campaign_id, post_id, kol_id, platform = made[event_code]
        if kind == CodeEventKind.SCAN:
            if campaign_id is not None:
                found.scans_by_campaign[campaign_id] += count
            continue
        found.by_code[event_code] += count
        if campaign_id is not None:
            found.by_campaign[campaign_id] += count
        if post_id is not None:
            found.by_post[post_id] += count
        if kol_id is not None:
            found.by_kol[kol_id] += count
        if platform:
            found.by_platform[platform] += count
    return found
