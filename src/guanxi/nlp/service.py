"""Classifying free text line by line (``guanxi nlp classify``), as JSON-ready records.

A file is either plain text (one text per line) or JSON Lines, one object per line with
``text`` and, when known, the author's profile: ``verified_type``, ``verified_reason``,
``author_name``, ``description``, ``followers`` (the source kind reads them). The first
non-empty line decides: a JSON object with a ``text`` makes the whole file JSON Lines.
A bad line is reported with its number and left out; the rest is classified.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any

from guanxi.core.errors import N_, UserError
from guanxi.nlp.pipeline import BATCH_SIZE, Document, Pipeline

# Fields of an Enrichment that classify leaves out: the normalised text repeats the input.
_OMITTED = ("normalized_text",)
# Limits on what enters: a post is at most a few thousand characters (a long review 10,000).
MAX_LINE_CHARS = 50_000
MAX_INPUT_CHARS = 500_000_000
MAX_PROFILE_CHARS = 1_000  # verification reason, name, description
MAX_COUNT = 10**12  # followers; verified_type is a small code
AUTHOR_FIELDS = ("verified_type", "verified_reason", "author_name", "description", "followers")

BadLine = Callable[[int, UserError], None]  # line number (from 1), what is wrong with it


class InputTooLargeError(UserError):
    """The input is past ``MAX_INPUT_CHARS``."""


def classify_lines(
    lines: Iterable[str],
    *,
    pipeline: Pipeline,
    batch_size: int = BATCH_SIZE,
    on_bad_line: BadLine | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per good line of ``lines`` (in order, an empty plain line included),
    enriched in batches so a long stream needs bounded memory; each bad line goes to
    ``on_bad_line`` and is left out. Raises ``InputTooLargeError`` past the input limit."""
    batch: list[tuple[str, Document]] = []
    jsonl: bool | None = None
    total = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        total += len(line) + 1
        if total > MAX_INPUT_CHARS:
            raise InputTooLargeError(
                N_(
                    "The input is larger than {limit} characters. Split it into smaller files "
                    "and classify them one by one."
                ),
                limit=f"{MAX_INPUT_CHARS:,}",
            )
        if jsonl is None and line.strip():
            jsonl = _looks_like_jsonl(line)
        try:
            document = _document(line, jsonl=bool(jsonl))
        except UserError as exc:
            if on_bad_line:
                on_bad_line(number, exc)
            continue
        if document is None:  # an empty line of a JSON Lines file
            continue
        batch.append((document.text if jsonl else line, document))
        if len(batch) >= batch_size:
            yield from _records(batch, pipeline)
            batch = []
    if batch:
        yield from _records(batch, pipeline)


def _looks_like_jsonl(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and "text" in value


def _document(line: str, *, jsonl: bool) -> Document | None:
    if len(line) > MAX_LINE_CHARS:
        raise UserError(
            N_("The line is longer than {limit} characters: shorten it or split it."),
            limit=f"{MAX_LINE_CHARS:,}",
        )
    if not jsonl:
        return Document(text=line)
    if not line.strip():
        return None
    try:
        value = json.loads(line)
    except ValueError:
        raise UserError(
            N_('The line is not a JSON object: write one object with a "text" per line.')
        ) from None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise UserError(N_('The line has no "text" string: every object needs one.'))
    return document_of(value)


def document_of(value: dict[str, Any]) -> Document:
    """A ``Document`` from a JSON object with ``text`` and the optional author fields; a
    UserError naming the field when one has the wrong type or is too long."""
    verified_type = value.get("verified_type")
    if verified_type is not None and (
        isinstance(verified_type, bool) or not isinstance(verified_type, int)
    ):
        verified_type = _integer(verified_type, "verified_type")
    followers = value.get("followers")
    if followers is not None:
        followers = _integer(followers, "followers")
        if followers < 0:
            raise UserError(N_('"followers" is negative: give a count of 0 or more.'))
    texts = {}
    for name in ("verified_reason", "author_name", "description"):
        field = value.get(name)
        if field is None:
            field = ""
        if not isinstance(field, str):
            raise UserError(N_('"{field}" is not a string: write it in quotes.'), field=name)
        if len(field) > MAX_PROFILE_CHARS:
            raise UserError(
                N_('"{field}" is longer than {limit} characters: shorten it.'),
                field=name,
                limit=f"{MAX_PROFILE_CHARS:,}",
            )
        texts[name] = field
    return Document(
        text=str(value["text"]),
        platform=str(value.get("platform") or ""),
        author_name=texts["author_name"],
        verified_type=verified_type,
        verified_reason=texts["verified_reason"],
        author_description=texts["description"],
        followers=followers,
    )


def _integer(value: object, name: str) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().removeprefix("-").isdigit():
        number = int(value.strip()[:20])
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is not None and abs(number) <= MAX_COUNT:
        return number
    raise UserError(N_('"{field}" is not a whole number: write it as one (e.g. 3).'), field=name)


def _records(batch: list[tuple[str, Document]], pipeline: Pipeline) -> Iterator[dict[str, Any]]:
    enrichments = pipeline.enrich([document for _, document in batch])
    for (text, _), enrichment in zip(batch, enrichments, strict=True):
        record = {"text": text, **asdict(enrichment)}
        for field in _OMITTED:
            record.pop(field)
        yield record
