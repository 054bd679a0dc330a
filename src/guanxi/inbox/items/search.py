"""Full-text search over inbox items, fast at a million items on SQLite and PostgreSQL.

Chinese has no spaces, so words cannot be told apart without a dictionary. Each item's text
is normalised (Traditional to Simplified, lower case) and cut into tokens that both engines
index the same way: every overlapping pair of Han characters (退款慢 → 退款 款慢) plus the
last character of a run alone (慢), and every run of Latin letters or digits as one word.
A query is cut the same way and matched as a phrase (its tokens next to each other), so
"退款慢" finds "退款慢" and not "退款很慢"; a single character is a prefix query.

- SQLite: a contentless FTS5 table ``inbox_search_fts`` (rowid = item id), created on first
  use. Results come newest first by item id, which FTS5 walks without sorting.
- PostgreSQL: ``inbox_search_documents.document`` is a ``tsvector`` built from the same
  tokens (written as a literal, so no text-search parser or locale is involved) with a GIN
  index; the query is a ``tsquery`` phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Table,
    bindparam,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import literal_column

from guanxi.checks.words import normalize
from guanxi.inbox.bulk import insert_rows
from guanxi.inbox.items.models import InboxItem, SearchDocument
from guanxi.inbox.triage.screening import normalized

FTS_TABLE = "inbox_search_fts"
MAX_QUERY_TOKENS = 32
PG_PROBE = 5000
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
_RUN = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+)")
_fts = table(FTS_TABLE, column("rowid"))
INSERT_FTS = "INSERT INTO inbox_search_fts(rowid, tokens) VALUES (:rowid, :tokens)"


def tokens(value: str) -> list[str]:
    """The search tokens of ``value`` in order (see the module docstring)."""
    found: list[str] = []
    # Cached: moderation's phrase lists read the same normalised text right after.
    for han, word in _RUN.findall(normalized(value)):
        if word:
            found.append(word)
            continue
        found.extend(han[index : index + 2] for index in range(len(han) - 1))
        found.append(han[-1])
    return found


def _query_phrases(query: str) -> list[tuple[list[str], bool]]:
    """Each space-separated part of ``query`` as (tokens in order, is a prefix query)."""
    phrases = []
    for part in query.split():
        wanted: list[str] = []
        runs = _RUN.findall(normalize(part))
        for han, word in runs:
            if word:
                wanted.append(word)
            elif len(han) == 1:
                wanted.append(han)
            else:
                wanted.extend(han[index : index + 2] for index in range(len(han) - 1))
        if wanted:
            single_han = len(runs) == 1 and len(runs[0][0]) == 1
            phrases.append((wanted[:MAX_QUERY_TOKENS], single_han))
    return phrases


_ensured: set[str] = set()


def database_key(db: Session) -> str:
    """The address of ``db``'s database, naming it in per-process caches."""
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return str(engine.url)


def ensure_index(db: Session) -> None:
    """Create SQLite's FTS5 table if it is missing (PostgreSQL's table is migrated)."""
    key = database_key(db)
    if db.get_bind().dialect.name == "sqlite" and key not in _ensured:
        db.execute(
            text(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
                "USING fts5(tokens, content='', tokenize='unicode61')"
            )
        )
        # Once per database file and process; a file made anew (tests) has a new name.
        if key != "sqlite://":
            _ensured.add(key)


def index_items(db: Session, *, items: Sequence[InboxItem]) -> None:
    """Add ``items`` (flushed, with ids) to the search index."""
    if not items:
        return
    if db.get_bind().dialect.name == "sqlite":
        ensure_index(db)
        # Straight to the driver: the values need no conversion, and SQLAlchemy's per-row
        # parameter handling cost more than the FTS insert.
        db.connection().exec_driver_sql(
            "INSERT INTO inbox_search_fts(rowid, tokens) VALUES (?, ?)",
            [(item.id, " ".join(tokens(item.text))) for item in items],
        )
        return
    rows = [{"item_id": item.id, "document": tsvector_literal(item.text)} for item in items]
    insert_rows(db, cast(Table, SearchDocument.__table__), rows)  # one statement


def tsvector_literal(value: str) -> str:
    """The PostgreSQL ``tsvector`` literal of ``value``'s tokens, with their positions."""
    # Tokens hold letters and digits only, so quoting needs no escaping; positions cap at
    # 16383 in PostgreSQL.
    return " ".join(
        f"'{token}':{min(position, 16383)}" for position, token in enumerate(tokens(value), start=1)
    )


def apply_search(db: Session, statement: Select[InboxItem], query: str) -> Select[InboxItem]:
    """``statement`` restricted to items matching ``query``, newest (highest id) first.

    A query with no letters or digits matches nothing rather than everything.
    """
    phrases = _query_phrases(query)
    if not phrases:
        return statement.where(InboxItem.id < 0)
    if db.get_bind().dialect.name == "sqlite":
        ensure_index(db)
        match = " AND ".join(
            f'"{" ".join(words)}"' + ("*" if prefix else "") for words, prefix in phrases
        )
        condition: ColumnElement[bool] = literal_column(FTS_TABLE).op("MATCH")(
            bindparam("search_match", match)
        )
        return (
            statement.join(_fts, _fts.c.rowid == InboxItem.id)
            .where(condition)
            .order_by(None)
            .order_by(_fts.c.rowid.desc())
        )
    tsquery = " & ".join(
        "(" + " <-> ".join(f"'{word}'" + (":*" if prefix else "") for word in words) + ")"
        for words, prefix in phrases
    )
    parsed = text("CAST(:search_tsquery AS tsquery)").bindparams(search_tsquery=tsquery)
    # PostgreSQL's estimate for a phrase of bigrams can be far off, and the wrong plan (all
    # matches through the GIN index, then a sort) takes seconds for a common phrase. So
    # ask the index for at most PROBE matches: fewer means all of them are known; as many
    # means the phrase is common, and walking the newest items with a filter is quick.
    probe = list(
        db.scalars(
            select(SearchDocument.item_id)
            .where(SearchDocument.document.op("@@")(parsed))
            .limit(PG_PROBE)
        )
    )
    if len(probe) < PG_PROBE:
        return statement.where(InboxItem.id.in_(probe)).order_by(None).order_by(InboxItem.id.desc())
    # A function call instead of the operator keeps the planner off the GIN index.
    matches = func.ts_match_vq(SearchDocument.document, parsed)
    return (
        statement.join(SearchDocument, SearchDocument.item_id == InboxItem.id)
        .where(matches)
        .order_by(None)
        .order_by(InboxItem.id.desc())
    )
