"""English and Simplified Chinese: gettext catalogs read straight from the ``.po`` files.

The ``.po`` files are the only source; they are compiled in memory at first use, so
running guanxi needs no build step.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from guanxi.core.settings import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}
# What the HTML lang attribute and Accept-Language use for each of our language codes.
HTML_LANG = {"en": "en", "zh_Hans": "zh-Hans"}


def po_path(language: str) -> Path:
    """Where the catalog for ``language`` lives."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def get_translations(language: str) -> NullTranslations:
    """The translations for ``language``; English is the source language."""
    path = po_path(language)
    if language == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language.replace("_Hans", ""))
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate_language(accept_language: str | None, default: str) -> str:
    """Pick the user's language from an Accept-Language header."""
    if not accept_language:
        return default
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            # Traditional-script readers still read the Simplified UI better than English.
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return default


def normalize_language(value: str | None) -> str | None:
    """Our code for a language the UI supports, or None."""
    if value in SUPPORTED_LANGUAGES:
        return value
    return None


_current_language: ContextVar[str] = ContextVar("guanxi_language", default="en")


def set_language(language: str) -> None:
    """Make ``language`` the one ``gettext`` translates into, in this context."""
    _current_language.set(language)


def current_language() -> str:
    """The language of the current request or command."""
    return _current_language.get()


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return get_translations(_current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current language."""
    return get_translations(_current_language.get()).ngettext(singular, plural, n)
