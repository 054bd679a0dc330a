"""Hashtag syntax per platform (``HashtagStyle``).

- ``DOUBLE_HASH`` (Weibo): a topic is ``#话题#``. A ``#`` that opens a topic but is never
  closed on its line (``#话题 今天``) is flagged with the fix.
- ``SINGLE_HASH`` (Douyin, Xiaohongshu, Bilibili): a tag is ``#话题`` followed by a space.
  A ``#话题#`` pair is flagged: the closing ``#`` becomes part of the tag.
- ``NONE`` (WeChat articles): tags are plain text there; every tag is flagged.

A ``#`` inside a URL, after a letter or digit (C#, No.#3) or an ``&`` (an HTML entity), or not
followed by a word character (a lone "#"), opens no tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guanxi.checks.findings import CheckedField, CheckSubject, Finding, Span
from guanxi.checks.links import find_urls
from guanxi.connectors.base import HashtagStyle, Severity
from guanxi.core.errors import N_

HASHES = "#＃"
TOPIC_MAX_LENGTH = 64


@dataclass(frozen=True)
class Tag:
    """A hashtag as written: ``text[start:end]``; ``closed`` for the ``#话题#`` form."""

    start: int
    end: int
    topic: str
    closed: bool


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _opens_tag(text: str, index: int, in_url: list[tuple[int, int]]) -> bool:
    if any(start <= index < end for start, end in in_url):
        return False
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    if before == "&" or (before.isascii() and before.isalnum()):
        return False
    return _word(after)


def find_tags(text: str) -> list[Tag]:
    """The hashtags of ``text``, in either form, in order."""
    in_url = [(start, end) for start, end, _ in find_urls(text)]
    tags: list[Tag] = []
    index = 0
    while index < len(text):
        if text[index] not in HASHES or not _opens_tag(text, index, in_url):
            index += 1
            continue
        line_end = text.find("\n", index)
        line_end = len(text) if line_end == -1 else line_end
        closing = next(
            (
                position
                for position in range(index + 1, min(line_end, index + TOPIC_MAX_LENGTH + 2))
                if text[position] in HASHES
            ),
            -1,
        )
        topic = text[index + 1 : closing] if closing != -1 else ""
        # A closed topic has no leading or trailing space: "#a b #c" is two single tags.
        if closing != -1 and topic.strip() == topic and topic:
            tags.append(Tag(index, closing + 1, topic, closed=True))
            index = closing + 1
            continue
        end = index + 1
        while end < len(text) and _word(text[end]):
            end += 1
        tags.append(Tag(index, end, text[index + 1 : end], closed=False))
        index = end
    return tags


def _finding(code: str, message: str, tags: Sequence[tuple[CheckedField, Tag]]) -> Finding:
    example = tags[0][1].topic
    return Finding(
        code=code,
        severity=Severity.WARNING,
        message=message,
        params={"count": len(tags), "example": example},
        spans=tuple(Span(name, tag.start, tag.end) for name, tag in tags),
    )


def check_hashtags(subject: CheckSubject) -> list[Finding]:
    """A warning for tags written in another form than the account's platform reads."""
    tags = [
        (name, tag)
        for name, value in subject.fields()
        if name is not CheckedField.LINK
        for tag in find_tags(value)
    ]
    if subject.hashtag_style is HashtagStyle.NONE:
        if not tags:
            return []
        return [
            _finding(
                "hashtags.not_supported",
                N_(
                    "Hashtags do not work here ({count}, e.g. “#{example}”): this platform "
                    "shows them as plain text. Remove them or write the topic as words."
                ),
                tags,
            )
        ]
    if subject.hashtag_style is HashtagStyle.DOUBLE_HASH:
        open_tags = [(name, tag) for name, tag in tags if not tag.closed]
        if not open_tags:
            return []
        return [
            _finding(
                "hashtags.unclosed",
                N_(
                    "On Weibo a topic is written between two # signs: write “#{example}#” "
                    "instead of “#{example}” ({count} to fix)."
                ),
                open_tags,
            )
        ]
    closed_tags = [(name, tag) for name, tag in tags if tag.closed]
    if not closed_tags:
        return []
    return [
        _finding(
            "hashtags.double_hash",
            N_(
                "On this platform a tag is # followed by the topic and a space: write "
                "“#{example} ” instead of “#{example}#” ({count} to fix)."
            ),
            closed_tags,
        )
    ]
