"""The demo workspace's posts: written by the community manager, approved by the manager,
scheduled on the demo's sandbox accounts, so the calendar has a week of work from the start.

The posts go through the same services as the pages (create, submit, approve, schedule, with
the Chinese-first checks), and the worker publishes them through the sandbox when they fall
due: the first one at once, the others over the next days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, Workspace
from guanxi.accounts.service import list_members
from guanxi.channels.models import ChannelStatus
from guanxi.channels.service import list_channels
from guanxi.connectors.settings import connector_settings
from guanxi.connectors.weibo import WeiboSettings
from guanxi.core.db import utcnow
from guanxi.core.settings import Settings
from guanxi.publishing import approvals, scheduling, service, variants
from guanxi.publishing.models import Post
from guanxi.publishing.tags import checked_tags, set_tags


@dataclass(frozen=True)
class DemoPost:
    """One demo post: its text, the connectors it goes to, and when (None: stays in review)."""

    title: str
    body: str
    page: str  # on the brand's site
    connectors: tuple[str, ...]
    days_from_now: int | None
    local_time: time = time(12, 0)
    tags: tuple[str, ...] = ()


DEMO_POSTS = (
    DemoPost(
        "Rosé season opens 桃红季开启",
        "普罗旺斯的桃红葡萄酒季开始了！清爽的果香，配一顿周末的家常菜刚刚好。"
        "你喜欢和谁一起分享一杯桃红？",
        "rose-season",
        ("weibo",),
        0,
        tags=("桃红", "节日"),
    ),
    DemoPost(
        "Pairing tips: rosé and hotpot 桃红配火锅",
        "桃红葡萄酒配火锅？酸度和果香能解辣，冰镇到 10 度左右口感更好。欢迎在评论里分享你的搭配。",
        "pairing/hotpot",
        ("weibo", "manual"),
        2,
        time(19, 30),
        tags=("品酒", "美食搭配"),
    ),
    DemoPost(
        "Behind the vineyard 走进葡萄园",
        "跟着酿酒师走进普罗旺斯的葡萄园：采收、压榨、发酵，一瓶桃红要经过哪些步骤？",
        "vineyard",
        ("weibo",),
        5,
        time(10, 0),
        tags=("酒庄故事",),
    ),
    DemoPost(
        "Tasting event in Shanghai 上海品鉴会",
        "本月底我们将在上海举办普罗旺斯葡萄酒品鉴会，名额有限，敬请关注后续报名信息。",
        "events/shanghai",
        ("weibo", "manual"),
        None,
        tags=("品酒", "门店"),
    ),
)


def load_demo_posts(db: Session, *, workspace: Workspace, settings: Settings) -> list[Post]:
    """Add the demo posts to ``workspace`` once (none when it has one of them already; the
    history's posts, ``post_tags``, are not theirs); they need its connected accounts, and
    members with the editor and manager roles."""
    titles = [demo.title for demo in DEMO_POSTS]
    found = db.scalar(
        select(Post.id).where(Post.workspace_id == workspace.id, Post.title.in_(titles)).limit(1)
    )
    if found is not None:
        return []
    members = list_members(db, workspace=workspace)
    writer = next((m for m in members if m.role == Role.EDITOR), None)
    approver = next((m for m in members if m.role == Role.MANAGER), None)
    channels = {
        channel.connector: channel
        for channel in list_channels(db, workspace=workspace)
        if channel.status == ChannelStatus.CONNECTED
    }
    if writer is None or approver is None or "weibo" not in channels:
        return []
    today = utcnow().astimezone(ZoneInfo(workspace.timezone)).date()
    # The brand's site is its Weibo app's safe domain: Weibo takes posts that link to it.
    safe_domain = connector_settings(WeiboSettings, settings).safe_domain
    site = f"https://{safe_domain}" if safe_domain else ""
    posts = []
    for demo in DEMO_POSTS:
        chosen = [str(channels[name].id) for name in demo.connectors if name in channels]
        post = service.create_post(
            db,
            workspace=workspace,
            actor=writer.user,
            title=demo.title,
            body=demo.body,
            campaign="",
            channel_ids=chosen,
        )
        set_tags(db, post=post, tags=checked_tags(demo.tags))
        db.flush()
        if site:
            for variant in post.variants:
                variants.update_variant(
                    db,
                    variant=variant,
                    actor=writer.user,
                    text=demo.body,
                    link=f"{site}/{demo.page}",
                )
        approvals.submit_for_review(db, post=post, membership=writer, settings=settings)
        if demo.days_from_now is not None:
            when = _local(today + timedelta(days=demo.days_from_now), demo.local_time, workspace)
            for variant in post.variants:
                approvals.decide(
                    db,
                    variant=variant,
                    post=post,
                    membership=approver,
                    approved=True,
                    comment="",
                    settings=settings,
                )
                scheduling.schedule_variant(
                    db,
                    variant=variant,
                    membership=writer,
                    when=None if when <= utcnow() else when,
                    settings=settings,
                )
        posts.append(post)
    db.flush()
    return posts


def _local(day: date, at: time, workspace: Workspace) -> datetime:
    """``day`` at ``at`` in the workspace's time zone."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(workspace.timezone))
