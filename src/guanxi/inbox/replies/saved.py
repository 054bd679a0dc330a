"""Saved replies: the team's reply texts, in Chinese or English, with variables such as
``{name}`` filled in from the item they answer."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import require
from guanxi.core.errors import N_, NotFoundError
from guanxi.core.upsert import create_unique
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.items.service import InvalidInboxInputError
from guanxi.inbox.replies.models import SavedReply

SAVED_REPLY_MAX_LENGTH = 2000
VARIABLES = ("name", "platform", "account")
_VARIABLE = re.compile(r"\{(\w+)\}")


def render_saved_reply(template: str, *, item: InboxItem, account: str = "") -> str:
    """``template`` with {name}, {platform} and {account} filled in; unknown ones stay."""
    values = {
        "name": item.author_name or item.author_external_id,
        "platform": item.platform,
        "account": account,
    }
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def save_saved_reply(
    db: Session, *, membership: Membership, title: str, language: str, text: str
) -> SavedReply:
    """Add a saved reply (Chinese "zh" or English "en"); variables: {name} {platform} {account}."""
    require(membership, Permission.WRITE)
    if not title.strip() or not text.strip():
        raise InvalidInboxInputError(N_("A saved reply needs a title and a text."))
    if len(text) > SAVED_REPLY_MAX_LENGTH:
        raise InvalidInboxInputError(
            N_("Shorten the text to {limit} characters."), limit=SAVED_REPLY_MAX_LENGTH
        )
    if language not in {"zh", "en"}:
        raise InvalidInboxInputError(N_("Choose Chinese or English."))
    unknown = sorted(set(_VARIABLE.findall(text)) - set(VARIABLES))
    if unknown:
        raise InvalidInboxInputError(
            N_("Unknown variable {{{variable}}}: use {{name}}, {{platform}} or {{account}}."),
            variable=unknown[0],
        )
    values = {
        "workspace_id": membership.workspace_id,
        "title": title.strip()[:120],
        "language": language,
        "text": text.strip(),
    }
    saved = create_unique(db, SavedReply, values, unique=["workspace_id", "title"])
    if saved is None:
        raise InvalidInboxInputError(
            N_("A saved reply with this title exists; choose another title.")
        )
    return saved


def list_saved_replies(db: Session, *, workspace_id: int) -> list[SavedReply]:
    """The workspace's saved replies by language then title."""
    return list(
        db.scalars(
            select(SavedReply)
            .where(SavedReply.workspace_id == workspace_id)
            .order_by(SavedReply.language, SavedReply.title)
        )
    )


def delete_saved_reply(db: Session, *, membership: Membership, saved_id: int) -> None:
    """Remove a saved reply."""
    require(membership, Permission.WRITE)
    saved = db.get(SavedReply, saved_id)
    if saved is None or saved.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("This saved reply does not exist (any more)."))
    db.delete(saved)
    db.flush()
