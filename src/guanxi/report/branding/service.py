"""A workspace's report branding: read, checked where it comes in, saved, and made a ``Brand``.

Every upload is checked here before it is kept: a logo is a PNG, JPEG or SVG within the size
and pixel limits (kept as a PNG the files place, an SVG also as its vector), a colour is
"#rrggbb", a PowerPoint master opens with python-pptx and has a layout with a title.
"""

from __future__ import annotations

import io
import re
import warnings
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.errors import N_, UserError
from guanxi.report.branding.models import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    LOGO_KEPT_SIZE,
    LOGO_MAX_BYTES,
    LOGO_MAX_SIDE,
    LOGO_MIN_SIDE,
    TEMPLATE_MAX_BYTES,
    TEMPLATE_NAME_MAX_LENGTH,
    ReportBrand,
)
from guanxi.report.document import Brand

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
# SVG elements and references that could run code or read a file when the logo is drawn.
_SVG_FORBIDDEN = {"script", "foreignObject", "iframe", "object", "embed", "audio", "video"}
_SAFE_HREF = re.compile(r"^(#|data:image/(png|jpeg);base64,)")
_SVG_SIDE = re.compile(r"^\s*([0-9]+(\.[0-9]+)?)\s*(px)?\s*$")

BAD_COLOUR = N_("A colour is written as # and six hexadecimal digits, like #8e1b3a; not “{value}”.")
LOGO_TOO_BIG = N_("The logo is {size} KB; upload one of at most {limit} KB.")
LOGO_UNREADABLE = N_("The logo could not be read as an image: upload a PNG, JPEG or SVG file.")
LOGO_KIND = N_("The logo is a {kind} image; upload a PNG, JPEG or SVG file.")
LOGO_PIXELS = N_(
    "The logo is {width} × {height} pixels; upload one between {least} and {most} pixels a side."
)
SVG_UNSAFE = N_(
    "The SVG logo holds {what}, which a logo must not (scripts, external files or links): "
    "export it again as a plain drawing, or upload a PNG."
)
SVG_NO_SIZE = N_(
    "The SVG logo has no size: give its <svg> a viewBox or a width and height in pixels, "
    "or upload a PNG."
)
TEMPLATE_TOO_BIG = N_("The PowerPoint template is {size} MB; upload one of at most {limit} MB.")
TEMPLATE_UNREADABLE = N_(
    "The PowerPoint template could not be opened ({error}): upload a .pptx file saved by "
    "PowerPoint, Keynote or LibreOffice (not a .ppt or .potx)."
)
TEMPLATE_NO_LAYOUT = N_(
    "The PowerPoint template has no slide layout with a title: add a “Title Only” or "
    "“Title Slide” layout to its master, or upload another."
)


def get_brand(db: Session, *, workspace: Workspace) -> ReportBrand | None:
    """The workspace's report branding, or None while it has the defaults."""
    return db.get(ReportBrand, workspace.id)


def brand_of(db: Session, *, workspace: Workspace) -> Brand:
    """The workspace's look on its reports: its name, and its logo, colours and master."""
    kept = get_brand(db, workspace=workspace)
    if kept is None:
        return Brand(name=workspace.name)
    return Brand(
        name=workspace.name,
        logo_png=kept.logo_png,
        logo_svg=kept.logo_svg,
        primary_colour=kept.primary_colour,
        accent_colour=kept.accent_colour,
        template_pptx=kept.template_pptx,
    )


def checked_colour(value: str) -> str:
    """``value`` as "#rrggbb" in lower case; UserError when it is not a colour."""
    value = value.strip()
    if not COLOUR.match(value):
        raise UserError(BAD_COLOUR, value=value[:20])
    return value.lower()


def _kept_png(picture: Image.Image) -> bytes:
    """``picture`` as the PNG the files place: at most ``LOGO_KEPT_SIZE``, its metadata gone."""
    picture = picture.convert("RGBA") if picture.mode not in {"RGB", "RGBA"} else picture
    picture.thumbnail(LOGO_KEPT_SIZE)
    written = io.BytesIO()
    picture.save(written, format="PNG", optimize=True)
    return written.getvalue()


