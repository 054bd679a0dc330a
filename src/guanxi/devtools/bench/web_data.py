"""The data of ``guanxi bench web``: the demo workspace, its people and a realistic volume.

The demo (``guanxi demo``) comes first; the existing benchmark fills then add mentions and
inbox items to the demo workspace, and posts are written here, so every page the simulated
people open has an agency's worth of rows behind it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User
from guanxi.channels.models import Channel
from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.security import SecretBox, hash_password
from guanxi.core.settings import Settings
from guanxi.devtools.bench import inbox_data
from guanxi.devtools.bench import listening_dashboard as bench_dashboard
from guanxi.devtools.bench.common import Progress
from guanxi.devtools.demo.stack import load_demo_channels
from guanxi.devtools.demo.workspace import load_demo
from guanxi.inbox.items.models import InboxItem
from guanxi.listening.mentions.flows import pipeline_for
from guanxi.listening.mentions.models import Author, Mention
from guanxi.listening.topics.service import refresh_rollup
from guanxi.publishing.models import Post, Variant, VariantState

# The roles in the order people are given them: person i has ROLES[i % 4].
ROLES = (Role.OWNER, Role.MANAGER, Role.EDITOR, Role.ANALYST)
NEWEST = 2000
PERSON_PASSWORD = "bench-web-password"  # noqa: S105 - scratch accounts on a scratch database


@dataclass(frozen=True)
class Volume:
    """How much data the demo workspace holds besides the demo's own."""

    mentions: int = 100_000
    inbox_items: int = 50_000
    posts: int = 2_000


@dataclass(frozen=True)
class Person:
    """A simulated member of the demo workspace."""

    email: str
    role: Role
    user_id: int


@dataclass(frozen=True)
class BenchData:
    """What the load generator needs to know of the data: where it is and its ids."""

    slug: str
    people: list[Person]
    item_ids: list[int]
    post_ids: list[int]
    channel_ids: list[int]
    # Where a simulated editor drafts: Weibo takes a text post that links to its safe domain,
    # where the other platforms want a video, an image or an article's cover.
    draft_channel_ids: list[int]


def person_email(index: int) -> str:
    """The e-mail address of the ``index``-th simulated person."""
    return f"bench-person-{index:04d}@example.com"


def fill_demo_database(
    url: str, *, settings: Settings, people: int, volume: Volume, progress: Progress
) -> BenchData:
    """``fill_demo`` on the database at ``url``, its engine closed afterwards."""
    engine = make_engine(url)
    try:
        return fill_demo(engine, settings=settings, people=people, volume=volume, progress=progress)
    finally:
        engine.dispose()


def fill_demo(
    engine: Engine, *, settings: Settings, people: int, volume: Volume, progress: Progress
) -> BenchData:
    """The demo, ``people`` members across the four roles, and ``volume`` more rows."""
    sessions = make_session_factory(engine)
    progress("demo", 0, 1)
    with session_scope(sessions) as db:
        workspace = load_demo(db)
        load_demo_channels(db, workspace=workspace, box=SecretBox.from_settings(settings))
        slug, workspace_id = workspace.slug, workspace.id
    progress("demo", 1, 1)
    members = _add_people(sessions, slug=slug, count=people, progress=progress)
    _add_mentions(engine, workspace_id=workspace_id, count=volume.mentions, progress=progress)
    with sessions() as db:
        have = int(db.scalar(select(func.count(InboxItem.id))) or 0)
    inbox_data.fill(
        engine,
        workspace_id=workspace_id,
        total=have + volume.inbox_items,
        users=[person.user_id for person in members],
        seed=0,
        progress=progress,
    )
    with session_scope(sessions) as db:
        channel_ids = list(
            db.scalars(select(Channel.id).where(Channel.workspace_id == workspace_id))
        )
        draft_channel_ids = list(
            db.scalars(
                select(Channel.id).where(
                    Channel.workspace_id == workspace_id, Channel.connector == "weibo"
                )
            )
        )
        author_id = members[0].user_id
    _add_posts(
        sessions,
        workspace_id=workspace_id,
        channel_ids=channel_ids,
        author_id=author_id,
        count=volume.posts,
        progress=progress,
    )
    with sessions() as db:
        item_ids = _newest_ids(db, InboxItem, workspace_id=workspace_id)
        post_ids = _newest_ids(db, Post, workspace_id=workspace_id)
    return BenchData(
        slug=slug,
        people=members,
        item_ids=item_ids,
        post_ids=post_ids,
        channel_ids=channel_ids,
        draft_channel_ids=draft_channel_ids,
    )


