"""A member of one workspace, on their own workspace's addresses, with another's ids.

Alice owns acme. She calls acme's own URLs (``/w/acme/...``, ``/api/v1/...`` with acme's
token) but names objects of workspace B: in the path, in every field of every form that
acme's pages render, in query filters and in JSON bodies. Whatever she sends, B's data is
never read (no B text in the answer), never changed (B's rows, and the rows that hang off
them, are identical before and after), and nothing fails with a 5xx.

Everything is found generically: routes from ``app.routes``, form fields from the real
HTML of acme's pages and from the routes' signatures, body fields from the Pydantic
models, so a route or a field added later is probed without touching this file.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel
from sqlalchemy import JSON, String, Table, Text, func, select, update
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.channels.models import Channel
from guanxi.core.db import Base, utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.devtools.demo.inbox import load_demo as load_workflow_demo
from guanxi.devtools.demo.listening_topics import load_insight_demo
from guanxi.devtools.demo.planner import DEMO_PLAN_BRIEF
from guanxi.devtools.demo.publishing import load_demo_posts
from guanxi.devtools.demo.stack import load_demo_channels
from guanxi.inbox.items.models import InternalNote, ItemTag, Tag
from guanxi.inbox.people.models import Person, PersonNote, PersonTag
from guanxi.inbox.people.service import link_authors
from guanxi.inbox.replies.models import Reply
from guanxi.inbox.triage.models import ModerationAction
from guanxi.listening.intake import service as listening
from guanxi.listening.intake.models import SourceFormat
from guanxi.listening.topics.service import refresh_rollup
from guanxi.planner import service as planner
from guanxi.planner.brief import parse_brief
from guanxi.publishing import campaigns
from guanxi.publishing.media import store_media
from guanxi.publishing.models import Variant
from guanxi.report import schedules as report_schedules
from guanxi.report import service as report_service
from guanxi.report.models import DefinitionWrite
from guanxi.report.schedule_models import DeliveryStatus, ReportDelivery, ScheduleWrite
from tests.composer_support import png_bytes
from tests.conftest import UserFactory, csrf_token, sign_in
from tests.inbox_ui_support import make_item
from tests.listening_topics_support import add_author, add_mention
from tests.market_support import small_market
from tests.test_isolation import (
    B_SLUG,
    SAFE_METHODS,
    World,
    http_routes,
    path_params,
    world,  # noqa: F401 - the fixture of the two brands
)

# Every text of B's rows is rewritten to carry this word: it must never reach Alice.
MARKER = "Quokka"
# Text columns rewritten to carry the marker (ids, enums and keys are left alone).
TEXT_COLUMNS = frozenset(
    {"name", "title", "text", "body", "note", "description", "author_name", "hashtag", "term"}
)
# A field name (without ``_id``/``_ids``/``id``) and the tables whose ids it can mean.
ID_NAMES: dict[str, tuple[str, ...]] = {
    "account": ("listening_tracked_accounts",),
    "action": ("inbox_moderation_actions",),
    "app": ("market_tracked_apps",),
    "assignee": ("users",),
    "campaign": ("campaigns", "market_campaigns"),
    "channel": ("channels",),
    "dataset": ("market_datasets",),
    "debate": ("inbox_debates",),
    "definition": ("report_definitions",),
    "delivery": ("report_deliveries",),
    "item": ("inbox_items",),
    "keep": ("inbox_people",),
    "media": ("media_assets",),
    "member": ("memberships",),
    "mention": ("listening_mentions",),
    "merge": ("inbox_people",),
    "notification": ("notifications",),
    "person": ("inbox_people",),
    "plan": ("plans",),
    "post": ("posts",),
    "reply": ("inbox_replies", "inbox_saved_replies"),
    "rule": ("listening_alert_rules", "inbox_moderation_rules", "inbox_assignment_rules"),
    "saved": ("inbox_saved_replies",),
    "saved_reply": ("inbox_saved_replies",),
    "schedule": ("report_schedules",),
    "source": ("listening_sources",),
    "tag": ("inbox_tags",),
    "variant": ("variants",),
    "token": ("api_tokens",),
    "topic": ("listening_topic_queries",),
    "tracked": ("market_tracked_apps",),
    "user": ("users",),
    "word": ("sensitive_words",),
}
# An id no object has: a foreign id must be answered exactly like it.
MISSING_ID = 987654321
# Fields that hold a number that is no object: never swapped for B's ids.
NOT_IDS = frozenset({"page", "top", "days", "minimum", "after", "limit", "expires_in_days"})
# How many of acme's objects of a kind are tried to find one whose page shows.
PAGE_TRIES = 12


# --- Workspace B, furnished with one of everything ------------------------------------------


def _furnish(
    db: Session, workspace: Workspace, *, members: dict[Role, User], settings: Settings
) -> None:
    """One object of every kind in ``workspace``, through the demo loaders and the
    services where they exist, rows written directly where none does."""
    for role, user in members.items():
        accounts.add_member(db, workspace=workspace, user=user, role=role, actor=None)
    db.flush()
    load_workflow_demo(db, workspace=workspace)
    channels = load_demo_channels(db, workspace=workspace, box=SecretBox.from_settings(settings))
    # The demo posts link to the brand's site, which must be Weibo's safe domain.
    site = settings.model_copy(update={"weibo_safe_domain": "brand.example"})
    load_demo_posts(db, workspace=workspace, settings=site)
    owner = members[Role.MANAGER]
    campaigns.create_campaign(
        db,
        workspace=workspace,
        actor=owner,
        data=campaigns.parse_campaign(
            name="Spring", color="", starts_on="", ends_on="", description="Spring push"
        ),
    )
    asset, _new = store_media(
        db,
        workspace=workspace,
        filename="bottle.png",
        stream=io.BytesIO(png_bytes()),
        data_dir=settings.data_dir,
        actor=owner,
    )
    manual = (
        select(Variant)
        .join(Channel)
        .where(Channel.workspace_id == workspace.id, Channel.connector == "manual")
    )
    for target in db.scalars(manual):
        target.media_ids = [asset.id]  # the package to download has a file
    planner.create_plan(
        db,
        workspace=workspace,
        actor=owner,
        name="Tier-1 launch",
        brief=parse_brief(DEMO_PLAN_BRIEF),
    )

    listening.source_named(
        db, workspace_id=workspace.id, name="Weibo export", file_format=SourceFormat.JSONL
    )
    load_insight_demo(db, workspace=workspace)
    author = add_author(db, workspace_id=workspace.id, name="Wine fan")
    add_mention(db, workspace_id=workspace.id, text="Jay Chou 周杰伦 rosé", author=author)
    refresh_rollup(db, workspace_id=workspace.id)  # the dashboard counts from the rollup
    small_market(db, workspace)

    item = make_item(db, channels[0], "Where can I buy the rosé?")
    link_authors(db, workspace_id=workspace.id, items=[item])
    person = db.scalars(select(Person).where(Person.workspace_id == workspace.id)).one()
    tag = Tag(workspace_id=workspace.id, name="vip")
    db.add(tag)
    db.flush()
    db.add_all(
        [
            ItemTag(item_id=item.id, tag_id=tag.id),
            PersonTag(person_id=person.id, tag_id=tag.id),
            PersonNote(person_id=person.id, author_id=owner.id, text="Buys every spring"),
            InternalNote(item_id=item.id, author_id=owner.id, text="Answer with the shop link"),
            Reply(
                item_id=item.id,
                author_id=owner.id,
                text="Our shop: brand.example",
                idempotency_key=f"reply-{workspace.slug}",
            ),
            ModerationAction(workspace_id=workspace.id, item_id=item.id, action="hide", value=""),
        ]
    )
    db.flush()
    _furnish_reports(db, workspace, owner=owner, settings=settings)


def _furnish_reports(db: Session, workspace: Workspace, *, owner: User, settings: Settings) -> None:
    """A report with a schedule, and a report that schedule sent with its file kept."""
    definition = report_service.create_definition(
        db,
        workspace=workspace,
        actor=owner,
        data=DefinitionWrite(title=f"{workspace.slug} weekly", section_keys=["measure.accounts"]),
    )
    schedule = report_schedules.create_schedule(
        db,
        workspace=workspace,
        definition=definition,
        actor=owner,
        data=ScheduleWrite(user_ids=[owner.id], outside_emails=[f"hq@{workspace.slug}.example"]),
        now=utcnow(),
    )
    content = f"<p>{workspace.name} {MARKER if workspace.slug == B_SLUG else ''}</p>".encode()
    path = settings.data_dir / "reports" / str(workspace.id) / "sent" / "1_weekly_en.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    db.add(
        ReportDelivery(
            workspace_id=workspace.id,
            definition_id=definition.id,
            schedule_id=schedule.id,
            due_at=utcnow(),
            start=utcnow().date(),
            end=utcnow().date(),
            status=DeliveryStatus.SENT,
            recipients=[f"hq@{workspace.slug}.example"],
            sent_to=[f"hq@{workspace.slug}.example"],
            files=[
                {
                    "name": "weekly_en.html",
                    "format": "html",
                    "language": "en",
                    "path": str(path.relative_to(settings.data_dir)),
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            ],
            total_size=len(content),
        )
    )
    db.flush()


def _mark(db: Session, workspace: Workspace) -> None:
    """Rewrite every text of the workspace's rows (and of the rows that hang off them) to
    carry MARKER, so any of it reaching the other brand's member is visible."""
    for table, owned in _owned_tables(workspace.id):
        for column in table.c:
            if column.name in TEXT_COLUMNS and isinstance(column.type, String | Text):
                length = getattr(column.type, "length", None) or 200
                value = func.substr(MARKER + " " + func.coalesce(column, ""), 1, length)
                db.execute(update(table).where(owned).values({column.name: value}))
    db.flush()


