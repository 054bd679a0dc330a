"""Every form of every page survives hostile values: no 5xx, and every page still renders.

The views read many fields by hand (a number, a date, a time zone, ids from checkboxes), so
the schema fuzzing of ``tests/test_api_fuzzing.py`` never sees them. This test reads the
forms the way a browser does: it signs in, opens every page the app serves for a workspace
with data of every capability (ids of its own objects, found as ``tests/test_isolation.py``
finds them), parses each ``<form>`` (method, action, fields and their defaults, the CSRF
token), and submits each one many times with one field at a time replaced by a hostile
value chosen for its kind (a number field gets ``³``, ``1e400`` and ``nan``; a date field
gets year 9999; a link gets ``javascript:``), left out, or sent twice.

No answer may be a 5xx; afterwards every page still renders, so nothing a form stored
broke a page. Forms that differ only by the id in their address (a row's buttons) are
submitted once, so the run stays short on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.devtools.demo import inbox as inbox_demo
from guanxi.devtools.demo import listening as listening_demo
from guanxi.devtools.demo import market as market_demo
from guanxi.listening.mentions import flows
from tests.composer_support import Team, make_team, test_connectors  # noqa: F401 - fixture
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.listening_data_support import FakePipeline
from tests.test_isolation import PARAM_RE, fill_path, http_routes, ids_of

SLUG = "acme"
# Forms that end the session or the workspace the run is signed in to.
SESSION_ENDING = ("/logout", "/sign-out-everywhere", "/settings/password", "/settings/delete")
LONG = "长" * 100_000
CONTROLS = "a\x00b\x01c\x1b\x7f\u202e"
HUGE = str(2**63)
NUMBERS = ("", "³", "-1", "0", HUGE, "1e400", "nan")
DATES = ("", "9999-12-31", "0001-01-01", "2024-02-30", "³")
TIMES = ("", "25:61", "9999", "noon")
MOMENTS = ("", "9999-12-31T23:59", "0001-01-01T00:00", "2024-01-01T25:00", "soon")
ZONES = ("", "Mars/Olympus_Mons", "Asia", "../../etc/passwd", "UTC\x00", "Asia/" + "x" * 300)
URLS = ("javascript:alert(1)", "data:text/html,<script>", "http://[::1", LONG)
CHOICES = ("", "no-such-choice", "³", "-1", HUGE)
TEXTS = ("", LONG, CONTROLS, "³", HUGE, "9999-12-31")
COLORS = ("", "red", "#12345", CONTROLS)


# --- Reading forms ------------------------------------------------------------------------


@dataclass
class Field:
    """One named control of a form: its kind (input type, select, textarea) and default."""

    name: str
    kind: str
    value: str
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    """A form as a browser would submit it."""

    page: str
    method: str
    action: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)

    def data(self) -> list[tuple[str, str]]:
        """The fields as a browser sends them, defaults kept (unchecked boxes left out)."""
        return [(f.name, f.value) for f in self.fields if f.kind not in {"file", "unchecked"}]

    def signature(self) -> tuple[str, str, tuple[str, ...]]:
        """What makes two forms the same form: method, action with ids blanked, fields."""
        shape = "/".join("#" if part.isdigit() else part for part in self.action.split("/"))
        return self.method, shape, tuple(sorted({f.name for f in self.fields}))


class FormParser(HTMLParser):
    """Collect the forms of one page, with hx-post/hx-get read as the action."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: Field | None = None
        self.textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            method = "post" if "hx-post" in attr else attr.get("method", "get").lower()
            action = attr.get("hx-post") or attr.get("action") or self.page
            multipart = attr.get("enctype", "") == "multipart/form-data"
            self.current = Form(self.page, method, urljoin(self.page, action), multipart)
            self.forms.append(self.current)
            return
        if tag == "option" and self.select is not None:
            self.select.options.append(attr.get("value", ""))
            if "selected" in attr or len(self.select.options) == 1:
                self.select.value = attr.get("value", "")
            return
        if self.current is None or "name" not in attr:
            return
        name = attr["name"]
        if tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attr:
                kind = "unchecked"  # sent only when the test picks a value for it
            self.current.fields.append(Field(name, kind, attr.get("value", "on")))
        elif tag == "button" and attr.get("type", "submit") == "submit":
            if "value" in attr:
                self.current.fields.append(Field(name, "button", attr["value"]))
        elif tag == "select":
            self.select = Field(name, "select", "")
            self.current.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = Field(name, "textarea", "")
            self.current.fields.append(self.textarea)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_of(page: str, html: str) -> list[Form]:
    """The forms of the page at ``page``."""
    parser = FormParser(page)
    parser.feed(html)
    return parser.forms


# --- Hostile values -----------------------------------------------------------------------


def hostile_values(item: Field) -> tuple[str, ...]:
    """The values worth trying in this field, by its kind and, for text, by its name."""
    name = item.name.lower()
    if item.kind == "number":
        return NUMBERS
    if item.kind == "date":
        return DATES
    if item.kind == "time":
        return TIMES
    if item.kind == "datetime-local":
        return MOMENTS
    if item.kind == "url" or "url" in name or "link" in name:
        return URLS
    if item.kind == "color":
        return COLORS
    if "zone" in name:
        return ZONES
    if item.kind in {"select", "radio", "checkbox", "unchecked", "button"}:
        return CHOICES
    if item.kind == "hidden" and item.value.isdigit():
        return NUMBERS
    if item.kind == "file":
        return ()
    if any(word in name for word in ("day", "date", "from", "until", "start", "end")):
        return TEXTS + DATES[1:4]
    return TEXTS


