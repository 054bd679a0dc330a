"""A workspace's report branding (white-label): what an upload must be, and the logo, colours
and PowerPoint master on every format; the page that sets them, for managers and owners."""

from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pptx import Presentation
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Role, User, Workspace
from guanxi.core.errors import UserError
from guanxi.report.branding import service
from guanxi.report.branding.models import LOGO_MAX_BYTES, TEMPLATE_MAX_BYTES
from guanxi.report.build import ReportSpec, build_report
from guanxi.report.files import render_file
from guanxi.report.files.pdf import report_html
from guanxi.report.periods import ReportPeriod
from guanxi.report.present import ChartView, present
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture
from tests.test_report_pages import new_report, token

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
PERIOD = ReportPeriod(date(2026, 11, 30), date(2026, 12, 6), date(2026, 11, 23), date(2026, 11, 29))
SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80">'
    b'<rect width="200" height="80" fill="#0a7e8c"/><circle cx="160" cy="40" r="30" fill="#fff"/>'
    b"</svg>"
)


def picture(size: tuple[int, int], image_format: str = "PNG") -> bytes:
    written = io.BytesIO()
    Image.new("RGB", size, "#0a7e8c").save(written, format=image_format)
    return written.getvalue()


def deck(*, layout_name: str = "Brand title only", titled: bool = True) -> bytes:
    """A .pptx master; without ``titled``, no layout has a title placeholder."""
    template = Presentation()
    template.slide_layouts[5].name = layout_name
    if not titled:
        for layout in template.slide_layouts:
            for shape in list(layout.placeholders):
                shape._element.getparent().remove(shape._element)
    written = io.BytesIO()
    template.save(written)
    return written.getvalue()


def size_of(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as opened:
        assert opened.format == "PNG"
        return opened.size


# --- What an upload must be -----------------------------------------------------------------


def test_a_logo_is_kept_as_a_png_the_files_place_whatever_came_in() -> None:
    """A big PNG and a JPEG become PNGs of at most 800 × 400 (proportions kept); an SVG is
    kept as its vector and drawn as a PNG for PowerPoint and Excel."""
    png, svg = service.checked_logo(picture((1600, 400)))
    assert (size_of(png), svg) == ((800, 200), None)
    png, svg = service.checked_logo(picture((300, 120), "JPEG"))
    assert (size_of(png), svg) == ((300, 120), None)
    png, svg = service.checked_logo(SVG_LOGO)
    assert svg == SVG_LOGO
    assert size_of(png) == (800, 320)
    with Image.open(io.BytesIO(png)) as drawn:
        assert drawn.convert("RGB").getpixel((10, 10)) == (10, 126, 140)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG" + b"0" * LOGO_MAX_BYTES, "at most 1000 KB"),
        (picture((4001, 20)), "4001 × 20 pixels"),
        (picture((12, 12)), "between 16 and 4000 pixels"),
        (picture((40, 40), "GIF"), "a GIF image"),
        (b"not a picture", "could not be read"),
        (SVG_LOGO.replace(b"<rect", b"<script>alert(1)</script><rect"), "<script>"),
        (SVG_LOGO.replace(b"<rect", b'<rect onclick="steal()"'), "onclick"),
        (
            SVG_LOGO.replace(b"<rect", b'<image href="file:///etc/passwd"/><rect'),
            "href=file:///etc/passwd",
        ),
        (SVG_LOGO.replace(b' viewBox="0 0 200 80"', b""), "no size"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9000 80"/>', "9000 × 80"),
        (b'<!DOCTYPE svg [<!ENTITY x "y">]><svg/>', "could not be read"),
    ],
)
def test_a_logo_that_is_not_a_safe_picture_of_a_sensible_size_is_refused(
    content: bytes, message: str
) -> None:
    with pytest.raises(UserError) as refused:
        service.checked_logo(content)
    assert message in refused.value.translated(lambda text: text)


def test_colours_are_hex_and_kept_in_lower_case() -> None:
    assert service.checked_colour(" #0A7E8C ") == "#0a7e8c"
    for bad in ("0a7e8c", "#0a7e8", "red", "#0a7e8cff", "#ggg000"):
        with pytest.raises(UserError, match="six hexadecimal digits"):
            service.checked_colour(bad)


def test_a_powerpoint_master_must_open_and_have_a_layout_with_a_title() -> None:
    good = deck()
    assert service.checked_template(good) == good
    cases = [
        (b"PK\x03\x04 not really", "could not be opened (BadZipFile)"),
        (deck(titled=False), "no slide layout with a title"),
        (good + b"0" * TEMPLATE_MAX_BYTES, "at most 10 MB"),
    ]
    for content, message in cases:
        with pytest.raises(UserError) as refused:
            service.checked_template(content)
        assert message in refused.value.translated(lambda text: text)


# --- On every format --------------------------------------------------------------------------