def _owned_tables(workspace_id: int) -> Iterator[tuple[Table, Any]]:
    """Each table that holds a workspace's data, with the condition selecting its rows:
    ``workspace_id`` itself, or a foreign key to a row that has it (to any depth)."""
    conditions: dict[str, Any] = {}
    for table in Base.metadata.sorted_tables:  # parents before children
        if table.name in {"users", "workspaces"}:
            continue
        if "workspace_id" in table.c:
            conditions[table.name] = table.c.workspace_id == workspace_id
        else:
            for key in table.foreign_keys:
                parent = key.column.table
                if parent.name in conditions:
                    rows = select(key.column).where(conditions[parent.name])
                    conditions[table.name] = key.parent.in_(rows.scalar_subquery())
                    break
        if table.name in conditions:
            yield table, conditions[table.name]


def snapshot_of(db: Session, workspace_id: int) -> dict[str, list[str]]:
    """Every row the workspace owns, directly or through its rows (``last_used_at`` left
    out: a token used to read is no change)."""
    db.rollback()
    rows: dict[str, list[str]] = {}
    for table, owned in _owned_tables(workspace_id):
        columns = [column for column in table.c if column.name != "last_used_at"]
        rows[table.name] = sorted(
            repr(tuple(row)) for row in db.execute(select(*columns).where(owned))
        )
    return rows


