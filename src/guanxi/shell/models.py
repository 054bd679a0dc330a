"""Every capability's tables in one metadata (for Alembic, ``create_all`` and the tests)."""

from sqlalchemy import MetaData

from guanxi.core.capability import capabilities
from guanxi.core.db import Base
from guanxi.core.schedule import ScheduleTick  # noqa: F401 - core's own table, on Base.metadata


def metadata() -> MetaData:
    """The metadata of every installed capability's models."""
    capabilities()  # loading a capability imports its models, which register their tables
    return Base.metadata
