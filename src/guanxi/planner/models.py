"""Saved channel plans. The brief and ranked result schemas live in ``planner.scoring``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow


class Plan(Base):
    """A planner run saved in a workspace: the brief as given and the ranking it produced."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(120))
    brief: Mapped[dict[str, Any]] = mapped_column(JSON)
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The catalog's version when the plan was made: figures change, a saved plan does not.
    catalog_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