@dataclass
class Mixed:
    """The two brands, furnished, and the ids of each one's objects by table."""

    world: World
    ids: dict[int, dict[str, set[int]]]  # workspace id -> table -> its objects' ids
    users: dict[int, set[int]]  # workspace id -> its members' user ids
    parents: dict[tuple[str, int], dict[str, int]]  # acme's (table, id) -> parent table -> id

    def of(self, workspace: Workspace, table: str) -> set[int]:
        """The ids of the workspace's objects in ``table`` (its members for ``users``)."""
        if table == "users":
            return self.users[workspace.id]
        return self.ids[workspace.id].get(table, set())

    def first(self, workspace: Workspace, table: str) -> int | None:
        ids = self.of(workspace, table)
        return min(ids) if ids else None

    def owns(self, workspace: Workspace, table: str, id_: int) -> bool:
        return id_ in self.of(workspace, table)


@pytest.fixture
def mixed(db: Session, world: World, make_user: UserFactory, settings: Settings) -> Mixed:  # noqa: F811
    """acme and B with one of everything each; B's texts all carry MARKER."""
    bea = accounts.get_user_by_email(db, email="bea@quokka-b.example")
    assert bea is not None
    for workspace, editor, manager in (
        (world.a, make_user("ed@acme.example"), make_user("max@acme.example")),
        (world.b, make_user("ed@quokka-b.example"), make_user("max@quokka-b.example")),
    ):
        _furnish(
            db,
            workspace,
            members={Role.EDITOR: editor, Role.MANAGER: manager},
            settings=settings,
        )
    _mark(db, world.b)
    db.commit()
    ids: dict[int, dict[str, set[int]]] = {}
    users: dict[int, set[int]] = {}
    for workspace in (world.a, world.b):
        found: dict[str, set[int]] = {}
        for table, owned in _owned_tables(workspace.id):
            if "id" in table.c:
                found[table.name] = set(db.scalars(select(table.c.id).where(owned)))
        ids[workspace.id] = {table: rows for table, rows in found.items() if rows}
        users[workspace.id] = set(
            db.scalars(select(Membership.user_id).where(Membership.workspace_id == workspace.id))
        )
    parents: dict[tuple[str, int], dict[str, int]] = {}
    for table, owned in _owned_tables(world.a.id):
        keys = [key for key in table.foreign_keys if key.column.table.name in ids[world.a.id]]
        if "id" not in table.c or not keys:
            continue
        for row in db.execute(select(table.c.id, *(key.parent for key in keys)).where(owned)):
            parents[(table.name, row[0])] = {
                key.column.table.name: value for key, value in zip(keys, row[1:], strict=True)
            }
    return Mixed(world, ids, users, parents)


