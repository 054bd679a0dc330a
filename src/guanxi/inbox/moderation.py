"""Moderation rules: conditions on new inbox items and the actions they trigger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session


def moderate_new(db: Session, *, workspace_id: int, items: Sequence[Any]) -> None:
    """Apply the workspace's moderation rules to freshly ingested ``items``."""
