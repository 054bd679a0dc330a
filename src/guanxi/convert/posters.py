"""Printable posters of a scene code: the code with the brand above it and the campaign (or
the code's label) below, as PNG, SVG or PDF.

QR codes and URL Links are drawn from the address they encode (segno, sharp at any size);
a mini-program code is the image WeChat made. The PNG and the PDF (Pillow's writer) need a
font with Chinese characters on the server for Chinese captions: the first of
``CJK_FONTS`` found is used (Debian: ``fonts-noto-cjk``), else DejaVu Sans; the SVG leaves
the font to the viewer.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageDraw, ImageFont

from guanxi.convert.scene_models import SceneCode

WIDTH, HEIGHT = 1200, 1600  # pixels of the PNG (A-series proportions, ~150 dpi on A6)
CODE_SIZE = 840
CAPTION_MAX = 40  # characters of a caption line kept
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


class PosterFormat(StrEnum):
    """The files a poster comes as."""

    PNG = "png"
    SVG = "svg"
    PDF = "pdf"


MEDIA_TYPES = {
    PosterFormat.PNG: "image/png",
    PosterFormat.SVG: "image/svg+xml",
    PosterFormat.PDF: "application/pdf",
}


@dataclass(frozen=True)
class PosterText:
    """The words on a poster: the brand above, the campaign or label below, a hint."""

    brand: str
    caption: str
    hint: str


def _line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CAPTION_MAX else text[: CAPTION_MAX - 1] + "…"


def _code_png(code: SceneCode) -> bytes:
    if code.image:
        return code.image
    buffer = io.BytesIO()
    segno.make(code.url, error="m").save(buffer, kind="png", scale=20, border=2)
    return buffer.getvalue()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in CJK_FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def _png_image(code: SceneCode, text: PosterText) -> Image.Image:
    poster = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(poster)
    draw.text((WIDTH / 2, 150), _line(text.brand), fill="#111", font=_font(64), anchor="mm")
    with Image.open(io.BytesIO(_code_png(code))) as image:
        square = image.convert("RGB").resize((CODE_SIZE, CODE_SIZE), Image.Resampling.NEAREST)
    poster.paste(square, ((WIDTH - CODE_SIZE) // 2, 260))
    draw.text((WIDTH / 2, 1200), _line(text.caption), fill="#111", font=_font(52), anchor="mm")
    draw.text((WIDTH / 2, 1300), _line(text.hint), fill="#555", font=_font(40), anchor="mm")
    return poster


def _svg(code: SceneCode, text: PosterText) -> bytes:
    offset = (WIDTH - CODE_SIZE) // 2
    if code.image:
        data = base64.b64encode(code.image).decode("ascii")
        drawn = (
            f'<image x="{offset}" y="260" width="{CODE_SIZE}" height="{CODE_SIZE}" '
            f'href="data:image/png;base64,{data}"/>'
        )
    else:
        qr = segno.make(code.url, error="m")
        size = qr.symbol_size(scale=1, border=2)[0]
        scale = CODE_SIZE / size
        path = qr.svg_inline(scale=1, border=2, dark="#111", light="#fff")
        drawn = f'<g transform="translate({offset},260) scale({scale:.4f})">{path}</g>'
    font = 'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="{WIDTH // 2}" y="170" text-anchor="middle" font-size="64" {font} '
        f'fill="#111">{escape(_line(text.brand))}</text>{drawn}'
        f'<text x="{WIDTH // 2}" y="1220" text-anchor="middle" font-size="52" {font} '
        f'fill="#111">{escape(_line(text.caption))}</text>'
        f'<text x="{WIDTH // 2}" y="1315" text-anchor="middle" font-size="40" {font} '
        f'fill="#555">{escape(_line(text.hint))}</text></svg>'
    )
    return svg.encode("utf-8")


def poster(code: SceneCode, text: PosterText, kind: PosterFormat) -> bytes:
    """The poster of ``code`` as a ``kind`` file."""
    if kind is PosterFormat.SVG:
        return _svg(code, text)
    image = _png_image(code, text)
    buffer = io.BytesIO()
    if kind is PosterFormat.PDF:
        image.save(buffer, format="PDF", resolution=150.0, title=_line(text.caption))
    else:
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