def variants(form: Form) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The form's submissions: defaults, then one field at a time hostile, left out, twice."""
    base = form.data()
    yield "defaults", base
    named = {item.name: item for item in reversed(form.fields)}  # a row of boxes: the first
    for item in named.values():
        if item.name == "csrf_token" or item.kind == "file":
            continue
        others = [(name, value) for name, value in base if name != item.name]
        for value in hostile_values(item):
            yield f"{item.name}={value[:20]!r}", [*others, (item.name, value)]
        yield f"without {item.name}", others
        doubled = item.value if item.kind != "unchecked" else "on"
        yield f"{item.name} twice", [*others, (item.name, doubled), (item.name, "³")]


# --- The workspace ------------------------------------------------------------------------


@pytest.fixture
def team(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Team:
    """acme with a member per role, two accounts, a post, mentions, an inbox and charts."""
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: FakePipeline())
    team = make_team(db, make_user, make_workspace, slug=SLUG)
    for demo in (listening_demo, inbox_demo):
        demo.load_demo(db, workspace=team.workspace)
        db.flush()
    market_demo.load_charts(db, workspace=team.workspace)
    db.commit()
    return team


@dataclass
class HuntReport:
    """What the hunt covered and every 5xx it met."""

    pages: set[str] = field(default_factory=set)
    forms: int = 0
    submissions: int = 0
    failures: list[str] = field(default_factory=list)
    tried: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)


def page_paths(app: FastAPI, db: Session, team: Team) -> list[str]:
    """Every page of the workspace (and the account pages), with ids of its own objects."""
    paths = []
    for route in http_routes(app):
        if "GET" not in (route.methods or ()) or route.path.startswith(("/api/", "/static")):
            continue
        names = PARAM_RE.findall(route.path)
        if any(not (n == "slug" or n == "id" or n.endswith("_id")) for n in names):
            continue  # a day or a file name: not a page a link leads to with data
        paths.append(fill_path(route, slug=SLUG, ids=ids_of(db, team.workspace)))
    return sorted(set(paths))


def send(client: TestClient, form: Form, data: list[tuple[str, str]]) -> int:
    """Submit ``data`` as ``form`` would; a crash is a 500 with its traceback recorded."""
    target = urlsplit(form.action)
    path = target.path + (f"?{target.query}" if target.query else "")
    if form.method == "get":  # no browser sends an address of 100,000 characters
        short = [(name, value if value != LONG else value[:5_000]) for name, value in data]
        response = client.get(path, params=short, follow_redirects=False)
    elif form.multipart:
        files = [(name, (None, value.encode("utf-8", "surrogatepass"))) for name, value in data]
        response = client.post(path, files=files or [("", (None, b""))], follow_redirects=False)
    else:
        fields: dict[str, list[str]] = {}
        for name, value in data:
            fields.setdefault(name, []).append(value)
        response = client.post(path, data=fields, follow_redirects=False)
    return response.status_code


def crashed(crash: Exception) -> str:
    """The exception a request raised, in one short line."""
    first = next(iter(str(crash).strip().splitlines()), "")
    return f"{type(crash).__name__}: {first}"[:300]


def hunt(client: TestClient, paths: list[str], report: HuntReport) -> None:
    """Open every page, then submit every form not yet tried with hostile values."""
    forms: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for path in paths:
        try:
            response = client.get(path, follow_redirects=False)
        except Exception as crash:
            report.failures.append(f"GET {path}: {crashed(crash)}")
            continue
        if response.status_code >= 500:
            report.failures.append(f"GET {path}: {response.status_code}")
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            continue
        report.pages.add(path)
        for form in forms_of(path, response.text):
            if not form.action.startswith(("/", "http://testserver")):
                continue
            if any(part in urlsplit(form.action).path for part in SESSION_ENDING):
                continue
            if form.signature() not in report.tried:
                forms.setdefault(form.signature(), form)
    report.tried |= set(forms)
    report.forms += len(forms)
    for form in forms.values():
        for label, data in variants(form):
            report.submissions += 1
            try:
                status = send(client, form, data)
            except Exception as crash:
                report.failures.append(f"{form.method} {form.action} [{label}]: {crashed(crash)}")
                continue
            if status >= 500:
                report.failures.append(f"{form.method} {form.action} [{label}]: {status}")


@pytest.mark.postgres_only
@pytest.mark.usefixtures("test_connectors")
def test_no_form_of_any_page_fails_on_hostile_values(
    app: FastAPI, db: Session, team: Team, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given acme with data of every capability, its owner and its editor signed in,
    when every form of every page is submitted with hostile values in each field,
    then no answer is a 5xx, and afterwards every page still renders."""
    owner_token = accounts.create_api_token(
        db, membership=team.workspace.memberships[0], name="hunt"
    )[1]
    db.commit()
    report = HuntReport()
    with TestClient(app, base_url="http://testserver") as client:
        created = client.post(
            "/api/v1/w/acme/publish/posts",
            headers={"authorization": f"Bearer {owner_token}"},
            json={"title": "春季上新", "body": "春季新品上市。", "channel_ids": [team.micro.id]},
        )
        assert created.status_code == 201, created.text
        for user in (team.owner, team.editor):
            client.cookies.clear()
            sign_in(client, user.email)
            hunt(client, page_paths(app, db, team), report)

        client.cookies.clear()
        sign_in(client, team.owner.email)
        db.rollback()
        after = {path: client.get(path).status_code for path in page_paths(app, db, team)}

    with capsys.disabled():
        print(  # noqa: T201 - the figures CI shows
            f"\nForm hunting: {len(report.pages)} pages, {report.forms} forms, "
            f"{report.submissions} submissions, {len(report.failures)} 5xx"
        )
    assert len(report.pages) >= 30
    assert report.forms >= 40
    assert report.failures == []
    assert {path: code for path, code in after.items() if code >= 500} == {}
