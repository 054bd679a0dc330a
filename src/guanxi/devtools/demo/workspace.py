"""The demo workspaces: a Provence wine brand entering China, the seed's own example, and an
app publisher going abroad (WeChat in Italy and India, 2013), whose app-store charts are
the market demo: the wine brand sees none of them.

Its people and workspaces are made here, then every capability's ``DemoStep`` adds its
data. Loading is idempotent: running it again adds what is missing and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role, User, UserCreate, Workspace, WorkspaceCreate
from guanxi.devtools.demo import demo_steps

DEMO_PASSWORD = "guanxi-demo-2013"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoPerson:
    """A demo user and the role they play in the demo workspace."""

    email: str
    name: str
    role: Role


DEMO_PEOPLE = (
    DemoPerson("owner@provence-wines.example", "Claire Martin", Role.OWNER),
    DemoPerson("manager@provence-wines.example", "Wang Fang 王芳", Role.MANAGER),
    DemoPerson("cm@provence-wines.example", "Li Na 李娜", Role.EDITOR),
    DemoPerson("analyst@provence-wines.example", "Zhang Wei 张伟", Role.ANALYST),
)
DEMO_WORKSPACE = WorkspaceCreate(slug="provence-wines", name="Vins de Provence 普罗旺斯葡萄酒")
# An agency runs several brands: the owner also has a second, empty workspace.
SECOND_WORKSPACE = WorkspaceCreate(slug="lyon-silk", name="Soieries de Lyon 里昂丝绸")
# The market demo's story: a Chinese chat app promoted abroad, its ranks in each app store.
APP_PUBLISHER_WORKSPACE = WorkspaceCreate(slug="wechat-abroad", name="WeChat Abroad 微信出海")


def _user(db: Session, person: DemoPerson) -> User:
    existing = accounts.get_user_by_email(db, email=person.email)
    if existing is not None:
        return existing
    return accounts.create_user(
        db, data=UserCreate(email=person.email, name=person.name, password=DEMO_PASSWORD)
    )


def _workspace(db: Session, data: WorkspaceCreate, owner: User) -> Workspace:
    existing = db.scalar(select(Workspace).where(Workspace.slug == data.slug))
    if existing is not None:
        return existing
    return accounts.create_workspace(db, data=data, owner=owner)


def load_demo(db: Session) -> Workspace:
    """Create (or complete) the demo users and workspaces; returns the demo workspace."""
    users = {person.email: _user(db, person) for person in DEMO_PEOPLE}
    owner = users[DEMO_PEOPLE[0].email]
    workspace = _workspace(db, DEMO_WORKSPACE, owner)
    _workspace(db, SECOND_WORKSPACE, owner)
    publisher = _workspace(db, APP_PUBLISHER_WORKSPACE, owner)
    for team in (workspace, publisher):
        _add_members(db, team, users)
    db.flush()
    _capability_demos(db, workspace)
    return workspace


def _add_members(db: Session, workspace: Workspace, users: dict[str, User]) -> None:
    """The demo people in ``workspace``, each in their role (the owner made it)."""
    for person in DEMO_PEOPLE[1:]:
        member = db.scalar(
            select(Membership).where(
                Membership.workspace_id == workspace.id,
                Membership.user_id == users[person.email].id,
            )
        )
        if member is None:
            accounts.add_member(
                db, workspace=workspace, user=users[person.email], role=person.role, actor=None
            )


def _capability_demos(db: Session, workspace: Workspace) -> None:
    """Each capability adds its own demo data (a plan, mentions, inbox, chart ranks)."""
    for _name, step in demo_steps():
        step.load(db, workspace=workspace)
        db.flush()
