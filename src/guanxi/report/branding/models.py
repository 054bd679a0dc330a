"""A workspace's report branding: its logo, colours and PowerPoint master, and their limits.

Kept in the database (one row a workspace, a few MB at most): a backup of the database keeps
a brand's look with its reports, and every web process sees the same files.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.report.document import Brand

# A logo as uploaded: at most 1 MB, at most 4,000 pixels a side (a bigger one is a photo, or a
# decompression bomb); kept as a PNG of at most 800 × 400 pixels, which every format places.
LOGO_MAX_BYTES = 1_000_000
LOGO_MAX_SIDE = 4_000
LOGO_MIN_SIDE = 16
LOGO_KEPT_SIZE = (800, 400)
# A PowerPoint master: at most 10 MB (a template with its pictures; a deck of slides is not one).
TEMPLATE_MAX_BYTES = 10_000_000
TEMPLATE_NAME_MAX_LENGTH = 200
DEFAULT_PRIMARY = Brand.primary_colour
DEFAULT_ACCENT = Brand.accent_colour


class ReportBrand(Base):
    """How a workspace's reports look: absent, the defaults (its name, guanxi's colours)."""

    __tablename__ = "report_brands"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    primary_colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_PRIMARY)
    accent_colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_ACCENT)
    # The logo as a PNG (every format places it); an SVG logo also as its vector, for the PDF
    # and the page.
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_svg: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    template_pptx: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    template_name: Mapped[str] = mapped_column(String(TEMPLATE_NAME_MAX_LENGTH), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
