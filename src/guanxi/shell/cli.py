"""The ``guanxi`` command: the command line's own commands plus every capability's."""

from guanxi.cli import app
from guanxi.core.capability import capabilities

for capability in capabilities():
    if capability.cli is not None:
        capability.cli(app)

__all__ = ["app"]
