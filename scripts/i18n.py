"""Maintain the translations: ``extract``, ``update`` and ``check`` (``make i18n`` runs all three).

    python scripts/i18n.py extract   # code + templates -> src/guanxi/locales/messages.pot
    python scripts/i18n.py update    # messages.pot -> zh_Hans/LC_MESSAGES/messages.po
    python scripts/i18n.py check     # exit 1 on a missing, untranslated or fuzzy entry

The ``.po`` files are the only source: guanxi compiles them in memory at first use.
"""

from __future__ import annotations

import argparse
import sys

from guanxi.core import i18n


def extract() -> int:
    """Write the template of every message found in the code and templates."""
    template = i18n.extract_messages()
    written = i18n.write_if_changed(i18n.TEMPLATE_PATH, template)
    count = sum(1 for message in template if message.id)
    print(f"{i18n.TEMPLATE_PATH}: {count} messages{'' if written else ' (unchanged)'}")
    return 0


def update() -> int:
    """Merge the template into each language's catalog, keeping its translations."""
    template = i18n.read_catalog(i18n.TEMPLATE_PATH)
    for language in i18n.TRANSLATED_LANGUAGES:
        catalog = i18n.merge_catalog(template, language)
        written = i18n.write_if_changed(i18n.po_path(language), catalog)
        todo = i18n.catalog_problems(template, catalog)
        state = "updated" if written else "unchanged"
        print(f"{i18n.po_path(language)}: {state}, {len(todo)} to translate or review")
    return 0


def check() -> int:
    """Fail when a message in the code has no reviewed translation."""
    template = i18n.extract_messages()
    failed = False
    for language in i18n.TRANSLATED_LANGUAGES:
        path = i18n.po_path(language)
        if not path.exists():
            print(f"{path} is missing; run `make i18n`", file=sys.stderr)
            failed = True
            continue
        problems = i18n.catalog_problems(template, i18n.read_catalog(path, language))
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
    if not failed:
        print("every message is translated")
    return 1 if failed else 0


COMMANDS = {"extract": extract, "update": update, "check": check}


def main(argv: list[str] | None = None) -> int:
    """Run the subcommands given, in order; stop at the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commands", nargs="+", choices=COMMANDS)
    for command in parser.parse_args(argv).commands:
        status = COMMANDS[command]()
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
