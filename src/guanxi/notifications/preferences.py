"""Each person's choice, per kind of event, of how to hear of it: in the app, by e-mail, in
the team chat.

Capabilities say which of their notification kinds a person may tune
(``register_tunable``, with the label the settings page shows); other kinds keep going to
the app and by e-mail, as they always did. Choices are personal, the same in every
workspace; no stored row means every channel on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_, UserError
from guanxi.notifications.models import NotificationPreference

# Tunable kind → the label the settings page shows (translatable), in registration order.
TUNABLE: dict[str, str] = {}
CHANNELS = ("in_app", "email", "team_chat")
UNKNOWN_KIND = N_("There is no kind of notification called “{kind}”. Reload the page.")


@dataclass(frozen=True)
class Choice:
    """Where one person hears of one kind of event."""

    in_app: bool = True
    email: bool = True
    team_chat: bool = True


DEFAULT = Choice()
# A kind nobody can tune: the app and e-mail as before; team chats get only tunable kinds.
UNTUNABLE = Choice(in_app=True, email=True, team_chat=False)


def register_tunable(labels: Mapping[str, str]) -> None:
    """Let people choose the channels of these kinds (kind → label for the settings page)."""
    for kind, label in labels.items():
        if TUNABLE.setdefault(kind, label) != label:
            raise ValueError(f"notification kind {kind!r} is already tunable with another label")


def choices_for(db: Session, *, user_ids: Iterable[int], kind: str) -> dict[int, Choice]:
    """Each user's choice for ``kind`` (defaults where they chose nothing), one query."""
    ids = list(user_ids)
    if kind not in TUNABLE:
        return dict.fromkeys(ids, UNTUNABLE)
    found = dict.fromkeys(ids, DEFAULT)
    if not ids:
        return found
    rows = db.scalars(
        select(NotificationPreference).where(
            NotificationPreference.user_id.in_(ids), NotificationPreference.kind == kind
        )
    )
    for row in rows:
        found[row.user_id] = Choice(row.in_app, row.email, row.team_chat)
    return found


def all_choices(db: Session, *, user_id: int) -> dict[str, Choice]:
    """Every tunable kind and the user's choice for it, in the settings page's order."""
    rows = db.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    stored = {row.kind: Choice(row.in_app, row.email, row.team_chat) for row in rows}
    return {kind: stored.get(kind, DEFAULT) for kind in TUNABLE}


def save_choices(db: Session, *, user_id: int, choices: Mapping[str, Choice]) -> None:
    """Store the user's choices (kinds must be tunable; a kind left out keeps its choice)."""
    for kind in choices:
        if kind not in TUNABLE:
            raise UserError(UNKNOWN_KIND, kind=kind[:40])
    existing = {
        row.kind: row
        for row in db.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    for kind, choice in choices.items():
        row = existing.get(kind)
        if row is None:
            row = NotificationPreference(user_id=user_id, kind=kind)
            db.add(row)
        row.in_app, row.email, row.team_chat = choice.in_app, choice.email, choice.team_chat
    db.flush()


def choices_from_form(form: Mapping[str, list[str]]) -> dict[str, Choice]:
    """The choices a settings form posted: a ticked box ``<kind>.<channel>`` is on."""
    ticked = {value for name, values in form.items() for value in values if name == "on"}
    return {
        kind: Choice(*(f"{kind}.{channel}" in ticked for channel in CHANNELS)) for kind in TUNABLE
    }
