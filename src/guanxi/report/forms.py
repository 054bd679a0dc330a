"""The report definition form: its fields read into a ``DefinitionWrite``.

The sections are checkboxes named ``section`` with a position (``order.<key>``) and a
comment (``comment.<key>``) each; the chosen ones are kept in the order of their positions.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from pydantic import ValidationError

from guanxi.core import bounds
from guanxi.core.errors import N_
from guanxi.report.models import (
    DEFINITION_MESSAGES,
    Comparison,
    DefinitionWrite,
    InvalidDefinitionError,
    Languages,
    PeriodKind,
)

C = TypeVar("C", PeriodKind, Comparison, Languages)

FORM_MESSAGES = {
    "bad_date": N_("Write the date as YYYY-MM-DD."),
    "bad_choice": N_("Choose one of the options offered."),
    "bad_campaign": N_("A campaign is given by its number."),
}


def _first(form: dict[str, list[str]], name: str) -> str:
    return next(iter(form.get(name, [])), "").strip()


def _date(form: dict[str, list[str]], name: str) -> date | None:
    text = _first(form, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDefinitionError(name, FORM_MESSAGES["bad_date"]) from None


def _choice(form: dict[str, list[str]], name: str, kind: type[C]) -> C:
    try:
        return kind(_first(form, name))
    except ValueError:
        raise InvalidDefinitionError(name, FORM_MESSAGES["bad_choice"]) from None


def _position(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else 10_000


def definition_from_form(form: dict[str, list[str]], *, template: str) -> DefinitionWrite:
    """The definition the form describes; InvalidDefinitionError names the field to fix."""
    chosen = list(dict.fromkeys(form.get("section", [])))
    ordered = sorted(
        enumerate(chosen), key=lambda item: (_position(_first(form, f"order.{item[1]}")), item[0])
    )
    keys = [key for _index, key in ordered]
    comments = {
        key: _first(form, f"comment.{key}") for key in keys if _first(form, f"comment.{key}")
    }
    campaign_text = _first(form, "campaign_id")
    campaign_id = bounds.parse_id(campaign_text)
    if campaign_text and campaign_id is None:
        raise InvalidDefinitionError("campaign_id", FORM_MESSAGES["bad_campaign"])
    try:
        return DefinitionWrite(
            title=_first(form, "title"),
            template=template,
            period_kind=_choice(form, "period_kind", PeriodKind),
            custom_start=_date(form, "custom_start"),
            custom_end=_date(form, "custom_end"),
            comparison=_choice(form, "comparison", Comparison),
            languages=_choice(form, "languages", Languages),
            section_keys=keys,
            comments=comments,
            include_empty=_first(form, "include_empty") == "on",
            campaign_id=campaign_id,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        context = dict(error.get("ctx") or {})
        if error["type"] in DEFINITION_MESSAGES:  # a limit of the definition's own
            field = str(context.pop("field", "title"))
            raise InvalidDefinitionError(field, error["type"], **context) from exc
        field = str(error["loc"][0]) if error["loc"] else "title"
        raise InvalidDefinitionError(field, FORM_MESSAGES["bad_choice"]) from exc