def _newest_ids(db: Session, model: type[InboxItem | Post], *, workspace_id: int) -> list[int]:
    """The ids of the newest rows the people open (the first pages of each list)."""
    statement = (
        select(model.id)
        .where(model.workspace_id == workspace_id)
        .order_by(model.id.desc())
        .limit(NEWEST)
    )
    return list(db.scalars(statement))


def _add_people(
    sessions: sessionmaker[Session], *, slug: str, count: int, progress: Progress
) -> list[Person]:
    """``count`` members, the roles in turn; one password hash for all (a hash costs a tenth
    of a second on purpose, and these are scratch accounts)."""
    password_hash = hash_password(PERSON_PASSWORD)
    people = []
    batch = 50
    for first in range(0, count, batch):
        with session_scope(sessions) as db:
            workspace = accounts.get_workspace_by_slug(db, slug=slug)
            assert workspace is not None
            for index in range(first, min(first + batch, count)):
                role = ROLES[index % len(ROLES)]
                user = User(
                    email=person_email(index),
                    name=f"Bench {role.value} {index}",
                    password_hash=password_hash,
                )
                db.add(user)
                db.flush()
                accounts.add_member(db, workspace=workspace, user=user, role=role, actor=None)
                people.append(Person(email=user.email, role=role, user_id=user.id))
        progress("people", len(people), count)
    return people


def _add_mentions(engine: Engine, *, workspace_id: int, count: int, progress: Progress) -> None:
    """The listening benchmark's mentions, above the demo's ids, then the rollup."""
    if count <= 0:
        return
    with make_session_factory(engine)() as db:
        first_id = 1 + max(
            int(db.scalar(select(func.max(Mention.id))) or 0),
            int(db.scalar(select(func.max(Author.id))) or 0),
        )
        # Stamped with the worker's model version, as on an instance that has enriched what
        # it imported: otherwise the worker spends the whole run enriching them again.
        version = pipeline_for(db, workspace_id=workspace_id).model_version
    bench_dashboard.fill(
        engine,
        workspace_id=workspace_id,
        mentions=count,
        seed=0,
        progress=progress,
        first_id=first_id,
        model_version=version,
    )
    if engine.dialect.name == "postgresql":  # rows came with their ids: move the sequences on
        with engine.begin() as connection:
            for table in ("listening_mentions", "listening_authors"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    progress("rollup", 0, 1)
    with make_session_factory(engine)() as db:
        refresh_rollup(db, workspace_id=workspace_id)
        db.commit()
    progress("rollup", 1, 1)


def _add_posts(
    sessions: sessionmaker[Session],
    *,
    workspace_id: int,
    channel_ids: list[int],
    author_id: int,
    count: int,
    progress: Progress,
) -> None:
    """Posts of the past year (published) and drafts: none for the worker to publish."""
    now = utcnow()
    batch = 500
    for first in range(0, count, batch):
        with session_scope(sessions) as db:
            for number in range(first, min(first + batch, count)):
                body = f"普罗旺斯桃红葡萄酒 第{number}篇 {uuid.uuid4().hex[:6]}"
                post = Post(
                    workspace_id=workspace_id,
                    title=f"bench {number}",
                    body=body,
                    created_by_id=author_id,
                )
                published = number % 4 != 0
                at = now - timedelta(hours=number * 4) if published else None
                post.variants.append(
                    Variant(
                        workspace_id=workspace_id,
                        channel_id=channel_ids[number % len(channel_ids)],
                        text=body,
                        idempotency_key=uuid.uuid4().hex,
                        state=VariantState.PUBLISHED if published else VariantState.DRAFT,
                        scheduled_at=at,
                        published_at=at,
                        media_ids=[],
                        checks=[],
                        overrides=[],
                    )
                )
                db.add(post)
        progress("posts", min(first + batch, count), count)
