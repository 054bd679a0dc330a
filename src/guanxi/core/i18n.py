"""English and Simplified Chinese: gettext catalogs read straight from the ``.po`` files.

The ``.po`` files are the only source; they are compiled in memory at first use, so
running guanxi needs no build step. The second half of the module maintains them:
extraction from the code and templates, merging into the ``.po`` and checking it
(``scripts/i18n.py`` and ``tests/test_i18n.py`` share these functions).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations

from guanxi import __version__
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
    return compile_catalog(read_catalog(path, language))


def compile_catalog(catalog: Catalog) -> Translations:
    """``catalog`` compiled in memory, as gettext would load it from a ``.mo`` file."""
    buffer = BytesIO()
    # Fuzzy entries are unreviewed guesses: the English original is better than a wrong one.
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


class _LanguageChoice:
    """The language of one request, shared by every context copied from it: a route's
    dependencies and the route itself run in worker threads, each in a copy of the request's
    context, and a signed-in person's own language is only known in one of them."""

    __slots__ = ("language",)

    def __init__(self, language: str) -> None:
        self.language = language


_current_language: ContextVar[_LanguageChoice | None] = ContextVar("guanxi_language", default=None)


def begin_request(language: str) -> None:
    """Start a request in ``language``: every message of the request, from services and
    checks too, is translated into it (and into the one ``set_language`` makes it later)."""
    _current_language.set(_LanguageChoice(language))


def set_language(language: str) -> None:
    """Make ``language`` the one ``gettext`` translates into, for the whole request (or, in
    a command, this context)."""
    choice = _current_language.get()
    if choice is None:
        _current_language.set(_LanguageChoice(language))
    else:
        choice.language = language


def current_language() -> str:
    """The language of the current request or command."""
    choice = _current_language.get()
    return choice.language if choice is not None else "en"


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return get_translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current language."""
    return get_translations(current_language()).ngettext(singular, plural, n)


# --- Maintenance: extraction, merging and checking (scripts/i18n.py and the tests) ---------

PACKAGE_DIR = LOCALES_DIR.parent
TEMPLATE_PATH = LOCALES_DIR / f"{DOMAIN}.pot"
TRANSLATED_LANGUAGES = ("zh_Hans",)
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
}
# Which files hold messages, and the Jinja2 dialect of the templates (a checkout's babel.cfg).
MAPPING_PATH = PACKAGE_DIR.parent.parent / "babel.cfg"
# Only named %-placeholders: a bare "%" is a percent sign in a {}-formatted message.
_PERCENT_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)(?:[.!:][^{}]*)?\}(?!\})")


def extract_messages() -> Catalog:
    """Every translatable message in the package's Python code and templates, right now."""
    with MAPPING_PATH.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING_PATH))  # type: ignore[no-untyped-call]

    catalog = Catalog(
        project="guanxi",
        version=__version__,
        copyright_holder="the guanxi authors",
        charset="utf-8",
        header_comment="# Translations template for guanxi.\n#",
    )
    results = extract_from_dir(
        PACKAGE_DIR,
        method_map=method_map,
        options_map=options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in results:
        location = (f"src/guanxi/{Path(filename).as_posix()}", lineno)
        catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def catalog_bytes(catalog: Catalog) -> bytes:
    """``catalog`` as the text of a ``.po``/``.pot`` file, obsolete entries kept."""
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_by_file=True, include_previous=True)
    return buffer.getvalue()


def _without_dates(content: bytes) -> bytes:
    # Rewriting a file whose only change is its timestamp would be noise in every diff.
    dates = re.compile(rb'^"(?:POT-Creation|PO-Revision)-Date: .*\\n"$', flags=re.MULTILINE)
    return dates.sub(b"", content)


def write_if_changed(path: Path, catalog: Catalog) -> bool:
    """Write ``catalog`` to ``path`` unless only its dates would change; True if written."""
    content = catalog_bytes(catalog)
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    """A ``.po`` or ``.pot`` file as a Babel catalog."""
    with path.open("rb") as handle:
        return read_po(handle, locale=language, charset="utf-8")


def merge_catalog(template: Catalog, language: str) -> Catalog:
    """The ``language`` catalog brought up to ``template``.

    Existing translations are kept; a new message close to an old one starts as a fuzzy
    copy of the old translation (for review); messages gone from the code become obsolete.
    """
    path = po_path(language)
    if path.exists():
        catalog = read_catalog(path, language)
    else:
        catalog = Catalog(locale=language, project="guanxi", charset="utf-8", fuzzy=False)
    catalog.update(template, update_header_comment=False)
    for message in catalog:
        if not message.fuzzy:
            message.previous_id = []  # "#| msgid" notes only help review a fuzzy guess
    catalog.header_comment = f"# {LANGUAGE_NAMES[language]} translations for guanxi.\n#"
    catalog.version = template.version
    catalog.last_translator = "guanxi maintainers"
    catalog.language_team = f"{LANGUAGE_NAMES[language]} (guanxi)"
    catalog.revision_date = datetime.now(UTC)
    catalog.fuzzy = False
    return catalog


def placeholders(text: str) -> set[str]:
    """The ``%(name)s`` and ``{name}`` placeholders in ``text``."""
    names = {f"%({m.group(1)})" for m in _PERCENT_PLACEHOLDER.finditer(text)}
    names |= {f"{{{m.group(1)}}}" for m in _BRACE_PLACEHOLDER.finditer(text)}
    return names


def _texts(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    # A message id or translation is one string, or a sequence of them for a plural.
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def catalog_problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What keeps ``catalog`` from translating every message of ``template``, one per line."""
    problems: list[str] = []
    for source in template:
        if not source.id:
            continue  # the header
        ids = _texts(source.id)
        msgid = ids[0]
        where = ", ".join(f"{file}:{line}" for file, line in source.locations[:2])
        entry = catalog.get(source.id, source.context)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where}); run `make i18n` and translate it")
            continue
        strings = _texts(entry.string)
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where}); check the translation, drop the flag")
        elif not all(strings):
            problems.append(f"untranslated: {msgid!r} ({where})")
        else:
            expected = set().union(*(placeholders(text) for text in ids))
            problems.extend(
                f"placeholders differ: {msgid!r} ({where}) has {sorted(expected)}, "
                f"the translation {text!r} has {sorted(placeholders(text))}"
                for text in strings
                if placeholders(text) != expected
            )
    return problems