# --- Which id a field means -------------------------------------------------------------------


def stem_of(name: str) -> str:
    return re.sub(r"(_ids|_id|ids|id|s)$", "", name.lower().removesuffix("[]")) or name


def tables_for(name: str, value: str, mixed: Mixed) -> list[str]:
    """The tables whose ids the field ``name`` (holding ``value`` in acme's form) means."""
    if name in NOT_IDS or name == "csrf_token":
        return []
    stem = stem_of(name)
    if stem in ID_NAMES:
        return list(ID_NAMES[stem])
    named = name.endswith(("_id", "_ids", "id"))
    if not (named or value.isdigit()):
        return []
    # An integer without a known name: the acme tables where it is an object's id.
    a = mixed.world.a
    if value.isdigit():
        known = {**mixed.ids[a.id], "users": mixed.users[a.id]}
        return [table for table, ids in known.items() if int(value) in ids]
    return [table for table in mixed.ids[a.id] if stem in table]


def foreign_ids(name: str, value: str, mixed: Mixed, *, unambiguous: bool = False) -> list[int]:
    """B's ids for the field, one per table it can mean (distinct); ``unambiguous``
    leaves out an id that is also acme's in another table the field can mean."""
    a, b = mixed.world.a, mixed.world.b
    tables = tables_for(name, value, mixed)
    found = []
    for table in tables:
        candidate = mixed.first(b, table)
        if candidate is None or candidate in found:
            continue
        if not unambiguous or not any(mixed.owns(a, other, candidate) for other in tables):
            found.append(candidate)
    return found


# --- Forms rendered by acme's pages -------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """The ``<form>`` elements of a page with their named fields and current values."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.current: Form | None = None
        self.select: str | None = None
        self.chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = urljoin(self.page, found.get("action") or self.page)
            method = (found.get("method") or "get").upper()
            self.current = Form(method, action)
            self.forms.append(self.current)
            if found.get("id"):
                self.by_id[found["id"]] = self.current
            return
        if found.get("form") in self.by_id and "name" in found:  # a field outside its form
            self.by_id[found["form"]].fields.append((found["name"], found.get("value", "")))
        elif self.current is None or "name" not in found:
            if tag == "option" and self.current and self.select and not self.chosen:
                self.current.fields.append((self.select, found.get("value", "")))
                self.chosen = True
            return
        elif tag in {"input", "textarea", "button"}:
            kind = found.get("type", "text")
            repeated = any(name == found["name"] for name, _ in self.current.fields)
            if repeated and (kind in {"checkbox", "radio"} or tag == "button"):
                return  # one value of a choice is enough
            if kind != "file":
                self.current.fields.append((found["name"], found.get("value", "")))
        elif tag == "select":
            self.select, self.chosen = found["name"], False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def forms_of(client: TestClient, page: str) -> list[Form] | None:
    """The forms of acme's page, None when it is no page (not found, not HTML)."""
    response = client.get(page)
    if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
        return None
    parser = FormParser(page)
    parser.feed(response.text)
    return parser.forms


