"""Every command's help says what its author wrote: Typer renders help through Rich, whose
markup would swallow a bracketed word such as the ``[train]`` of ``guanxi[train]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from rich.markup import RE_TAGS
from typer.testing import CliRunner

from guanxi.cli import app


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    # Typer carries its own copy of click: a group is whatever has sub-commands.
    yield " ".join(path), command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def _eaten(text: str) -> list[str]:
    """The bracketed words Rich would read as markup (an escaped ``\\[`` is kept)."""
    return [m.group(0) for m in RE_TAGS.finditer(text) if not m.group(2)]


def test_no_help_text_loses_a_bracketed_word_to_rich_markup() -> None:
    eaten = {}
    for path, command in _commands(typer.main.get_command(app), ("guanxi",)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        found = [word for text in texts for word in _eaten(text)]
        if found:
            eaten[path] = found
    assert not eaten, f"escape these as \\[...] so Rich prints them: {eaten}"


def test_an_escaped_extra_is_printed_in_the_help() -> None:
    result = CliRunner().invoke(app, ["nlp", "train-accurate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "guanxi[accurate]" in result.output