def _check_side(width: float, height: float) -> None:
    if not (LOGO_MIN_SIDE <= width <= LOGO_MAX_SIDE and LOGO_MIN_SIDE <= height <= LOGO_MAX_SIDE):
        raise UserError(
            LOGO_PIXELS,
            width=int(width),
            height=int(height),
            least=LOGO_MIN_SIDE,
            most=LOGO_MAX_SIDE,
        )


def _svg_side(root: Element) -> tuple[float, float]:
    """The drawing's size in pixels: its width and height, else its viewBox's."""
    width, height = (_SVG_SIDE.match(root.get(name, "")) for name in ("width", "height"))
    if width and height:
        return float(width.group(1)), float(height.group(1))
    box = root.get("viewBox", "").replace(",", " ").split()
    try:
        _x, _y, box_width, box_height = (float(part) for part in box)
    except ValueError:
        raise UserError(SVG_NO_SIZE) from None
    return box_width, box_height


def _checked_svg(content: bytes) -> tuple[bytes, bytes]:
    """A safe SVG logo and its PNG rendition; UserError for anything else."""
    try:
        root = ElementTree.fromstring(content)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise UserError(LOGO_UNREADABLE) from None
    if root.tag != f"{_SVG_NAMESPACE}svg":
        raise UserError(LOGO_UNREADABLE)
    for element in root.iter():
        name = str(element.tag).rpartition("}")[2]
        if name in _SVG_FORBIDDEN:
            raise UserError(SVG_UNSAFE, what=f"<{name}>")
        for attribute, value in element.attrib.items():
            local = attribute.rpartition("}")[2]
            if local.lower().startswith("on"):
                raise UserError(SVG_UNSAFE, what=local)
            if local == "href" and not _SAFE_HREF.match(value.strip()):
                raise UserError(SVG_UNSAFE, what=f"href={value.strip()[:40]}")
        style = element.text or ""
        if name == "style" and "url(" in style and "url(#" not in style:
            raise UserError(SVG_UNSAFE, what="url()")
    width, height = _svg_side(root)
    _check_side(width, height)
    import resvg_py  # noqa: PLC0415 - the SVG rasteriser (Rust), loaded for an SVG upload only

    scale = min(LOGO_KEPT_SIZE[0] / width, LOGO_KEPT_SIZE[1] / height)
    try:
        rendered = bytes(
            resvg_py.svg_to_bytes(
                svg_string=content.decode("utf-8"),
                width=max(1, round(width * scale)),
                height=max(1, round(height * scale)),
            )
        )
    except (ValueError, UnicodeDecodeError):
        raise UserError(LOGO_UNREADABLE) from None
    return content, rendered