# --- The probe -----------------------------------------------------------------------------------


@dataclass
class Probe:
    """Alice's signed-in browser and token, what was sent, and what went wrong."""

    client: TestClient
    mixed: Mixed
    routes: list[Any]
    token: str = ""
    api_token: str = ""
    own_of: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    probes: set[tuple[str, str]] = field(default_factory=set)  # (route or form, field)
    controls: int = 0  # GET pages naming B's object whose acme twin does show
    filter_names: set[str] = field(default_factory=set)  # the fields of acme's GET forms
    linked: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by route
    problems: list[str] = field(default_factory=list)

    def headers(self, path: str) -> dict[str, str]:
        if path.startswith("/api/"):
            return {"authorization": f"Bearer {self.api_token}"}
        return {"X-CSRF-Token": self.token}

    def check(self, response: Response, what: str, *, must_refuse: bool) -> None:
        """No B text, no 5xx; a request naming B's object where it names the object acted
        on (``must_refuse``) is a 4xx."""
        self.requests += 1
        status = response.status_code
        if MARKER in response.text:
            self.problems.append(f"{what}: {status} shows B's data")
        elif status >= 500:
            self.problems.append(f"{what}: {status}")
        elif must_refuse and not 400 <= status < 500:
            self.problems.append(f"{what}: {status}, not refused")

    def compare(self, path: str, params: Any, name: str, foreign: int, what: str) -> None:
        """A filter naming B's object must answer exactly as one naming no object at all:
        the same status and, but for the echoed id, the same page (B's rows not counted)."""
        headers = self.headers(path)
        theirs = self.client.get(path, params=_with(params, name, foreign), headers=headers)
        self.check(theirs, what, must_refuse=False)
        for attempt in range(2):  # a page that shows the time may cross a minute in between
            missing = self.client.get(path, params=_with(params, name, MISSING_ID), headers=headers)
            self.requests += 1
            if theirs.status_code != missing.status_code:
                problem = f"{what}: {theirs.status_code}, {missing.status_code} for none"
            elif _echo(theirs.text, foreign, MISSING_ID) != _echo(
                missing.text, foreign, MISSING_ID
            ):
                problem = f"{what}: answers otherwise than for no object"
            else:
                return
            if attempt == 0:  # asked again: a leak differs again, a clock does not
                theirs = self.client.get(path, params=_with(params, name, foreign), headers=headers)
        self.problems.append(problem)

    def paths(self) -> None:
        """acme's address, one id parameter at a time naming B's object: refused."""
        for route in self.routes:
            own = self.own_of[route.path]
            api = route.path.startswith("/api/")
            for name in own:
                for foreign in foreign_ids(name, "", self.mixed, unambiguous=True):
                    path = fill(route.path, "acme", own | {name: foreign})
                    self.probes.add((route.path, name))
                    for method in sorted(route.methods or ()):
                        self.send_path(route, method, path, api=api)

    def send_path(self, route: Any, method: str, path: str, *, api: bool) -> None:
        body: dict[str, Any] = {}
        if method not in SAFE_METHODS:
            body = (
                {"json": json_body(body_model(route), self.mixed)}
                if api
                else {"data": {"csrf_token": self.token, "name": "probe"}}
            )
        elif method == "GET" and not api:
            twin = fill(route.path, "acme", self.own_of[route.path])
            self.controls += self.client.get(twin).status_code == 200
        response = self.client.request(
            method, path, headers=self.headers(path), follow_redirects=False, **body
        )
        self.check(response, f"{method} {path}", must_refuse=method != "HEAD")

    def filters(self) -> None:
        """The query parameters of the routes' signatures, given B's ids."""
        for route in self.routes:
            if "GET" not in (route.methods or ()):
                continue
            path = fill(route.path, "acme", self.own_of[route.path])
            for param in route.dependant.query_params:
                for foreign in foreign_ids(param.name, "", self.mixed):
                    self.probes.add((route.path, f"?{param.name}"))
                    what = f"GET {path}?{param.name}={foreign}"
                    self.compare(path, {param.name: foreign}, param.name, foreign, what)

    def page_filters(self) -> None:
        """The API's reads take the filters of the page that calls them (the dashboard's
        ``topic``, read from the query, not the signature): each id-like field of acme's
        GET forms, on each API read."""
        names = {name for name in self.filter_names if foreign_ids(name, "", self.mixed)}
        for route in self.routes:
            if "GET" not in (route.methods or ()) or not route.path.startswith("/api/"):
                continue
            declared = {param.name for param in route.dependant.query_params}
            for params in self.linked.get(route.path, [self.own_of[route.path]]):
                path = fill(route.path, "acme", params)
                for name in sorted(names - declared):
                    for foreign in foreign_ids(name, "", self.mixed):
                        self.probes.add((route.path, f"?{name}"))
                        self.compare(path, {name: foreign}, name, foreign, f"GET {path}?{name}")

    def bodies(self) -> None:
        """Each id-like field of a route's Pydantic model given B's id: refused."""
        for route in self.routes:
            model = body_model(route)
            if model is None:
                continue
            path = fill(route.path, "acme", self.own_of[route.path])
            for name, info in model.model_fields.items():
                many = "list" in str(info.annotation)
                for foreign in foreign_ids(name, "", self.mixed, unambiguous=True):
                    self.probes.add((route.path, name))
                    body = json_body(model, self.mixed) | {name: [foreign] if many else foreign}
                    for method in sorted(route.methods or ()):
                        response = self.client.request(
                            method, path, headers=self.headers(path), json=body
                        )
                        what = f"{method} {path} {name}={foreign}"
                        self.check(response, what, must_refuse=True)

    def forms(self) -> None:
        """The forms acme's pages render, each id-like field in turn given B's id."""
        seen: set[tuple[str, str, tuple[str, ...]]] = set()
        for route in self.routes:
            if "GET" not in (route.methods or ()) or route.path.startswith("/api/"):
                continue
            page = fill(route.path, "acme", self.own_of[route.path])
            for form in forms_of(self.client, page) or []:
                target = urlsplit(form.action).path
                shape = tuple(f"{k}={v}" for k, v in form.fields if k != "csrf_token")
                if not target.startswith("/w/acme") or (form.method, target, shape) in seen:
                    continue
                seen.add((form.method, target, shape))
                if form.method == "GET":
                    self.filter_names |= {name for name, _value in form.fields}
                for index, (name, value) in enumerate(form.fields):
                    for foreign in foreign_ids(name, value, self.mixed):
                        self.probes.add((f"{form.method} {target}", name))
                        fields = list(form.fields)
                        fields[index] = (name, str(foreign))
                        self.submit(form, target, fields, name, foreign, page)

    def submit(
        self,
        form: Form,
        target: str,
        fields: list[tuple[str, str]],
        name: str,
        foreign: int,
        page: str,
    ) -> None:
        what = f"{form.method} {target} {name}={foreign} (form of {page})"
        if form.method == "GET":
            self.compare(target, fields, name, foreign, what)
            return
        data = [(k, v) for k, v in fields if k != "csrf_token"] + [("csrf_token", self.token)]
        response = self.client.post(
            target,
            content=urlencode(data),
            follow_redirects=False,
            headers=self.headers(target) | {"content-type": "application/x-www-form-urlencoded"},
        )
        self.check(response, what, must_refuse=False)


