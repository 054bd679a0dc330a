"""Errors a user can cause, carrying a translatable message.

Services raise them with an English message marked by ``N_`` (so Babel extracts it) and
named parameters; the web and CLI layers translate the message into the user's language.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction without translating it now."""
    return message


class UserError(Exception):
    """Something the user can fix; ``message`` says what was wrong and what to do."""

    status_code = 400

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of ``gettext``."""
        text = gettext(self.message)
        return text.format(**self.params) if self.params else text


class NotFoundError(UserError):
    """The thing asked for does not exist, or is not visible to this user."""

    status_code = 404


class PermissionDeniedError(UserError):
    """The user's role does not allow this action."""

    status_code = 403


class ConflictError(UserError):
    """The action clashes with existing data (a taken e-mail, a taken slug)."""

    status_code = 409
