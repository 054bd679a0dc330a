"""A strict allowlist sanitizer for WeChat article bodies, on the standard library's parser.

Only the tags and attributes listed here survive; everything is re-serialised from the
parsed tokens (text and attribute values escaped, every open tag closed), so what comes out
is well-formed whatever came in. Scripts, styles, frames, event handlers, comments and
``javascript:``/``data:`` URLs never do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "section",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
VOID_TAGS = frozenset({"br", "hr", "img"})
# Dropped together with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    {
        "applet",
        "audio",
        "base",
        "button",
        "canvas",
        "embed",
        "frame",
        "frameset",
        "head",
        "iframe",
        "input",
        "link",
        "math",
        "meta",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "video",
        "xmp",
    }
)
# Browsers read these as open elements even when written "<script/>": skip what follows.
RAW_TEXT_TAGS = frozenset(
    {"iframe", "noembed", "noframes", "noscript", "script", "style", "textarea", "title", "xmp"}
)
GLOBAL_ATTRIBUTES = frozenset({"style", "title"})
TAG_ATTRIBUTES = {
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
    "ol": frozenset({"start"}),
}
URL_ATTRIBUTES = frozenset({"href", "src"})
SAFE_SCHEMES = frozenset({"http", "https"})
STYLE_PROPERTIES = frozenset(
    {
        "background-color",
        "border",
        "border-bottom",
        "border-left",
        "border-radius",
        "border-right",
        "border-top",
        "box-sizing",
        "color",
        "font-size",
        "font-style",
        "font-weight",
        "height",
        "letter-spacing",
        "line-height",
        "margin",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "margin-top",
        "max-width",
        "padding",
        "padding-bottom",
        "padding-left",
        "padding-right",
        "padding-top",
        "text-align",
        "text-decoration",
        "text-indent",
        "width",
    }
)
# A declaration's value: words, numbers, colours, rgb(...); nothing that loads or runs.
_STYLE_VALUE = re.compile(r"^[#\w\s.,%()\-+!]*$")
_STYLE_FORBIDDEN = re.compile(r"url\s*\(|expression|javascript|@import|var\s*\(", re.IGNORECASE)
# Browsers ignore these inside URLs, so "java\tscript:" would still run: strip them first.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f]+")


@dataclass
class SanitizedHtml:
    """The clean HTML, and what was removed (for a warning the user can read)."""

    html: str
    removed: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # the src of every kept <img>


def url_scheme(url: str) -> str:
    """The URL's scheme, lower-cased, as a browser would read it ("" when relative)."""
    cleaned = _URL_IGNORED.sub("", url)
    try:
        return urlsplit(cleaned).scheme.lower()
    except ValueError:
        return "invalid"


def _clean_style(value: str) -> str | None:
    kept = []
    for declaration in value.split(";"):
        name, _, text = declaration.partition(":")
        name, text = name.strip().lower(), text.strip()
        if not name:
            continue
        if (
            name in STYLE_PROPERTIES
            and _STYLE_VALUE.match(text)
            and not _STYLE_FORBIDDEN.search(text)
        ):
            kept.append(f"{name}: {text}")
        else:
            return None
    return "; ".join(kept) or None


class _Sanitizer(HTMLParser):
    def __init__(self, rewrite_src: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.rewrite_src = rewrite_src
        self.out: list[str] = []
        self.open: list[str] = []
        self.skipping: list[str] = []
        self.removed: list[str] = []
        self.images: list[str] = []

    def _note(self, what: str) -> None:
        if what not in self.removed:
            self.removed.append(what)

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> list[str] | None:
        allowed = GLOBAL_ATTRIBUTES | TAG_ATTRIBUTES.get(tag, frozenset())
        kept: list[str] = []
        for name, raw in attrs:
            value = raw or ""
            if name not in allowed:
                self._note(f"{name}=" if not name.startswith("on") else "on* event handler")
                continue
            if name in URL_ATTRIBUTES and url_scheme(value) not in SAFE_SCHEMES | {""}:
                self._note(f"{url_scheme(value)}: URL")
                if tag == "img":
                    return None  # an image without a safe source is no image
                continue
            if name == "style":
                cleaned = _clean_style(value)
                if cleaned is None:
                    self._note("style=")
                    continue
                value = cleaned
            if tag == "img" and name == "src":
                self.images.append(value)
                value = self.rewrite_src.get(value, value)
            kept.append(f' {name}="{escape(value, quote=True)}"')
        return kept

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag in DROPPED_WITH_CONTENT and tag not in VOID_TAGS:
                self.skipping.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT:
            self._note(f"<{tag}>")
            if tag not in {"base", "input", "link", "meta"}:  # void: nothing inside to skip
                self.skipping.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            self._note(f"<{tag}>")
            return
        kept = self._attributes(tag, attrs)
        if kept is None:
            self._note(f"<{tag}>")
            return
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT and tag not in RAW_TEXT_TAGS and not self.skipping:
            self._note(f"<{tag}>")  # explicitly self-closed: there is no content to skip
            return
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self.open and self.open[-1] == tag and not self.skipping:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag not in self.open:
            return
        while self.open:
            closing = self.open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(escape(data, quote=False))

    def handle_comment(self, data: str) -> None:  # noqa: ARG002 - dropped whatever it says
        self._note("<!-- comment -->")

    def handle_decl(self, decl: str) -> None:  # noqa: ARG002 - dropped whatever it says
        self._note("<!DOCTYPE>")

    def handle_pi(self, data: str) -> None:  # noqa: ARG002 - dropped whatever it says
        self._note("<?...?>")

    def unknown_decl(self, data: str) -> None:  # noqa: ARG002 - dropped whatever it says
        self._note("<![...]>")

    def result(self) -> str:
        self.close()
        self.out.extend(f"</{tag}>" for tag in reversed(self.open))
        self.open.clear()
        return "".join(self.out)


_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!?]")


def sanitize_html(body: str, *, rewrite_src: Mapping[str, str] | None = None) -> SanitizedHtml:
    """``body`` with only allowlisted tags and attributes left; plain text becomes paragraphs.

    Text without any markup is taken as plain text: each line becomes a ``<p>``.
    ``rewrite_src`` replaces image sources (a media file's name by its uploaded URL).
    """
    if not _LOOKS_LIKE_HTML.search(body):
        paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
        return SanitizedHtml("".join(f"<p>{escape(line, quote=False)}</p>" for line in paragraphs))
    parser = _Sanitizer(rewrite_src or {})
    parser.feed(body)
    clean = parser.result()
    return SanitizedHtml(clean, parser.removed, parser.images)
