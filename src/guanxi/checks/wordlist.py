"""The workspace's sensitive-word list: seed, list, add, remove, import, export.

Every change is audited. Rows are never updated in place: changing a term's category or
severity deletes its row and adds a new one, so the list's version (row count, highest id)
changes and the cached automaton is rebuilt (``guanxi.checks.service.compiled_words``).
Terms are unique per workspace across scripts: 頂級 and 顶级 are one term.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Permission, Workspace
from guanxi.accounts.service import record_audit, require
from guanxi.checks.models import SensitiveWord
from guanxi.checks.words import (
    CATEGORY_MAX_LENGTH,
    TERM_MAX_LENGTH,
    WordEntry,
    WordSeverity,
    default_entries,
    normalize,
)
from guanxi.core import filelimits
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.filelimits import formula_safe
from guanxi.core.upsert import create_unique, insert_missing

SEED_ACTION = "sensitive_words.seed"
IMPORT_MAX_BYTES = 2_000_000
IMPORT_MAX_ROWS = 50_000
SHOWN_CHARS = 200  # of a bad line, in the report
# A row is a term, a category and a severity: anything longer is not a row of terms.
IMPORT_LINE_MAX_LENGTH = 1_000
SHOWN_LINE_LENGTH = 80  # what the report shows of a line that is too long


class InvalidWordError(UserError):
    """A term, category or severity that cannot be listed."""


@dataclass(frozen=True)
class BadRow:
    """An import row that was skipped, and why (a message id with params)."""

    line: int
    text: str
    message: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import did."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    merged: int = 0  # rows that repeat a term of the file (in either script)
    bad_rows: list[BadRow] = field(default_factory=list)


def ensure_default_words(db: Session, *, workspace: Workspace) -> bool:
    """Give the workspace the default list once (True when it was added now).

    A workspace that has been seeded is never seeded again, even when its users removed
    every term: the seed is recorded in the audit log.
    """
    if _seeded(db, workspace=workspace):
        return False
    entries = default_entries()
    existing = _existing_by_key(db, workspace=workspace)
    rows = [_values(workspace, e) for e in entries if normalize(e.term) not in existing]
    insert_missing(db, SensitiveWord, rows, unique=["workspace_id", "term"])
    if _seeded(db, workspace=workspace):  # another request seeded it meanwhile
        return False
    record_audit(
        db,
        actor=None,
        action=SEED_ACTION,
        entity_type="sensitive_words",
        entity_id=workspace.id,
        workspace=workspace,
        after={"terms": len(entries)},
    )
    db.flush()
    return True


def list_words(
    db: Session, *, workspace: Workspace, query: str = "", limit: int | None = None
) -> list[SensitiveWord]:
    """The workspace's terms by category then term, filtered by ``query`` (a substring)."""
    statement = select(SensitiveWord).where(SensitiveWord.workspace_id == workspace.id)
    if query.strip():
        statement = statement.where(SensitiveWord.term.contains(query.strip()))
    statement = statement.order_by(SensitiveWord.category, SensitiveWord.term)
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.scalars(statement))


def count_words(db: Session, *, workspace: Workspace) -> int:
    """How many terms the workspace lists."""
    statement = select(func.count(SensitiveWord.id)).where(
        SensitiveWord.workspace_id == workspace.id
    )
    return int(db.scalar(statement) or 0)


def parse_entry(term: str, category: str, severity: str) -> WordEntry:
    """A validated entry, or InvalidWordError saying what to fix."""
    term = term.strip()
    category = category.strip()
    if not term:
        raise InvalidWordError(N_("Enter the term to screen for."))
    if len(term) > TERM_MAX_LENGTH:
        raise InvalidWordError(N_("Shorten the term to {limit} characters."), limit=TERM_MAX_LENGTH)
    if len(category) > CATEGORY_MAX_LENGTH:
        raise InvalidWordError(
            N_("Shorten the category to {limit} characters."), limit=CATEGORY_MAX_LENGTH
        )
    try:
        level = WordSeverity(severity.strip().lower() or WordSeverity.WARN)
    except ValueError:
        raise InvalidWordError(
            N_("Unknown severity “{value}”: use “block” or “warn”."), value=severity
        ) from None
    return WordEntry(term=term, category=category, severity=level)