def checked_logo(content: bytes) -> tuple[bytes, bytes | None]:
    """The logo to keep from an upload: its PNG, and its SVG when it is one; UserError with
    what to do for a file too big, too small or large in pixels, unreadable or unsafe."""
    if len(content) > LOGO_MAX_BYTES:
        raise UserError(LOGO_TOO_BIG, size=len(content) // 1000, limit=LOGO_MAX_BYTES // 1000)
    head = content[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in content[:4096].lower():
        svg, png = _checked_svg(content)
        return png, svg
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as picture:
                if picture.format not in {"PNG", "JPEG"}:
                    raise UserError(LOGO_KIND, kind=str(picture.format))
                _check_side(*picture.size)  # from the header, before the pixels are read
                picture.load()
                return _kept_png(picture), None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UserError(LOGO_UNREADABLE) from None
    except Image.DecompressionBombWarning:
        raise UserError(LOGO_UNREADABLE) from None


def checked_template(content: bytes) -> bytes:
    """An uploaded PowerPoint master, once it opens and has a layout with a title."""
    if len(content) > TEMPLATE_MAX_BYTES:
        raise UserError(
            TEMPLATE_TOO_BIG,
            size=round(len(content) / 1_000_000, 1),
            limit=TEMPLATE_MAX_BYTES // 1_000_000,
        )
    from pptx import Presentation  # noqa: PLC0415 - python-pptx and lxml (~0.2 s), for a template upload only
    from pptx.enum.shapes import PP_PLACEHOLDER  # noqa: PLC0415 - as above

    try:
        deck = Presentation(io.BytesIO(content))
        layouts = list(deck.slide_layouts)
        titled = any(
            shape.placeholder_format.type in {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}
            for layout in layouts
            for shape in layout.placeholders
        )
    except Exception as error:  # python-pptx raises zipfile, KeyError and lxml errors alike
        raise UserError(TEMPLATE_UNREADABLE, error=type(error).__name__) from None
    if not titled:
        raise UserError(TEMPLATE_NO_LAYOUT)
    return content


def _kept(db: Session, workspace: Workspace) -> ReportBrand:
    kept = get_brand(db, workspace=workspace)
    if kept is None:
        kept = ReportBrand(
            workspace_id=workspace.id, primary_colour=DEFAULT_PRIMARY, accent_colour=DEFAULT_ACCENT
        )
        db.add(kept)
    return kept


def _audit(
    db: Session, *, workspace: Workspace, actor: User, action: str, after: dict[str, str]
) -> None:
    record_audit(
        db,
        actor=actor,
        action=action,
        entity_type="report_brand",
        entity_id=workspace.id,
        workspace=workspace,
        after=after,
    )


def set_colours(
    db: Session, *, workspace: Workspace, actor: User, primary: str, accent: str
) -> ReportBrand:
    """Give the workspace's reports these colours ("#rrggbb", checked)."""
    primary, accent = checked_colour(primary), checked_colour(accent)
    kept = _kept(db, workspace)
    kept.primary_colour, kept.accent_colour = primary, accent
    _audit(
        db,
        workspace=workspace,
        actor=actor,
        action="report.brand.colours",
        after={"primary": primary, "accent": accent},
    )
    db.flush()
    return kept


def set_logo(db: Session, *, workspace: Workspace, actor: User, content: bytes) -> ReportBrand:
    """Give the workspace's reports this logo (checked: see ``checked_logo``)."""
    png, svg = checked_logo(content)
    kept = _kept(db, workspace)
    kept.logo_png, kept.logo_svg = png, svg
    _audit(
        db,
        workspace=workspace,
        actor=actor,
        action="report.brand.logo",
        after={"kind": "svg" if svg else "png", "bytes": str(len(content))},
    )
    db.flush()
    return kept


def set_template(
    db: Session, *, workspace: Workspace, actor: User, content: bytes, name: str
) -> ReportBrand:
    """Lay the workspace's PowerPoint reports out on this master (checked)."""
    kept = _kept(db, workspace)
    kept.template_pptx = checked_template(content)
    kept.template_name = name.strip()[:TEMPLATE_NAME_MAX_LENGTH] or "template.pptx"
    _audit(
        db,
        workspace=workspace,
        actor=actor,
        action="report.brand.template",
        after={"name": kept.template_name, "bytes": str(len(content))},
    )
    db.flush()
    return kept


def remove(db: Session, *, workspace: Workspace, actor: User, what: str) -> None:
    """Go back to the default for ``what``: "logo", "template" or "colours"."""
    kept = get_brand(db, workspace=workspace)
    if kept is None:
        return
    if what == "logo":
        kept.logo_png = kept.logo_svg = None
    elif what == "template":
        kept.template_pptx, kept.template_name = None, ""
    elif what == "colours":
        kept.primary_colour, kept.accent_colour = DEFAULT_PRIMARY, DEFAULT_ACCENT
    else:
        msg = f"unknown branding part {what!r}"
        raise ValueError(msg)
    _audit(db, workspace=workspace, actor=actor, action=f"report.brand.{what}.remove", after={})
    db.flush()
