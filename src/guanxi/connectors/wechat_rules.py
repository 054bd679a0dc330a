"""WeChat's rules for an article, checked before it is scheduled and again before it goes out.

A title of at most 64 characters, a summary of at most 120, a cover (JPG, PNG, GIF or BMP
under 10 MB), an http(s) original-article link, and a body: at most 20,000 characters with
markup, only what WeChat allows (the sanitizer says what it removes), images uploaded to
WeChat or in the post's media, JPG or PNG under 1 MB; videos are left out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from guanxi.connectors.base import MediaKind, RuleViolation, Severity, VariantDraft
from guanxi.connectors.wechat_html import sanitize_html, url_scheme
from guanxi.core.errors import N_

TITLE_MAX = 64
DIGEST_MAX = 120
CONTENT_MAX_CHARS = 20_000
COVER_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp"})
COVER_MAX_BYTES = 10 * 1024 * 1024
BODY_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
BODY_IMAGE_MAX_BYTES = 1024 * 1024 - 1  # media/uploadimg: JPG or PNG under 1 MB
WECHAT_IMAGE_HOSTS = frozenset({"mmbiz.qpic.cn", "mmbiz.qlogo.cn"})

MSG_TITLE_MISSING = N_("A WeChat article needs a title. Add one (up to 64 characters).")
MSG_TITLE_LONG = N_("The title has {length} characters; WeChat allows at most {limit}. Shorten it.")
MSG_DIGEST_LONG = N_(
    "The summary has {length} characters; WeChat allows at most {limit}. Shorten it."
)
MSG_COVER_MISSING = N_("A WeChat article needs a cover image. Choose one from the media library.")
MSG_COVER_FORMAT = N_(
    "The cover must be a JPG, PNG, GIF or BMP image under 10 MB. Choose another image."
)
MSG_LINK = N_("The original-article link must start with http:// or https://. Correct it.")
MSG_BODY_MISSING = N_("The article has no text. Write the body before scheduling it.")
MSG_BODY_LONG = N_(
    "The body is too long for WeChat ({length} characters with markup; at most {limit}). "
    "Shorten it or split it into two articles."
)
MSG_SANITISED = N_(
    "These parts of the body are not allowed in WeChat articles and will be removed: {removed}."
)
MSG_EXTERNAL_IMAGE = N_(
    "The image {src} is not in the post's media: WeChat articles only show images uploaded "
    "to WeChat. Add the image to the media library and use it from there."
)
MSG_VIDEO = N_(
    "WeChat articles published by guanxi carry images only: the video {name} is left out."
)
MSG_BODY_IMAGE = N_(
    "The image {name} cannot go into a WeChat article: body images must be JPG or PNG under "
    "1 MB. Convert or shrink it."
)


def _is_wechat_image(src: str) -> bool:
    return (urlsplit(src).hostname or "").lower() in WECHAT_IMAGE_HOSTS


def _rule(
    code: str, message: str, severity: Severity = Severity.ERROR, **params: str | int
) -> RuleViolation:
    return RuleViolation(code, message, severity, params)


def _body_problems(variant: VariantDraft) -> list[RuleViolation]:
    problems: list[RuleViolation] = []
    clean = sanitize_html(variant.text)
    if not re.sub(r"<[^>]*>", "", clean.html).strip() and not clean.images:
        problems.append(_rule("wechat.body_missing", MSG_BODY_MISSING))
    if len(clean.html) > CONTENT_MAX_CHARS:
        problems.append(
            _rule(
                "wechat.body_too_long",
                MSG_BODY_LONG,
                length=len(clean.html),
                limit=CONTENT_MAX_CHARS,
            )
        )
    if clean.removed:
        removed = ", ".join(clean.removed)
        problems.append(
            _rule("wechat.body_sanitised", MSG_SANITISED, Severity.WARNING, removed=removed)
        )
    names = {media.path.name for media in variant.media}
    problems.extend(
        _rule("wechat.external_image", MSG_EXTERNAL_IMAGE, src=src[:200])
        for src in clean.images
        if src not in names and not _is_wechat_image(src)
    )
    for media in variant.media:
        name = media.path.name
        if media.kind is MediaKind.VIDEO:
            problems.append(_rule("wechat.video_left_out", MSG_VIDEO, Severity.WARNING, name=name))
        elif media.content_type not in BODY_IMAGE_TYPES or media.size > BODY_IMAGE_MAX_BYTES:
            problems.append(_rule("wechat.body_image_format", MSG_BODY_IMAGE, name=name))
    return problems


def article_problems(variant: VariantDraft) -> list[RuleViolation]:
    """Title ≤ 64, summary ≤ 120, a cover, a body; body images on WeChat or in media."""
    problems: list[RuleViolation] = []
    if not variant.title.strip():
        problems.append(_rule("wechat.title_missing", MSG_TITLE_MISSING))
    elif len(variant.title) > TITLE_MAX:
        problems.append(
            _rule(
                "wechat.title_too_long",
                MSG_TITLE_LONG,
                length=len(variant.title),
                limit=TITLE_MAX,
            )
        )
    if len(variant.digest) > DIGEST_MAX:
        problems.append(
            _rule(
                "wechat.digest_too_long",
                MSG_DIGEST_LONG,
                length=len(variant.digest),
                limit=DIGEST_MAX,
            )
        )
    if variant.cover is None:
        problems.append(_rule("wechat.cover_missing", MSG_COVER_MISSING))
    elif variant.cover.content_type not in COVER_TYPES or variant.cover.size > COVER_MAX_BYTES:
        problems.append(_rule("wechat.cover_format", MSG_COVER_FORMAT))
    if variant.link and url_scheme(variant.link) not in {"http", "https"}:
        problems.append(_rule("wechat.link_invalid", MSG_LINK))
    return problems + _body_problems(variant)