def _lock_list(db: Session, *, workspace: Workspace) -> None:
    """Make other writers of the workspace's list wait until this transaction ends.

    An import reads the whole list, then writes hundreds of rows: two at once would both
    add the same terms. A no-op UPDATE of the workspace row locks it on PostgreSQL and
    takes the database's write lock on SQLite; the list is read after it.
    """
    db.execute(
        update(Workspace)
        .where(Workspace.id == workspace.id)
        .values(updated_at=Workspace.updated_at)
        .execution_options(synchronize_session=False)
    )


def _seeded(db: Session, *, workspace: Workspace) -> bool:
    """Whether the workspace has had its default list (the seed's audit event says so)."""
    seeded = db.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.workspace_id == workspace.id, AuditEvent.action == SEED_ACTION)
        .limit(1)
    )
    return seeded is not None


def _values(workspace: Workspace, entry: WordEntry) -> dict[str, str | int]:
    return {
        "workspace_id": workspace.id,
        "term": entry.term,
        "category": entry.category,
        "severity": entry.severity.value,
    }


def _row(workspace: Workspace, entry: WordEntry) -> SensitiveWord:
    return SensitiveWord(**_values(workspace, entry))


def _existing_by_key(db: Session, *, workspace: Workspace) -> dict[str, SensitiveWord]:
    return {normalize(row.term): row for row in list_words(db, workspace=workspace)}


def _snapshot(row: SensitiveWord) -> dict[str, object]:
    return {"term": row.term, "category": row.category, "severity": row.severity}


def _put(
    db: Session, *, workspace: Workspace, entry: WordEntry, existing: dict[str, SensitiveWord]
) -> str:
    """Add ``entry`` or replace the row of the same term; "added", "replaced" or "unchanged"."""
    key = normalize(entry.term)
    known = existing.get(key)
    if known is not None:
        if (known.category, known.severity) == (entry.category, entry.severity.value):
            return "unchanged"
        db.delete(known)
        db.flush()  # the unique (workspace, term) must be free before the new row
    row = _row(workspace, entry)
    db.add(row)
    existing[key] = row
    return "added" if known is None else "replaced"


def add_word(
    db: Session, *, membership: Membership, entry: WordEntry, ip: str | None = None
) -> SensitiveWord:
    """List ``entry`` (replacing the same term in either script). Needs Permission.WRITE."""
    require(membership, Permission.WRITE)
    workspace = membership.workspace
    key = normalize(entry.term)
    existing = _existing_by_key(db, workspace=workspace)
    before_snapshot = None
    row = None
    if key not in existing:  # another member may list the same term at the same moment
        row = create_unique(
            db, SensitiveWord, _values(workspace, entry), unique=["workspace_id", "term"]
        )
        if row is None:  # they did: their row is replaced below, as if it had been there
            existing = _existing_by_key(db, workspace=workspace)
    if row is None:
        before_snapshot = _snapshot(existing[key])
        _put(db, workspace=workspace, entry=entry, existing=existing)
        db.flush()
        row = existing[key]
    record_audit(
        db,
        actor=membership.user,
        action="sensitive_word.add",
        entity_type="sensitive_word",
        entity_id=row.id,
        workspace=workspace,
        before=before_snapshot,
        after=_snapshot(row),
        ip=ip,
    )
    return row


def remove_word(
    db: Session, *, membership: Membership, word_id: int, ip: str | None = None
) -> None:
    """Remove a term from the list. Needs Permission.WRITE."""
    require(membership, Permission.WRITE)
    row = db.get(SensitiveWord, word_id)
    if row is None or row.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This term is not on the list (any more). Reload the page."))
    record_audit(
        db,
        actor=membership.user,
        action="sensitive_word.remove",
        entity_type="sensitive_word",
        entity_id=row.id,
        workspace=membership.workspace,
        before=_snapshot(row),
        ip=ip,
    )
    db.delete(row)
    db.flush()


def _decode(content: bytes) -> str:
    text = filelimits.decode_text(content)  # the encodings every importer reads
    if text is None:
        raise InvalidWordError(N_("The file is neither UTF-8 nor GB18030 text. Save it as UTF-8."))
    return text


