"""Column mappings: the remembered answers of the import pages' mapping steps."""

from guanxi.core.capability import Capability
from guanxi.mappings import models

capability = Capability(name="mappings", models=(models,))
