"""The demo's analytics history: 180 days of every demo account, flagged illustrative,
loaded once, and continued (not duplicated, not contradicted) by the collector's first
reads of the sandbox that `guanxi up` starts."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.registry import connector_for
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.devtools.demo import analytics
from guanxi.devtools.demo.stack import load_demo_channels, sandbox_environment
from guanxi.devtools.demo.workspace import load_demo
from guanxi.measure.collect import collect_channel_id
from guanxi.measure.models import AccountDay, MeasuredPost, PostSnapshot
from guanxi.sandbox.server import run_in_thread
from tests.http_support import local_client

BOX = SecretBox("demo-analytics-test-secret-key-0123456789")


def _demo(db: Session) -> tuple[Workspace, list[Channel]]:
    """`guanxi demo`: the steps, then the sandbox accounts (which bring their history)."""
    workspace = load_demo(db)
    channels = load_demo_channels(db, workspace=workspace, box=BOX)
    db.commit()
    return workspace, channels


def _counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(AccountDay)) or 0,
        db.scalar(select(func.count()).select_from(MeasuredPost)) or 0,
        db.scalar(select(func.count()).select_from(PostSnapshot)) or 0,
    )


def test_every_demo_account_has_180_illustrative_days_and_posts_with_snapshots(
    db: Session,
) -> None:
    """Given `guanxi demo`, then each of its accounts (Weibo, WeChat, Douyin and the manual
    Xiaohongshu one) has 180 days of figures and posts with their snapshots, all flagged
    illustrative; and a second `guanxi demo` adds nothing."""
    _workspace, channels = _demo(db)
    assert {channel.platform for channel in channels} == {
        "weibo",
        "wechat",
        "douyin",
        "xiaohongshu",
    }
    for channel in channels:
        days = db.scalars(select(AccountDay).where(AccountDay.channel_id == channel.id)).all()
        assert len(days) == analytics.HISTORY_DAYS
        assert all(day.illustrative and day.followers for day in days)
        assert days[-1].followers != days[0].followers  # a curve, not a constant
        posts = db.scalars(
            select(MeasuredPost)
            .where(MeasuredPost.channel_id == channel.id)
            .order_by(MeasuredPost.published_at)
        ).all()
        assert len(posts) > 50, channel.platform
        assert all(post.illustrative and post.views is not None for post in posts)
        for post in posts[:5]:  # the oldest: a week of snapshots at least
            snapshots = db.scalars(
                select(PostSnapshot)
                .where(PostSnapshot.post_id == post.id)
                .order_by(PostSnapshot.observed_at)
            ).all()
            assert len(snapshots) == post.snapshot_count >= 4
            views = [snapshot.views or 0 for snapshot in snapshots]
            assert views == sorted(views)  # lifetime totals only grow
            assert snapshots[-1].views == post.views
    before = _counts(db)
    _demo(db)
    assert _counts(db) == before


def test_the_collectors_first_run_against_the_sandbox_continues_the_demo_history(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Given the demo history and a sandbox given the same older posts (as `guanxi up`
    does), when the collector runs once per account, then it finds no post the demo did
    not have, and the days it reads again keep the demo's figures."""
    _workspace, channels = _demo(db)
    days_before = {
        (day.channel_id, day.day): (day.followers, day.new_followers, day.views)
        for day in db.scalars(select(AccountDay))
    }
    posts_before = db.scalar(select(func.count()).select_from(MeasuredPost))
    with run_in_thread() as running, local_client() as http:
        added = analytics.give_sandbox_history(db, base_url=running.base_url)
        demo_posts = db.scalar(
            select(func.count())
            .select_from(MeasuredPost)
            .join(Channel, Channel.id == MeasuredPost.channel_id)
            .where(Channel.platform.in_(list(analytics.HISTORY_PLATFORMS)))
        )
        assert added == demo_posts
        port = urlsplit(running.base_url).port
        assert port is not None
        env = sandbox_environment(port)
        configured = settings.model_copy(
            update={name.removeprefix("GUANXI_").lower(): value for name, value in env.items()}
        )
        build = partial(connector_for, settings=configured, http=http)
        for channel in channels:
            if channel.platform in analytics.HISTORY_PLATFORMS:
                report = collect_channel_id(
                    session_factory, channel.id, connector_for=build, box=BOX, owner="test"
                )
                assert report is not None
                assert not report.error, (channel.platform, report.error)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(MeasuredPost)) == posts_before
    reread = 0
    for day in db.scalars(select(AccountDay)):
        before = days_before.get((day.channel_id, day.day))
        if before is not None:
            reread += 1
            assert (day.followers, day.new_followers, day.views) == before, day.day
    assert reread == len(days_before)