def _cells(line: str) -> list[str] | None:
    """The CSV cells of one line, or ``None`` when it holds a NUL (no database keeps it), a
    quote never closed or a field past the CSV reader's limit."""
    if "\x00" in line:
        return None
    try:
        return next(csv.reader(io.StringIO(line), strict=True))
    except csv.Error:
        return None


def _unquoted(cell: str) -> str:
    """A cell as the export wrote it back to its text (the export quotes formula starts)."""
    if cell.startswith("'") and cell[1:].startswith(filelimits.FORMULA_STARTS):
        return cell[1:]
    return cell


def import_words(
    db: Session, *, membership: Membership, content: bytes, ip: str | None = None
) -> ImportReport:
    """Import terms: one per line, or CSV rows ``term,category,severity``.

    Good rows are kept and bad rows reported with their line number; a term repeated in the
    file (in either script) is merged into its first row. Needs Permission.WRITE; audited
    as one event with the counts.
    """
    require(membership, Permission.WRITE)
    if not content.strip():
        raise InvalidWordError(N_("The file is empty. Choose a file with one term per line."))
    if len(content) > IMPORT_MAX_BYTES:
        raise InvalidWordError(
            N_("The file is larger than {limit} MB. Split it and import the parts."),
            limit=IMPORT_MAX_BYTES // 1_000_000,
        )
    lines = _decode(content).splitlines()
    if len(lines) > IMPORT_MAX_ROWS:
        raise InvalidWordError(
            N_("The file has more than {limit} lines. Split it and import the parts."),
            limit=IMPORT_MAX_ROWS,
        )
    report = ImportReport()
    workspace = membership.workspace
    _lock_list(db, workspace=workspace)
    existing = _existing_by_key(db, workspace=workspace)
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) > IMPORT_LINE_MAX_LENGTH:
            report.bad_rows.append(
                BadRow(
                    number,
                    line[:SHOWN_LINE_LENGTH] + "…",
                    N_("The line is longer than {limit} characters: one term per line."),
                    {"limit": IMPORT_LINE_MAX_LENGTH},
                )
            )
            continue
        cells = _cells(line)
        if cells is None:
            report.bad_rows.append(
                BadRow(
                    number,
                    line[:SHOWN_CHARS],
                    N_(
                        "This line cannot be read as CSV: check its quotes, its length and for "
                        "NUL characters."
                    ),
                )
            )
            continue
        if len(cells) > 3:
            report.bad_rows.append(
                BadRow(
                    number, line[:SHOWN_CHARS], N_("Too many columns: use term,category,severity.")
                )
            )
            continue
        if [cell.strip().lower() for cell in cells][:2] == ["term", "category"]:
            continue  # the header row our export writes
        term, category, severity = [_unquoted(cell) for cell in [*cells, "", ""][:3]]
        try:
            entry = parse_entry(term, category, severity)
        except InvalidWordError as error:
            report.bad_rows.append(
                BadRow(
                    number,
                    line[:SHOWN_CHARS],
                    error.message,
                    {k: str(v) for k, v in error.params.items()},
                )
            )
            continue
        key = normalize(entry.term)
        if key in seen:
            report.merged += 1
            continue
        seen.add(key)
        outcome = _put(db, workspace=workspace, entry=entry, existing=existing)
        setattr(report, outcome, getattr(report, outcome) + 1)
    db.flush()
    record_audit(
        db,
        actor=membership.user,
        action="sensitive_words.import",
        entity_type="sensitive_words",
        entity_id=workspace.id,
        workspace=workspace,
        after={
            "added": report.added,
            "replaced": report.replaced,
            "unchanged": report.unchanged,
            "merged": report.merged,
            "bad_rows": len(report.bad_rows),
        },
        ip=ip,
    )
    return report


def export_words(db: Session, *, workspace: Workspace) -> str:
    """The list as CSV (``term,category,severity`` with a header), importable again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["term", "category", "severity"])
    for row in list_words(db, workspace=workspace):
        # a term is any text: one starting with = would run as a formula in a spreadsheet
        writer.writerow([formula_safe(row.term), formula_safe(row.category), row.severity])
    return buffer.getvalue()
