"""The remembered column mappings.

A ``ColumnMapping`` says which column of a file holds which field, for the files of one
workspace imported for one ``purpose`` (an analytics export of one platform and kind,
the shops' orders...) whose header row has the digest ``headers_key``. A mapping may be
named, so a command can ask for it by name for a file whose headers differ a little.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow

NAME_MAX = 60


class ColumnMapping(Base):
    """Which column of a file holds which field, for files with these headers."""

    __tablename__ = "column_mappings"
    __table_args__ = (UniqueConstraint("workspace_id", "purpose", "headers_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # What the files are imported as: "orders", "analytics:<platform>:<kind>"...
    purpose: Mapped[str] = mapped_column(String(80))
    # A digest of the file's header row (names in order), so a file of the same shape matches.
    headers_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # field -> column
    # How the values are written (an amount's unit, the time zone...), for the reader.
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
