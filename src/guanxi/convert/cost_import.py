"""Importing costs from a CSV or XLSX file: one cost a row, in these columns —

``for`` (campaign, kol, post or platform), ``name`` (the campaign's or KOL's name as in
guanxi, the post's id, the platform's slug), ``kind`` (campaign_budget, kol_fee, ad_spend,
other), ``amount`` (yuan), ``from`` and ``to`` (days; ``to`` empty for one day), and
optionally ``currency`` (CNY) and ``note``.

A row that cannot be read is reported with its line, column and what to fix; the others are
stored. Each row is recorded through its natural key, so importing the file again (or a
corrected one) updates the same costs and adds none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert import costs
from guanxi.convert.models import CostKind, CostTarget, Kol
from guanxi.core.errors import N_, UserError
from guanxi.core.tables import RowError, clean, table_rows
from guanxi.publishing.models import Campaign

E = TypeVar("E", CostTarget, CostKind)
MAX_ROWS = 10_000  # a year of daily ad spend for 25 campaigns; more is split into files
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
REQUIRED = ("for", "name", "kind", "amount", "from")
# The kinds as a Chinese spreadsheet may write them.
KIND_ALIASES = {
    "预算": CostKind.CAMPAIGN_BUDGET,
    "活动预算": CostKind.CAMPAIGN_BUDGET,
    "达人费用": CostKind.KOL_FEE,
    "kol费用": CostKind.KOL_FEE,
    "广告费": CostKind.AD_SPEND,
    "投放": CostKind.AD_SPEND,
    "其他": CostKind.OTHER,
}
TARGET_ALIASES = {"活动": CostTarget.CAMPAIGN, "达人": CostTarget.KOL, "帖子": CostTarget.POST}


@dataclass(frozen=True)
class CostRowProblem:
    """A row not imported: its line, the column at fault and the message (what to fix)."""

    line: int
    column: str
    errors: tuple[UserError, ...]

    def text(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of ``gettext``."""
        return " ".join(error.translated(gettext) for error in self.errors)


@dataclass
class CostImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    problems: list[CostRowProblem] = field(default_factory=list)


def _check_header(header: list[str]) -> None:
    names = {clean(name).lower() for name in header}
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise UserError(
            N_(
                "The cost file lacks the columns {columns}: its first row must name for, "
                "name, kind, amount, from (and optionally to, currency, note)."
            ),
            columns=", ".join(missing),
        )


class _Names:
    """The workspace's campaigns and KOLs by name (case ignored), read once per file."""

    def __init__(self, db: Session, workspace_id: int) -> None:
        self.campaigns = {
            name.casefold(): campaign_id
            for campaign_id, name in db.execute(
                select(Campaign.id, Campaign.name).where(Campaign.workspace_id == workspace_id)
            )
        }
        self.kols = {
            name.casefold(): kol_id
            for kol_id, name in db.execute(
                select(Kol.id, Kol.name).where(Kol.workspace_id == workspace_id)
            )
        }


def _cell(row: Mapping[str, Any], column: str) -> str:
    return clean(row.get(column, ""))


def _day(row: Mapping[str, Any], column: str) -> date | None:
    value = row.get(column)
    if isinstance(value, date):  # an Excel date cell
        return value if not hasattr(value, "date") else value.date()
    text = clean(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-")[:10])
    except ValueError:
        raise UserError(
            N_("{value} is not a day: write it as YYYY-MM-DD."), value=text[:40]
        ) from None


def _row_cost(row: Mapping[str, Any], names: _Names) -> costs.CostInput:
    """The cost a row describes; a ``_RowFaultError`` naming the column otherwise."""
    target_text = _cell(row, "for").lower()
    target = TARGET_ALIASES.get(target_text) or _enum(CostTarget, target_text, "for")
    kind_text = _cell(row, "kind").lower()
    kind = KIND_ALIASES.get(kind_text) or _enum(CostKind, kind_text, "kind")
    name = _cell(row, "name")
    reference: dict[str, Any] = {}
    if target is CostTarget.CAMPAIGN:
        reference["campaign_id"] = _named(
            names.campaigns,
            name,
            N_("No campaign named {name} in this workspace: write its name as guanxi shows it."),
        )
    elif target is CostTarget.KOL:
        reference["kol_id"] = _named(
            names.kols,
            name,
            N_("No KOL named {name} in this workspace: add them on the KOLs page first."),
        )
    elif target is CostTarget.POST:
        if not name.isdecimal() or len(name) > 10:
            raise _RowFaultError("name", UserError(N_("For a post, name is its id (a number).")))
        reference["post_id"] = int(name)
    else:
        reference["platform"] = name.lower()
    try:
        amount_fen = costs.fen_of(_cell(row, "amount"))
    except UserError as exc:
        raise _RowFaultError("amount", exc) from None
    try:
        starts_on = _day(row, "from")
    except UserError as exc:
        raise _RowFaultError("from", exc) from None
    if starts_on is None:
        raise _RowFaultError(
            "from", UserError(N_("The cost's first day is empty: write YYYY-MM-DD."))
        )
    try:
        ends_on = _day(row, "to")
    except UserError as exc:
        raise _RowFaultError("to", exc) from None
    return costs.CostInput(
        target=target,
        kind=kind,
        amount_fen=amount_fen,
        starts_on=starts_on,
        ends_on=ends_on,
        currency=_cell(row, "currency") or "CNY",
        note=_cell(row, "note"),
        **reference,
    )


class _RowFaultError(Exception):
    """A row's error and the column it is in."""

    def __init__(self, column: str, error: UserError) -> None:
        super().__init__(str(error))
        self.column = column
        self.error = error


def _enum(kind: type[E], text: str, column: str) -> E:
    try:
        return kind(text)
    except ValueError:
        raise _RowFaultError(
            column,
            UserError(
                N_("{value} is not one of {choices}: use one of them."),
                value=text[:40] or "—",
                choices=", ".join(member.value for member in kind),
            ),
        ) from None


def _named(known: dict[str, int], name: str, message: str) -> int:
    found = known.get(name.casefold())
    if found is None:
        raise _RowFaultError("name", UserError(message, name=name[:120] or "—"))
    return found


def import_costs(
    db: Session, *, workspace_id: int, path: Path, file_format: str
) -> CostImportReport:
    """Record the costs of the file at ``path`` ("csv" or "xlsx"); bad rows reported, the
    rest kept (the caller commits)."""
    report = CostImportReport()
    names = _Names(db, workspace_id)
    for count, (line, read) in enumerate(
        table_rows(path, file_format, on_header=_check_header), start=1
    ):
        if count > MAX_ROWS:
            report.problems.append(
                CostRowProblem(
                    line,
                    "",
                    (UserError(N_("Only 10,000 rows are read: split the file, import the rest.")),),
                )
            )
            break
        if isinstance(read, RowError):
            report.problems.append(
                CostRowProblem(line, read.column, (UserError(read.problem), UserError(read.fix)))
            )
            continue
        row = {clean(key).lower(): value for key, value in read.items()}
        try:
            _entry, created = costs.record_cost(
                db, workspace_id=workspace_id, cost=_row_cost(row, names)
            )
        except _RowFaultError as fault:
            report.problems.append(CostRowProblem(line, fault.column, (fault.error,)))
            continue
        except UserError as exc:  # the checks of any cost: its currency, days, target
            report.problems.append(CostRowProblem(line, "", (exc,)))
            continue
        if created:
            report.added += 1
        else:
            report.updated += 1
    return report
