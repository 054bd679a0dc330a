"""Remembering column mappings, and the first guess of one from a file's headers.

The import pages and commands call these: ``guess`` proposes a mapping from the headers'
names, ``remembered`` finds the one confirmed for files with the same header row,
``remember`` stores the confirmed one (optionally under a name), ``named`` finds a mapping
by its name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.mappings.models import NAME_MAX, ColumnMapping

_UNIT = re.compile(r"[(（][^)）]*[)）]$")  # "播放量(次)", "成交金额（元）"


@dataclass(frozen=True)
class Remembered:
    """A mapping confirmed before: field → column, and how the values are written."""

    mapping: dict[str, str]
    options: dict[str, str] = field(default_factory=dict)
    name: str = ""


def headers_key(columns: Iterable[str]) -> str:
    """A digest of a header row: files of the same shape share it."""
    return hashlib.sha256("\x1f".join(columns).encode()).hexdigest()


def normalised(name: str) -> str:
    """A header as compared with the known names: lower case, no spaces, no unit."""
    return _UNIT.sub("", name.strip().lower().replace(" ", "").replace("\u3000", ""))


def guess(guesses: Mapping[str, Iterable[str]], columns: list[str]) -> dict[str, str]:
    """The first guess of which column holds each field of ``guesses`` (field → the header
    names it is written under, normalised); the first field that claims a column keeps it."""
    by_name = {normalised(column): column for column in reversed(columns)}
    taken: set[str] = set()
    found: dict[str, str] = {}
    for name, known in guesses.items():
        for known_name in known:
            column = by_name.get(known_name)
            if column is not None and column not in taken:
                found[name] = column
                taken.add(column)
                break
    return found


def _stored(
    db: Session, *, workspace_id: int, purpose: str, columns: list[str]
) -> ColumnMapping | None:
    return db.scalar(
        select(ColumnMapping).where(
            ColumnMapping.workspace_id == workspace_id,
            ColumnMapping.purpose == purpose,
            ColumnMapping.headers_key == headers_key(columns),
        )
    )


def _read(found: ColumnMapping, columns: list[str] | None = None) -> Remembered:
    mapping = {
        name: column
        for name, column in found.mapping.items()
        if columns is None or column in columns
    }
    return Remembered(mapping=mapping, options=dict(found.options or {}), name=found.name)


def remembered(
    db: Session, *, workspace_id: int, purpose: str, columns: list[str]
) -> Remembered | None:
    """The mapping confirmed for files of this purpose with exactly these headers, if any."""
    found = _stored(db, workspace_id=workspace_id, purpose=purpose, columns=columns)
    return None if found is None else _read(found, columns)


def named(db: Session, *, workspace_id: int, purpose: str, name: str) -> Remembered:
    """The workspace's mapping called ``name``; a ``UserError`` naming the others if none."""
    found = db.scalar(
        select(ColumnMapping).where(
            ColumnMapping.workspace_id == workspace_id,
            ColumnMapping.purpose == purpose,
            ColumnMapping.name == name.strip(),
        )
    )
    if found is None:
        known = names(db, workspace_id=workspace_id, purpose=purpose)
        raise UserError(
            N_("There is no mapping called “{name}”. Known mappings: {names}."),
            name=name[:NAME_MAX],
            names=", ".join(known) or "—",
        )
    return _read(found)


def names(db: Session, *, workspace_id: int, purpose: str) -> list[str]:
    """The names of the workspace's named mappings for ``purpose``."""
    query = (
        select(ColumnMapping.name)
        .where(
            ColumnMapping.workspace_id == workspace_id,
            ColumnMapping.purpose == purpose,
            ColumnMapping.name != "",
        )
        .order_by(ColumnMapping.name)
    )
    return list(db.scalars(query))


def remember(
    db: Session,
    *,
    workspace_id: int,
    purpose: str,
    columns: list[str],
    mapping: Mapping[str, str],
    options: Mapping[str, str] | None = None,
    name: str = "",
) -> ColumnMapping:
    """Store ``mapping`` (already checked) for files of this purpose with these headers,
    replacing the one remembered before; a ``name`` another shape's mapping has is refused."""
    name = values.text(name, limit=NAME_MAX).strip()
    found = _stored(db, workspace_id=workspace_id, purpose=purpose, columns=columns)
    if name:
        holder = db.scalar(
            select(ColumnMapping.id).where(
                ColumnMapping.workspace_id == workspace_id,
                ColumnMapping.purpose == purpose,
                ColumnMapping.name == name,
            )
        )
        if holder is not None and (found is None or holder != found.id):
            raise UserError(
                N_(
                    "A mapping of files with other columns is already called “{name}”. "
                    "Choose another name."
                ),
                name=name,
            )
    if found is None:
        found = ColumnMapping(
            workspace_id=workspace_id, purpose=purpose, headers_key=headers_key(columns)
        )
        db.add(found)
    found.mapping = dict(mapping)
    found.options = dict(options or {})
    found.name = name or found.name
    found.updated_at = utcnow()
    db.flush()
    return found
