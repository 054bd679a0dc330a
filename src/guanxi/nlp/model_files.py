"""Reading a model file that guanxi wrote: JSON (gzipped or not) with a format version.

Each model (sentiment, source kind and stage, the accurate tier's head) has its own error
and its own messages, which name the command that retrains it; the reading, and what is
refused, is the same for all of them.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from guanxi.core.errors import N_, UserError


def shipped_path(name: str) -> Path:
    """Where a model file shipped inside the package lives."""
    return Path(str(resources.files("guanxi.nlp") / "data" / name))


def write_model_json(data: dict[str, Any], path: Path) -> None:
    """Write a model file as plain JSON, keys sorted so a retrain diffs cleanly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class FileMessages:
    """The messages for a file that is missing, unreadable, or of another format version
    (``{path}``; the last also ``{found}`` and ``{expected}``)."""

    missing: str
    unreadable: str
    other_format: str


def read_model_json(
    path: Path,
    *,
    expected_format: int,
    error: type[UserError],
    messages: FileMessages,
) -> dict[str, Any]:
    """The JSON object in ``path`` (gzipped when its name ends in .gz), its format version
    checked; ``error`` with the matching message when it cannot be used."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as file:
                data: Any = json.load(file)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(messages.missing, path=str(path)) from None
    except (OSError, ValueError):
        raise error(messages.unreadable, path=str(path)) from None
    found = data.get("format_version") if isinstance(data, dict) else None
    if found != expected_format:
        raise error(messages.other_format, path=str(path), found=found, expected=expected_format)
    return dict(data)


def training_extra_missing() -> UserError:
    """What training says when scikit-learn (the ``train`` extra) is not installed."""
    return UserError(
        N_(
            "Training needs scikit-learn, which guanxi does not need to run. Install the "
            "training extra: pip install 'guanxi[train]'."
        )
    )
