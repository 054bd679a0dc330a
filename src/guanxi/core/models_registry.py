"""Imports every capability's models so the metadata is complete (Alembic, tests)."""

from guanxi.accounts import models as accounts_models
from guanxi.channels import models as channels_models
from guanxi.checks import models as checks_models
from guanxi.core.db import Base
from guanxi.planner import models as planner_models
from guanxi.publishing import models as publishing_models

__all__ = [
    "Base",
    "accounts_models",
    "channels_models",
    "checks_models",
    "planner_models",
    "publishing_models",
]
