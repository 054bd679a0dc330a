"""The most any one input may hold: the bounds every request schema and form field uses.

Generous on purpose: each service applies its own, stricter rule with a clear message;
these only stop input that no page would ever send (a 100 MB text, a million ids).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

FIELD_MAX_LENGTH = 1_000  # a name, an address, a filter, a date, a password
TEXT_MAX_LENGTH = 100_000  # a post's text, a description, a note
LIST_MAX_LENGTH = 100  # ids or choices picked in one request

# Ids are INTEGER columns: 32 bits on PostgreSQL (SQLite stores 64), and PostgreSQL refuses
# to even compare a larger number with them. No id, page or count of guanxi's goes beyond.
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1

DbInt = Annotated[int, Field(ge=DB_INT_MIN, le=DB_INT_MAX)]
"""An integer the database will compare or store: an id given in a request body."""


def parse_id(value: str | None) -> int | None:
    """The id a form or query value names, or None: ASCII digits within the database's range.

    ``str.isdigit`` is not enough: it accepts "³" (which ``int`` refuses) and numbers no
    database row can have (which PostgreSQL refuses to compare with an id).
    """
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(DB_INT_MAX)):
        return None
    number = int(text)
    return number if number <= DB_INT_MAX else None
