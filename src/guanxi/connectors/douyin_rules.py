"""Douyin's rules for a post, and the invisible marker that finds a post again.

One video (MP4, WebM or MOV, up to 4 GB, 1 s to 15 minutes), no images, at most 1,000
characters of text, topics written as ``#话题`` followed by a space. The idempotency marker
(invisible characters at the end of the text) lets the connector find the post a lost answer
created; ``visible_text`` takes it off again.
"""

from __future__ import annotations

import hashlib
import re

from guanxi.connectors.base import MediaFile, MediaKind, RuleViolation, Severity, VariantDraft
from guanxi.core.errors import N_

MAX_VIDEO_BYTES = 4 * 1024 * 1024 * 1024  # the part upload's maximum as Douyin documents it
MAX_DURATION_S = 15 * 60
MIN_DURATION_S = 1.0
MAX_TEXT_LENGTH = 1000
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime"})

# Weibo's #话题# written for Douyin: Douyin reads "#话题" and keeps the closing # as text.
DOUBLE_HASH_RE = re.compile(r"#[^#\s]+#")
EMPTY_HASH_RE = re.compile(r"#(\s|$)")
# The idempotency marker: invisible characters, four symbols, two bits each.
MARKER_ALPHABET = "\u200b\u200c\u200d\u2060"
MARKER_RE = re.compile(f"[{MARKER_ALPHABET}]+$")


def idempotency_marker(key: str) -> str:
    """The invisible suffix that identifies ``key``'s post (64 bits of its hash)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()[:8]
    return "".join(
        MARKER_ALPHABET[(byte >> shift) & 3] for byte in digest for shift in (6, 4, 2, 0)
    )


def visible_text(text: str) -> str:
    """The text without an idempotency marker."""
    return MARKER_RE.sub("", text)


def variant_problems(variant: VariantDraft) -> list[RuleViolation]:
    """Douyin's rules: one video (format, size, duration), text length, ``#话题`` tags."""
    problems: list[RuleViolation] = []
    videos = [m for m in variant.media if m.kind is MediaKind.VIDEO]
    images = [m for m in variant.media if m.kind is MediaKind.IMAGE]
    if not videos:
        problems.append(
            RuleViolation("douyin.video_required", N_("Douyin needs a video: add one."))
        )
    elif len(videos) > 1:
        problems.append(
            RuleViolation(
                "douyin.one_video",
                N_("Douyin publishes one video per post: keep one and remove the others."),
            )
        )
    if images:
        problems.append(
            RuleViolation(
                "douyin.no_images",
                N_("Douyin posts from guanxi are videos: remove the images."),
            )
        )
    for video in videos:
        problems.extend(_video_problems(video))
    text = variant.text
    if len(text) > MAX_TEXT_LENGTH:
        problems.append(
            RuleViolation(
                "douyin.text_too_long",
                N_("The text has {length} characters; Douyin allows {limit}. Shorten it."),
                params={"length": len(text), "limit": MAX_TEXT_LENGTH},
            )
        )
    if DOUBLE_HASH_RE.search(text):
        problems.append(
            RuleViolation(
                "douyin.hashtag_style",
                N_(
                    "Douyin writes topics as #话题 followed by a space, not #话题#: "
                    "remove the closing #."
                ),
                severity=Severity.WARNING,
                covers="hashtags",
            )
        )
    if EMPTY_HASH_RE.search(text):
        problems.append(
            RuleViolation(
                "douyin.empty_hashtag",
                N_("A # is not followed by a topic: write the topic right after it."),
                severity=Severity.WARNING,
            )
        )
    return problems


def _video_problems(video: MediaFile) -> list[RuleViolation]:
    problems = []
    if video.content_type not in VIDEO_TYPES:
        problems.append(
            RuleViolation(
                "douyin.video_format",
                N_("Douyin takes MP4 or WebM videos; convert {name} to MP4."),
                params={"name": video.path.name},
            )
        )
    if video.size > MAX_VIDEO_BYTES:
        problems.append(
            RuleViolation(
                "douyin.video_too_large",
                N_(
                    "The video is {size} MB; Douyin takes videos up to {limit} MB. "
                    "Compress it or cut it shorter, then add it again."
                ),
                params={
                    "size": video.size // (1024 * 1024),
                    "limit": MAX_VIDEO_BYTES // (1024 * 1024),
                },
            )
        )
    if video.duration_s is not None and not MIN_DURATION_S <= video.duration_s <= MAX_DURATION_S:
        problems.append(
            RuleViolation(
                "douyin.video_duration",
                N_("The video lasts {seconds} s; Douyin takes 1 s to 15 minutes."),
                params={"seconds": int(video.duration_s)},
            )
        )
    return problems
