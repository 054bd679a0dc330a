"""Imports every capability's models so the metadata is complete (Alembic, tests)."""

from guanxi.accounts import models as accounts_models
from guanxi.channels import models as channels_models
from guanxi.checks import models as checks_models
from guanxi.core.db import Base
from guanxi.inbox import models as inbox_models
from guanxi.inbox import people_models as inbox_people_models
from guanxi.listening import models as listening_models
from guanxi.listening import topic_models as listening_topic_models
from guanxi.market import models as market_models
from guanxi.notifications import models as notifications_models
from guanxi.planner import models as planner_models
from guanxi.publishing import models as publishing_models

__all__ = [
    "Base",
    "accounts_models",
    "channels_models",
    "checks_models",
    "inbox_models",
    "inbox_people_models",
    "listening_models",
    "listening_topic_models",
    "market_models",
    "notifications_models",
    "planner_models",
    "publishing_models",
]