def _with(params: Any, name: str, value: int) -> str:
    """The query string with the field ``name`` given ``value``."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    return urlencode([(key, str(value) if key == name else v) for key, v in pairs])


def _echo(text: str, *ids: int) -> str:
    """The page with the ids (in links, field values, JSON) and the nonce blanked."""
    text = re.sub(r'nonce="[^"]*"', "nonce", text)
    for id_ in ids:
        text = re.sub(rf"([=\[]\"?|%3D|: ){id_}(?=[\"&\\\s>,\]}}]|$)", r"\1ID", text)
    return text


def fill(route_path: str, slug: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return slug if name == "slug" else str(ids.get(name, 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, route_path)


def own_choices(route: Any, mixed: Mixed) -> Iterator[dict[str, int]]:
    """Ids of acme's objects for the route's path parameters: each of acme's objects of
    the last (innermost) kind in turn, the outer ones its parents (a variant's post)."""
    a = mixed.world.a
    names = [name for name in path_params(route) if name != "slug"]
    if not names:
        yield {}
        return
    table = {name: next(iter(tables_for(name, "", mixed)), "") for name in names}
    inner = names[-1]
    for id_ in sorted(mixed.ids[a.id].get(table[inner], {1}))[:PAGE_TRIES]:
        parents = mixed.parents.get((table[inner], id_), {})
        yield {
            name: id_
            if name == inner
            else parents.get(table[name]) or mixed.first(a, table[name]) or 1
            for name in names
        }


LINK_RE = re.compile(r'(?:href|action|hx-get|hx-post)="(/[^"?#]*)')
API_BASE_RE = re.compile(r'"api": "(/api/[^"]*/)"')
DATA_RE = re.compile(r'data-panel="([\w-]+)"')


def linked_params(client: TestClient, routes: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The path parameters of the addresses acme's own pages link to, by route: real
    values (an existing manual task, a rule's "disable") found by following the links
    from the workspace's home, one page per route."""
    found: dict[str, list[dict[str, Any]]] = {}
    queue, visited = ["/w/acme/"], set()
    while queue:
        page = queue.pop(0)
        visited.add(page)
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            continue
        links = set(LINK_RE.findall(response.text))
        # Addresses a script builds from the page: "api" + data-panel="volume".
        for api in API_BASE_RE.findall(response.text):
            links |= {api + part for part in DATA_RE.findall(response.text)}
        for link in sorted(links):
            for route in routes:
                match = route.path_regex.match(link)
                if match is None or match["slug"] != "acme":
                    continue
                params = {k: v for k, v in match.groupdict().items() if k != "slug"}
                known = found.setdefault(route.path, [])
                if params in known or (known and all(key.endswith("_id") for key in params)):
                    continue  # one object of a kind is enough; every panel, every action
                known.append(params)
                if "GET" in (route.methods or ()) and link not in visited:
                    queue.append(link)
    return found


def choose_own(client: TestClient, routes: list[Any], mixed: Mixed) -> dict[str, dict[str, Any]]:
    """For each route, ids of acme's objects with which its page (or, for a form's
    address, the page above it) shows: the control that makes a 404 for B's id mean
    something."""
    pages = {route.path: route for route in routes if "GET" in (route.methods or ())}
    chosen: dict[str, dict[str, Any]] = {}
    for route in routes:
        choices = list(own_choices(route, mixed))
        above = [
            page
            for path, page in pages.items()
            if route.path.startswith(path) and set(path_params(page)) == set(path_params(route))
        ]
        page = max(above, key=lambda found: len(found.path)) if above else None
        chosen[route.path] = choices[0]
        if page is None or page.path.startswith("/api/"):
            continue
        for choice in choices:
            if client.get(fill(page.path, "acme", choice)).status_code == 200:
                chosen[route.path] = choice
                break
    return chosen


def body_model(route: Any) -> type[BaseModel] | None:
    dependant = getattr(route, "dependant", None)
    for param in dependant.body_params if dependant else ():
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
    return None


def json_body(model: type[BaseModel] | None, mixed: Mixed) -> dict[str, Any]:
    """A body the model accepts: its required fields, ids of acme's own objects in the
    id-like ones, so that only the field given B's id can be refused."""
    body: dict[str, Any] = {}
    for name, info in (model.model_fields if model else {}).items():
        if not info.is_required():
            continue
        text = str(info.annotation)
        own = [mixed.first(mixed.world.a, table) for table in tables_for(name, "", mixed)]
        if own and own[0] is not None:
            body[name] = [own[0]] if "list" in text else own[0]
        elif "list" in text:
            body[name] = []
        elif "bool" in text:
            body[name] = False
        elif "int" in text:
            body[name] = 1
        else:
            body[name] = "probe"
    return body


@pytest.mark.postgres_only
def test_own_addresses_with_another_workspaces_ids(app: FastAPI, db: Session, mixed: Mixed) -> None:
    """Given Alice, owner of acme, and B furnished with one of everything,
    when she sends acme's own routes B's ids in the path, in every id-like field of every
    form acme's pages render, in query filters, and in API bodies with acme's token,
    then no answer shows B's data or fails with a 5xx, a path or a body naming B's object
    is refused (4xx), a filter naming it answers as one naming nothing, nothing of B
    changes, and no row of acme's points at B's."""
    alice, a_token, b = mixed.world.alice, mixed.world.a_token, mixed.world.b
    client = TestClient(app, base_url="http://testserver")
    sign_in(client, alice.email)
    routes = [
        route
        for route in http_routes(app)
        if route.path.startswith(("/w/{slug}", "/api/v1/")) and getattr(route, "dependant", None)
    ]
    probe = Probe(client, mixed, routes, token=csrf_token(client), api_token=a_token)
    probe.linked = linked_params(client, routes)
    probe.own_of = choose_own(client, routes, mixed) | {
        path: variants[0] for path, variants in probe.linked.items()
    }
    before = snapshot_of(db, b.id)

    probe.paths()
    probe.filters()
    probe.bodies()
    probe.forms()
    probe.page_filters()

    assert probe.problems == []
    assert snapshot_of(db, b.id) == before
    assert references_to_b(db, mixed) == []
    assert len(probe.probes) >= 120
    assert probe.controls >= 10  # the 404s are B's ids' doing: acme's own twins do show


def references_to_b(db: Session, mixed: Mixed) -> list[str]:
    """acme's rows that point at one of B's objects, or at a person only B has."""
    a, b = mixed.world.a, mixed.world.b
    b_only = {"users": mixed.users[b.id] - mixed.users[a.id], **mixed.ids[b.id]}
    found = []
    for table, owned in _owned_tables(a.id):
        for key in table.foreign_keys:
            theirs = b_only.get(key.column.table.name)
            if not theirs or key.parent.name == "workspace_id":
                continue
            rows = db.scalars(select(key.parent).where(owned, key.parent.in_(theirs))).all()
            found += [f"{table.name}.{key.parent.name} = {value}" for value in rows]
        for column in table.c:  # lists of ids kept as JSON (a variant's media)
            if isinstance(column.type, JSON) and column.name.endswith("_ids"):
                theirs = set().union(
                    *(b_only.get(t, set()) for t in tables_for(column.name, "", mixed))
                )
                for ids in db.scalars(select(column).where(owned)):
                    found += [
                        f"{table.name}.{column.name} has {i}" for i in set(ids or ()) & theirs
                    ]
    return found


@pytest.mark.postgres_only
def test_bs_texts_are_findable_by_their_own_owner(client: TestClient, mixed: Mixed) -> None:
    """The control for the probe: B's own owner sees the marker on B's pages, so its
    absence from Alice's answers means something."""
    sign_in(client, mixed.world.bob.email)

    pages = ["inbox", "inbox/people", "publish", "campaigns", "market/campaigns", "listen/topics"]
    shown = [page for page in pages if MARKER in client.get(f"/w/zebra-brand-b/{page}").text]

    assert shown == pages


@pytest.mark.postgres_only
def test_bs_membership_is_untouched_by_its_id_in_acmes_member_form(
    client: TestClient, db: Session, mixed: Mixed
) -> None:
    """A specific case the walker covers, spelled out: removing "member 12" of acme where
    12 is B's membership is a 404 and Bea stays in B."""
    sign_in(client, mixed.world.alice.email)
    b_member = db.scalar(
        select(Membership.id).where(
            Membership.workspace_id == mixed.world.b.id, Membership.role == Role.EDITOR
        )
    )

    response = client.post(
        f"/w/acme/settings/members/{b_member}/remove",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )

    assert response.status_code == 404
    assert db.get(Membership, b_member) is not None