@pytest.mark.usefixtures("test_sections")
def test_the_brands_logo_colours_and_master_are_on_every_format(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a workspace with its colours, an SVG logo and a master, when its report is
    made, the page and the PDF show the vector logo and the colours, the deck is laid out on
    the master with the colours in its charts, and the workbook's title is in the primary."""
    owner = make_user("owner@acme.example")
    workspace = make_workspace("acme", owner=owner)
    service.set_colours(db, workspace=workspace, actor=owner, primary="#0A7E8C", accent="#f29f05")
    service.set_logo(db, workspace=workspace, actor=owner, content=SVG_LOGO)
    service.set_template(db, workspace=workspace, actor=owner, content=deck(), name="brand.pptx")
    db.commit()

    document = build_report(
        db, workspace=workspace, spec=ReportSpec("Week 49", SECTION_KEYS), period=PERIOD, now=NOW
    )

    vector = "data:image/svg+xml;base64," + base64.b64encode(SVG_LOGO).decode("ascii")
    page = present(document, "en")
    assert (page.logo, page.primary_colour, page.accent_colour) == (vector, "#0a7e8c", "#f29f05")
    drawn = [b for section in page.sections for b in section.blocks if isinstance(b, ChartView)]
    assert drawn[0].option["color"][:2] == ["#0a7e8c", "#f29f05"]  # as the PDF's charts
    printed = report_html(document, "en", None)
    assert vector in printed
    assert "#0a7e8c" in printed
    slides = Presentation(io.BytesIO(render_file(document, "pptx", "en")))
    assert slides.slides[1].slide_layout.name == "Brand title only"
    charts = [s.chart for slide in slides.slides for s in slide.shapes if s.has_chart]
    assert charts
    assert "0A7E8C" in charts[0]._chartSpace.xml.upper()
    book = openpyxl.load_workbook(io.BytesIO(render_file(document, "xlsx", "en")))
    assert book.worksheets[0]["A2"].font.color.rgb == "FF0A7E8C"
    assert book.worksheets[0]._images  # the logo, drawn from the SVG as a PNG


def test_without_branding_a_report_has_the_workspaces_name_and_the_default_look(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    brand = service.brand_of(db, workspace=workspace)
    assert (brand.name, brand.logo_png, brand.template_pptx) == ("Acme", None, None)
    assert (brand.primary_colour, brand.accent_colour) == ("#8e1b3a", "#c9a227")


# --- The page ---------------------------------------------------------------------------------


@pytest.fixture
def team(make_user: UserFactory, make_workspace: WorkspaceFactory) -> dict[str, User]:
    owner = make_user("owner@acme.example", name="Owner")
    manager = make_user("manager@acme.example", name="Manager")
    editor = make_user("editor@acme.example", name="Editor")
    make_workspace("acme", owner=owner, members={manager: Role.MANAGER, editor: Role.EDITOR})
    return {"owner": owner, "manager": manager, "editor": editor}


PAGE = "/w/acme/reports/branding"


def upload(client: TestClient, part: str, name: str, content: bytes) -> int:
    response = client.post(
        f"{PAGE}/{part}",
        data={"csrf_token": token(client, PAGE)},
        files={"file": (name, content)},
        follow_redirects=False,
    )
    return response.status_code


@pytest.mark.usefixtures("test_sections")
def test_a_manager_brands_the_reports_and_the_preview_shows_it(
    client: TestClient, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["manager"].email)
    assert client.get(PAGE).status_code == 200
    assert upload(client, "logo", "logo.png", picture((400, 100))) == 303
    assert upload(client, "template", "brand.pptx", deck()) == 303
    colours = {"primary": "#0a7e8c", "accent": "#f29f05", "csrf_token": token(client, PAGE)}
    assert client.post(f"{PAGE}/colours", data=colours, follow_redirects=False).status_code == 303

    page = client.get(PAGE).text
    assert 'value="#0a7e8c"' in page
    assert "Decks are laid out on brand.pptx." in page
    report_id = new_report(client)
    preview = client.get(f"/w/acme/reports/{report_id}?lang=en").text
    assert 'class="report-logo" src="data:image/png;base64,' in preview
    assert "--report-primary: #0a7e8c" in preview
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("report.b%"))))
    assert actions == {"report.brand.logo", "report.brand.template", "report.brand.colours"}

    remove = {"part": "logo", "csrf_token": token(client, PAGE)}
    assert client.post(f"{PAGE}/remove", data=remove, follow_redirects=False).status_code == 303
    assert 'class="report-logo"' not in client.get(f"/w/acme/reports/{report_id}?lang=en").text


def test_a_bad_upload_or_colour_is_refused_in_the_readers_language(
    client: TestClient, db: Session, team: dict[str, User]
) -> None:
    sign_in(client, team["owner"].email)
    response = client.post(
        f"{PAGE}/colours",
        data={"primary": "crimson", "accent": "#f29f05", "csrf_token": token(client, PAGE)},
    )
    assert response.status_code == 400
    assert "like #8e1b3a; not “crimson”" in response.text
    assert 'value="crimson"' in response.text  # what was typed stays to be corrected
    response = client.post(
        f"{PAGE}/template",
        data={"csrf_token": token(client, PAGE)},
        files={"file": ("deck.ppt", b"old binary format")},
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 400
    assert "PowerPoint 模板无法打开" in response.text
    assert service.get_brand(db, workspace=db.scalars(select(Workspace)).one()) is None


def test_editors_cannot_change_or_see_the_branding(
    client: TestClient, team: dict[str, User]
) -> None:
    sign_in(client, team["editor"].email)
    assert client.get(PAGE).status_code == 403
    assert "/reports/branding" not in client.get("/w/acme/reports").text
